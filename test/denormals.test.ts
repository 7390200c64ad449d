import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { flushesDenormals } from '../src/engine/denormal-probe.js';
import { sessionOptions } from '../src/engine/models.js';
import { EnginePool } from '../src/engine/pool.js';

// Order matters in this file: ORT sets flush-to-zero on the thread of the first session of a
// process, once, with that session's flag. The control below creates that first session
// without the flag, as a process that loaded any other ONNX model first would.

const sequentialWithoutFlag = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' } as const;

/** Runs the probe in a fresh worker thread, as an inference worker would. */
function probeInWorker(options: object): Promise<boolean> {
  const probe = fileURLToPath(new URL('../src/engine/denormal-probe.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./support/denormal-probe-worker.cjs', import.meta.url), { workerData: { probe, options } });
    w.once('message', (m: boolean) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`probe worker exited ${code}`)));
  });
}

test('the probe tells a thread that keeps denormals from one that flushes them', async () => {
  assert.equal(await flushesDenormals(sequentialWithoutFlag), false, 'without the option, 1e-20 squared must stay a denormal');
  // The flag in sequential mode does not reach a worker thread once the process-wide first session has been made.
  assert.equal(await probeInWorker({ ...sequentialWithoutFlag, extra: { session: { set_denormal_as_zero: '1' } } }), false);
});

test('every engine session is created to flush denormals, and so is every worker', async () => {
  const options = sessionOptions();
  assert.deepEqual(options.extra, { session: { set_denormal_as_zero: '1' } });
  assert.equal(options.executionMode, 'parallel', 'only the session pool thread is covered by the option');
  assert.equal(await probeInWorker(options), true);

  const pool = new EnginePool({ threads: 3, maxQueue: 8 });
  try {
    await pool.warmup();
    const checks = await pool.selfCheck();
    assert.equal(checks.length, 3, 'each worker answers the self-check');
    for (const c of checks) {
      assert.equal(c.flushesDenormals, true, `worker thread ${c.threadId} computes with denormals`);
      for (const [stage, ms] of Object.entries(c.stageMs)) assert.ok(Number.isFinite(ms) && ms > 0, `${stage}: ${ms}`);
    }
  } finally {
    await pool.close();
  }
});
