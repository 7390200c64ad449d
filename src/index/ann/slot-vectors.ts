/** Slots per block: storage grows a block at a time, never by copying what it holds. */
const BLOCK_SLOTS = 1 << 16;
const LEVELS = 127;

/**
 * A group's vectors in memory, 8 bits a dimension with a scale per vector, by slot (the slots of
 * its binary codes). They let the scan thread re-rank a search's candidates without reading and
 * decrypting them from the store: those reads were most of a search's time and, through the
 * decryptions' clean-up, most of its slow tail (docs/scale.md). A score from them is the cosine
 * of the query with the rounded vector; the rounding moves it by about 3e-4 (docs/scale.md).
 *
 * Storage is in blocks of 65,536 slots (33 MB for 512-d), so growing never holds two copies.
 * A slot's scale is 0 until its vector is set: a group loaded from its snapshot has codes for
 * every face before it has their vectors, which are then filled in from the store.
 */
export class SlotVectors {
  private values: Int8Array[] = [];
  private scales: Float32Array[] = [];
  private held = 0;

  constructor(readonly dimensions: number) {}

  /** Slots whose vector is set. */
  get count(): number {
    return this.held;
  }

  /** Bytes allocated, whether used or not. */
  get byteSize(): number {
    return this.values.length * BLOCK_SLOTS * (this.dimensions + 4);
  }

  has(slot: number): boolean {
    const scales = this.scales[Math.floor(slot / BLOCK_SLOTS)];
    return scales !== undefined && scales[slot % BLOCK_SLOTS] > 0;
  }

  set(slot: number, vector: Float32Array): void {
    if (vector.length !== this.dimensions) throw new Error(`slot vectors hold ${this.dimensions}-d vectors, not ${vector.length}-d`);
    const block = this.reserve(slot);
    let largest = 0;
    for (let i = 0; i < vector.length; i++) largest = Math.max(largest, Math.abs(vector[i]));
    // An all-zero vector scores 0 against anything; scale 1 marks it as held.
    const scale = largest > 0 ? largest / LEVELS : 1;
    const values = this.values[block];
    const at = (slot % BLOCK_SLOTS) * this.dimensions;
    for (let i = 0; i < vector.length; i++) values[at + i] = Math.round(vector[i] / scale);
    if (!this.has(slot)) this.held++;
    this.scales[block][slot % BLOCK_SLOTS] = scale;
  }

  /** The dot product of `query` with the slot's vector as held (the cosine, for unit vectors). */
  score(slot: number, query: Float32Array): number {
    const block = Math.floor(slot / BLOCK_SLOTS);
    const values = this.values[block];
    const at = (slot % BLOCK_SLOTS) * this.dimensions;
    let sum = 0;
    for (let i = 0; i < this.dimensions; i++) sum += values[at + i] * query[i];
    return sum * this.scales[block][slot % BLOCK_SLOTS];
  }

  /** Moves slot `from`'s vector (or its absence) to slot `to` and clears `from`. */
  move(from: number, to: number): void {
    if (from === to) return;
    this.clear(to);
    if (!this.has(from)) return;
    const [fb, tb] = [Math.floor(from / BLOCK_SLOTS), this.reserve(to)];
    const [fa, ta] = [(from % BLOCK_SLOTS) * this.dimensions, (to % BLOCK_SLOTS) * this.dimensions];
    this.values[tb].set(this.values[fb].subarray(fa, fa + this.dimensions), ta);
    this.scales[tb][to % BLOCK_SLOTS] = this.scales[fb][from % BLOCK_SLOTS];
    this.held++;
    this.clear(from);
  }

  /** Forgets the slot's vector, zeroing its bytes (a removed face's vector does not linger). */
  clear(slot: number): void {
    if (!this.has(slot)) return;
    const block = Math.floor(slot / BLOCK_SLOTS);
    const at = (slot % BLOCK_SLOTS) * this.dimensions;
    this.values[block].fill(0, at, at + this.dimensions);
    this.scales[block][slot % BLOCK_SLOTS] = 0;
    this.held--;
  }

  /** Allocates the blocks up to the slot's; answers its block. */
  private reserve(slot: number): number {
    const block = Math.floor(slot / BLOCK_SLOTS);
    while (this.values.length <= block) {
      this.values.push(new Int8Array(BLOCK_SLOTS * this.dimensions));
      this.scales.push(new Float32Array(BLOCK_SLOTS));
    }
    return block;
  }

  /** Frees the blocks wholly at or past slot `size` (after removals: they hold nothing). */
  release(size: number): void {
    const keep = Math.ceil(size / BLOCK_SLOTS);
    this.values.length = Math.min(this.values.length, keep);
    this.scales.length = Math.min(this.scales.length, keep);
  }
}
