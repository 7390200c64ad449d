/**
 * One clustering job's neighbour search, on a thread of its own: usearch's calls are synchronous
 * native code, so a 100k-face graph build never holds the server's event loop. Small sets are
 * searched exactly (usearch's brute-force `exactSearch`); larger ones through an HNSW graph.
 * Progress goes back as messages while the queries run in slices.
 */
import type { MessagePort } from 'node:worker_threads';
import usearch, { MetricKind, ScalarKind } from 'usearch';

export interface KnnInput {
  vectors: Float32Array;
  count: number;
  dimensions: number;
  /** Neighbours per face, itself excluded. */
  k: number;
  /** At or below this many faces the search is exact. */
  exactUpTo: number;
  threads: number;
  /** Where progress messages go. */
  port: MessagePort;
}

export type KnnMessage = { type: 'progress'; fraction: number };

const SLICE = 5000;

/** piscina's task: the neighbours and cosines of every face, k per face. */
export default function run(input: KnnInput): { neighbours: Int32Array; cosines: Float32Array } {
  const { vectors, count, dimensions, threads } = input;
  const k = Math.min(input.k, count - 1);
  const neighbours = new Int32Array(count * input.k).fill(-1);
  const cosines = new Float32Array(count * input.k).fill(-1);
  if (k <= 0) return { neighbours, cosines };
  const exact = count <= input.exactUpTo;
  let index: InstanceType<typeof usearch.Index> | undefined;
  if (!exact) {
    index = new usearch.Index({ dimensions, metric: MetricKind.Cos, quantization: ScalarKind.F32, connectivity: 16, expansion_add: 128, expansion_search: 96, multi: false });
    const keys = new BigUint64Array(count);
    for (let i = 0; i < count; i++) keys[i] = BigInt(i);
    // Added in slices so that progress moves while the graph is built (half of the work).
    for (let from = 0; from < count; from += SLICE) {
      const to = Math.min(count, from + SLICE);
      index.add(keys.subarray(from, to), vectors.subarray(from * dimensions, to * dimensions), threads);
      input.port.postMessage({ type: 'progress', fraction: (to / count) * 0.5 } satisfies KnnMessage);
    }
  }
  const base = exact ? 0 : 0.5;
  for (let from = 0; from < count; from += SLICE) {
    const to = Math.min(count, from + SLICE);
    const queries = vectors.subarray(from * dimensions, to * dimensions);
    // One more than k: a face finds itself first.
    const m = exact
      ? (usearch.exactSearch(vectors, queries, dimensions, k + 1, MetricKind.Cos, threads) as InstanceType<typeof usearch.BatchMatches>)
      : (index!.search(queries, k + 1, threads) as InstanceType<typeof usearch.BatchMatches>);
    const per = m.keys.length / (to - from);
    for (let q = 0; q < to - from; q++) {
      const i = from + q;
      let w = 0;
      const found = Number(m.counts[q]);
      for (let r = 0; r < found && w < input.k; r++) {
        const j = Number(m.keys[q * per + r]);
        if (j === i) continue;
        neighbours[i * input.k + w] = j;
        cosines[i * input.k + w] = 1 - m.distances[q * per + r];
        w++;
      }
    }
    input.port.postMessage({ type: 'progress', fraction: base + (to / count) * (1 - base) } satisfies KnnMessage);
  }
  return { neighbours, cosines };
}
