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
