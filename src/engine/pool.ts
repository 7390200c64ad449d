import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { AnalyzeOptions, AnalyzeResultFor } from './engine.js';
import type { WorkerReply, WorkerTask } from './engine-worker.js';
import { EngineBusyError, ImageError } from './errors.js';
import { MODEL_VERSION } from './models.js';

export interface PoolOptions {
  /** Worker threads, each with its own single-threaded ONNX sessions. Default: one per core. */
  threads?: number;
  /** Requests allowed to wait for a free worker; past it `analyze` fails fast with EngineBusyError. */
  maxQueue?: number;
}

/** The engine behind a bounded pool of worker threads, so inference never blocks the event loop. */
export class EnginePool {
  readonly modelVersion = MODEL_VERSION;
  readonly threads: number;
  readonly maxQueue: number;
  private readonly piscina: Piscina<WorkerTask, WorkerReply>;

  constructor(options: PoolOptions = {}) {
    this.threads = options.threads ?? availableParallelism();
    this.maxQueue = options.maxQueue ?? this.threads * 16;
    const here = fileURLToPath(import.meta.url);
    const fromSource = extname(here) === '.ts';
    this.piscina = new Piscina({
      // Run from TypeScript sources (npm start, tests): workers need the tsx loader too.
      ...(fromSource && !process.execArgv.some((a) => a.includes('tsx')) ? { execArgv: [...process.execArgv, '--import', import.meta.resolve('tsx')] } : {}),
      filename: new URL(`./engine-worker${extname(here)}`, import.meta.url).href,
      minThreads: this.threads,
      maxThreads: this.threads,
      maxQueue: this.maxQueue,
      idleTimeout: Infinity,
    });
  }

  /** Loads the models in every worker; resolves when the pool can serve. */
  async warmup(): Promise<void> {
    await Promise.all(Array.from({ length: this.threads }, () => this.piscina.run({ kind: 'warmup' })));
  }

  async analyze<O extends AnalyzeOptions = {}>(bytes: Uint8Array, options: O = {} as O): Promise<AnalyzeResultFor<O>> {
    if (this.piscina.queueSize >= this.maxQueue) throw new EngineBusyError();
    let reply: WorkerReply;
    try {
      reply = await this.piscina.run({ kind: 'analyze', bytes, options });
    } catch (e) {
      if ((e as Error).message === 'Task queue is at limit') throw new EngineBusyError();
      throw e;
    }
    if (!reply.ok) throw new ImageError(reply.imageError.kind, reply.imageError.message);
    return reply.result as AnalyzeResultFor<O>;
  }

  /** Tasks waiting for a worker (for metrics and readiness). */
  get queueDepth(): number {
    return this.piscina.queueSize;
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
