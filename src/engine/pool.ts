import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { AnalyzeOptions, AnalyzeResult } from './engine.js';
import type { WorkerReply, WorkerSelfCheck, WorkerSetup, WorkerTask } from './engine-worker.js';
import { ImageError } from './errors.js';
import { DEFAULT_THREADING, MODEL_VERSION, type SessionThreading } from './models.js';

export interface PoolOptions {
  /** Worker threads, each with its own single-threaded ONNX sessions. Default: one per core. */
  threads?: number;
  /** Requests allowed to wait for a free worker; past it `analyze` fails fast with EngineBusyError. */
  maxQueue?: number;
  /** Threads per ONNX session inside each worker (default 1: the workers already fill the cores). */
  threading?: SessionThreading;
}

/** Raised at once (never queued) when every worker is busy and the wait queue is full. */
export class EngineBusyError extends Error {
  constructor() {
    super('all face engine workers are busy and the queue is full; retry shortly');
    this.name = 'EngineBusyError';
  }
}

/** The engine behind a bounded pool of worker threads, so inference never blocks the event loop. */
export class EnginePool {
  readonly modelVersion = MODEL_VERSION;
  readonly threads: number;
  readonly maxQueue: number;
  readonly threading: SessionThreading;
  private readonly piscina: Piscina<WorkerTask, WorkerReply>;

  constructor(options: PoolOptions = {}) {
    this.threads = options.threads ?? availableParallelism();
    this.maxQueue = options.maxQueue ?? this.threads * 16;
    this.threading = options.threading ?? DEFAULT_THREADING;
    const setup: WorkerSetup = { threading: this.threading };
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
      workerData: setup,
    });
  }

  /** Loads the models in every worker; resolves when the pool can serve. */
  async warmup(): Promise<void> {
    await Promise.all(Array.from({ length: this.threads }, () => this.piscina.run({ kind: 'warmup' })));
  }

  /**
   * Every worker's own measurement: whether it flushes denormals and how long each model stage
   * takes, warm. Piscina cannot address a worker, so tasks go out in rounds of one per worker
   * until each thread has answered (a busy-free pool hands concurrent tasks to distinct workers).
   */
  async selfCheck(maxRounds = 5): Promise<WorkerSelfCheck[]> {
    const byThread = new Map<number, WorkerSelfCheck>();
    for (let round = 0; round < maxRounds && byThread.size < this.threads; round++) {
      const replies = await Promise.all(Array.from({ length: this.threads }, () => this.piscina.run({ kind: 'selfcheck' })));
      for (const r of replies) if ('selfCheck' in r) byThread.set(r.selfCheck.threadId, r.selfCheck);
    }
    return [...byThread.values()];
  }

  async analyze(bytes: Uint8Array, options: AnalyzeOptions = {}): Promise<AnalyzeResult> {
    if (this.piscina.queueSize >= this.maxQueue) throw new EngineBusyError();
    let reply: WorkerReply;
    try {
      reply = await this.piscina.run({ kind: 'analyze', bytes, options });
    } catch (e) {
      if ((e as Error).message === 'Task queue is at limit') throw new EngineBusyError();
      throw e;
    }
    if (!reply.ok) throw new ImageError(reply.imageError.kind, reply.imageError.message);
    if (!('result' in reply) || !reply.result) throw new Error('engine worker answered an analyze task without a result');
    return reply.result;
  }

  /** Tasks waiting for a worker (for metrics and readiness). */
  get queueDepth(): number {
    return this.piscina.queueSize;
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
