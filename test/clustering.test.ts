/**
 * Clustering's algorithm through its port (UsearchClusterer: neighbours on a worker thread, then
 * average linkage): what single linkage got wrong, identities larger than the neighbour list, and
 * the opt-in attach step. The API's clustering jobs are tested in persons.test.ts with real faces.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { ClusterSettings } from '../src/domain/clustering.js';
import { NEIGHBOURS_PER_FACE, UsearchClusterer } from '../src/index/cluster/usearch-clusterer.js';
import { ClusteredVectors } from './support/clustered-vectors.js';

const LINK = 0.42; // similarity 80, the default
const settings: ClusterSettings = { linkCosine: LINK, attachCosine: LINK };

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function pack(rows: number[][]): Float32Array {
  const out = new Float32Array(rows.length * rows[0].length);
  rows.forEach((r, i) => out.set(r, i * r.length));
  return out;
}

const exact = new UsearchClusterer({ threads: 1 });
const graph = new UsearchClusterer({ threads: 1, exactUpTo: 10 });
after(async () => {
  await exact.close();
  await graph.close();
});

describe('clustering (average linkage over a neighbour graph)', () => {
  test('one borderline pair does not join two identities (single linkage would chain them)', async () => {
    // A around e1, B around e2; a3 leans towards B: cosine(a3, b1) = 0.67, far above the link
    // threshold, yet the mean over all pairs of A and B is about 0.2.
    const rows = [
      unit([1, 0, 0, 0]),
      unit([1, 0, 0.2, 0]),
      unit([1, 0.9, 0, 0]),
      unit([0, 1, 0, 0]),
      unit([0, 1, 0, 0.2]),
      unit([0, 1, 0, -0.2]),
    ];
    const c = await exact.cluster(pack(rows), rows.length, 4, settings);
    assert.deepEqual(c.clusters.map((m) => [...m].sort()).sort(), [[0, 1, 2], [3, 4, 5]]);
    assert.deepEqual(c.unclustered, []);
  });

  test(`an identity with more photos than the ${NEIGHBOURS_PER_FACE} neighbours looked at ends up in one cluster, strangers alone (graph path)`, async () => {
    const gen = new ClusteredVectors(512, 3, 0.9);
    const person = Array.from({ length: 40 }, () => Array.from(gen.face(0)));
    const strangers = Array.from({ length: 40 }, (_, i) => Array.from(gen.face(i + 1)));
    const rows = [...person, ...strangers];
    let last = 0;
    const c = await graph.cluster(pack(rows), rows.length, 512, settings, (f) => (last = f));
    assert.equal(c.clusters.length, 1);
    assert.deepEqual([...c.clusters[0]].sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
    assert.deepEqual(c.unclustered, Array.from({ length: 40 }, (_, i) => 40 + i));
    assert.equal(last, 1, 'progress ends at 1');
  });

  test('a lone face joins a cluster only with an attach threshold below the link threshold', async () => {
    // x is at cosine 0.38 to both faces of the cluster: under the link threshold, over 0.34 (similarity 70).
    const rows = [unit([1, 0.05, 0]), unit([1, -0.05, 0]), unit([0.38, 0, Math.sqrt(1 - 0.38 ** 2)])];
    const off = await exact.cluster(pack(rows), 3, 3, settings);
    assert.deepEqual(off.clusters.map((m) => [...m].sort()), [[0, 1]]);
    assert.deepEqual(off.unclustered, [2]);
    const on = await exact.cluster(pack(rows), 3, 3, { linkCosine: LINK, attachCosine: 0.34 });
    assert.deepEqual(on.clusters.map((m) => [...m].sort()), [[0, 1, 2]]);
    assert.deepEqual(on.unclustered, []);
    assert.ok([0, 1].includes(on.clusters[0][0]), 'an attached face is never the representative of a cluster it was attached to');
  });

  test('an empty or one-face set clusters to nothing', async () => {
    assert.deepEqual(await exact.cluster(new Float32Array(0), 0, 512, settings), { clusters: [], unclustered: [] });
    const one = await exact.cluster(new Float32Array(unit([1, 2, 3])), 1, 3, settings);
    assert.deepEqual(one, { clusters: [], unclustered: [0] });
  });
});
