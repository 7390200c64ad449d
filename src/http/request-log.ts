import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * Paths whose requests are not API calls: probes polled every few seconds, the metrics scrape,
 * and the files of the console and of the API docs (one page load fetches a dozen). Logging them
 * at info would bury the calls an operator looks for, so they are logged at debug.
 */
const QUIET_PREFIXES = ['/health', '/ready', '/metrics', '/console', '/docs', '/openapi.json', '/favicon.ico'];

/** True for the paths above (with or without a trailing slash, query or sub-path); `/` too. */
export function isQuietPath(url: string): boolean {
  const path = url.split('?', 1)[0];
  if (path === '/' || path === '') return true;
  return QUIET_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));
}

/** Why a request was refused, noted by the error handler for the request's one log line. */
interface Refusal {
  resultCode: number;
  /** What the client was told (header.detail). */
  reason: string;
  /** Library text kept out of the answer (a decoder's or the network's own words). */
  cause?: string;
}

const refusals = new WeakMap<FastifyRequest, Refusal>();

/** The error handler's note: the request's completion line carries the result code and reason. */
export function noteRefusal(req: FastifyRequest, resultCode: number, reason: string, cause?: string): void {
  refusals.set(req, { resultCode, reason, ...(cause ? { cause } : {}) });
}

/**
 * Fastify's request lines, reshaped: "incoming request" at debug, and one line when the request
 * is answered — at info for API calls, at debug for the quiet paths. A refused call's line
 * carries its NHN resultCode and the reason, so a client's report ("I got -40000", plus the
 * x-request-id) leads to one line that says why.
 */
export class RequestLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const responseTime = Math.round(reply.elapsedTime * 10) / 10;
    if (error) {
      reply.log.error({ req: request, res: reply, err: error, responseTime }, 'request errored');
      return;
    }
    const refusal = refusals.get(request);
    const level = isQuietPath(request.url) ? 'debug' : 'info';
    reply.log[level]({ req: request, res: reply, responseTime, ...refusal }, refusal ? 'request refused' : 'request completed');
  }
}
