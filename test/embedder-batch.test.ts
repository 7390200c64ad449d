/**
 * The embedder runs a photo's faces as one batch, the liveness model a crop and its mirror
 * (free-batch.ts): a batch must give exactly what each input gets alone, with one thread and with
 * two (the lone-request sessions).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Embedder } from '../src/engine/embedder.js';
import { LivenessModel } from '../src/engine/liveness.js';
import { DEFAULT_TUNING, loadSession } from '../src/engine/models.js';
import { soloTuning } from '../src/engine/solo.js';

function crops(n: number): Uint8Array[] {
  let seed = 12345;
  const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
  return Array.from({ length: n }, () => Uint8Array.from({ length: 112 * 112 * 3 }, next));
}

for (const [label, tuning] of [['one thread', DEFAULT_TUNING], ['two threads', soloTuning(DEFAULT_TUNING, 2)]] as const) {
  test(`a batch of faces gets bitwise the embeddings each face gets alone (${label}), past the batch cap and with flip-averaging`, async () => {
    const session = await loadSession('embedder', tuning);
    try {
      for (const flip of [false, true]) {
        const embedder = new Embedder(session, flip);
        const faces = crops(18); // more than one batch of 16
        const together = await embedder.embedAll(faces);
        assert.equal(together.length, faces.length);
        for (const [i, face] of faces.entries()) assert.deepEqual(together[i], await embedder.embed(face), `face ${i}, flip ${flip}`);
      }
      assert.deepEqual(await new Embedder(session, false).embedAll([]), []);
    } finally {
      await session.release();
    }
  });
}

// The liveness model runs a face's crop and its mirror as one batch of two (liveness.ts).
for (const [label, tuning] of [['one thread', DEFAULT_TUNING], ['two threads', soloTuning(DEFAULT_TUNING, 2)]] as const) {
  test(`liveness: crops in one batch get bitwise the scores each gets alone (${label})`, async () => {
    const session = await loadSession('liveness', tuning);
    try {
      const model = new LivenessModel(session);
      let seed = 777;
      const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
      const crops = Array.from({ length: 3 }, () => Uint8Array.from({ length: 128 * 128 * 3 }, next));
      const together = await model.classify(crops);
      assert.equal(together.length, 3);
      for (const [i, crop] of crops.entries()) assert.deepEqual([together[i]], await model.classify([crop]), `crop ${i}`);
    } finally {
      await session.release();
    }
  });
}
