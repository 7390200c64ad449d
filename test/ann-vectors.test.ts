import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cosine } from '../src/engine/vectors.js';
import { AnnFaceSearch, DEFAULT_ANN_SETTINGS, groupName, type AnnSettings } from '../src/index/ann/ann-face-search.js';
import { BinaryCodes } from '../src/index/ann/binary-codes.js';
import { ResidentGroup, ROUNDING_REACH } from '../src/index/ann/resident-group.js';
import { SlotVectors } from '../src/index/ann/slot-vectors.js';
import { SnapshotFiles } from '../src/index/ann/snapshot-files.js';
import { ExactFaceSearch } from '../src/index/exact-face-search.js';
import type { KeyedVector } from '../src/store/store.js';
import type { KeyedFace, VectorReader, VectorsWanted } from '../src/store/worker-vectors.js';
import { clusteredGroup, groupOf, openedSnapshot, untilIndexReady } from './support/ann-fixtures.js';
import { ClusteredVectors } from './support/clustered-vectors.js';

const root = mkdtempSync(join(tmpdir(), 'facerec-ann-vectors-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A reader over faces in memory that counts what it was asked for, as the store's reader would answer. */
class CountingReader implements VectorReader {
  vectorReads = 0;
  idReads = 0;
  readonly faces = new Map<number, KeyedVector>();

  constructor(faces: KeyedVector[]) {
    for (const f of faces) this.faces.set(f.key, f);
  }

  vectorsByKeys(_app: string, _group: string, keys: ArrayLike<number>): KeyedVector[] {
    this.vectorReads += keys.length;
    return Array.from(keys).flatMap((k) => (this.faces.has(k) ? [this.faces.get(k)!] : []));
  }

  facesByKeys(_app: string, _group: string, keys: ArrayLike<number>, vectors: VectorsWanted): KeyedFace[] {
    const withVector = (k: number, faceId: string) => Array.from(vectors.keys).includes(k) && faceId !== vectors.except;
    return Array.from(keys).flatMap((k) => {
      const face = this.faces.get(k);
      if (!face) return [];
      const named = { key: k, faceId: face.faceId, imageId: `image-of-${face.faceId}`, bbox: { x0: 0, y0: 0, x1: 1, y1: 1 }, confidence: 1 };
      if (withVector(k, face.faceId)) {
        this.vectorReads++;
        return [{ ...named, vector: face.vector }];
      }
      this.idReads++;
      return [named];
    });
  }

  faceKeys = () => Float64Array.from(this.faces.keys());
  keySummary = () => ({ count: this.faces.size, max: 0 });
  close(): void {}
}

function clustered(n: number, seed: number): KeyedVector[] {
  const gen = new ClusteredVectors(512, seed);
  return Array.from({ length: n }, (_, i) => ({ key: i + 1, faceId: `face-${i + 1}`, vector: gen.face(Math.floor(i / 5)) }));
}

/** The exact ranking of every face, best first. */
const exactTop = (faces: KeyedVector[], query: Float32Array, k: number) =>
  faces.map((f) => ({ faceId: f.faceId, score: cosine(f.vector, query) })).sort((a, b) => b.score - a.score).slice(0, k);

describe('SlotVectors', () => {
  it('scores within the rounding reach of the exact cosine, and moves, clears and frees like the codes it follows', () => {
    const faces = clustered(2_000, 3);
    const held = new SlotVectors(512);
    faces.forEach((f, slot) => held.set(slot, f.vector));
    assert.equal(held.count, 2_000);
    let worst = 0;
    for (const q of [0, 17, 999, 1_999]) {
      for (let slot = 0; slot < faces.length; slot++) worst = Math.max(worst, Math.abs(held.score(slot, faces[q].vector) - cosine(faces[slot].vector, faces[q].vector)));
    }
    assert.ok(worst < ROUNDING_REACH, `worst error ${worst}`);

    held.move(1_999, 5);
    assert.ok(Math.abs(held.score(5, faces[1_999].vector) - 1) < ROUNDING_REACH, 'the last slot\'s vector moved into slot 5');
    assert.ok(!held.has(1_999));
    assert.equal(held.count, 1_999);
    held.clear(6);
    assert.ok(!held.has(6));
    assert.equal(held.score(6, faces[6].vector), 0, 'a cleared slot holds zeros');
    assert.equal(held.count, 1_998);

    const big = new SlotVectors(512);
    big.set(70_000, faces[0].vector); // the second block of 65,536 slots
    assert.equal(big.byteSize, 2 * 65_536 * 516);
    big.clear(70_000);
    big.release(1);
    assert.equal(big.byteSize, 65_536 * 516, 'blocks past the last face are freed');
  });
});

describe('ResidentGroup', () => {
  it('ranks like the exact scan, reading only the few faces close to the best and the ids of the rest', () => {
    const faces = clustered(3_000, 7);
    const group = new ResidentGroup();
    for (const f of faces) group.add(f.key, f.vector);
    const reader = new CountingReader(faces);
    let same = 0;
    for (let q = 0; q < 100; q++) {
      const query = new ClusteredVectors(512, 7).face(q * 6); // the same identity's centre area, not a stored face
      const hits = group.rank(reader, { appKey: 'a', groupId: 'g', query, candidates: 32, k: 10, minScore: -1 });
      const exact = exactTop(faces, query, 10);
      if (hits[0].faceId === exact[0].faceId) same++;
      assert.equal(hits.length, 10);
      for (const h of hits) assert.ok(Math.abs(h.score - cosine(faces[Number(h.faceId.slice(5)) - 1].vector, query)) < ROUNDING_REACH);
    }
    assert.ok(same >= 99, `top-1 identical in ${same} of 100`);
    assert.ok(reader.vectorReads / 100 <= 5, `${reader.vectorReads / 100} vectors read a search, on average`);
    assert.ok(reader.idReads / 100 <= 10, `${reader.idReads / 100} ids read a search, on average`);
  });

  it('reads and scores exactly the faces whose vectors are not filled in yet, then fills them in, also across removals', () => {
    const faces = clustered(1_000, 11);
    const full = new ResidentGroup();
    for (const f of faces) full.add(f.key, f.vector);
    // As a snapshot loads: codes for every face, no vectors.
    const group = new ResidentGroup(BinaryCodes.from(full.codes.keys().slice(), full.codes.codes().slice()));
    const reader = new CountingReader(faces);
    const query = faces[123].vector;
    const before = group.rank(reader, { appKey: 'a', groupId: 'g', query, candidates: 32, k: 5, minScore: -1 });
    assert.deepEqual(before.map(({ faceId, score }) => ({ faceId, score })), exactTop(faces, query, 32).filter((h) => before.some((b) => b.faceId === h.faceId)), 'exact scores, best first');
    assert.equal(reader.vectorReads, 32, 'every candidate read');

    let step = group.fill(reader, 'a', 'g', 300);
    assert.deepEqual(step, { done: false, filled: 300 });
    // Removed meanwhile: a filled face (the last slot, not filled, moves into its place) and an unfilled one.
    for (const key of [10, 800]) {
      group.remove(key);
      reader.faces.delete(key);
    }
    // Deleted from the store, its removal not here yet: offered, not found, left without a vector.
    reader.faces.delete(500);
    while (!step.done) step = group.fill(reader, 'a', 'g', 300);
    assert.equal(group.count, 998);
    assert.equal(group.vectors.count, 997, 'every face the store holds has its vector; face 500 has none');

    reader.vectorReads = 0;
    const hits = group.rank(reader, { appKey: 'a', groupId: 'g', query, candidates: 32, k: 5, minScore: -1 });
    assert.equal(hits[0].faceId, faces[123].faceId);
    assert.ok(reader.vectorReads < 32, 'candidates come from memory now');
    assert.ok(!hits.some((h) => h.faceId === 'face-500' || h.faceId === 'face-10' || h.faceId === 'face-800'));
    // Slots and vectors stayed together: each remaining face is its own best match.
    for (const f of faces.filter((x) => reader.faces.has(x.key)).slice(0, 50)) {
      assert.equal(group.rank(reader, { appKey: 'a', groupId: 'g', query: f.vector, candidates: 32, k: 1, minScore: -1 })[0].faceId, f.faceId);
    }
  });

  it('leaves out the excluded face and faces below minScore, and measures closeness from the best face kept', () => {
    const faces = clustered(500, 13);
    const group = new ResidentGroup();
    for (const f of faces) group.add(f.key, f.vector);
    const reader = new CountingReader(faces);
    const self = faces[42];
    const hits = group.rank(reader, { appKey: 'a', groupId: 'g', query: self.vector, candidates: 32, k: 3, minScore: 0.3, exclude: self.faceId });
    const exact = exactTop(faces.filter((f) => f !== self), self.vector, 3).filter((h) => h.score >= 0.3);
    assert.equal(hits[0].faceId, exact[0].faceId);
    assert.ok(Math.abs(hits[0].score - exact[0].score) < 1e-6, 'the best kept face was read and scored exactly');
    assert.ok(hits.every((h) => h.faceId !== self.faceId && h.score >= 0.3));
  });
});

describe('AnnFaceSearch vectors', () => {
  it('fills in the vectors of a group loaded from its snapshot, answering meanwhile', async () => {
    const dir = join(root, 'fill');
    const { store, gen, faces } = await clusteredGroup(dir, 21, 200, 3);
    const snapshots = new SnapshotFiles(join(dir, 'index'), store.indexSecret());
    const settings: AnnSettings = { ...DEFAULT_ANN_SETTINGS, exactBelow: 100, fillBatch: 50, fillPauseMs: 5, snapshotIntervalMs: 3_600_000 };
    const g = () => groupOf(store, 'g');
    const first = new AnnFaceSearch(store, new ExactFaceSearch(store, 512), snapshots, settings);
    await untilIndexReady(first, g, gen.face(0));
    assert.ok(first.isFilled(await g()) || (await until(async () => first.isFilled(await g()))), 'a built group has every vector');
    await first.close();
    // The snapshot holds keys and codes only: the 8-bit vectors never reach the disk.
    const plain = openedSnapshot(snapshots.sealingKey, groupName({ appKey: 'app', groupId: 'g' }), snapshots.pathOf(groupName({ appKey: 'app', groupId: 'g' })));
    const head = plain.readUInt32LE(0);
    assert.equal(plain.length, 4 + head + 600 * (8 + 64));

    const second = new AnnFaceSearch(store, new ExactFaceSearch(store, 512), snapshots, settings);
    try {
      assert.equal((await second.search(await g(), faces[7].vector, 1, 0))[0].faceId, faces[7].faceId);
      assert.ok(!second.isFilled(await g()), '600 faces at 50 a step take more than one step');
      await until(async () => second.isFilled(await g()));
      for (const f of [faces[0], faces[300], faces[599]]) assert.equal((await second.search(await g(), f.vector, 1, 0))[0].faceId, f.faceId);
    } finally {
      await second.close();
      await store.close();
    }
  });
});

async function until(condition: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not reached in 10 s');
}
