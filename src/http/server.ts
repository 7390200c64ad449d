import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyError, type FastifyServerOptions } from 'fastify';
import multipart from '@fastify/multipart';
import { FaceApiError, RESULT_CODES, type ErrorName } from '../domain/errors.js';
import { failure } from './envelope.js';
import { nhnV1 } from './nhn-v1.js';
import { nhnV2 } from './nhn-v2.js';
import type { HttpContext } from './context.js';

export interface ServerOptions {
  logger?: FastifyServerOptions['logger'];
  /** Readiness probe: true once models are loaded and the store is open. */
  ready?: () => boolean;
}

/** v1 path keys are credentials: logs show the route shape, never the key. */
const redactAppKey = (url: string) => url.replace(/\/appkeys\/[^/?]+/, '/appkeys/***');

export function buildServer(ctx: HttpContext, options: ServerOptions = {}): FastifyInstance {
  const app = Fastify({
    logger: options.logger ? { ...(options.logger as object), serializers: { req: (req) => ({ method: req.method, url: redactAppKey(req.url), remoteAddress: req.ip }) } } : false,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Two base64 images of 3 MB each, plus JSON around them.
    bodyLimit: Math.ceil(ctx.maxImageBytes * 1.4) * 2 + 64 * 1024,
    routerOptions: { ignoreTrailingSlash: true },
  });
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.register(multipart, { limits: { fileSize: ctx.maxImageBytes + 1 } });

  app.setErrorHandler((err: FastifyError | FaceApiError, req, reply) => {
    const { name, code } = classify(err);
    if (code === RESULT_CODES.InternalServerError && !(err instanceof FaceApiError)) {
      req.log.error({ err, url: redactAppKey(req.url) }, 'request failed');
    } else {
      req.log.info({ resultCode: code, reason: err.message }, 'request refused');
    }
    if (err instanceof FaceApiError && err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
    reply.status(200).send(failure(name, code));
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send(failure('InvalidParam', RESULT_CODES.InvalidParam));
  });

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_req, reply) => {
    const ok = options.ready?.() ?? true;
    reply.status(ok ? 200 : 503);
    return { status: ok ? 'ready' : 'starting' };
  });

  app.register(nhnV1, { ...ctx, prefix: '/nhn-face-reco/v1.0/appkeys/:appKey' });
  app.register(nhnV2, { ...ctx, prefix: '/v2.0/appkeys/:appKey' });
  return app;
}

/** Maps any error onto an NHN result: domain errors carry theirs; framework errors are ours to name. */
function classify(err: FastifyError | FaceApiError): { name: ErrorName; code: number } {
  if (err instanceof FaceApiError) return { name: err.resultName, code: err.code };
  const c = (err as FastifyError).code ?? '';
  if (c === 'FST_ERR_CTP_BODY_TOO_LARGE' || c === 'FST_REQ_FILE_TOO_LARGE') return named('ImageTooLargeException');
  if (c.startsWith('FST_ERR_CTP') || c.startsWith('FST_ERR_VALIDATION') || c.startsWith('FST_INVALID_MULTIPART') || c === 'FST_PARTS_LIMIT' || c === 'FST_FILES_LIMIT' || c === 'FST_FIELDS_LIMIT' || c === 'FST_PROTO_VIOLATION' || c === 'FST_NO_FORM_DATA') {
    return named('InvalidParam');
  }
  if ((err as FastifyError).statusCode && (err as FastifyError).statusCode! < 500) return named('InvalidParam');
  return named('InternalServerError');
}

const named = (name: ErrorName) => ({ name, code: RESULT_CODES[name] });
