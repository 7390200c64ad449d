import { availableParallelism } from 'node:os';
import type { Piscina } from 'piscina';
import { threadPool } from '../thread-pool.js';
import type { AnalyzeOptions, AnalyzeResultFor, LeadFaceRule } from './engine.js';
import type { DetectorSetting } from './face-finder.js';
import type { MaskModel } from './mask.js';
import type { WorkerReply, WorkerSelfCheck, WorkerSetup, WorkerTask } from './engine-worker.js';
import { flushDenormalsOnThisThread } from './denormal-probe.js';
import { EngineBusyError, ImageError } from './errors.js';
import { DEFAULT_TUNING, MODEL_VERSION, type SessionTuning } from './models.js';
import { DEFAULT_SOLO_THREADS, InFlight, type RunCounts } from './solo.js';

export interface PoolOptions {
  /** Worker threads, each with its own single-threaded ONNX sessions. Default: one per core. */
  threads?: number;
  /** Requests allowed to wait for a free worker; past it `analyze` fails fast with EngineBusyError. */
  maxQueue?: number;
  /** ONNX Runtime settings of every session in every worker (models.ts `DEFAULT_TUNING` for what is not given). */
  tuning?: Partial<SessionTuning>;
  /** Which face leads (engine.ts orderFaces); the engine's default (NHN's 'largest') when not given. */
  leadFace?: LeadFaceRule;
  /** Which detectors find faces (face-finder.ts); the engine's default when not given. */
  detectors?: DetectorSetting;
  /** Which probe sets the mask flag (mask.ts); the engine's default when not given. */
  maskModel?: MaskModel;
  /**
   * Intra-op threads a request may use while it is the only one in flight (solo.ts); 1 turns
   * lone-request sessions off. Default: DEFAULT_SOLO_THREADS.
   */
  soloThreads?: number;
}

export { DEFAULT_SOLO_THREADS };

/** The engine behind a bounded pool of worker threads, so inference never blocks the event loop. */
export class EnginePool {
  readonly modelVersion = MODEL_VERSION;
  readonly threads: number;
  readonly maxQueue: number;
  readonly tuning: SessionTuning;
  readonly soloThreads: number;
  /** Model runs through lone-request (solo) and single-threaded (shared) sessions, over all tasks. */
  readonly runs: RunCounts = { solo: 0, shared: 0 };
  private readonly inFlight = new InFlight();
  private readonly leadFace?: LeadFaceRule;
  private readonly detectors?: DetectorSetting;
  private readonly maskModel?: MaskModel;
  private readonly piscina: Promise<Piscina<WorkerTask, WorkerReply>>;
  private started?: Piscina<WorkerTask, WorkerReply>;

  constructor(options: PoolOptions = {}) {
    this.threads = options.threads ?? availableParallelism();
    this.maxQueue = options.maxQueue ?? this.threads * 16;
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.soloThreads = options.soloThreads ?? DEFAULT_SOLO_THREADS;
    this.leadFace = options.leadFace;
    this.detectors = options.detectors;
    this.maskModel = options.maskModel;
    this.piscina = this.start();
    this.piscina.catch(() => {}); // the error reaches whoever awaits the pool (warmup, analyze)
  }

  /**
   * Worker threads inherit the floating-point mode of the thread that creates them, and ORT can
   * put only its own threads and the first session's thread into flush-to-zero mode (models.ts).
   * So this thread flushes first, then spawns the workers: every worker flushes from birth, and
   * so does any worker piscina replaces later.
   */
  private async start(): Promise<Piscina<WorkerTask, WorkerReply>> {
    if (this.tuning.flushDenormals) await flushDenormalsOnThisThread();
    // Only what was chosen travels: the engine's own defaults (DEFAULT_ENGINE_CONFIG) fill the rest.
    const setup: WorkerSetup = {
      tuning: this.tuning,
      soloThreads: this.soloThreads,
      inFlight: this.inFlight.buffer,
      ...(this.leadFace ? { leadFace: this.leadFace } : {}),
      ...(this.detectors ? { detectors: this.detectors } : {}),
      ...(this.maskModel ? { maskModel: this.maskModel } : {}),
    };
    this.started = threadPool<WorkerTask, WorkerReply>(import.meta.url, 'engine-worker', {
      minThreads: this.threads,
      maxThreads: this.threads,
      maxQueue: this.maxQueue,
      idleTimeout: Infinity,
      // First in, first out: by default piscina sends a queued task it cannot hand over yet to the
      // back of the queue, which under sustained load leaves some requests waiting for seconds.
      stricterFIFO: true,
      workerData: setup,
    });
    return this.started;
  }

  /** Loads the models in every worker; resolves when the pool can serve. */
  async warmup(): Promise<void> {
    const piscina = await this.piscina;
    await Promise.all(Array.from({ length: this.threads }, () => piscina.run({ kind: 'warmup' })));
  }

  /**
   * Every worker's own measurement: whether it flushes denormals and how long each model stage
   * takes, warm. Piscina cannot address a worker, so tasks go out in rounds of one per worker
   * until each thread has answered (a busy-free pool hands concurrent tasks to distinct workers).
   */
  async selfCheck(maxRounds = 5): Promise<WorkerSelfCheck[]> {
    const piscina = await this.piscina;
    const byThread = new Map<number, WorkerSelfCheck>();
    for (let round = 0; round < maxRounds && byThread.size < this.threads; round++) {
      const replies = await Promise.all(Array.from({ length: this.threads }, () => piscina.run({ kind: 'selfcheck' })));
      for (const r of replies) if ('selfCheck' in r) byThread.set(r.selfCheck.threadId, r.selfCheck);
    }
    return [...byThread.values()];
  }

  async analyze<O extends AnalyzeOptions = {}>(bytes: Uint8Array, options: O = {} as O): Promise<AnalyzeResultFor<O>> {
    if (this.queueDepth >= this.maxQueue) throw new EngineBusyError();
    const piscina = await this.piscina;
    let reply: WorkerReply;
    // Counted from hand-over to answer, queued or running: a worker goes solo only at count 1.
    this.inFlight.enter();
    try {
      reply = await piscina.run({ kind: 'analyze', bytes, options });
    } catch (e) {
      if ((e as Error).message === 'Task queue is at limit') throw new EngineBusyError();
      throw e;
    } finally {
      this.inFlight.leave();
    }
    if ('runs' in reply && reply.runs) {
      this.runs.solo += reply.runs.solo;
      this.runs.shared += reply.runs.shared;
    }
    if (!reply.ok) throw new ImageError(reply.imageError.kind, reply.imageError.message, reply.imageError.libraryText);
    if (!('result' in reply) || !reply.result) throw new Error('engine worker answered an analyze task without a result');
    return reply.result as AnalyzeResultFor<O>;
  }

  /** Tasks waiting for a worker (for metrics and readiness). */
  get queueDepth(): number {
    return this.started?.queueSize ?? 0;
  }

  async close(): Promise<void> {
    await (await this.piscina).destroy();
  }
}
