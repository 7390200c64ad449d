/**
 * Prometheus metrics (prom-client). Each server owns its registry, so tests and several servers
 * in one process never collide on prom-client's global one.
 *
 * Labels never carry identifiers: `route` is the Fastify route pattern
 * (`/v2.0/appkeys/:appKey/groups/:groupId`), never the URL, which holds the appKey (a credential
 * in v1.0) and group ids. Group sizes are a distribution, not a series per group: one series per
 * group would grow with tenants' data (up to 10,000 groups per app) and name their groups.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { InferenceTimingHook } from '../engine/timed-analyzer.js';

/** Where the gauges read from at scrape time; a server without an engine pool or store omits them. */
export interface MetricSources {
  /** Analyses waiting for an inference worker (EnginePool.queueDepth). */
  queueDepth?: () => number;
  /** The face count of every group of every app. */
  groupSizes?: () => Promise<number[]>;
  /** The per-group quota, to report how close the fullest group is to -40070. */
  maxFacesPerGroup?: number;
  /** Node process metrics (CPU, memory, event-loop lag, GC), prefixed facerec_. */
  processMetrics?: boolean;
}

/** Non-NHN routes (/health, /metrics, /docs) have no resultCode. */
const NO_RESULT_CODE = 'none';
/** Requests that matched no route (404): a fixed label, never the URL. */
const UNMATCHED_ROUTE = 'unmatched';

const GROUP_SIZE_BUCKETS = [0, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

export class ServerMetrics implements InferenceTimingHook {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'method' | 'result_code'>;
  private readonly duration: Histogram<'route' | 'method'>;
  private readonly stages: Histogram<'stage'>;

  constructor(sources: MetricSources = {}) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'facerec_http_requests_total',
      help: 'HTTP requests by route pattern, method and NHN resultCode ("none" outside the NHN API)',
      labelNames: ['route', 'method', 'result_code'],
      registers,
    });
    this.duration = new Histogram({
      name: 'facerec_http_request_duration_seconds',
      help: 'Time from receiving a request to sending its response, by route pattern',
      labelNames: ['route', 'method'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.stages = new Histogram({
      name: 'facerec_inference_stage_seconds',
      help: 'Engine time per analysed image by stage (summed over the faces of the image); "queue" is the wait for a worker plus the hand-over',
      labelNames: ['stage'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    if (sources.queueDepth) {
      const depth = sources.queueDepth;
      new Gauge({
        name: 'facerec_engine_queue_depth',
        help: 'Images waiting for an inference worker',
        registers,
        collect() {
          this.set(depth());
        },
      });
    }
    if (sources.groupSizes) this.addGroupSizeMetrics(memoize(sources.groupSizes, 1000), sources.maxFacesPerGroup);
    if (sources.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'facerec_' });
  }

  /** `route` is a route pattern (or undefined for 404s); `resultCode` the envelope's, if any. */
  observeRequest(route: string | undefined, method: string, resultCode: number | undefined, seconds: number): void {
    const r = route ?? UNMATCHED_ROUTE;
    this.requests.inc({ route: r, method, result_code: resultCode === undefined ? NO_RESULT_CODE : String(resultCode) });
    this.duration.observe({ route: r, method }, seconds);
  }

  /** One inference stage of one image (the engine's timing decorator reports them). */
  onStage(stage: string, seconds: number): void {
    this.stages.observe({ stage }, seconds);
  }

  /** The Prometheus text exposition. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private addGroupSizeMetrics(groupSizes: () => Promise<number[]>, maxFaces: number | undefined): void {
    // A histogram rebuilt at every scrape: _bucket{le} = groups with at most `le` faces,
    // _count = groups, _sum = faces in all groups.
    new Histogram({
      name: 'facerec_group_faces',
      help: 'Distribution of the number of faces per group (all apps)',
      buckets: GROUP_SIZE_BUCKETS,
      registers: [this.registry],
      async collect() {
        const sizes = await groupSizes();
        this.reset();
        this.zero({}); // with no groups, still expose zero buckets rather than no series
        for (const n of sizes) this.observe(n);
      },
    });
    if (maxFaces) {
      new Gauge({
        name: 'facerec_group_fill_ratio_max',
        help: 'Faces in the fullest group divided by the per-group quota (at 1, register answers -40070)',
        registers: [this.registry],
        async collect() {
          const sizes = await groupSizes();
          this.set(sizes.length ? Math.max(...sizes) / maxFaces : 0);
        },
      });
    }
  }
}

/** Shares one read of an expensive source between the collectors of one scrape. */
function memoize<T>(read: () => Promise<T>, ttlMs: number): () => Promise<T> {
  let cached: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > ttlMs) {
      const value = read();
      cached = { at: now, value };
      value.catch(() => (cached = undefined));
    }
    return cached.value;
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The NHN resultCode of the answer, seen before serialization (for metrics). */
    nhnResultCode?: number;
  }
}

/** Counts and times every request on `app` (hooks on the root reach every route). */
export function trackRequests(app: FastifyInstance, metrics: ServerMetrics): void {
  app.decorateRequest('nhnResultCode', undefined);
  app.addHook('preSerialization', async (req: FastifyRequest, _reply: FastifyReply, payload: unknown) => {
    const code = (payload as { header?: { resultCode?: unknown } } | null)?.header?.resultCode;
    if (typeof code === 'number') req.nhnResultCode = code;
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.observeRequest(req.routeOptions.url, req.method, req.nhnResultCode, reply.elapsedTime / 1000);
  });
}
