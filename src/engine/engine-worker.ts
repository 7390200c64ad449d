// Body of each inference worker thread (see pool.ts). One FaceEngine per thread, created on the
// first task, so each thread owns its ONNX sessions and nothing is shared across threads.
import sharp from 'sharp';
import { FaceEngine, type AnalyzeOptions, type AnalyzeResult } from './engine.js';
import { isImageError, type ImageErrorKind } from './errors.js';

// Each worker is one unit of parallelism; libvips threads on top would oversubscribe the cores.
sharp.concurrency(1);
sharp.cache(false);

export type WorkerTask = { kind: 'warmup' } | { kind: 'analyze'; bytes: Uint8Array; options: AnalyzeOptions };
export type WorkerReply =
  | { ok: true; result: AnalyzeResult | null }
  | { ok: false; imageError: { kind: ImageErrorKind; message: string } };

let engine: Promise<FaceEngine> | undefined;

export default async function run(task: WorkerTask): Promise<WorkerReply> {
  engine ??= FaceEngine.create();
  const e = await engine;
  if (task.kind === 'warmup') return { ok: true, result: null };
  try {
    return { ok: true, result: await e.analyze(task.bytes, task.options) };
  } catch (err) {
    // Typed image errors travel as data: structured clone would drop their class and `kind`.
    if (isImageError(err)) return { ok: false, imageError: { kind: err.kind, message: err.message } };
    throw err;
  }
}
