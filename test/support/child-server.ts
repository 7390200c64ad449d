// The real server (`npm start`) as a child process on 127.0.0.1 in a throw-away data dir, for
// checks that need its own event loop and real HTTP: overload, load, logs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerProcess } from './server-process.js';

export { freePort } from './server-process.js';

export interface ChildServer {
  origin: string;
  pid: number;
  appKey: string;
  secretKey: string;
  /** Everything the process wrote to stdout and stderr so far (pino JSON lines). */
  output(): string;
  close(): Promise<void>;
}

export interface ChildServerOptions {
  /** Extra environment, e.g. FACEREC_WORKERS / FACEREC_QUEUE / FACEREC_LOG_LEVEL. */
  env?: Record<string, string>;
  appKey?: string;
  secretKey?: string;
  readyTimeoutMs?: number;
  /** Extra node flags for the server process (e.g. --trace-gc when investigating pauses). */
  nodeArgs?: string[];
  /** Keep only the latest output (long runs: a load test logs lines for every request). */
  tailOnly?: boolean;
}

/** Starts the server in a fresh data dir and waits until /ready says 200. */
export async function startChildServer(options: ChildServerOptions = {}): Promise<ChildServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'facerec-child-'));
  const appKey = options.appKey ?? 'child-app-key';
  const secretKey = options.secretKey ?? 'child-secret-key';
  const server = await ServerProcess.spawn({
    dataDir,
    appKey,
    secretKey,
    env: { FACEREC_MASTER_KEY: '33'.repeat(32), FACEREC_LOG_LEVEL: 'info', ...options.env },
    nodeArgs: options.nodeArgs,
    keepAllOutput: !options.tailOnly,
  });
  const close = async () => {
    if (server.running) {
      const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
      await server.stop('SIGTERM');
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await server.waitReady(options.readyTimeoutMs ?? 60_000);
  } catch (e) {
    await close();
    throw e;
  }
  return { origin: server.origin, pid: server.pid, appKey, secretKey, output: () => server.output(), close };
}
