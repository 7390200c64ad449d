/**
 * Clustering faces into identities without labels (docs/persons.md, "Clustering"): what a job
 * asks for and gets back. The work itself — neighbour search and average linkage over it — runs
 * behind the `FaceClusterer` port (src/index/cluster), on a thread of its own.
 */

/**
 * Clusters the given vectors (`count` × `dimensions`, L2-normalised), reporting progress 0–1. The
 * vectors may be handed over to another thread (their buffer transferred, not copied): the caller
 * must not use them afterwards.
 */
export interface FaceClusterer {
  cluster(vectors: Float32Array, count: number, dimensions: number, settings: ClusterSettings, onProgress?: (fraction: number) => void): Promise<Clustering>;
  close?(): Promise<void>;
}

export interface ClusterSettings {
  /** Two clusters merge while the mean cosine over all pairs of their faces is at least this. */
  linkCosine: number;
  /** Below `linkCosine`: a face left alone joins the cluster whose mean cosine to it is highest, if at least this. */
  attachCosine: number;
}

export interface Clustering {
  /** Face indexes per cluster, largest cluster first; the first index of each is its representative. */
  clusters: number[][];
  unclustered: number[];
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
