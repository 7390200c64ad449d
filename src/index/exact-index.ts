import type { VectorIndex } from './vector-index.js';

/**
 * Brute-force cosine search over blocks of contiguous vectors. At 512 dimensions a scan of
 * 100,000 faces is ~51 M multiply-adds (tens of ms), exact, and needs no training or rebuild.
 *
 * Why blocks: one array grown by doubling copied every vector at each doubling, which held the
 * event loop for 0.5 s at 100,000 faces and seconds at a million while a large group loaded.
 * The first block grows by doubling (a small group stays small); every later block is
 * allocated whole and never copied.
 */
export class ExactIndex implements VectorIndex {
  private readonly blocks: Float32Array[];
  private readonly shift: number;
  private readonly mask: number;
  private ids: string[] = [];
  private readonly slot = new Map<string, number>();
  /** Scans in progress that yield between slices: while any runs, no vector may move. */
  private slicedScans = 0;
  /** Removals held back until no sliced scan runs; hidden from every search meanwhile. */
  private readonly deferred = new Set<string>();

  constructor(
    private readonly dim: number,
    initialCapacity = 64,
    /** Vectors per block (a power of two): 4,096 × 512 floats = 8 MiB. */
    private readonly blockVectors = 4_096,
  ) {
    if (!Number.isInteger(Math.log2(blockVectors))) throw new Error('blockVectors must be a power of two');
    this.shift = Math.log2(blockVectors);
    this.mask = blockVectors - 1;
    this.blocks = [new Float32Array(dim * Math.min(Math.max(1, initialCapacity), blockVectors))];
  }

  get size(): number {
    return this.ids.length - this.deferred.size;
  }

  add(id: string, vector: Float32Array): void {
    if (vector.length !== this.dim) throw new Error(`vector has ${vector.length} dimensions, index has ${this.dim}`);
    if (this.slot.has(id)) return;
    const n = this.ids.length;
    this.makeRoomFor(n);
    this.blocks[n >>> this.shift].set(vector, (n & this.mask) * this.dim);
    this.ids.push(id);
    this.slot.set(id, n);
  }

  private makeRoomFor(n: number): void {
    const b = n >>> this.shift;
    if (b === this.blocks.length) {
      this.blocks.push(new Float32Array(this.dim * this.blockVectors));
      return;
    }
    const block = this.blocks[b];
    if (((n & this.mask) + 1) * this.dim > block.length) {
      const bigger = new Float32Array(Math.min(block.length * 2, this.dim * this.blockVectors));
      bigger.set(block);
      this.blocks[b] = bigger;
    }
  }

  /** Swap-remove: the last entry moves into the hole, so removal is O(dim). */
  remove(id: string): void {
    if (!this.slot.has(id)) return;
    if (this.slicedScans > 0) {
      // Moving the last vector into the hole now could make a scan between slices miss it.
      this.deferred.add(id);
      return;
    }
    this.removeNow(id);
  }

  private removeNow(id: string): void {
    const i = this.slot.get(id);
    if (i === undefined) return;
    const last = this.ids.length - 1;
    const d = this.dim;
    const lastBlock = this.blocks[last >>> this.shift];
    const lastAt = (last & this.mask) * d;
    if (i !== last) {
      this.blocks[i >>> this.shift].set(lastBlock.subarray(lastAt, lastAt + d), (i & this.mask) * d);
      const moved = this.ids[last];
      this.ids[i] = moved;
      this.slot.set(moved, i);
    }
    // Deleted biometric data must not linger in memory either.
    lastBlock.fill(0, lastAt, lastAt + d);
    this.ids.pop();
    this.slot.delete(id);
  }

  search(query: Float32Array, k: number, minScore: number, exclude?: string): { id: string; score: number }[] {
    const top = new TopK(k);
    this.scan(query, minScore, exclude, 0, this.ids.length, top);
    return this.hits(top);
  }

  /**
   * The same search, `slice` vectors at a time with `pause()` awaited in between, so a scan of a
   * million faces (over a second) never holds the caller's thread for long. Writes may land
   * between slices: an added face may or may not be seen, a removed one is never returned.
   */
  async searchInSlices(query: Float32Array, k: number, minScore: number, exclude: string | undefined, slice: number, pause: () => Promise<void>): Promise<{ id: string; score: number }[]> {
    const top = new TopK(k);
    this.slicedScans++;
    try {
      const end = this.ids.length;
      for (let from = 0; from < end; from += slice) {
        if (from > 0) await pause();
        this.scan(query, minScore, exclude, from, Math.min(end, from + slice), top);
      }
      return this.hits(top);
    } finally {
      if (--this.slicedScans === 0) {
        for (const id of this.deferred) this.removeNow(id);
        this.deferred.clear();
      }
    }
  }

  private scan(query: Float32Array, minScore: number, exclude: string | undefined, from: number, to: number, top: TopK): void {
    const d = this.dim;
    for (let i = from; i < to;) {
      const data = this.blocks[i >>> this.shift];
      const blockEnd = Math.min(to, ((i >>> this.shift) + 1) << this.shift);
      for (; i < blockEnd; i++) {
        let s = 0;
        const o = (i & this.mask) * d;
        for (let j = 0; j < d; j++) s += data[o + j] * query[j];
        if (s >= minScore && this.ids[i] !== exclude && !(this.deferred.size > 0 && this.deferred.has(this.ids[i]))) top.offer(s, i);
      }
    }
  }

  private hits(top: TopK): { id: string; score: number }[] {
    const found = top.sorted().map(({ score, index }) => ({ id: this.ids[index], score }));
    // A face offered in an earlier slice and removed since is dropped here.
    return this.deferred.size === 0 ? found : found.filter((h) => !this.deferred.has(h.id));
  }
}

/**
 * The k best (score, index) pairs seen, in a binary min-heap: O(n log k) for a scan and no
 * allocation per candidate, where collecting every hit above a low threshold and sorting would
 * build and sort tens of thousands of objects per search in a large group.
 */
class TopK {
  private readonly scores: Float64Array;
  private readonly indexes: Int32Array;
  private size = 0;

  constructor(private readonly k: number) {
    this.scores = new Float64Array(Math.max(0, k));
    this.indexes = new Int32Array(Math.max(0, k));
  }

  offer(score: number, index: number): void {
    if (this.k <= 0) return;
    if (this.size < this.k) {
      this.scores[this.size] = score;
      this.indexes[this.size] = index;
      this.up(this.size++);
    } else if (score > this.scores[0]) {
      this.scores[0] = score;
      this.indexes[0] = index;
      this.down(0);
    }
  }

  sorted(): { score: number; index: number }[] {
    const out: { score: number; index: number }[] = [];
    for (let i = 0; i < this.size; i++) out.push({ score: this.scores[i], index: this.indexes[i] });
    return out.sort((a, b) => b.score - a.score);
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.scores[p] <= this.scores[i]) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.size && this.scores[l] < this.scores[m]) m = l;
      if (r < this.size && this.scores[r] < this.scores[m]) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    [this.scores[a], this.scores[b]] = [this.scores[b], this.scores[a]];
    [this.indexes[a], this.indexes[b]] = [this.indexes[b], this.indexes[a]];
  }
}
