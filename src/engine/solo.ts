/**
 * "Idle-solo" inference: a request that is alone in the pool may use both cores.
 *
 * The pool runs one single-threaded worker per core, which is what sustained load wants
 * (docs/engine.md "Threads and throughput": 2×1 beats 1×2 and 2×2). A lone request on an idle
 * server then leaves a core unused. So each worker also holds a second, multi-threaded session of
 * each model, and picks per model run: the multi-threaded one while its task is the only one in
 * flight in the pool, the single-threaded one otherwise. The choice is made before every run, not
 * once per task: a group photo that started alone drops back to one thread as soon as a second
 * request arrives, and the last request of a burst speeds up when the others finish.
 *
 * Both sessions compute the same bytes (checked in test/pool.test.ts: ORT splits the work of an
 * operator over threads without changing any sum's order for these models), so the answer never
 * depends on the load.
 */
import { availableParallelism } from 'node:os';
import type { InferenceSession } from 'onnxruntime-node';
import type { SessionTuning } from './models.js';

/**
 * Threads of a lone request (FACEREC_LONE_REQUEST_THREADS): two, the cores of the machine facerec
 * is tuned on; one (off) on a single core, where a second thread has nowhere to run.
 */
export const DEFAULT_SOLO_THREADS = Math.min(2, availableParallelism());

/** What a model class needs of a session. */
export type ModelRunner = Pick<InferenceSession, 'run'>;

/**
 * Settings of the lone-request sessions, over the engine's: `threads` intra-op threads, spinning
 * while a run is active (the hand-offs between an operator's parts are then microseconds, not a
 * futex wake each: embedder 6.5 → 4.8 ms) and stopped as soon as the run ends
 * (`session.force_spinning_stop`), so an idle helper thread never burns the core a
 * request on the other worker needs.
 */
export function soloTuning(base: SessionTuning, threads: number): SessionTuning {
  return { ...base, intraOpThreads: threads, spinning: true, stopSpinningAfterRun: true };
}

/** Model runs made through solo and shared sessions, counted per engine. */
export interface RunCounts {
  solo: number;
  shared: number;
}

/** The single-threaded session, or the solo one while `alone()` says the task is alone. */
export function soloOrShared(shared: InferenceSession, solo: InferenceSession | undefined, alone: () => boolean, counts: RunCounts): ModelRunner {
  const run = (...args: Parameters<InferenceSession['run']>) => {
    if (solo && alone()) {
      counts.solo++;
      return solo.run(...args);
    }
    counts.shared++;
    return shared.run(...args);
  };
  return { run: run as InferenceSession['run'] };
}

/**
 * Tasks in flight in the pool (queued or running), in memory every worker reads: slot 0. The
 * pool adds one when a task is handed over and takes it off when the answer is back.
 */
export class InFlight {
  readonly counter: Int32Array;
  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.counter = new Int32Array(buffer);
  }
  get buffer(): SharedArrayBuffer {
    return this.counter.buffer as SharedArrayBuffer;
  }
  enter(): void {
    Atomics.add(this.counter, 0, 1);
  }
  leave(): void {
    Atomics.sub(this.counter, 0, 1);
  }
  get count(): number {
    return Atomics.load(this.counter, 0);
  }
}
