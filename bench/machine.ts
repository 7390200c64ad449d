import { availableParallelism, cpus, loadavg } from 'node:os';
import { DEFAULT_TUNING, ort, type SessionTuning } from '../src/engine/models.js';

/** Session settings in one short phrase, e.g. "parallel, intra-op 1, opt all, arena on, denormals flushed". */
export function describeTuning(t: SessionTuning = DEFAULT_TUNING): string {
  return `${t.executionMode}, intra-op ${t.intraOpThreads}, opt ${t.graphOptimization}, arena ${t.cpuArena ? 'on' : 'off'}, denormals ${t.flushDenormals ? 'flushed' : 'kept'}, spinning ${t.spinning ? 'on' : 'off'}`;
}

/**
 * What a figure needs beside it to be read on another machine: the same bench differs several-fold
 * between CPUs of one kind (docs/engine.md, denormals).
 */
export function machineLine(): string {
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  return `machine: ${cpu}, ${availableParallelism()} cores, load ${loadavg()[0].toFixed(2)}; node ${process.version}, onnxruntime-node ${ort.env.versions.node}`;
}
