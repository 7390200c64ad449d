import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** Runs the denormal probe with these session options in a fresh worker thread, as an inference worker would. */
export function probeInWorker(options: object): Promise<boolean> {
  const probe = fileURLToPath(new URL('../../src/engine/denormal-probe.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./denormal-probe-worker.cjs', import.meta.url), { workerData: { probe, options } });
    w.once('message', (m: boolean) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`probe worker exited ${code}`)));
  });
}
