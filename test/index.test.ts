import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExactIndex } from '../src/index/exact-index.js';
import { l2normalize } from '../src/engine/vectors.js';

/** Deterministic pseudo-random unit vectors. */
function vectors(n: number, dim: number, seed = 7): Float32Array[] {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return Array.from({ length: n }, () => l2normalize(Float32Array.from({ length: dim }, rnd)));
}
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);

test('search returns the k best at or above the threshold, best first, as a full sort would', () => {
  const dim = 16;
  const vs = vectors(500, dim);
  const index = new ExactIndex(dim, 4);
  vs.forEach((v, i) => index.add(`f${i}`, v));
  const q = vs[3];
  for (const [k, min] of [[1, -1], [10, -1], [10, 0.2], [4096, 0.1], [0, -1]] as const) {
    const expected = vs
      .map((v, i) => ({ id: `f${i}`, score: dot(v, q) }))
      .filter((h) => h.score >= min && h.id !== 'f3')
      .sort((a, b) => b.score - a.score)
      .slice(0, k);
    const got = index.search(q, k, min, 'f3');
    assert.deepEqual(got.map((h) => h.id), expected.map((h) => h.id), `k=${k} min=${min}`);
  }
});

test('removing a face forgets it and clears its vector from the buffer', () => {
  const dim = 8;
  const [a, b] = vectors(2, dim);
  const index = new ExactIndex(dim, 2);
  index.add('a', a);
  index.add('b', b);
  index.remove('b');
  index.remove('a');
  assert.equal(index.size, 0);
  assert.deepEqual(index.search(a, 5, -1), []);
  const blocks = (index as unknown as { blocks: Float32Array[] }).blocks;
  assert.ok(blocks.every((b) => b.every((v) => v === 0)), 'no deleted vector stays in memory');
});

test('vectors spread over many blocks: searches match a full sort, swap-removes move vectors across blocks, removed vectors are zeroed', () => {
  const dim = 8;
  const vs = vectors(103, dim, 5);
  const index = new ExactIndex(dim, 2, 8);
  vs.forEach((v, i) => index.add(`f${i}`, v));
  const expect = (q: Float32Array, alive: Set<number>) =>
    [...alive].map((i) => ({ id: `f${i}`, score: dot(vs[i], q) })).sort((a, b) => b.score - a.score).slice(0, 10).map((h) => h.id);
  const alive = new Set(vs.map((_, i) => i));
  assert.deepEqual(index.search(vs[40], 10, -1).map((h) => h.id), expect(vs[40], alive));
  // Removing from early blocks moves the last vector (in the last block) into each hole.
  for (const i of [0, 9, 17, 64, 101, 102]) {
    index.remove(`f${i}`);
    alive.delete(i);
  }
  assert.equal(index.size, alive.size);
  for (const q of [vs[5], vs[100], vs[64]]) assert.deepEqual(index.search(q, 10, -1).map((h) => h.id), expect(q, alive));
  for (const i of alive) index.remove(`f${i}`);
  const blocks = (index as unknown as { blocks: Float32Array[] }).blocks;
  assert.ok(blocks.length > 10 && blocks.every((b) => b.every((v) => v === 0)), 'no removed vector stays in any block');
});

test('a scan in slices answers as one scan does, and writes between its slices neither hide a face nor return a removed one', async () => {
  const dim = 16;
  const vs = vectors(100, dim, 11);
  const index = new ExactIndex(dim, 4);
  vs.forEach((v, i) => index.add(`f${i}`, v));
  const q = vs[99];
  assert.deepEqual(await index.searchInSlices(q, 10, -1, undefined, 7, async () => {}), index.search(q, 10, -1));

  // Between slices: the best match's neighbour in the first slice is removed (a swap-remove now
  // would move f99, the best match, into a slot already scanned), and a new face is added.
  let pauses = 0;
  const hits = await index.searchInSlices(q, 5, -1, undefined, 10, async () => {
    if (pauses++ === 0) {
      index.remove('f2');
      index.add('late', vs[50]);
    }
  });
  assert.equal(hits[0].id, 'f99', 'the face a swap would have moved behind the scan is still found');
  assert.ok(!hits.some((h) => h.id === 'f2'));
  assert.ok(!index.search(vs[2], 100, -1).some((h) => h.id === 'f2'), 'the removal took effect');
  assert.equal(index.size, 100);
  const [buffer] = (index as unknown as { blocks: Float32Array[] }).blocks;
  assert.ok(!buffer.subarray(100 * dim).some((v) => v !== 0), 'the removed vector was cleared once the scan ended');
});
