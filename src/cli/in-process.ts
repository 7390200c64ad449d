import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createRuntime } from '../app.js';
import type { Config } from '../config.js';
import { Apps, hashSecret } from '../domain/apps.js';
import { LazyEngine } from '../engine/lazy-engine.js';
import { EnginePool } from '../engine/pool.js';
import { buildServer } from '../http/server.js';
import type { Store } from '../store/store.js';

export interface LocalServer {
  baseUrl: string;
  appKey: string;
  /** A secret valid for this process only (the app's real secret is stored hashed, unknowable). */
  secretKey: string;
  close(): Promise<void>;
}

/**
 * The service on the data dir, inside the CLI process, listening on an ephemeral loopback port:
 * the CLI then talks to it with the same HTTP client it uses for a remote server, so both modes
 * share one code path.
 *
 * Whoever can read the data dir holds every vector and the key that encrypts them, so the CLI
 * does not ask for the app's secret here: it selects the app (`appKey`, or the oldest app) and
 * authenticates with a random per-process secret. Other apps keep their normal authentication.
 */
export async function startLocalServer(config: Config, options: { appKey?: string; engineThreads: number; notice: (msg: string) => void }): Promise<LocalServer> {
  const analyzer = options.engineThreads > 1 ? await startPool(options.engineThreads, config) : new LazyEngine({ leadFace: config.leadFace, detectors: config.detectors, maskModel: config.maskModel });
  const runtime = await createRuntime(config, analyzer);
  try {
    const appKey = await chooseApp(runtime.apps, options.appKey, options.notice);
    const secretKey = randomBytes(24).toString('base64url');
    const server = buildServer({
      service: runtime.service,
      apps: new SessionApps(runtime.store, appKey, secretKey),
      privacy: runtime.privacy,
      audit: runtime.audit,
      retention: runtime.retention,
      persons: runtime.persons,
      clusters: runtime.clusters,
      maxImageBytes: config.maxImageBytes,
    });
    await server.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.server.address() as AddressInfo;
    return {
      baseUrl: `http://127.0.0.1:${port}`,
      appKey,
      secretKey,
      close: async () => {
        await server.close();
        if (analyzer instanceof EnginePool) await analyzer.close();
        await runtime.close();
      },
    };
  } catch (e) {
    if (analyzer instanceof EnginePool) await analyzer.close();
    await runtime.close();
    throw e;
  }
}

/** A worker pool for `index --concurrency n`, with its models loaded before work starts. */
async function startPool(threads: number, config: Config): Promise<EnginePool> {
  const pool = new EnginePool({ threads, leadFace: config.leadFace, detectors: config.detectors, maskModel: config.maskModel, soloThreads: config.loneRequestThreads });
  try {
    await pool.warmup();
    return pool;
  } catch (e) {
    await pool.close();
    throw e;
  }
}

async function chooseApp(apps: Apps, wanted: string | undefined, notice: (msg: string) => void): Promise<string> {
  if (wanted) {
    if (!(await apps.knows(wanted))) throw new Error(`no app ${wanted} in this data dir (see: facerec apps list)`);
    return wanted;
  }
  const all = (await apps.list()).sort((a, b) => a.createTime.getTime() - b.createTime.getTime());
  if (all.length === 0) {
    // The same first-start contract as `facerec serve`: an empty data dir gets an app, keys shown once.
    const keys = await apps.create();
    notice(`created the first app of this data dir; keep these keys, the secret is not shown again:\n  appKey:    ${keys.appKey}\n  secretKey: ${keys.secretKey}`);
    return keys.appKey;
  }
  if (all.length > 1) notice(`using app ${all[0].appKey}, the oldest of ${all.length}; pass --app-key to choose another`);
  return all[0].appKey;
}

/** Accepts the per-process secret for the chosen app, on top of the apps' real secrets. */
class SessionApps extends Apps {
  private readonly sessionHash: Buffer;
  constructor(
    store: Store,
    private readonly sessionAppKey: string,
    sessionSecret: string,
  ) {
    super(store);
    this.sessionHash = sha256(sessionSecret);
  }

  override async verifySecret(appKey: string, secretKey: string | undefined): Promise<boolean> {
    if (appKey === this.sessionAppKey && secretKey !== undefined && timingSafeEqual(sha256(secretKey), this.sessionHash)) return true;
    return super.verifySecret(appKey, secretKey);
  }
}

const sha256 = (s: string) => Buffer.from(hashSecret(s), 'hex');
