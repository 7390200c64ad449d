/**
 * The set of face keys in a graph, one bit per key over the span the group's keys cover.
 * usearch cannot list its keys, and a snapshot must say which faces it holds so that a load can
 * add the faces registered since and remove those deleted since. Keys are the store's
 * ever-increasing face numbers, so a group's keys fill a compact span (1 M faces ≈ 125 KB).
 */
export class KeyBitmap {
  private bits: Uint8Array;
  /** The key of bit 0; a multiple of 8. */
  private base: number;
  count = 0;

  constructor(base = 0, bits = new Uint8Array(0)) {
    this.base = base - (base % 8);
    this.bits = bits;
    for (const byte of bits) this.count += popcount(byte);
  }

  has(key: number): boolean {
    const i = key - this.base;
    return i >= 0 && i < this.bits.length * 8 && (this.bits[i >> 3] & (1 << (i & 7))) !== 0;
  }

  add(key: number): void {
    this.cover(key);
    const i = key - this.base;
    const mask = 1 << (i & 7);
    if ((this.bits[i >> 3] & mask) === 0) {
      this.bits[i >> 3] |= mask;
      this.count++;
    }
  }

  delete(key: number): void {
    if (!this.has(key)) return;
    const i = key - this.base;
    this.bits[i >> 3] &= ~(1 << (i & 7));
    this.count--;
  }

  *keys(): Generator<number> {
    for (let b = 0; b < this.bits.length; b++) {
      const byte = this.bits[b];
      if (byte === 0) continue;
      for (let j = 0; j < 8; j++) if (byte & (1 << j)) yield this.base + b * 8 + j;
    }
  }

  toBytes(): { base: number; bits: Uint8Array } {
    return { base: this.base, bits: this.bits };
  }

  /** Grows the span to include `key`, with headroom, in whichever direction it lies. */
  private cover(key: number): void {
    if (this.bits.length === 0) {
      this.base = key - (key % 8);
      this.bits = new Uint8Array(1024);
      return;
    }
    const end = this.base + this.bits.length * 8;
    if (key >= this.base && key < end) return;
    const newBase = key < this.base ? Math.max(0, key - (key % 8) - this.bits.length * 8) : this.base;
    const newEnd = key >= end ? Math.max(key + 1, this.base + this.bits.length * 16) : end;
    const bytes = Math.ceil((newEnd - newBase) / 8);
    const grown = new Uint8Array(bytes);
    grown.set(this.bits, (this.base - newBase) / 8);
    this.bits = grown;
    this.base = newBase;
  }
}

function popcount(byte: number): number {
  let n = 0;
  for (let b = byte; b; b &= b - 1) n++;
  return n;
}
