import type { FastifyInstance } from 'fastify';
import { FaceApiError } from '../domain/errors.js';
import type { Apps } from '../domain/apps.js';
import type { FaceService } from '../domain/service.js';

/** What the HTTP adapters need: one domain API, the app registry, and the upload cap. */
export interface HttpContext {
  service: FaceService;
  apps: Apps;
  maxImageBytes: number;
  /** True while the engine's queue is full: image requests are then refused before their body is read. */
  engineSaturated?: () => boolean;
}

/**
 * An `onRequest` hook, added after the auth hook, that refuses image operations while the engine
 * is saturated — before reading, parsing and base64-decoding a body of up to several megabytes
 * that would only be refused afterwards. Every NHN POST except create-group carries an image.
 */
export function refuseImageWorkWhenSaturated(app: FastifyInstance, ctx: HttpContext): void {
  const saturated = ctx.engineSaturated;
  if (!saturated) return;
  app.addHook('onRequest', async (req) => {
    const route = req.routeOptions.url;
    if (req.method === 'POST' && route !== undefined && !route.endsWith('/groups') && saturated()) {
      throw new FaceApiError('InternalServerError', 'all face engine workers are busy and the queue is full; retry shortly', 1);
    }
  });
}
