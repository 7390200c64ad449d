/**
 * Face clustering (docs/persons.md, "Clustering"): quality on the eval identities + distractors,
 * and time for 10k and 100k faces. The defaults are the server's match threshold and no attach
 * step; the other rows show how the figures move around them (none of them was fitted here).
 *
 *   npm run bench:clusters              quality on the eval set, time for 10k and 100k faces
 *   npm run bench:clusters -- --quick   quality and 10k only
 */
import { availableParallelism, cpus } from 'node:os';
import { bcubed, type ClusterSettings, type FaceClusterer } from '../src/domain/clustering.js';
import { CLUSTER_DEFAULTS } from '../src/domain/clusters.js';
import { fromSimilarity } from '../src/engine/similarity.js';
import { EMBEDDING_SIZE } from '../src/engine/vectors.js';
import { UsearchClusterer } from '../src/index/cluster/usearch-clusterer.js';
import { ClusteredVectors } from '../test/support/clustered-vectors.js';
import { evalDir, pct, printHeader, table } from './common.js';
import { evalEmbeddings } from './eval-embeddings.js';

const settings = (threshold: number, attachThreshold: number): ClusterSettings => ({ linkCosine: fromSimilarity(threshold), attachCosine: fromSimilarity(attachThreshold) });

/** Predicted cluster per face: clusters by index, unclustered faces each a cluster of their own. */
function assignment(count: number, c: { clusters: number[][]; unclustered: number[] }): number[] {
  const out = new Array<number>(count);
  c.clusters.forEach((members, i) => members.forEach((m) => (out[m] = i)));
  c.unclustered.forEach((m, i) => (out[m] = c.clusters.length + i));
  return out;
}

/** Pairwise precision and recall: pairs put together that are the same person, and same-person pairs put together. */
function pairwise(pred: number[], truth: string[]): { precision: number; recall: number } {
  const choose2 = (n: number) => (n * (n - 1)) / 2;
  const count = (keys: string[]) => {
    const m = new Map<string, number>();
    for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
    let s = 0;
    for (const n of m.values()) s += choose2(n);
    return s;
  };
  const together = count(pred.map(String));
  const same = count(truth);
  const both = count(pred.map((p, i) => `${p}\u0000${truth[i]}`));
  return { precision: together ? both / together : 1, recall: same ? both / same : 1 };
}

/**
 * Identities with 5 photos each on average (1–9), as an album might have; with `onePerson`, the
 * first that many faces are one person (a family album's child in a fifth of the photos).
 */
async function timed(n: number, clusterer: FaceClusterer, onePerson = 0): Promise<{ seconds: number; clusters: number; f: number }> {
  const gen = new ClusteredVectors(EMBEDDING_SIZE, 7, 0.9);
  const vectors = new Float32Array(n * EMBEDDING_SIZE);
  const truth: string[] = [];
  for (let i = 0; i < onePerson; i++) {
    vectors.set(gen.face(0), i * EMBEDDING_SIZE);
    truth.push('0');
  }
  let id = onePerson > 0 ? 1 : 0;
  for (let i = onePerson; i < n; id++) {
    const photos = 1 + ((id * 7919) % 9);
    for (let p = 0; p < photos && i < n; p++, i++) {
      vectors.set(gen.face(id), i * EMBEDDING_SIZE);
      truth.push(String(id));
    }
  }
  const t0 = performance.now();
  const c = await clusterer.cluster(vectors, n, EMBEDDING_SIZE, settings(CLUSTER_DEFAULTS.threshold, CLUSTER_DEFAULTS.threshold));
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, clusters: c.clusters.length, f: bcubed(assignment(n, c), truth).f };
}

async function main(): Promise<void> {
  const root = evalDir();
  printHeader('Face clustering: BCubed and pairwise quality on the eval set, time at scale');
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores\n`);
  const { embedded, noFace } = await evalEmbeddings(root);
  const clusterer = new UsearchClusterer();
  const vectors = new Float32Array(embedded.length * EMBEDDING_SIZE);
  embedded.forEach((e, i) => vectors.set(e.embedding, i * EMBEDDING_SIZE));
  const identities = embedded.filter((e) => e.path.startsWith('identities/')).length;
  console.log(`\n${embedded.length} faces: ${identities} of ${new Set(embedded.filter((e) => e.path.startsWith('identities/')).map((e) => e.label)).size} identities + ${embedded.length - identities} distractors (${noFace} images without a face left out)\n`);
  const truth = embedded.map((e) => e.label);
  const rows: (string | number)[][] = [];
  const d = CLUSTER_DEFAULTS.threshold;
  // The eval set is small enough for exact neighbours; the graph's row shows what the sign-bit
  // graph used above EXACT_KNN_UP_TO faces costs on real embeddings.
  const throughGraph = new UsearchClusterer({ exactUpTo: 0 });
  const variants: [string, number, number, FaceClusterer][] = [
    [`defaults (threshold ${d}, no attach step)`, d, d, clusterer],
    [`defaults, neighbours from the graph`, d, d, throughGraph],
    ...[75, 85, 90].map((t): [string, number, number, FaceClusterer] => [`threshold ${t}`, t, t, clusterer]),
    ...[70, 75].map((a): [string, number, number, FaceClusterer] => [`threshold ${d}, attach ${a}`, d, a, clusterer]),
  ];
  for (const [name, t, a, how] of variants) {
    const c = await how.cluster(vectors.slice(), embedded.length, EMBEDDING_SIZE, settings(t, a));
    const pred = assignment(embedded.length, c);
    const all = bcubed(pred, truth);
    const idIdx = embedded.flatMap((e, i) => (e.path.startsWith('identities/') ? [i] : []));
    const ids = bcubed(idIdx.map((i) => pred[i]), idIdx.map((i) => truth[i]));
    const pw = pairwise(pred, truth);
    rows.push([name, c.clusters.length, c.unclustered.length, pct(all.precision), pct(all.recall), pct(all.f), pct(ids.f), pct(pw.precision), pct(pw.recall)]);
  }
  console.log(table(['settings', 'clusters', 'unclustered', 'BCubed P', 'BCubed R', 'BCubed F (all faces)', 'BCubed F (identity faces)', 'pairwise P', 'pairwise R'], rows));

  console.log('\nTime to cluster synthetic faces (neighbour search + average linkage, defaults; identities of 1–9 photos):');
  const sizes: [number, number][] = process.argv.includes('--quick') ? [[10_000, 0]] : [[10_000, 0], [100_000, 0], [100_000, 20_000]];
  const timeRows: (string | number)[][] = [];
  for (const [n, onePerson] of sizes) {
    const r = await timed(n, clusterer, onePerson);
    timeRows.push([`${n.toLocaleString('en')}${onePerson ? `, one person in ${onePerson.toLocaleString('en')}` : ''}`, `${r.seconds.toFixed(1)} s`, r.clusters, pct(r.f)]);
  }
  console.log(table(['faces', 'time', 'clusters', 'BCubed F (synthetic)'], timeRows));
  await clusterer.close();
  await throughGraph.close();
}

await main();
