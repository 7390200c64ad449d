import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import { createRuntime, type Runtime } from './app.js';
import { EnginePool } from './engine/pool.js';
import { assessSelfCheck } from './engine/self-check.js';
import { withInferenceMetrics } from './engine/timed-analyzer.js';
import { ServerMetrics } from './http/metrics.js';
import { buildServer } from './http/server.js';
import { StoreConflictError, type Store } from './store/store.js';
import { loggerOptions } from './log-format.js';
import { firstAppBanner, readyBanner, serviceUrls } from './startup-banner.js';

/** In-flight requests get this long after SIGTERM; then the process exits with 1 regardless. */
const SHUTDOWN_GRACE_MS = 30_000;

/**
 * Starts the HTTP service: listens first (so /health answers), loads the models in every worker,
 * then reports ready. SIGTERM/SIGINT: stop accepting, finish in-flight requests, then close the
 * worker pool and the store, and exit 0.
 */
export async function serve(config: Config): Promise<void> {
  const pool = new EnginePool({
    threads: config.workers,
    maxQueue: config.queue,
    leadFace: config.leadFace,
    detectors: config.detectors,
    maskModel: config.maskModel,
    soloThreads: config.loneRequestThreads,
  });
  const metrics = new ServerMetrics({
    queueDepth: () => pool.queueDepth,
    groupSizes: () => runtime.store.groupFaceCounts(), // read at scrape time, once runtime exists
    maxFacesPerGroup: config.limits.maxFacesPerGroup,
    processMetrics: true,
  });
  // The domain sees the pool through a decorator that records per-stage inference times.
  const runtime = await createRuntime(config, withInferenceMetrics(pool, metrics), {
    // The vector index logs only after the server exists (on searches of large groups).
    indexLog: { info: (fields, message) => server.log.info(fields, message), warn: (fields, message) => server.log.warn(fields, message) },
    warmIndex: true,
  });
  let modelsLoaded = false;
  let closing = false;
  const server = buildServer(
    { service: runtime.service, apps: runtime.apps, privacy: runtime.privacy, audit: runtime.audit, retention: runtime.retention, persons: runtime.persons, clusters: runtime.clusters, maxImageBytes: config.maxImageBytes, engineSaturated: () => pool.queueDepth >= pool.maxQueue },
    { logger: loggerOptions(config), ready: async () => modelsLoaded && !closing && (await storeAnswers(runtime.store)), metrics },
  );
  await ensureBootstrapApp(config, runtime, (msg) => server.log.info(msg));

  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    server.log.info({ signal }, 'shutting down: finishing in-flight requests');
    const deadline = setTimeout(() => {
      server.log.error({ graceMs: SHUTDOWN_GRACE_MS }, 'shutdown grace period over; exiting with requests still in flight');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    deadline.unref();
    try {
      // Stops listening, answers new requests on open connections with 503, waits for in-flight ones.
      await server.close();
      await pool.close();
      await runtime.close();
      server.log.info('shut down');
      process.exit(0);
    } catch (err) {
      server.log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await server.listen({ port: config.port, host: config.host });
  try {
    await pool.warmup();
    // One look at this machine's speed before serving: a CPU several times slower than our figures
    // (denormals, an oversubscribed host) is said at start-up, not discovered from latency graphs.
    const selfCheck = assessSelfCheck(await pool.selfCheck(), pool.tuning, pool.soloThreads);
    server.log.info({ selfCheck: selfCheck.summary }, 'engine self-check');
    for (const warning of selfCheck.warnings) server.log.warn(warning);
  } catch (err) {
    if (closing) return; // a signal during start-up closed the pool under the warm-up
    throw err;
  }
  modelsLoaded = true;
  server.log.info({ workers: pool.threads, queue: pool.maxQueue, modelVersion: pool.modelVersion, dataDir: config.dataDir }, 'facerec ready');
  process.stdout.write(readyBanner(serviceUrls(server.server.address() as AddressInfo)));
}

/** A cheap read: false once the store is closed or its database is unreadable. */
async function storeAnswers(store: Store): Promise<boolean> {
  try {
    await store.getApp('');
    return true;
  } catch {
    return false;
  }
}

/**
 * The start-up contract: FACEREC_APPKEY/FACEREC_SECRETKEY name an app that exists from start-up;
 * without them, the first start on an empty data dir creates one app and prints its keys once.
 */
async function ensureBootstrapApp(config: Config, runtime: Runtime, log: (m: string) => void): Promise<void> {
  const { apps } = runtime;
  if (config.appKey) {
    if (!config.secretKey) throw new Error('FACEREC_APPKEY is set but FACEREC_SECRETKEY is not');
    if (!(await apps.knows(config.appKey))) {
      try {
        await apps.create({ appKey: config.appKey, secretKey: config.secretKey });
        // The appKey is the v1 credential: name where it came from, never the key itself.
        log('created the app named by FACEREC_APPKEY');
        return;
      } catch (err) {
        // PostgreSQL mode: another node starting at the same moment created it first.
        if (!(err instanceof StoreConflictError)) throw err;
      }
    }
    await apps.setSecret(config.appKey, config.secretKey);
    return;
  }
  if ((await apps.list()).length > 0) return;
  const keys = await apps.create();
  // Printed once, to stdout, on purpose: there is no other way to learn the secret. It is not logged.
  process.stdout.write(firstAppBanner(keys));
}
