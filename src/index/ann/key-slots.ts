/**
 * Face key → slot, for a group's binary codes: an open-addressing hash table over typed arrays
 * (linear probing, deletion by backward shift, so no tombstones). A `Map` of a million numbers
 * took 280–300 ms to fill here when a snapshot loaded, and its entries are what the scan thread's
 * garbage collector walks; this fills in 70–120 ms and holds 12 bytes a cell, at most half full.
 */
export class KeySlots {
  private keys: Float64Array;
  private slots: Int32Array;
  private mask: number;
  private shift: number;
  size = 0;

  constructor(expected = 0) {
    const capacity = tableSize(expected);
    this.keys = new Float64Array(capacity).fill(NaN);
    this.slots = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
  }

  get(key: number): number | undefined {
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const k = this.keys[i];
      if (k === key) return this.slots[i];
      if (k !== k) return undefined; // NaN: an empty cell ends the probe
    }
  }

  has(key: number): boolean {
    return this.get(key) !== undefined;
  }

  set(key: number, slot: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const k = this.keys[i];
      if (k === key) {
        this.slots[i] = slot;
        return;
      }
      if (k !== k) {
        this.keys[i] = key;
        this.slots[i] = slot;
        this.size++;
        return;
      }
    }
  }

  delete(key: number): boolean {
    let i = this.home(key);
    for (; ; i = (i + 1) & this.mask) {
      const k = this.keys[i];
      if (k === key) break;
      if (k !== k) return false;
    }
    // Backward shift: move later entries of the probe run into the hole when their home allows.
    for (let j = (i + 1) & this.mask; ; j = (j + 1) & this.mask) {
      const k = this.keys[j];
      if (k !== k) break;
      const home = this.home(k);
      // Entry j may move to i if its home is not in the cyclic range (i, j].
      if (((j - home) & this.mask) >= ((j - i) & this.mask)) {
        this.keys[i] = k;
        this.slots[i] = this.slots[j];
        i = j;
      }
    }
    this.keys[i] = NaN;
    this.size--;
    return true;
  }

  private home(key: number): number {
    const low = key >>> 0;
    const high = (key / 4294967296) >>> 0;
    return Math.imul(low ^ Math.imul(high, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
  }

  private grow(): void {
    const { keys, slots } = this;
    const capacity = keys.length * 2;
    this.keys = new Float64Array(capacity).fill(NaN);
    this.slots = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] === keys[i]) this.set(keys[i], slots[i]);
  }
}

/** The smallest power of two, at least 16, that keeps `expected` keys at most half full. */
function tableSize(expected: number): number {
  let size = 16;
  while (size < expected * 2) size *= 2;
  return size;
}
