/**
 * Clustering faces into identities without labels (docs/persons.md, "Clustering"): a k-nearest-
 * neighbour graph, linked where two faces are alike enough, then faces left alone attached to the
 * cluster of their best neighbour when that is close enough. Pure functions over indexes; the
 * neighbour search itself is a port (`NeighbourSearch`), done with usearch in src/index/cluster.
 */

/** For face i, its neighbours are `neighbours[i*k .. i*k+k)` (−1 = none), most alike first. */
export interface NeighbourGraph {
  k: number;
  neighbours: Int32Array;
  cosines: Float32Array;
}

export interface NeighbourSearch {
  neighbours(vectors: Float32Array, count: number, dimensions: number, k: number, onProgress?: (fraction: number) => void): Promise<NeighbourGraph>;
  close?(): Promise<void>;
}

export interface ClusterSettings {
  /** Two faces whose cosine is at least this are the same identity (linked). */
  linkCosine: number;
  /** A face linked to none joins the cluster of its most alike clustered neighbour at or above this. */
  attachCosine: number;
}

export interface Clustering {
  /** Face indexes per cluster, largest cluster first; the first index of each is its representative. */
  clusters: number[][];
  unclustered: number[];
}

/** Neighbours looked at per face. */
export const CLUSTER_K = 16;

export function clusterGraph(count: number, graph: NeighbourGraph, settings: ClusterSettings): Clustering {
  const parent = new Int32Array(count);
  for (let i = 0; i < count; i++) parent[i] = i;
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  const { k, neighbours, cosines } = graph;
  // 1. Link: union every edge of the kNN graph at or above the link threshold.
  for (let i = 0; i < count; i++) {
    for (let r = 0; r < k; r++) {
      const j = neighbours[i * k + r];
      if (j < 0 || cosines[i * k + r] < settings.linkCosine) break; // sorted, most alike first
      const a = find(i);
      const b = find(j);
      if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
    }
  }
  const size = new Int32Array(count);
  for (let i = 0; i < count; i++) size[find(i)]++;
  // 2. Attach: a face alone joins the cluster of its most alike neighbour that is in a cluster.
  const attachTo = new Int32Array(count).fill(-1);
  for (let i = 0; i < count; i++) {
    if (size[find(i)] > 1) continue;
    for (let r = 0; r < k; r++) {
      const j = neighbours[i * k + r];
      if (j < 0 || cosines[i * k + r] < settings.attachCosine) break;
      if (size[find(j)] > 1) {
        attachTo[i] = find(j);
        break;
      }
    }
  }
  const members = new Map<number, number[]>();
  const unclustered: number[] = [];
  for (let i = 0; i < count; i++) {
    const root = attachTo[i] >= 0 ? attachTo[i] : find(i);
    if (attachTo[i] < 0 && size[root] <= 1) {
      unclustered.push(i);
      continue;
    }
    const list = members.get(root) ?? [];
    list.push(i);
    members.set(root, list);
  }
  const clusters = [...members.values()].map((m) => withRepresentativeFirst(m, graph));
  clusters.sort((a, b) => b.length - a.length || a[0] - b[0]);
  return { clusters, unclustered };
}

/** The representative: the member with the highest summed similarity to the members among its neighbours. */
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

/**
 * BCubed precision, recall and F of a clustering against true labels (every face in exactly one
 * predicted cluster; unclustered faces count as clusters of one).
 */
export function bcubed(predicted: number[], truth: (string | number)[]): { precision: number; recall: number; f: number } {
  const n = predicted.length;
  const pairCount = new Map<string, number>();
  const predSize = new Map<number, number>();
  const trueSize = new Map<string | number, number>();
  for (let i = 0; i < n; i++) {
    const key = `${predicted[i]}\u0000${truth[i]}`;
    pairCount.set(key, (pairCount.get(key) ?? 0) + 1);
    predSize.set(predicted[i], (predSize.get(predicted[i]) ?? 0) + 1);
    trueSize.set(truth[i], (trueSize.get(truth[i]) ?? 0) + 1);
  }
  let p = 0;
  let r = 0;
  for (let i = 0; i < n; i++) {
    const both = pairCount.get(`${predicted[i]}\u0000${truth[i]}`)!;
    p += both / predSize.get(predicted[i])!;
    r += both / trueSize.get(truth[i])!;
  }
  const precision = p / n;
  const recall = r / n;
  return { precision, recall, f: (2 * precision * recall) / (precision + recall) };
}
