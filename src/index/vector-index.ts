/** A searchable set of unit vectors of one group. */
export interface VectorIndex {
  readonly size: number;
  add(id: string, vector: Float32Array): void;
  remove(id: string): void;
  /** Best `k` entries by cosine similarity, at or above `minScore`, best first; `exclude` is skipped. */
  search(query: Float32Array, k: number, minScore: number, exclude?: string): { id: string; score: number }[];
}
