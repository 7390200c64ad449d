import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import multipart from '@fastify/multipart';
import { requestContext } from '../domain/audit.js';
import { FaceApiError, RESULT_CODES } from '../domain/errors.js';
import { failure } from './envelope.js';
import { StoreUnavailableError } from '../store/store.js';
import { noSuchRoute, refusalOf, unroutableUrl } from './refusals.js';
import { ServerMetrics, trackRequests } from './metrics.js';
import { nhnV1 } from './nhn-v1.js';
import { nhnV2 } from './nhn-v2.js';
import { X_V1_PREFIX, xV1 } from './x-v1.js';
import { xV1Persons } from './x-v1-persons.js';
import { CONSOLE_PREFIX, webConsole } from './console.js';
import { registerOpenApi } from './openapi.js';
import { noteRefusal, RequestLogController } from './request-log.js';
import { SHARED_SCHEMAS } from './schemas/shared.js';
import type { HttpContext } from './context.js';

export interface ServerOptions {
  logger?: FastifyServerOptions['logger'];
  /** Readiness probe: true once models are loaded and the store is open. */
  ready?: () => boolean | Promise<boolean>;
  /**
   * Metrics served at /metrics; by default a fresh set with request metrics only (serve.ts adds
   * the engine and store gauges). `false` serves no /metrics.
   */
  metrics?: ServerMetrics | false;
}

/** v1 path keys are credentials: logs show the route shape, never the key. */
const redactAppKey = (url: string) => url.replace(/\/appkeys\/[^/?]+/, '/appkeys/***');

/**
 * v2 secret keys travel in `Authorization`. Fastify's own request log omits headers, but plugins
 * log them at trace level (@fastify/multipart logs busboy's options with every header), so any
 * logged headers object has it censored.
 */
const LOG_REDACTIONS = { paths: ['headers.authorization', '*.headers.authorization', '*.*.headers.authorization'], censor: '***' };

export function buildServer(ctx: HttpContext, options: ServerOptions = {}): FastifyInstance {
  // Two base64 images of 3 MB each, plus JSON around them.
  const bodyLimit = Math.ceil(ctx.maxImageBytes * 1.4) * 2 + 64 * 1024;
  const app = Fastify({
    logger: options.logger ? { ...(options.logger as object), redact: LOG_REDACTIONS, serializers: { req: (req) => ({ method: req.method, url: redactAppKey(req.url), remoteAddress: req.ip }) } } : false,
    // Every log line of a request carries this id (pino child logger, `reqId`); clients see it as x-request-id.
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit,
    // Fastify's two lines per request (incoming, completed) at info become one (request-log.ts).
    logController: new RequestLogController(),
    // Group ids may be 255 characters (NHN), more than find-my-way's default of 100 per parameter.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    // URLs the router cannot take apart (bad percent-encoding, a parameter over maxParamLength)
    // are bad parameters to NHN clients, not bare Fastify 400/414 answers.
    frameworkErrors: refuseUnroutableUrl,
  });
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  // The audit trail records the request id and app of the call it accounts for (domain/audit.ts).
  app.addHook('onRequest', (req, _reply, done) => {
    const appKey = (req.params as { appKey?: unknown } | undefined)?.appKey;
    requestContext.run({ requestId: req.id, ...(typeof appKey === 'string' ? { appKey } : {}) }, done);
  });
  app.addHook('onRequest', async (req) => {
    // NHN's examples send `Content-Type: application/json` on every call, DELETE included, with no
    // body; Fastify would parse that empty body as JSON and fail (-40000). A DELETE without a body
    // has no content type to honour.
    if (req.method === 'DELETE' && req.headers['transfer-encoding'] === undefined && Number(req.headers['content-length'] ?? 0) === 0) {
      delete req.headers['content-type'];
    }
  });
  closeConnectionsWhenClosing(app);
  const metrics = options.metrics === false ? undefined : (options.metrics ?? new ServerMetrics());
  if (metrics) trackRequests(app, metrics);
  app.register(multipart, { limits: { fileSize: ctx.maxImageBytes + 1 } });

  app.setErrorHandler((err: FastifyError | FaceApiError, req, reply) => {
    const { name, code, detail } = refusalOf(err, req.id, { maxImageBytes: ctx.maxImageBytes, bodyLimit }, req.headers['content-type']);
    if (code === RESULT_CODES.InternalServerError && !(err instanceof FaceApiError)) {
      req.log.error({ err, url: redactAppKey(req.url) }, 'request failed');
      noteRefusal(req, code, 'internal error');
    } else {
      // Library text kept out of the answer (a decoder's or the network's own words) helps here.
      const cause = err.cause instanceof Error ? err.cause.message : undefined;
      noteRefusal(req, code, detail, cause);
    }
    if (err instanceof FaceApiError && err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
    if ((err as Error) instanceof StoreUnavailableError) reply.header('retry-after', '1');
    if (code === RESULT_CODES.ImageTooLargeException) {
      // Fastify marks a body it stopped parsing "connection: close"; see discardRestOfBody.
      reply.removeHeader('connection');
      discardRestOfBody(req.raw, reply.raw, DISCARD_CAP_BYTES);
    }
    reply.status(200).send(failure(name, code, detail));
  });
  app.setNotFoundHandler((req, reply) => {
    const { name, code, detail } = noSuchRoute(req.method, redactAppKey(req.url));
    noteRefusal(req, code, detail);
    reply.status(404).send(failure(name, code, detail));
  });

  // Before every route plugin: the NHN route schemas reference these by $id, and the generated
  // document must see every route.
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  registerOpenApi(app);
  app.register(operations(options.ready, metrics));

  app.register(nhnV1, { ...ctx, prefix: '/nhn-face-reco/v1.0/appkeys/:appKey' });
  app.register(nhnV2, { ...ctx, prefix: '/v2.0/appkeys/:appKey' });
  if (ctx.privacy) app.register(xV1(ctx.privacy, ctx.audit, ctx.retention), { ...ctx, prefix: X_V1_PREFIX });
  if (ctx.persons) app.register(xV1Persons(ctx.persons, ctx.clusters), { ...ctx, prefix: X_V1_PREFIX });
  app.register(webConsole, { maxImageBytes: ctx.maxImageBytes });
  // The front door: a browser pointed at the server lands on the console, not on a 404 envelope.
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect(`${CONSOLE_PREFIX}/`));
  return app;
}

