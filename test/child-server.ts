// The real server (`npm start`: src/main.ts, worker pool, SQLite) as a child process on
// 127.0.0.1, for checks that need its own event loop and real HTTP: overload, load, logs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

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

/** A port that was free a moment ago on 127.0.0.1 (the server needs it as PORT before it starts). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail).listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}

/** Starts `node --import tsx src/main.ts` in a fresh data dir and waits until /ready says 200. */
export async function startChildServer(options: ChildServerOptions = {}): Promise<ChildServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'facerec-child-'));
  const appKey = options.appKey ?? 'child-app-key';
  const secretKey = options.secretKey ?? 'child-secret-key';
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FACEREC_DATA_DIR: dataDir,
    FACEREC_APPKEY: appKey,
    FACEREC_SECRETKEY: secretKey,
    FACEREC_MASTER_KEY: '33'.repeat(32),
    PORT: String(port),
    HOST: '127.0.0.1',
    ...options.env,
  };
  // Set by node --test for its own subprocesses; the server is not one.
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: string[] = [];
  const keep = (c: string) => {
    chunks.push(c);
    if (options.tailOnly && chunks.length > 64) chunks.splice(0, chunks.length - 64);
  };
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const origin = `http://127.0.0.1:${port}`;

  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    await waitUntilReady(origin, child, options.readyTimeoutMs ?? 60_000);
  } catch (e) {
    await close();
    throw new Error(`${(e as Error).message}\n--- server output ---\n${chunks.join('')}`);
  }
  return { origin, pid: child.pid!, appKey, secretKey, output: () => chunks.join(''), close };
}

async function waitUntilReady(origin: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode} before it was ready`);
    const status = await getStatus(`${origin}/ready`).catch(() => 0);
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server not ready after ${timeoutMs} ms`);
}

/** GET over a fresh connection (as a load balancer's probe would), resolving to the status code. */
export function getStatus(url: string): Promise<number> {
  return new Promise((done, fail) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? 0));
    });
    req.once('error', fail);
    req.end();
  });
}
