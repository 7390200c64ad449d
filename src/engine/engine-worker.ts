// Body of each inference worker thread (see pool.ts). One FaceEngine per thread, created on the
// first task, so each thread owns its ONNX sessions and nothing is shared across threads.
import { threadId } from 'node:worker_threads';
import { workerData } from 'piscina';
import sharp from 'sharp';
import { flushesDenormals } from './denormal-probe.js';
import { FaceEngine, type AnalyzeOptions, type AnalyzeResult, type EngineConfig, type ModelStage } from './engine.js';
import { isImageError, type ImageErrorKind } from './errors.js';
import { createdSessions, sessionOptions } from './models.js';
import { InFlight, soloTuning, type RunCounts } from './solo.js';

// Each worker is one unit of parallelism; libvips threads on top would oversubscribe the cores.
sharp.concurrency(1);
sharp.cache(false);

/** The engine settings the pool chose (pool.ts); whatever is absent takes the engine's default. */
export type WorkerSetup = Pick<EngineConfig, 'tuning' | 'soloThreads'> &
  Partial<Pick<EngineConfig, 'leadFace' | 'detectors' | 'maskModel'>> & {
    /** The pool's count of tasks in flight (solo.ts InFlight). */
    inFlight: SharedArrayBuffer;
  };

/** What one worker measured of itself (pool.selfCheck). */
export interface WorkerSelfCheck {
  threadId: number;
  /** Whether inference on this worker flushes denormal floats to zero (see models.ts). */
  flushesDenormals: boolean;
  /** Median ms per model stage, warm. */
  stageMs: Record<ModelStage, number>;
  /** With lone-request sessions: whether a run through their options flushes denormals too. */
  soloFlushesDenormals?: boolean;
  /** Every inference session this worker created: model, intra-op threads, denormal flag set. */
  sessions: { model: string; intraOpThreads: number; denormalFlag: boolean }[];
}

export type WorkerTask = { kind: 'warmup' } | { kind: 'selfcheck' } | { kind: 'analyze'; bytes: Uint8Array; options: AnalyzeOptions };
export type WorkerReply =
  | { ok: true; result: AnalyzeResult | null; runs?: RunCounts }
  | { ok: true; selfCheck: WorkerSelfCheck }
  | { ok: false; imageError: { kind: ImageErrorKind; message: string; libraryText?: string } };

const { inFlight: inFlightBuffer, ...engineSetup } = workerData as WorkerSetup;
const inFlight = new InFlight(inFlightBuffer);
/** Only an image request may go solo: the self-check times the single-threaded sessions. */
let analyzing = false;
let engine: Promise<FaceEngine> | undefined;

export default async function run(task: WorkerTask): Promise<WorkerReply> {
  engine ??= FaceEngine.create({ ...engineSetup, alone: () => analyzing && inFlight.count <= 1 });
  const e = await engine;
  if (task.kind === 'warmup') return { ok: true, result: null };
  if (task.kind === 'selfcheck') {
    const solo = engineSetup.soloThreads > 1 ? soloTuning(engineSetup.tuning, engineSetup.soloThreads) : undefined;
    return {
      ok: true,
      selfCheck: {
        threadId,
        flushesDenormals: await flushesDenormals(sessionOptions(engineSetup.tuning)),
        ...(solo ? { soloFlushesDenormals: await flushesDenormals(sessionOptions(solo)) } : {}),
        stageMs: await e.timeStages(),
        sessions: createdSessions.map(({ model, options }) => ({
          model,
          intraOpThreads: options.intraOpNumThreads ?? 0,
          denormalFlag: (options.extra as { session?: Record<string, unknown> } | undefined)?.session?.set_denormal_as_zero === '1',
        })),
      },
    };
  }
  const before = { ...e.runs };
  analyzing = true;
  try {
    const result = await e.analyze(task.bytes, task.options);
    return { ok: true, result, runs: { solo: e.runs.solo - before.solo, shared: e.runs.shared - before.shared } };
  } catch (err) {
    // Typed image errors travel as data: structured clone would drop their class and `kind`.
    if (isImageError(err)) return { ok: false, imageError: { kind: err.kind, message: err.message, libraryText: err.libraryText } };
    throw err;
  } finally {
    analyzing = false;
  }
}
