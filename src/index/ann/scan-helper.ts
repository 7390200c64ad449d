import { Worker } from 'node:worker_threads';

/**
 * A second thread that scans part of a group's codes in place, while the scan thread scans the
 * rest: the codes live in a shared WebAssembly memory, so neither copies anything. At a million
 * faces a full scan reads 64 MB, about 4 ms on one core here; two cores halve it.
 *
 * The helper's code is a few lines of plain JavaScript run with `eval`, so that it needs no
 * module loader (from TypeScript sources, tsx's loader does not reach a bare worker's entry).
 */
const HELPER = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, finished, idleMs } = workerData;
let id = -1;
let kernel;
let idle;
parentPort.on('message', (m) => {
  // A kernel is made per memory and kept (a new one per part made the split no faster: 3.3
  // against 1.8 ms a million faces); each message brings its own copy of the memory object.
  if (m.id !== id) {
    id = m.id;
    kernel = new WebAssembly.Instance(module, { env: { memory: m.memory } }).exports;
  }
  if (m.filter) {
    // The first pass over the part: how many passed goes where the scan thread reads it.
    const passed = kernel.filter_half(m.a, m.n, m.query, m.filter.cut, m.dist, m.filter.out, m.filter.max);
    new Int32Array(m.memory.buffer, m.filter.countAt, 1)[0] = passed;
  } else kernel.scan_full(m.a, m.b, m.n, m.query, m.dist, m.hist);
  Atomics.add(finished, 0, 1);
  Atomics.notify(finished, 0);
  // Let go of the memory once searches stop, so that an evicted group's codes can be freed.
  clearTimeout(idle);
  idle = setTimeout(() => { id = -1; kernel = undefined; }, idleMs);
});
`;

/**
 * Arguments of the kernel's `scan_full`, or with `filter` of its `filter_half` (the first pass of
 * a two-pass search), as byte offsets into `memory`.
 */
export interface ScanPart {
  memory: WebAssembly.Memory;
  /** Tells memories apart: the helper keeps the kernel of the last one. */
  id: number;
  /** The part's first halves (first plane) and second halves (second plane). */
  a: number;
  b: number;
  n: number;
  query: number;
  dist: number;
  hist: number;
  /** The first pass's cut, where its slots go (at most `max`), and where their count is written. */
  filter?: { cut: number; out: number; max: number; countAt: number };
}

export class ScanHelper {
  private readonly worker: Worker;
  /** Parts the helper has finished: it counts up and notifies. */
  private readonly finished = new Int32Array(new SharedArrayBuffer(4));
  private sent = 0;
  private failed = false;

  constructor(module: WebAssembly.Module) {
    this.worker = new Worker(HELPER, { eval: true, workerData: { module, finished: this.finished, idleMs: 10_000 } });
    this.worker.unref();
    this.worker.on('error', () => { this.failed = true; });
  }

  /** Parts the helper has scanned. */
  get scanned(): number {
    return Atomics.load(this.finished, 0);
  }

  /** Whether the helper can take a part (false once it failed or fell behind). */
  get usable(): boolean {
    return !this.failed;
  }

  /** Hands over a part to scan; `finish` waits for it. */
  start(part: ScanPart): void {
    this.sent++;
    this.worker.postMessage(part);
  }

  /**
   * Blocks this thread until the part handed over is scanned. False if it took longer than
   * `timeoutMs`: the helper is then ended and never used again, and the caller scans the part itself.
   */
  finish(timeoutMs: number): boolean {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const done = Atomics.load(this.finished, 0);
      if (done >= this.sent) return true;
      const left = deadline - performance.now();
      if (left <= 0) {
        this.failed = true;
        void this.worker.terminate();
        return false;
      }
      Atomics.wait(this.finished, 0, done, left);
    }
  }
}
