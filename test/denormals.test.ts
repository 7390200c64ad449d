import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TUNING, sessionOptions } from '../src/engine/models.js';
import { EnginePool } from '../src/engine/pool.js';
import { assessSelfCheck, EXPECTED_STAGE_MS } from '../src/engine/self-check.js';
import { probeInWorker } from './support/denormal-probe-in-worker.js';

// Denormal floats cost some CPUs 7× on the embedder; models.ts and pool.ts explain how every
// inference thread is put into flush-to-zero mode, and the probe (1e-20 squared, a denormal,
// comes back 0 only from a flushing thread) checks it where inference really runs.

test('every engine session is created to flush denormals, and every pool worker does', async () => {
  const options = sessionOptions();
  assert.equal((options.extra as { session: Record<string, unknown> }).session.set_denormal_as_zero, '1');

  // With lone-request sessions (solo.ts): each worker then holds two sessions per model.
  const pool = new EnginePool({ threads: 3, maxQueue: 8, soloThreads: 2 });
  try {
    await pool.warmup();
    const checks = await pool.selfCheck();
    assert.equal(checks.length, 3, 'each worker answers the self-check');
    for (const c of checks) {
      assert.equal(c.flushesDenormals, true, `worker thread ${c.threadId} computes with denormals`);
      assert.equal(c.soloFlushesDenormals, true, `worker thread ${c.threadId}'s lone-request sessions compute with denormals`);
      for (const s of c.sessions) assert.equal(s.denormalFlag, true, `worker thread ${c.threadId}: the ${s.model} session (intra-op ${s.intraOpThreads}) lacks the denormal flag`);
      const models = new Set(c.sessions.map((s) => s.model));
      for (const threads of [1, 2]) {
        assert.deepEqual(new Set(c.sessions.filter((s) => s.intraOpThreads === threads).map((s) => s.model)), models, `every model has an intra-op ${threads} session`);
      }
      for (const [stage, ms] of Object.entries(c.stageMs)) assert.ok(Number.isFinite(ms) && ms > 0, `${stage}: ${ms}`);
    }
    // A worker piscina would spawn later (to replace a crashed one) inherits the mode as well.
    assert.equal(await probeInWorker(sessionOptions()), true);
  } finally {
    await pool.close();
  }
});

test('the probe sees denormals where nothing flushes them, and the session flag alone misses workers', () => {
  const script = fileURLToPath(new URL('./support/denormal-control.ts', import.meta.url));
  const out = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), { mainWithoutFlag: false, workerWithFlag: false });
});

test('the self-check warns of a worker that keeps denormals and of a stage far slower than expected', () => {
  const usual = { ...EXPECTED_STAGE_MS };
  const quiet = assessSelfCheck([{ threadId: 1, flushesDenormals: true, stageMs: usual }], DEFAULT_TUNING);
  assert.deepEqual(quiet.warnings, []);
  assert.equal(quiet.summary.workers[0].flushesDenormals, true);

  // What the Xeon of the issue would report: embed 65 ms instead of ~9, on a worker that keeps denormals.
  const slow = assessSelfCheck([{ threadId: 2, flushesDenormals: false, stageMs: { ...usual, embed: 65.3 } }], DEFAULT_TUNING);
  assert.equal(slow.warnings.length, 2);
  assert.match(slow.warnings[0], /worker 2 computes with denormal floats/);
  assert.match(slow.warnings[1], /"embed" takes 65.3 ms on worker 2/);

  // The lone-request sessions are checked too, and their thread count is in the summary.
  const solo = assessSelfCheck([{ threadId: 3, flushesDenormals: true, soloFlushesDenormals: false, stageMs: usual }], DEFAULT_TUNING, 2);
  assert.equal(solo.summary.loneRequestThreads, 2);
  assert.equal(solo.warnings.length, 1);
  assert.match(solo.warnings[0], /worker 3 computes lone requests with denormal floats/);
});
