import type { VectorIndex } from './vector-index.js';

/**
 * Brute-force cosine search over one contiguous Float32Array. At 512 dimensions a scan of
 * 100,000 faces is ~51 M multiply-adds (tens of ms), exact, and needs no training or rebuild.
 */
export class ExactIndex implements VectorIndex {
  private data: Float32Array;
  private ids: string[] = [];
  private readonly slot = new Map<string, number>();

  constructor(
    private readonly dim: number,
    initialCapacity = 64,
  ) {
    this.data = new Float32Array(dim * initialCapacity);
  }

  get size(): number {
    return this.ids.length;
  }

  add(id: string, vector: Float32Array): void {
    if (vector.length !== this.dim) throw new Error(`vector has ${vector.length} dimensions, index has ${this.dim}`);
    if (this.slot.has(id)) return;
    const n = this.ids.length;
    if ((n + 1) * this.dim > this.data.length) {
      const bigger = new Float32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data.set(vector, n * this.dim);
    this.ids.push(id);
    this.slot.set(id, n);
  }

  /** Swap-remove: the last entry moves into the hole, so removal is O(dim). */
  remove(id: string): void {
    const i = this.slot.get(id);
    if (i === undefined) return;
    const last = this.ids.length - 1;
    if (i !== last) {
      this.data.copyWithin(i * this.dim, last * this.dim, (last + 1) * this.dim);
      const moved = this.ids[last];
      this.ids[i] = moved;
      this.slot.set(moved, i);
    }
    this.ids.pop();
    this.slot.delete(id);
  }

  search(query: Float32Array, k: number, minScore: number, exclude?: string): { id: string; score: number }[] {
    const hits: { id: string; score: number }[] = [];
    const d = this.dim;
    for (let i = 0; i < this.ids.length; i++) {
      let s = 0;
      const o = i * d;
      for (let j = 0; j < d; j++) s += this.data[o + j] * query[j];
      if (s >= minScore && this.ids[i] !== exclude) hits.push({ id: this.ids[i], score: s });
    }
    hits.sort((a, b) => b.score - a.score);
    return hits.slice(0, k);
  }
}
