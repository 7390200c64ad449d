import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EnginePool } from '../src/engine/pool.js';
import { EngineBusyError, ImageError } from '../src/engine/errors.js';
import { fixture } from './support/fixtures.js';

test('worker pool analyses images off the main thread and refuses work past its queue', async () => {
  const pool = new EnginePool({ threads: 2, maxQueue: 2 });
  try {
    await pool.warmup();
    const bytes = fixture('sample1.jpg');
    const r = await pool.analyze(bytes, { embed: true });
    assert.ok(r.faces.length >= 1);
    assert.ok(r.faces[0].embedding instanceof Float32Array);
    assert.equal(r.faces[0].embedding!.length, 512);

    await assert.rejects(pool.analyze(new TextEncoder().encode('not an image')), (e) => e instanceof ImageError && e.kind === 'unsupported-format');

    // 2 running + 2 queued fit; the rest must be refused at once rather than wait.
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => pool.analyze(bytes)));
    const busy = results.filter((r) => r.status === 'rejected' && r.reason instanceof EngineBusyError).length;
    const done = results.filter((r) => r.status === 'fulfilled').length;
    assert.ok(busy >= 1, `expected refusals, got ${busy}`);
    assert.equal(busy + done, 8);
  } finally {
    await pool.close();
  }
});

test('a request alone in the pool runs on the two-threaded sessions, concurrent ones on the single-threaded, with the same answer', async () => {
  const pool = new EnginePool({ threads: 2, maxQueue: 8, soloThreads: 2 });
  try {
    await pool.warmup();
    const bytes = fixture('sample1.jpg');
    const start = { ...pool.runs };
    const lone = await pool.analyze(bytes, { embed: true, spoof: true });
    assert.ok(lone.faces.length >= 1);
    assert.ok(pool.runs.solo > start.solo, 'the lone request used the solo sessions');
    assert.equal(pool.runs.shared, start.shared, 'and no single-threaded one');

    // Four at once on two workers: the first two start with four in flight, so their runs are
    // single-threaded; only the tail of the last one may find itself alone.
    const mid = { ...pool.runs };
    const together = await Promise.all(Array.from({ length: 4 }, () => pool.analyze(bytes, { embed: true, spoof: true })));
    const shared = pool.runs.shared - mid.shared;
    const solo = pool.runs.solo - mid.solo;
    assert.ok(shared >= 2 && shared > solo, `concurrent requests ran ${shared} single-threaded and ${solo} solo model runs`);
    // Same boxes, landmarks, scores and embedding bytes whichever sessions ran.
    for (const r of together) assert.deepEqual(r.faces, lone.faces);
  } finally {
    await pool.close();
  }
});

test('soloThreads 1: no lone-request sessions, every run single-threaded', async () => {
  const pool = new EnginePool({ threads: 1, maxQueue: 4, soloThreads: 1 });
  try {
    await pool.warmup();
    await pool.analyze(fixture('sample1.jpg'), { embed: true });
    assert.equal(pool.runs.solo, 0);
    assert.ok(pool.runs.shared > 0);
    const [check] = await pool.selfCheck();
    assert.ok(check.sessions.every((s) => s.intraOpThreads === 1), JSON.stringify(check.sessions));
  } finally {
    await pool.close();
  }
});
