import type { Config } from './config.js';
import { createRuntime } from './app.js';
import { EnginePool } from './engine/pool.js';
import { buildServer } from './http/server.js';

/**
 * Starts the HTTP service: listens first (so /health answers), loads the models in every worker,
 * then reports ready. SIGTERM/SIGINT finish in-flight requests before closing the store.
 */
export async function serve(config: Config): Promise<void> {
  const pool = new EnginePool({ threads: config.workers, maxQueue: config.queue });
  const runtime = createRuntime(config, pool);
  let ready = false;
  const server = buildServer(
    { service: runtime.service, apps: runtime.apps, maxImageBytes: config.maxImageBytes },
    { logger: { level: config.logLevel }, ready: () => ready },
  );
  await ensureBootstrapApp(config, runtime, (msg) => server.log.info(msg));

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    server.log.info({ signal }, 'shutting down: finishing in-flight requests');
    await server.close();
    await pool.close();
    await runtime.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await server.listen({ port: config.port, host: config.host });
  await pool.warmup();
  ready = true;
  server.log.info({ workers: pool.threads, queue: pool.maxQueue, modelVersion: pool.modelVersion, dataDir: config.dataDir }, 'facerec ready');
}

/**
 * The start-up contract: FACEREC_APPKEY/FACEREC_SECRETKEY name an app that exists from start-up;
 * without them, the first start on an empty data dir creates one app and prints its keys once.
 */
async function ensureBootstrapApp(config: Config, runtime: Awaited<ReturnType<typeof createRuntime>>, log: (m: string) => void): Promise<void> {
  const { apps } = runtime;
  if (config.appKey) {
    if (!config.secretKey) throw new Error('FACEREC_APPKEY is set but FACEREC_SECRETKEY is not');
    if (!(await apps.knows(config.appKey))) {
      await apps.create({ appKey: config.appKey, secretKey: config.secretKey });
      log(`created app ${config.appKey} from FACEREC_APPKEY`);
    } else {
      await apps.setSecret(config.appKey, config.secretKey);
    }
    return;
  }
  if ((await apps.list()).length > 0) return;
  const keys = await apps.create();
  // Printed once, to stdout, on purpose: there is no other way to learn the secret. It is not logged.
  process.stdout.write(
    `\nfacerec: created the first app. Keep these keys; the secret key is not shown again.\n` +
      `  appKey:    ${keys.appKey}\n  secretKey: ${keys.secretKey}\n` +
      `More apps: npx facerec apps create\n\n`,
  );
}
