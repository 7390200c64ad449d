import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import { FacerecClient } from '../client/index.js';
import { CliError } from './output.js';

/** Options every command accepts (declared on the program in program.ts). */
export interface GlobalOptions {
  url?: string;
  appKey?: string;
  secretKey?: string;
  dataDir?: string;
  json: boolean;
}

export const globals = (cmd: Command) => cmd.optsWithGlobals() as GlobalOptions & Record<string, unknown>;

/** The service configuration from the environment, with `--data-dir` taking precedence. */
export function configFrom(opts: GlobalOptions): Config {
  return loadConfig(opts.dataDir ? { ...process.env, FACEREC_DATA_DIR: opts.dataDir } : process.env);
}

export interface Session {
  client: FacerecClient;
  appKey: string;
  /** Where requests go: the server URL, or `file://<data dir>` in-process. Index state is tied to it. */
  target: string;
  inProcess: boolean;
}

/**
 * Runs `fn` with a client for a running server (`--url`) or, without `--url`, for the service
 * started inside this process on the data dir. `engineThreads` > 1 gives the in-process service
 * a worker pool (for `index --concurrency`); otherwise the engine runs on this thread.
 */
export async function withSession<T>(opts: GlobalOptions, fn: (s: Session) => Promise<T>, engineThreads = 1): Promise<T> {
  if (opts.url) {
    if (!opts.appKey || !opts.secretKey) throw new CliError('--url needs --app-key and --secret-key (or FACEREC_APPKEY and FACEREC_SECRETKEY)');
    const client = new FacerecClient({ baseUrl: opts.url, appKey: opts.appKey, secretKey: opts.secretKey });
    return fn({ client, appKey: opts.appKey, target: opts.url.replace(/\/+$/, ''), inProcess: false });
  }
  const config = configFrom(opts);
  // Loaded only here, so that remote commands never load the models, SQLite or sharp.
  const { startLocalServer } = await import('./in-process.js');
  const local = await startLocalServer(config, { appKey: opts.appKey, engineThreads, notice: (m) => process.stderr.write(`facerec: ${m}\n`) });
  try {
    const client = new FacerecClient({ baseUrl: local.baseUrl, appKey: local.appKey, secretKey: local.secretKey });
    return await fn({ client, appKey: local.appKey, target: `file://${config.dataDir}`, inProcess: true });
  } finally {
    await local.close();
  }
}
