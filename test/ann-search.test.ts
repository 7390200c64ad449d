import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AnnFaceSearch, DEFAULT_ANN_SETTINGS, type AnnSettings } from '../src/index/ann/ann-face-search.js';
import { BinaryCodes, helperScans, signCode, twoPassSearches } from '../src/index/ann/binary-codes.js';
import { KeySlots } from '../src/index/ann/key-slots.js';
import { SnapshotBodyReader, snapshotBody } from '../src/index/ann/snapshot-body.js';
import { readSnapshot, sealSnapshot } from '../src/index/ann/snapshot-files.js';
import { ExactFaceSearch } from '../src/index/exact-face-search.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import type { FaceWithVector } from '../src/store/store.js';
import { clusteredGroup, faceOf, groupOf, untilIndexReady } from './support/ann-fixtures.js';
import { ClusteredVectors } from './support/clustered-vectors.js';

const root = mkdtempSync(join(tmpdir(), 'facerec-ann-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

const SMALL: AnnSettings = { ...DEFAULT_ANN_SETTINGS, exactBelow: 100, buildBatch: 250 };


describe('BinaryCodes', () => {
  it('proposes the nearest codes by Hamming distance, like a brute-force count of differing sign bits', () => {
    const gen = new ClusteredVectors(512, 13);
    const codes = new BinaryCodes(8); // grows past its first capacity
    const vectors = Array.from({ length: 3_000 }, (_, i) => gen.face(Math.floor(i / 3)));
    vectors.forEach((v, i) => codes.add(i + 1, v));
    const bits = vectors.map((v) => signCode(v));
    const hamming = (a: Uint8Array, b: Uint8Array) => a.reduce((sum, x, j) => sum + popcount(x ^ b[j]), 0);
    for (const q of [0, 7, 1_234, 2_999]) {
      const { keys, distances } = codes.search(vectors[q], 20);
      const brute = bits.map((b, i) => ({ key: i + 1, d: hamming(b, bits[q]) })).sort((a, b) => a.d - b.d || a.key - b.key).slice(0, 20);
      assert.deepEqual(distances, brute.map((x) => x.d));
      assert.deepEqual(keys, brute.map((x) => x.key));
    }
    assert.equal(codes.search(vectors[0], 10_000).keys.length, 3_000, 'asking for more than it holds gives all');
  });

  it('answers the same when half of each scan is handed to the helper thread', () => {
    const gen = new ClusteredVectors(512, 19);
    const vectors = Array.from({ length: 5_001 }, (_, i) => gen.face(Math.floor(i / 5)));
    const alone = new BinaryCodes(1024, Number.MAX_SAFE_INTEGER);
    const split = new BinaryCodes(16, 1_000); // grows while split, past its first capacity
    vectors.forEach((v, i) => { alone.add(i + 1, v); split.add(i + 1, v); });
    for (const key of [3, 2_500, 5_001]) { alone.remove(key); split.remove(key); }
    const before = helperScans();
    for (const q of [0, 1, 2_222, 4_000, 4_999]) {
      for (const k of [1, 32, 700]) assert.deepEqual(split.search(vectors[q], k), alone.search(vectors[q], k));
    }
    assert.equal(helperScans() - before, 15, 'the helper scanned half of every search');
    // Grown after the helper made its kernel over the memory: it sees the new codes.
    const more = Array.from({ length: 20_000 }, (_, i) => gen.face(2_000 + Math.floor(i / 5)));
    more.forEach((v, i) => { alone.add(10_000 + i, v); split.add(10_000 + i, v); });
    for (const v of [vectors[7], more[0], more[19_999]]) assert.deepEqual(split.search(v, 40), alone.search(v, 40));
    assert.equal(helperScans() - before, 18);
  });

  it('proposes what a full scan proposes when a large group is searched in two passes, alone or with the helper', () => {
    const gen = new ClusteredVectors(512, 23);
    const vectors = Array.from({ length: 30_000 }, (_, i) => gen.face(Math.floor(i / 5)));
    const full = new BinaryCodes(1024, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    const twoPasses = new BinaryCodes(16, Number.MAX_SAFE_INTEGER, 5_000); // grows past its first capacity
    const split = new BinaryCodes(1024, 5_000, 5_000);
    vectors.forEach((v, i) => { full.add(i + 1, v); twoPasses.add(i + 1, v); split.add(i + 1, v); });
    for (const key of [4, 15_000, 30_000]) { full.remove(key); twoPasses.remove(key); split.remove(key); }
    let overlap = 0;
    const before = twoPassSearches();
    const helped = helperScans();
    for (let q = 0; q < 50; q++) {
      const query = gen.face(q * 97); // a new photo of a stored person
      const want = full.search(query, 32);
      const got = twoPasses.search(query, 32);
      assert.deepEqual(split.search(query, 32), got, 'the helper\'s half of the first pass changes nothing');
      // The person's own photos come first in both, in the same order, at the same distances.
      assert.deepEqual(got.keys.slice(0, 5), want.keys.slice(0, 5));
      assert.deepEqual(got.distances.slice(0, 5), want.distances.slice(0, 5));
      assert.ok(got.distances.every((d, i) => i === 0 || d >= got.distances[i - 1]), 'nearest first');
      overlap += got.keys.filter((k) => want.keys.includes(k)).length / 32;
    }
    assert.equal(twoPassSearches() - before, 100, 'every search of the two-pass instances took two passes');
    assert.equal(helperScans() - helped, 50, 'the helper did half of every first pass of the split instance');
    // Beyond the person's photos both pick among strangers at nearly the same distance.
    assert.ok(overlap / 50 >= 0.5, `mean overlap of the 32 candidates ${overlap / 50}`);
    // More candidates than the first pass keeps: a full scan, as before.
    assert.deepEqual(twoPasses.search(vectors[10], 1_000), full.search(vectors[10], 1_000));
    // No copy of a removed face's code is left anywhere in the memory, its growths included.
    const memory = Buffer.from((twoPasses as unknown as { memory: WebAssembly.Memory }).memory.buffer);
    for (const key of [4, 15_000, 30_000]) {
      const code = Buffer.from(signCode(vectors[key - 1]));
      assert.ok(!memory.includes(code.subarray(0, 32)) && !memory.includes(code.subarray(32)), `face ${key}'s code is gone`);
    }
    // Copied out whole and back: the same codes.
    assert.deepEqual(Buffer.from(BinaryCodes.from(twoPasses.keys().slice(), twoPasses.codes()).codes()), Buffer.from(twoPasses.codes()));
    assert.deepEqual(Buffer.from(twoPasses.codes().subarray(0, 64)), Buffer.from(signCode(vectors[0])));
  });

  it('fills a removed face\'s slot at once and zeroes the freed one, so no removed code stays', () => {
    const gen = new ClusteredVectors(512, 17);
    const codes = new BinaryCodes();
    const vectors = Array.from({ length: 50 }, (_, i) => gen.face(i));
    vectors.forEach((v, i) => codes.add(i + 1, v));
    for (const key of [1, 25, 50]) assert.ok(codes.remove(key));
    assert.equal(codes.remove(25), false);
    assert.equal(codes.count, 47);
    const held = Buffer.from(codes.codes());
    assert.equal(held.length, 47 * 64, 'the codes stay packed');
    for (const key of [1, 25, 50]) assert.ok(!held.includes(Buffer.from(signCode(vectors[key - 1]))));
    for (const key of [2, 24, 26, 49]) assert.equal(codes.search(vectors[key - 1], 1).keys[0], key);
    assert.ok(!codes.search(vectors[24], 47).keys.some((k) => [1, 25, 50].includes(k)));
    assert.equal(codes.add(2, vectors[1]), false, 'a key is held once');
    const copy = BinaryCodes.from(codes.keys().slice(), codes.codes().slice());
    assert.deepEqual(copy.search(vectors[30], 10), codes.search(vectors[30], 10));
  });
});

describe('SnapshotBodyReader', () => {
  const gen = new ClusteredVectors(512, 23);
  const codes = new BinaryCodes();
  for (let i = 0; i < 700; i++) codes.add(1000 + 3 * i, gen.face(i));
  const meta = { format: 2 as const, generation: 7, options: { dimensions: 512 } };
  const body = Buffer.concat([...snapshotBody(codes, meta).pieces()].map((piece) => Buffer.from(piece)));
  const query = gen.face(5);

  /** `body` handed over in pieces of the given sizes, in turn. */
  function read(bytes: Buffer, sizes: number[]) {
    const reader = new SnapshotBodyReader();
    reader.begin(bytes.length);
    for (let at = 0, i = 0; at < bytes.length; i++) {
      const n = sizes[i % sizes.length];
      reader.take(bytes.subarray(at, at + n));
      at += n;
    }
    return reader.finish();
  }

  it('makes the same codes from pieces of any size, split anywhere within a header, a key or a code', () => {
    for (const sizes of [[body.length], [1], [7, 63, 65], [65_536], [3, 100_000], [64]]) {
      const loaded = read(body, sizes);
      assert.deepEqual(loaded.meta, meta);
      assert.deepEqual(Array.from(loaded.codes.keys()), Array.from(codes.keys()));
      assert.deepEqual(Buffer.from(loaded.codes.codes()), Buffer.from(codes.codes()), `pieces of ${sizes.join(', ')}`);
      assert.deepEqual(loaded.codes.search(query, 5), codes.search(query, 5));
    }
  });

  it('seals and opens a snapshot of several reads and many pieces: the same keys and codes, refused when altered', () => {
    const n = 40_000; // 2.9 MB: three 1 MB reads, 44 pieces of 64 KB
    const keys = Float64Array.from({ length: n }, (_, i) => 7 + 2 * i);
    const big = BinaryCodes.from(keys, randomBytes(n * 64));
    const key = randomBytes(32);
    const path = join(root, 'big.codes');
    writeFileSync(path, sealSnapshot(key, 'app\u0000g', snapshotBody(big, meta)));
    const reader = new SnapshotBodyReader();
    readSnapshot(key, 'app\u0000g', path, reader);
    const loaded = reader.finish();
    assert.deepEqual(loaded.meta, meta);
    assert.ok(Buffer.from(loaded.codes.keys().slice().buffer).equals(Buffer.from(keys.buffer)));
    assert.ok(Buffer.from(loaded.codes.codes()).equals(Buffer.from(big.codes())));
    const altered = readFileSync(path);
    altered[altered.length >> 1] ^= 1;
    writeFileSync(path, altered);
    assert.throws(() => readSnapshot(key, 'app\u0000g', path, new SnapshotBodyReader()), /unable to authenticate|Unsupported state/);
  });

  it('refuses a body whose length does not match the face count it states', () => {
    assert.throws(() => read(body.subarray(0, body.length - 64), [1000]), /does not match its face count/);
    assert.throws(() => read(Buffer.concat([body, Buffer.alloc(72)]), [1000]), /does not match its face count/);
    const reader = new SnapshotBodyReader();
    reader.begin(body.length);
    reader.take(body.subarray(0, body.length - 1));
    assert.throws(() => reader.finish(), /does not match its face count/);
  });
});

describe('KeySlots', () => {
  it('agrees with a Map through random inserts, updates and deletions, across growth', () => {
    const table = new KeySlots();
    const model = new Map<number, number>();
    let state = 12345;
    const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let step = 0; step < 50_000; step++) {
      // Keys near each other (as the store numbers them) and a few far apart.
      const key = random() < 0.9 ? Math.floor(random() * 5_000) : Math.floor(random() * 2 ** 52);
      if (random() < 0.35) assert.equal(table.delete(key), model.delete(key));
      else {
        table.set(key, step);
        model.set(key, step);
      }
    }
    assert.equal(table.size, model.size);
    for (const [key, slot] of model) assert.equal(table.get(key), slot);
    for (let key = 0; key < 5_000; key++) assert.equal(table.get(key), model.get(key));
  });
});

function popcount(byte: number): number {
  let n = 0;
  for (let b = byte; b; b &= b - 1) n++;
  return n;
}

describe('AnnFaceSearch', () => {
  it('answers like the exact scan: same top face in at least 99 % of queries, scores within 2e-3 of the exact cosine', async () => {
    const { store, gen } = await clusteredGroup(join(root, 'a'), 7, 600, 5);
    const exact = new ExactFaceSearch(store, 512);
    const ann = new AnnFaceSearch(store, new ExactFaceSearch(store, 512), undefined, SMALL);
    try {
      const g = () => groupOf(store, 'g');
      await untilIndexReady(ann, g, gen.face(0));
      let same = 0;
      const queries = 200;
      for (let q = 0; q < queries; q++) {
        const query = gen.face(q * 3);
        const [a, e] = [await ann.search(await g(), query, 10, 0), await exact.search(await g(), query, 10, 0)];
        if (a[0]?.faceId === e[0]?.faceId) same++;
        // Scores come from the 8-bit vectors the scan thread holds: rounding moves a cosine by
        // 3e-4 rms and at most 1.8e-3 in a million synthetic pairs (docs/scale.md).
        for (const hit of a) {
          const twin = e.find((x) => x.faceId === hit.faceId);
          if (twin) assert.ok(Math.abs(hit.score - twin.score) < 2e-3, `${hit.score} vs ${twin.score}`);
        }
      }
      assert.ok(same / queries >= 0.99, `top-1 identical in ${same} of ${queries}`);
    } finally {
      await ann.close();
      await store.close();
    }
  });

  it('never returns a deleted face, finds one registered after the build, and honours exclude and minScore', async () => {
    const store = SqliteStore.open(join(root, 'b'));
    await store.createApp('app', 'h');
    await store.createGroup('app', 'g', 'v', 10);
    const gen = new ClusteredVectors(512, 11);
    const faces: FaceWithVector[] = [];
    for (let id = 0; id < 100; id++) for (let p = 0; p < 3; p++) faces.push(faceOf(gen.face(id)));
    await store.addFaces('app', 'g', faces, 1e9);
    const ann = new AnnFaceSearch(store, new ExactFaceSearch(store, 512), undefined, SMALL);
    try {
      const g = () => groupOf(store, 'g');
      await untilIndexReady(ann, g, gen.face(0));

      const target = faces[30];
      assert.equal((await ann.search(await g(), target.vector, 1, 0))[0].faceId, target.faceId);
      const key = (await store.deleteFace('app', 'g', target.faceId))!;
      ann.removed(await g(), { key, faceId: target.faceId });
      assert.ok(!(await ann.search(await g(), target.vector, 10, -1)).some((h) => h.faceId === target.faceId));

      const late = faceOf(gen.face(500));
      const { keys } = (await store.addFaces('app', 'g', [late], 1e9))!;
      ann.added(await g(), [{ key: keys[0], faceId: late.faceId, vector: late.vector }]);
      assert.equal((await ann.search(await g(), late.vector, 1, 0))[0].faceId, late.faceId);

      const other = faces[60];
      const hits = await ann.search(await g(), other.vector, 3, 0.3, other.faceId);
      assert.ok(!hits.some((h) => h.faceId === other.faceId));
      assert.ok(hits.every((h) => h.score >= 0.3));

      // The hits carry the records the store holds, read with their ids in the scan thread...
      const answered = await ann.search(await g(), faces[90].vector, 5, -1);
      const records = await store.getFaces('app', 'g', answered.map((h) => h.faceId));
      for (const h of answered) {
        const r = records.find((x) => x.faceId === h.faceId)!;
        assert.deepEqual(h.face, { imageId: r.imageId, ...(r.externalImageId !== undefined ? { externalImageId: r.externalImageId } : {}), bbox: r.bbox, confidence: r.confidence });
      }
      // ...but not when a deletion reached the index while the search ran: it may have committed
      // after the thread read them, so the caller reads them again.
      const running = ann.search(await g(), faces[91].vector, 5, -1);
      const gone = faces[92];
      ann.removed(await g(), { key: (await store.deleteFace('app', 'g', gone.faceId))!, faceId: gone.faceId });
      const raced = await running;
      assert.ok(raced.length > 0 && raced.every((h) => h.face === undefined));
      assert.ok((await ann.search(await g(), faces[91].vector, 5, -1)).every((h) => h.face !== undefined && h.faceId !== gone.faceId));
    } finally {
      await ann.close();
      await store.close();
    }
  });
});

describe('scan thread', () => {
  it('runs requests in the order they were sent, also when several queue up behind a busy thread', async () => {
    const { ScanHost } = await import('../src/index/ann/scan-host.js');
    const host = new ScanHost();
    const gen = new ClusteredVectors(512, 5);
    const group = 'order';
    try {
      await host.create(group, DEFAULT_ANN_SETTINGS.codes);
      const many = new Float32Array(2_000 * 512);
      for (let i = 0; i < 2_000; i++) many.set(gen.face(i), i * 512);
      const x = gen.face(9_999);
      // The first add keeps the thread busy while the rest queue: add x, remove x, then search for x.
      const busy = host.add(group, Float64Array.from({ length: 2_000 }, (_, i) => i + 1), many);
      const added = host.add(group, Float64Array.of(50_000), x);
      const removed = host.remove(group, [50_000]);
      const searched = host.search(group, x, 5);
      await Promise.all([busy, added, removed]);
      assert.ok(!(await searched).keys.includes(50_000), 'the search ran after the removal sent before it');
    } finally {
      await host.close();
    }
  });
});
