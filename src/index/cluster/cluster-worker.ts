/**
 * One clustering job, on a thread of its own: usearch's calls are synchronous native code and
 * average linkage over 100,000 faces takes a second or more, so neither may run on the server's
 * event loop. Small sets get exact neighbours (usearch's brute-force `exactSearch`); larger ones
 * go through an HNSW graph on sign bits whose candidates are then scored exactly. Progress goes back as
 * messages while the work runs in slices.
 */
import type { MessagePort } from 'node:worker_threads';
import usearch, { MetricKind, ScalarKind } from 'usearch';
import type { ClusterSettings, Clustering } from '../../domain/clustering.js';
import { rowDot } from '../../engine/vectors.js';
import { averageLinkage, type NeighbourGraph } from './average-linkage.js';
import { runAsBackground } from '../../background-thread.js';

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

// A clustering job is upkeep: searches come first.
runAsBackground();

const SLICE = 5000;

/**
 * The graph proposes candidates on one bit per dimension (the sign; Hamming distance, which is an
 * estimate of the angle), and each face's CANDIDATES are then scored exactly from the f32 vectors.
 * Measured on 100,000 synthetic faces (docs/persons.md): 99.4 % of each face's neighbours at or
 * above cosine 0.42 are among its 32 candidates (99.6 % among 64, for twice the exact scoring),
 * for a build and search of about 30 s on 2 cores, where i8 vectors (connectivity 16, expansion
 * 128/64) found 97 % in 51 s and the f32 graph used before (expansion 128/96) took 154 s. On the
 * eval set's real embeddings the sign bits find every such neighbour among 32 candidates.
 */
const GRAPH = { metric: MetricKind.Hamming, quantization: ScalarKind.B1, connectivity: 32, expansion_add: 192, expansion_search: 128 };
const CANDIDATES = 32;

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
    index = new usearch.Index({ dimensions, multi: false, ...GRAPH });
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
      : (index!.search(queries, Math.min(count, CANDIDATES + 1), threads) as InstanceType<typeof usearch.BatchMatches>);
    const per = m.keys.length / (to - from);
    for (let q = 0; q < to - from; q++) {
      const i = from + q;
      found.length = 0;
      for (let r = 0; r < Number(m.counts[q]); r++) {
        const j = Number(m.keys[q * per + r]);
        if (j !== i) found.push({ j, c: exact ? 1 - m.distances[q * per + r] : rowDot(vectors, dimensions, i, j) });
      }
      if (!exact) found.sort((x, y) => y.c - x.c); // the graph's order is by Hamming distance
      for (let w = 0; w < Math.min(found.length, input.k); w++) {
        neighbours[i * input.k + w] = found[w].j;
        cosines[i * input.k + w] = found[w].c;
      }
    }
    report(port, base + (to / count) * (LINK_START - base));
  }
  return { k: input.k, neighbours, cosines };
}