/** Probes and metrics for operators: no NHN envelope, no credentials. */
function operations(ready: ServerOptions['ready'], metrics: ServerMetrics | undefined) {
  const status = (values: string[]) => ({ description: `status ${values.join(' or ')}`, type: 'object', properties: { status: { type: 'string', enum: values } }, required: ['status'] });
  return async (ops: FastifyInstance) => {
    ops.get('/health', { schema: { tags: ['operations'], summary: 'Liveness: the process answers', response: { 200: status(['ok']) } } }, async () => ({ status: 'ok' }));
    ops.get(
      '/ready',
      { schema: { tags: ['operations'], summary: 'Readiness: models loaded in every worker, store open, not shutting down', response: { 200: status(['ready']), 503: status(['starting']) } } },
      async (_req, reply) => {
        const ok = (await ready?.()) ?? true;
        reply.status(ok ? 200 : 503);
        return { status: ok ? 'ready' : 'starting' };
      },
    );
    // Unauthenticated, like /health: it shows counts and latencies, never keys, group or face ids.
    // To keep it private, let the reverse proxy forward only the NHN prefixes and /docs, or build
    // the server with `metrics: false`.
    if (metrics) {
      const doc = { tags: ['operations'], summary: 'Prometheus metrics', response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } } };
      ops.get('/metrics', { schema: doc }, async (_req, reply) => {
        const { contentType, body } = await metrics.render();
        reply.type(contentType);
        return body;
      });
    }
  };
}

/**
 * Graceful close: `app.close()` stops accepting, answers new requests with 503 and drops idle
 * keep-alive connections, but a connection busy with a request would stay open for the keep-alive
 * timeout (72 s) after its answer and hold the close up. Those answers ask the client to close it.
 */
function closeConnectionsWhenClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
}

function refuseUnroutableUrl(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const { name, code, detail } = unroutableUrl(err);
  noteRefusal(req, code, detail);
  reply.status(200).send(failure(name, code, detail));
}

/**
 * A body refused as too large is usually still arriving. Closing the connection with the answer
 * (what Fastify does after a parser error) makes the kernel reset it under a client that is still
 * sending, which then sees EPIPE/ECONNRESET instead of -45020. So the rest is read and dropped,
 * and the connection is closed only once the answer is out and the body has ended. Past this many
 * dropped bytes the sender is not a client with a big photo: the connection is cut as soon as the
 * answer has gone out.
 */
export const DISCARD_CAP_BYTES = 64 * 1024 * 1024;

function discardRestOfBody(raw: IncomingMessage, res: ServerResponse, cap: number): void {
  const afterAnswer = (act: () => void) => (res.writableFinished ? act() : res.once('finish', act));
  // Injected requests (light-my-request, in tests) have a stand-in socket without these.
  const socket = raw.socket as Partial<Socket> | null;
  if (raw.complete || typeof socket?.end !== 'function' || typeof socket.destroy !== 'function') return;
  let dropped = 0;
  raw.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > cap && !socket.destroyed) afterAnswer(() => socket.destroy!());
  });
  raw.once('end', () => afterAnswer(() => socket.end!()));
  raw.resume();
}
