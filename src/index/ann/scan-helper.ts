import { Worker } from 'node:worker_threads';

/**
 * A second thread that scans part of a group's codes in place, while the scan thread scans the
 * rest: the codes live in a shared WebAssembly memory, so neither copies anything. At a million
 * faces a scan reads 64 MB, about 4 ms on one core here; two cores halve it.
 *
 * The helper's code is a few lines of plain JavaScript run with `eval`, so that it needs no
 * module loader (from TypeScript sources, tsx's loader does not reach a bare worker's entry).
 */
const HELPER = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, control } = workerData;
let id = -1;
let kernel;
parentPort.on('message', (m) => {
  // Each message brings its own copy of the memory object: the kernel is kept per memory id.
  if (m.id !== id) {
    id = m.id;
    kernel = new WebAssembly.Instance(module, { env: { memory: m.memory } }).exports;
  }
  kernel.scan(m.codes, m.n, m.query, m.dist, m.hist);
  Atomics.add(control, 1, 1);
  Atomics.notify(control, 1);
});
`;

/** Arguments of the kernel's `scan`, as byte offsets into `memory`. */
export interface ScanPart {
  memory: WebAssembly.Memory;
  /** Tells memories apart (the helper keeps the kernel of the last one). */
  id: number;
  codes: number;
  n: number;
  query: number;
  dist: number;
  hist: number;
}

export class ScanHelper {
  private readonly worker: Worker;
  /** [0] unused, [1] parts finished (the helper counts up and notifies). */
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  private sent = 0;
  private failed = false;

  constructor(module: WebAssembly.Module) {
    this.worker = new Worker(HELPER, { eval: true, workerData: { module, control: this.control } });
    this.worker.unref();
    this.worker.on('error', () => { this.failed = true; });
  }

  /** Parts the helper has scanned. */
  get scanned(): number {
    return Atomics.load(this.control, 1);
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
      const done = Atomics.load(this.control, 1);
      if (done >= this.sent) return true;
      const left = deadline - performance.now();
      if (left <= 0) {
        this.failed = true;
        void this.worker.terminate();
        return false;
      }
      Atomics.wait(this.control, 1, done, left);
    }
  }
}
