import { setPriority } from 'node:os';

/** The nice value of threads that do upkeep (WAL checkpoints, clustering jobs). */
export const BACKGROUND_NICE = 10;

/**
 * Lowers the calling thread's scheduling priority, so that upkeep never takes a core from the
 * event loop or the scan thread: on 2 cores, a search whose thread waits one time slice on the
 * run queue waits 3–4 ms (docs/scale.md, stop 30). Linux only: there a nice value is per
 * thread, so this lowers the calling worker thread alone; elsewhere it would lower the whole
 * server. Where it cannot be set, the thread runs as it was.
 */
export function runAsBackground(): void {
  if (process.platform !== 'linux') return;
  try {
    setPriority(BACKGROUND_NICE);
  } catch {
    // Not permitted or not supported: a matter of latency, not of correctness.
  }
}
