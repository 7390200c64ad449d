// `npm start` (src/main.ts) as a child process on 127.0.0.1 over a data dir that outlives it, so
// a test can kill it with SIGKILL and start it again on the same data.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface ServerProcessOptions {
  dataDir: string;
  appKey: string;
  secretKey: string;
  /** Extra environment (FACEREC_WORKERS, FACEREC_MAX_FACES_PER_GROUP, …). */
  env?: Record<string, string>;
  /**
   * RLIMIT_FSIZE in KiB (bash `ulimit -f`): writes past this offset in any file fail with EFBIG.
   * Node ignores SIGXFSZ, so SQLite sees a write error: a full disk without root or a mount.
   */
  fileSizeLimitKiB?: number;
  /** Extra node flags for the server process (e.g. --trace-gc when investigating pauses). */
  nodeArgs?: string[];
  /** Keep everything the process writes (log checks) instead of only the latest output. */
  keepAllOutput?: boolean;
}

/** A port that was free a moment ago on 127.0.0.1; the server needs it as PORT before it starts. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail).listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}

export class ServerProcess {
  private readonly chunks: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly child: ChildProcess,
    readonly origin: string,
    private readonly keepAll: boolean,
  ) {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => this.keep(c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => this.keep(c));
    this.exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
  }

  /** Spawns the server; it is not ready yet (see `waitReady`). */
  static async spawn(options: ServerProcessOptions): Promise<ServerProcess> {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      FACEREC_DATA_DIR: options.dataDir,
      FACEREC_APPKEY: options.appKey,
      FACEREC_SECRETKEY: options.secretKey,
      FACEREC_LOG_LEVEL: 'warn',
      PORT: String(port),
      HOST: '127.0.0.1',
      ...options.env,
    };
    // Set by `node --test` for its own subprocesses; the server is not one of them.
    delete env.NODE_TEST_CONTEXT;
    const args = [...(options.nodeArgs ?? []), '--import', 'tsx', 'src/main.ts'];
    const child = options.fileSizeLimitKiB === undefined
      ? spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
      // `exec` keeps one process, so signals go to node itself.
      : spawn('bash', ['-c', `ulimit -f ${options.fileSizeLimitKiB} && exec "$0" "$@"`, process.execPath, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    return new ServerProcess(child, `http://127.0.0.1:${port}`, options.keepAllOutput === true);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Polls /ready; fails if the process exits first or the time runs out. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (!this.running) throw new Error(`server exited before it was ready (${this.child.exitCode ?? this.child.signalCode}):\n${this.output()}`);
      try {
        const res = await fetch(`${this.origin}/ready`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`server not ready after ${timeoutMs} ms:\n${this.output()}`);
  }

  /** Sends the signal and waits for the process to be gone. */
  async stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  /** What the process wrote (pino JSON lines, start-up errors): all of it, or the last 20 KB. */
  output(): string {
    const all = this.chunks.join('');
    return this.keepAll ? all : all.slice(-20_000);
  }

  private keep(chunk: string): void {
    this.chunks.push(chunk);
    if (!this.keepAll && this.chunks.length > 200) this.chunks.splice(0, 100);
  }
}
