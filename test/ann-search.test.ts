import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AnnFaceSearch, DEFAULT_ANN_SETTINGS, searchBreadth, type AnnSettings } from '../src/index/ann/ann-face-search.js';
import { ExactFaceSearch } from '../src/index/exact-face-search.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import type { FaceWithVector } from '../src/store/store.js';
import { faceOf, groupOf, untilGraphReady } from './support/ann-fixtures.js';
import { ClusteredVectors } from './support/clustered-vectors.js';

const root = mkdtempSync(join(tmpdir(), 'facerec-ann-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

const SMALL: AnnSettings = { ...DEFAULT_ANN_SETTINGS, exactBelow: 100, buildBatch: 250 };


describe('searchBreadth', () => {
  it('keeps usearch\'s expansion for groups up to breadthGrowsAbove faces, then grows with the group, up to its cap', () => {
    const s = { ...DEFAULT_ANN_SETTINGS, breadthGrowsAbove: 100_000, maxSearchBreadth: 512, hnsw: { ...DEFAULT_ANN_SETTINGS.hnsw, expansionSearch: 64 } };
    assert.equal(searchBreadth(0, s), 64);
    assert.equal(searchBreadth(100_000, s), 64);
    assert.equal(searchBreadth(400_000, s), 256);
    assert.equal(searchBreadth(5_000_000, s), 512);
  });
});

describe('AnnFaceSearch', () => {
  it('answers like the exact scan: same top face in at least 99 % of queries, exact scores', async () => {
    const store = SqliteStore.open(join(root, 'a'));
    await store.createApp('app', 'h');
    await store.createGroup('app', 'g', 'v', 10);
    const gen = new ClusteredVectors(512, 7);
    const faces: FaceWithVector[] = [];
    for (let id = 0; id < 600; id++) for (let p = 0; p < 5; p++) faces.push(faceOf(gen.face(id)));
    await store.addFaces('app', 'g', faces, 1e9);
    const exact = new ExactFaceSearch(store, 512);
    const ann = new AnnFaceSearch(store, new ExactFaceSearch(store, 512), undefined, SMALL);
    try {
      const g = () => groupOf(store, 'g');
      await untilGraphReady(ann, g, gen.face(0));
      let same = 0;
      const queries = 200;
      for (let q = 0; q < queries; q++) {
        const query = gen.face(q * 3);
        const [a, e] = [await ann.search(await g(), query, 10, 0), await exact.search(await g(), query, 10, 0)];
        if (a[0]?.faceId === e[0]?.faceId) same++;
        // Scores are exact cosines of the stored vectors, whatever the graph's quantisation.
        for (const hit of a) {
          const twin = e.find((x) => x.faceId === hit.faceId);
          if (twin) assert.ok(Math.abs(hit.score - twin.score) < 1e-6, `${hit.score} vs ${twin.score}`);
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
      await untilGraphReady(ann, g, gen.face(0));

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
    } finally {
      await ann.close();
      await store.close();
    }
  });
});

describe('HNSW graph thread', () => {
  it('gives each new face a deleted face\'s placeholder slot, so deletions do not pile up placeholders', async () => {
    const { default: run, PLACEHOLDER_KEY_BASE } = await import('../src/index/ann/hnsw-worker.js');
    const gen = new ClusteredVectors(512, 3);
    const group = 'placeholders';
    const pack = (ids: number[]) => {
      const out = new Float32Array(ids.length * 512);
      ids.forEach((id, i) => out.set(gen.face(id), i * 512));
      return out;
    };
    const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
    const stats = () => run({ op: 'stats', group }) as { size: number; placeholders: number };
    run({ op: 'create', group, options: DEFAULT_ANN_SETTINGS.hnsw });
    try {
      run({ op: 'add', group, keys: Float64Array.from(range(1, 50)), vectors: pack(range(1, 50)), threads: 2 });
      run({ op: 'remove', group, keys: Float64Array.from(range(1, 10)) });
      assert.deepEqual(stats(), { size: 40, placeholders: 10 });
      run({ op: 'add', group, keys: Float64Array.from(range(100, 15)), vectors: pack(range(100, 15)), threads: 2 });
      assert.deepEqual(stats(), { size: 55, placeholders: 0 });
      for (const id of [100, 107, 114, 30]) {
        const { keys } = run({ op: 'search', group, query: gen.face(id), k: 60 }) as { keys: number[] };
        assert.equal(keys[0], id);
        assert.ok(keys.every((k) => k >= 11 && k < Number(PLACEHOLDER_KEY_BASE)), 'no deleted face and no placeholder is returned');
      }
      // A wider search still answers k keys, the best first.
      const wide = run({ op: 'search', group, query: gen.face(107), k: 5, breadth: 200 }) as { keys: number[] };
      assert.equal(wide.keys.length, 5);
      assert.equal(wide.keys[0], 107);
    } finally {
      run({ op: 'drop', group });
    }
  });

  it('runs requests in the order they were sent, also when several queue up behind a busy thread', async () => {
    const { HnswHost } = await import('../src/index/ann/hnsw-host.js');
    const host = new HnswHost();
    const gen = new ClusteredVectors(512, 5);
    const group = 'order';
    try {
      await host.create(group, DEFAULT_ANN_SETTINGS.hnsw);
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
