import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FaceApiError } from '../domain/errors.js';
import type { Apps } from '../domain/apps.js';
import type { AuditTrail } from '../domain/audit.js';
import type { PrivacyService } from '../domain/privacy.js';
import type { RetentionService } from '../domain/retention.js';
import type { PersonService } from '../domain/persons.js';
import type { ClusterService } from '../domain/clusters.js';
import type { FaceService } from '../domain/service.js';

/** What the HTTP adapters need: one domain API, the app registry, and the upload cap. */
export interface HttpContext {
  service: FaceService;
  apps: Apps;
  maxImageBytes: number;
  /** True while the engine's queue is full: image requests are then refused before their body is read. */
  engineSaturated?: () => boolean;
  /** The privacy extension (`/x/v1`); without it those routes are not served. */
  privacy?: PrivacyService;
  /** The audit log's query route (`/x/v1/…/audit`); served with `privacy`. */
  audit?: AuditTrail;
  /** Retention periods (`/x/v1/…/retention`); served with `privacy`. */
  retention?: RetentionService;
  /** Persons, person search and album search (`/x/v1/…/persons`, `…/photos`); docs/persons.md. */
  persons?: PersonService;
  /** Clustering jobs (`/x/v1/…/cluster-jobs`); served with `persons`. */
  clusters?: ClusterService;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route's body holds an image for the engine (route `config: { carriesImage: true }`):
     * such requests are refused while the engine is saturated.
     */
    carriesImage?: boolean;
  }
}

/**
 * An `onRequest` hook, added after the auth hook, that refuses image operations while the engine
 * is saturated — before reading, parsing and base64-decoding a body of up to several megabytes
 * that would only be refused afterwards. Routes say themselves that they carry an image, so a
 * new route without one is never refused by accident.
 */
export function refuseImageWorkWhenSaturated(app: FastifyInstance, ctx: HttpContext): void {
  const saturated = ctx.engineSaturated;
  if (!saturated) return;
  app.addHook('onRequest', async (req) => {
    if (req.routeOptions.config.carriesImage === true && saturated()) {
      throw new FaceApiError('InternalServerError', 'all face engine workers are busy and the queue is full; retry shortly', 1);
    }
  });
}

/**
 * The /x/v1 extensions authenticate as v2.0 does: the app's secret key in `Authorization`, checked
 * (in constant time, by `Apps`) before the body is read.
 */
export function requireAppSecret(app: FastifyInstance, ctx: HttpContext): void {
  app.addHook('onRequest', async (req: FastifyRequest<{ Params: { appKey: string } }>) => {
    const secret = req.headers.authorization;
    if (!(await ctx.apps.verifySecret(req.params.appKey, typeof secret === 'string' ? secret : undefined))) {
      throw new FaceApiError('UnauthorizedAppKeyOrSecretKey', 'the appKey and the secret key in Authorization do not match an app of this server');
    }
  });
}
