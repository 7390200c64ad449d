/**
 * How the HNSW graph's parameters trade recall for build time, on the same clustered synthetic
 * faces as bench:scale, with usearch alone: is the exact best face among the first 32 (and 64)
 * candidates the graph proposes? That is what the exact re-rank needs (docs/scale.md).
 *
 *   npm run bench:hnsw-params -- [faces=100000]
 */
import usearch, { MetricKind, ScalarKind } from 'usearch';
import { ClusteredVectors } from '../test/support/clustered-vectors.js';
import { machineLine } from './machine.js';
import { printHeader } from './common.js';

const N = Number(process.argv[2] ?? 100_000);
const D = 512;
const Q = 200;
printHeader(`bench:hnsw-params — ${N} faces, ${Q} queries`);
console.log(machineLine());
const gen = new ClusteredVectors(D, N);
const data = new Float32Array(N * D);
for (let i = 0; i < N; i++) data.set(gen.face(Math.floor(i / 5)), i * D);
const queries = Array.from({ length: Q }, (_, i) => Math.floor(((i + 0.5) / Q) * N));
const best = queries.map((qi) => {
  let top = -1;
  let score = -Infinity;
  for (let i = 0; i < N; i++) {
    if (i === qi) continue;
    let s = 0;
    for (let j = 0; j < D; j++) s += data[i * D + j] * data[qi * D + j];
    if (s > score) [score, top] = [s, i];
  }
  return top;
});

for (const [connectivity, expansionAdd, expansionSearch] of [[16, 128, 64], [16, 128, 200], [32, 128, 64]] as const) {
  const index = new usearch.Index({ dimensions: D, metric: MetricKind.Cos, quantization: ScalarKind.I8, connectivity, expansion_add: expansionAdd, expansion_search: expansionSearch, multi: false });
  const t0 = Date.now();
  index.add(BigUint64Array.from({ length: N }, (_, i) => BigInt(i + 1)), data, 2);
  const buildS = (Date.now() - t0) / 1000;
  let in32 = 0;
  let in64 = 0;
  const s0 = Date.now();
  for (let k = 0; k < Q; k++) {
    const qi = queries[k];
    const found = [...index.search(data.subarray(qi * D, (qi + 1) * D), 65, 1).keys].map((x) => Number(x) - 1).filter((x) => x !== qi);
    if (found.slice(0, 32).includes(best[k])) in32++;
    if (found.includes(best[k])) in64++;
  }
  console.log(`hnsw: i8 connectivity=${connectivity} expansion_add=${expansionAdd} expansion_search=${expansionSearch} build_s=${buildS.toFixed(0)} (2 threads) ` +
    `search_ms=${((Date.now() - s0) / Q).toFixed(2)} best_in_32=${(in32 / Q).toFixed(3)} best_in_64=${(in64 / Q).toFixed(3)}`);
}
