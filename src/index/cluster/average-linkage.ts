/**
 * Average-linkage agglomerative clustering over a k-nearest-neighbour graph (docs/persons.md,
 * "Clustering"). Two clusters merge, most alike pair first, while the mean cosine over *every*
 * pair of their faces is at least the link threshold. Single linkage (one pair at the threshold
 * suffices) chains identities together through a few borderline pairs: at a per-pair false-match
 * rate of 1e-4 a 100,000-face album has about 500,000 such pairs. A mean over all pairs is not
 * moved by one of them.
 *
 * Only clusters joined by a neighbour edge at or above the threshold are candidates (a mean at
 * or above it needs at least one pair at or above it), so the work follows the graph, not n².
 * Sums of cosines between two clusters are exact: kept for neighbouring clusters and added up on
 * a merge (sum(A∪B, X) = sum(A, X) + sum(B, X)), computed from the vectors when a merge makes two
 * clusters neighbours for the first time. Hand-written because no maintained JavaScript library
 * does average linkage on a sparse graph (the ones there are build the full n² matrix).
 */
import TinyQueue from 'tinyqueue';
import type { ClusterSettings, Clustering } from '../../domain/clustering.js';

/** For face i, its neighbours are `neighbours[i*k .. i*k+k)` (−1 = none), most alike first. */
export interface NeighbourGraph {
  k: number;
  neighbours: Int32Array;
  cosines: Float32Array;
}

interface Candidate {
  /** Mean cosine between the two clusters when the candidate was made. */
  mean: number;
  a: number;
  b: number;
  /** The clusters' versions then: a candidate of a cluster that changed since is stale. */
  va: number;
  vb: number;
}

export function averageLinkage(vectors: Float32Array, dimensions: number, count: number, graph: NeighbourGraph, settings: ClusterSettings): Clustering {
  const { k, neighbours, cosines } = graph;
  const link = settings.linkCosine;
  const members: number[][] = Array.from({ length: count }, (_, i) => [i]);
  const owner = new Int32Array(count);
  for (let i = 0; i < count; i++) owner[i] = i;
  const version = new Int32Array(count);
  /** Per cluster: neighbouring cluster → sum of cosines over all pairs of their faces. */
  const sums: Map<number, number>[] = Array.from({ length: count }, () => new Map());
  const dot = (p: number, q: number): number => {
    let s = 0;
    const o = p * dimensions;
    const u = q * dimensions;
    for (let d = 0; d < dimensions; d++) s += vectors[o + d] * vectors[u + d];
    return s;
  };
  const sumBetween = (A: number[], B: number[]): number => {
    let s = 0;
    for (const p of A) for (const q of B) s += dot(p, q);
    return s;
  };
  // Highest mean first; ties by cluster ids, so the result does not depend on insertion order.
  const queue = new TinyQueue<Candidate>([], (x, y) => y.mean - x.mean || x.a - y.a || x.b - y.b);
  const propose = (x: number, y: number, mean: number) => {
    const a = Math.min(x, y);
    const b = Math.max(x, y);
    queue.push({ mean, a, b, va: version[a], vb: version[b] });
  };

  for (let i = 0; i < count; i++) {
    for (let r = 0; r < k; r++) {
      const j = neighbours[i * k + r];
      const c = cosines[i * k + r];
      if (j < 0 || c < link) break; // most alike first
      if (sums[i].has(j)) continue; // j listed i too
      sums[i].set(j, c);
      sums[j].set(i, c);
      propose(i, j, c);
    }
  }

  for (let top = queue.pop(); top && top.mean >= link; top = queue.pop()) {
    const { a, b } = top;
    if (version[a] !== top.va || version[b] !== top.vb) continue;
    // The larger cluster absorbs the smaller: each face moves O(log n) times at most.
    const [keep, gone] = members[a].length >= members[b].length ? [a, b] : [b, a];
    const kept = members[keep];
    const moved = members[gone];
    const merged = new Map<number, number>();
    for (const x of new Set([...sums[keep].keys(), ...sums[gone].keys()])) {
      if (x === keep || x === gone) continue;
      merged.set(x, (sums[keep].get(x) ?? sumBetween(kept, members[x])) + (sums[gone].get(x) ?? sumBetween(moved, members[x])));
    }
    for (const f of moved) {
      kept.push(f);
      owner[f] = keep;
    }
    members[gone] = [];
    sums[gone] = new Map();
    sums[keep] = merged;
    version[keep]++;
    version[gone]++;
    for (const [x, s] of merged) {
      sums[x].delete(gone);
      sums[x].set(keep, s);
      const mean = s / (kept.length * members[x].length);
      if (mean >= link) propose(keep, x, mean);
    }
  }

  const joins = attachLoneFaces(count, graph, members, owner, settings.attachCosine, link, sumBetween);
  const clusters: number[][] = [];
  const unclustered: number[] = [];
  for (let c = 0; c < count; c++) {
    const m = members[c];
    if (m.length === 0) continue;
    if (m.length === 1) {
      if (!joins.joined.has(m[0])) unclustered.push(m[0]);
      continue;
    }
    clusters.push(withRepresentativeFirst([...m, ...(joins.into.get(c) ?? [])].sort((x, y) => x - y), graph));
  }
  clusters.sort((x, y) => y.length - x.length || x[0] - y[0]);
  return { clusters, unclustered };
}

/**
 * With an attach threshold below the link threshold, a face left alone joins the cluster (of two
 * faces or more, among its neighbours' clusters) with the highest mean cosine to it, if that mean
 * is at least the attach threshold. Off by default (docs/persons.md says why).
 */
function attachLoneFaces(
  count: number,
  graph: NeighbourGraph,
  members: number[][],
  owner: Int32Array,
  attach: number,
  link: number,
  sumBetween: (A: number[], B: number[]) => number,
): { joined: Set<number>; into: Map<number, number[]> } {
  const joined = new Set<number>();
  const into = new Map<number, number[]>();
  if (attach >= link) return { joined, into };
  const { k, neighbours, cosines } = graph;
  for (let i = 0; i < count; i++) {
    if (members[owner[i]].length > 1) continue;
    let best = attach;
    let target = -1;
    const tried = new Set<number>();
    for (let r = 0; r < k; r++) {
      const j = neighbours[i * k + r];
      if (j < 0 || cosines[i * k + r] < attach) break;
      const c = owner[j];
      if (members[c].length < 2 || tried.has(c)) continue;
      tried.add(c);
      const mean = sumBetween([i], members[c]) / members[c].length;
      if (mean >= best) {
        best = mean;
        target = c;
      }
    }
    if (target < 0) continue;
    joined.add(i);
    const list = into.get(target) ?? [];
    list.push(i);
    into.set(target, list);
  }
  return { joined, into };
}

/** The representative: the member with the highest summed cosine to the members among its neighbours. */
function withRepresentativeFirst(members: number[], graph: NeighbourGraph): number[] {
  const set = new Set(members);
  let best = members[0];
  let bestScore = -Infinity;
  for (const i of members) {
    let score = 0;
    for (let r = 0; r < graph.k; r++) {
      const j = graph.neighbours[i * graph.k + r];
      if (j >= 0 && set.has(j)) score += graph.cosines[i * graph.k + r];
    }
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return [best, ...members.filter((i) => i !== best)];
}
