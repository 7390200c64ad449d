/**
 * Average-linkage agglomerative clustering over a k-nearest-neighbour graph (docs/persons.md,
 * "Clustering"). Two clusters merge, most alike pair first, while the mean cosine over *every*
 * pair of their faces is at least the link threshold. Single linkage (one pair at the threshold
 * suffices) chains identities together through a few borderline pairs: at a per-pair false-match
 * rate of 1e-4 a 100,000-face album has about 500,000 such pairs. A mean over all pairs is not
 * moved by one of them.
 *
 * The mean is exact and cheap at any size: for unit vectors the sum of cosines over all pairs of
 * A and B is the dot product of their sums (Σp·Σq), so each cluster keeps the sum of its vectors
 * and a merge adds two sums. Only clusters joined by a neighbour edge at or above the threshold
 * are candidates (a mean at or above it needs at least one pair at or above it), so the work
 * follows the graph, not n². After a merge the candidates of the two clusters are not
 * recomputed at once: the mean of A∪B with X is the size-weighted average of A's and B's means
 * with X, so it is at most the larger of the two, and a stale candidate is brought up to date only
 * when it comes first in the queue (and dropped if it is then under the threshold). A person in
 * 20,000 photos then costs one mean per merge, not one per photo of them still alone. Hand-written because no maintained JavaScript library does average
 * linkage on a sparse graph (the ones there are build the full n² distance matrix).
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

/** The clusters as they merge: members and the sum of the members' vectors. */
class Clusters {
  readonly members: number[][];
  readonly version: Int32Array;
  /** A cluster merged away points at the cluster it went into (a chain ends at a live cluster). */
  private readonly mergedInto: Int32Array;
  /** Sums of clusters of two faces or more; a face alone is its own vector's row. */
  private readonly sums = new Map<number, Float64Array>();

  constructor(
    private readonly vectors: Float32Array,
    private readonly dimensions: number,
    count: number,
  ) {
    this.members = Array.from({ length: count }, (_, i) => [i]);
    this.version = new Int32Array(count);
    this.mergedInto = new Int32Array(count).fill(-1);
  }

  /** The live cluster that cluster c is now part of. */
  live(c: number): number {
    let root = c;
    while (this.mergedInto[root] >= 0) root = this.mergedInto[root];
    while (this.mergedInto[c] >= 0) {
      const next = this.mergedInto[c];
      this.mergedInto[c] = root;
      c = next;
    }
    return root;
  }

  size(c: number): number {
    return this.members[c].length;
  }

  /** Mean cosine over all pairs of faces of clusters a and b (a face alone is a cluster too). */
  mean(a: number, b: number): number {
    const x = this.sumOf(a);
    const y = this.sumOf(b);
    let dot = 0;
    for (let d = 0; d < this.dimensions; d++) dot += x[d] * y[d];
    return dot / (this.size(a) * this.size(b));
  }

  /** Merges the smaller of a and b into the larger (each face moves O(log n) times at most); returns the one kept. */
  merge(a: number, b: number): number {
    const [keep, gone] = this.size(a) >= this.size(b) ? [a, b] : [b, a];
    const sum = this.sums.get(keep) ?? Float64Array.from(this.sumOf(keep));
    const other = this.sumOf(gone);
    for (let d = 0; d < this.dimensions; d++) sum[d] += other[d];
    this.sums.set(keep, sum);
    this.sums.delete(gone);
    for (const f of this.members[gone]) this.members[keep].push(f);
    this.members[gone] = [];
    this.mergedInto[gone] = keep;
    this.version[keep]++;
    this.version[gone]++;
    return keep;
  }

  /** The sum of the cluster's vectors; for a face alone, its own row. */
  private sumOf(c: number): Float64Array | Float32Array {
    return this.sums.get(c) ?? this.vectors.subarray(c * this.dimensions, (c + 1) * this.dimensions);
  }
}

export function averageLinkage(vectors: Float32Array, dimensions: number, count: number, graph: NeighbourGraph, settings: ClusterSettings): Clustering {
  const { k, neighbours, cosines } = graph;
  const link = settings.linkCosine;
  const c = new Clusters(vectors, dimensions, count);
  // Highest mean first; ties by cluster ids, so the result does not depend on insertion order.
  const queue = new TinyQueue<Candidate>([], (x, y) => y.mean - x.mean || x.a - y.a || x.b - y.b);
  const propose = (x: number, y: number, mean: number) => {
    const a = Math.min(x, y);
    const b = Math.max(x, y);
    queue.push({ mean, a, b, va: c.version[a], vb: c.version[b] });
  };

  for (let i = 0; i < count; i++) {
    for (let r = 0; r < k; r++) {
      const j = neighbours[i * k + r];
      const cos = cosines[i * k + r];
      if (j < 0 || cos < link) break; // most alike first
      // An edge both faces list is proposed twice; the second copy finds the pair merged or is re-scored.
      propose(i, j, cos);
    }
  }

  for (let top = queue.pop(); top && top.mean >= link; top = queue.pop()) {
    const a = c.live(top.a);
    const b = c.live(top.b);
    if (a === b) continue;
    if (a === top.a && b === top.b && c.version[a] === top.va && c.version[b] === top.vb) {
      c.merge(a, b);
      continue;
    }
    // Stale: its mean was an upper bound of the current one. Up to date, it goes back in the queue.
    const mean = c.mean(a, b);
    if (mean >= link) propose(a, b, mean);
  }

  const joins = attachLoneFaces(count, graph, c, settings.attachCosine, link);
  const clusters: number[][] = [];
  const unclustered: number[] = [];
  for (let id = 0; id < count; id++) {
    const m = c.members[id];
    if (m.length === 0) continue;
    if (m.length === 1) {
      if (!joins.joined.has(m[0])) unclustered.push(m[0]);
      continue;
    }
    clusters.push(withRepresentativeFirst([...m, ...(joins.into.get(id) ?? [])].sort((x, y) => x - y), graph));
  }
  clusters.sort((x, y) => y.length - x.length || x[0] - y[0]);
  return { clusters, unclustered };
}

/**
 * With an attach threshold below the link threshold, a face left alone joins the cluster (of two
 * faces or more, among its neighbours' clusters) with the highest mean cosine to it, if that mean
 * is at least the attach threshold. Off by default (docs/persons.md says why).
 */
function attachLoneFaces(count: number, graph: NeighbourGraph, c: Clusters, attach: number, link: number): { joined: Set<number>; into: Map<number, number[]> } {
  const joined = new Set<number>();
  const into = new Map<number, number[]>();
  if (attach >= link) return { joined, into };
  const { k, neighbours, cosines } = graph;
  for (let i = 0; i < count; i++) {
    if (c.size(c.live(i)) > 1) continue; // alone, face i is still cluster i
    let best = attach;
    let target = -1;
    const tried = new Set<number>();
    for (let r = 0; r < k; r++) {
      const j = neighbours[i * k + r];
      if (j < 0 || cosines[i * k + r] < attach) break;
      const to = c.live(j);
      if (c.size(to) < 2 || tried.has(to)) continue;
      tried.add(to);
      const mean = c.mean(i, to);
      if (mean >= best) {
        best = mean;
        target = to;
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
