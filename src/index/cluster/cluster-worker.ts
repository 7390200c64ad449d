/**
 * One clustering job, on a thread of its own: usearch's calls are synchronous native code and
 * average linkage over 100,000 faces takes a second or more, so neither may run on the server's
 * event loop. Small sets get exact neighbours (usearch's brute-force `exactSearch`); larger ones
 * go through an HNSW graph whose candidates are then scored exactly. Progress goes back as
 * messages while the work runs in slices.
 */
import type { MessagePort } from 'node:worker_threads';
import usearch, { MetricKind, ScalarKind } from 'usearch';
import type { ClusterSettings, Clustering } from '../../domain/clustering.js';
import { averageLinkage, type NeighbourGraph } from './average-linkage.js';

export interface ClusterInput {
  vectors: Float32Array;
  count: number;
  dimensions: number;
  settings: ClusterSettings;
  /** Neighbours per face, itself excluded. */
  k: number;
  /** At or below this many faces the neighbour search is exact. */
  exactUpTo: number;
  threads: number;
  /** Where progress messages go. */
  port: MessagePort;
}

export type ClusterMessage = { type: 'progress'; fraction: number };

const SLICE = 5000;

/**
 * The graph: i8 vectors, connectivity 16, expansion 128 on add and 64 on search. Measured on
 * 100,000 synthetic faces (docs/persons.md): the graph finds 97 % of each face's neighbours at or
 * above cosine 0.42 in 51 s on 2 cores, where f32 with expansion 128/96 took 154 s; i8 only
 * proposes candidates, whose cosines are then computed from the f32 vectors.
 */
const GRAPH = { quantization: ScalarKind.I8, connectivity: 16, expansion_add: 128, expansion_search: 64 };

/** Shares of the progress bar: graph build, neighbour queries, then linkage. */
const BUILD_SHARE = 0.45;
const LINK_START = 0.9;

/** piscina's task: the clusters of the given faces (indexes into `vectors`). */
export default function run(input: ClusterInput): Clustering {
  const graph = neighbourGraph(input);
  const clustering = averageLinkage(input.vectors, input.dimensions, input.count, graph, input.settings);
  report(input.port, 1);
  return clustering;
}

function report(port: MessagePort, fraction: number): void {
  port.postMessage({ type: 'progress', fraction } satisfies ClusterMessage);
}

function neighbourGraph(input: ClusterInput): NeighbourGraph {
  const { vectors, count, dimensions, threads, port } = input;
  const k = Math.min(input.k, count - 1);
  const neighbours = new Int32Array(count * input.k).fill(-1);
  const cosines = new Float32Array(count * input.k).fill(-1);
  if (k <= 0) return { k: input.k, neighbours, cosines };
  const exact = count <= input.exactUpTo;
  let index: InstanceType<typeof usearch.Index> | undefined;
  if (!exact) {
    index = new usearch.Index({ dimensions, metric: MetricKind.Cos, multi: false, ...GRAPH });
    const keys = new BigUint64Array(count);
    for (let i = 0; i < count; i++) keys[i] = BigInt(i);
    // Added in slices so that progress moves while the graph is built.
    for (let from = 0; from < count; from += SLICE) {
      const to = Math.min(count, from + SLICE);
      index.add(keys.subarray(from, to), vectors.subarray(from * dimensions, to * dimensions), threads);
      report(port, (to / count) * BUILD_SHARE);
    }
  }
  const base = exact ? 0 : BUILD_SHARE;
  const found: { j: number; c: number }[] = [];
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
      found.length = 0;
      for (let r = 0; r < Number(m.counts[q]); r++) {
        const j = Number(m.keys[q * per + r]);
        if (j !== i) found.push({ j, c: exact ? 1 - m.distances[q * per + r] : cosine(vectors, dimensions, i, j) });
      }
      if (!exact) found.sort((x, y) => y.c - x.c); // the graph's order is by quantised distance
      for (let w = 0; w < Math.min(found.length, input.k); w++) {
        neighbours[i * input.k + w] = found[w].j;
        cosines[i * input.k + w] = found[w].c;
      }
    }
    report(port, base + (to / count) * (LINK_START - base));
  }
  return { k: input.k, neighbours, cosines };
}

function cosine(vectors: Float32Array, dimensions: number, i: number, j: number): number {
  let s = 0;
  const a = i * dimensions;
  const b = j * dimensions;
  for (let d = 0; d < dimensions; d++) s += vectors[a + d] * vectors[b + d];
  return s;
}
