// Body of each inference worker thread (see pool.ts). One FaceEngine per thread, created on the
// first task, so each thread owns its ONNX sessions and nothing is shared across threads.
import { threadId } from 'node:worker_threads';
import { workerData } from 'piscina';
import sharp from 'sharp';
import { flushesDenormals } from './denormal-probe.js';
import { FaceEngine, type AnalyzeOptions, type AnalyzeResult, type EngineConfig, type ModelStage } from './engine.js';
import { isImageError, type ImageErrorKind } from './errors.js';
import { sessionOptions } from './models.js';

// Each worker is one unit of parallelism; libvips threads on top would oversubscribe the cores.
sharp.concurrency(1);
sharp.cache(false);

/** The engine settings the pool chose (pool.ts); whatever is absent takes the engine's default. */
export type WorkerSetup = Pick<EngineConfig, 'tuning'> & Partial<Pick<EngineConfig, 'leadFace' | 'detectors'>>;

/** What one worker measured of itself (pool.selfCheck). */
export interface WorkerSelfCheck {
  threadId: number;
  /** Whether inference on this worker flushes denormal floats to zero (see models.ts). */
  flushesDenormals: boolean;
  /** Median ms per model stage, warm. */
  stageMs: Record<ModelStage, number>;
}

export type WorkerTask = { kind: 'warmup' } | { kind: 'selfcheck' } | { kind: 'analyze'; bytes: Uint8Array; options: AnalyzeOptions };
export type WorkerReply =
  | { ok: true; result: AnalyzeResult | null }
  | { ok: true; selfCheck: WorkerSelfCheck }
  | { ok: false; imageError: { kind: ImageErrorKind; message: string; libraryText?: string } };

const setup = workerData as WorkerSetup;
let engine: Promise<FaceEngine> | undefined;

export default async function run(task: WorkerTask): Promise<WorkerReply> {
  engine ??= FaceEngine.create(setup);
  const e = await engine;
  if (task.kind === 'warmup') return { ok: true, result: null };
  if (task.kind === 'selfcheck') {
    return { ok: true, selfCheck: { threadId, flushesDenormals: await flushesDenormals(sessionOptions(setup.tuning)), stageMs: await e.timeStages() } };
  }
  try {
    return { ok: true, result: await e.analyze(task.bytes, task.options) };
  } catch (err) {
    // Typed image errors travel as data: structured clone would drop their class and `kind`.
    if (isImageError(err)) return { ok: false, imageError: { kind: err.kind, message: err.message, libraryText: err.libraryText } };
    throw err;
  }
}
