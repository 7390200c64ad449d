import { HAMMING_WASM_BASE64 } from './hamming-wasm.js';
import { KeySlots } from './key-slots.js';
import { ScanHelper } from './scan-helper.js';

/** Bits per code: one per dimension of the 512-d embeddings. */
export const CODE_BITS = 512;
const CODE_BYTES = CODE_BITS / 8;
/** Most candidates one search returns (persons' album search asks for up to 2 × 4,096). */
const MAX_CANDIDATES = 16_384;

// Fixed layout of each group's WebAssembly memory; codes never move, the distance scratch after
// them moves (it holds nothing between searches) whenever the capacity grows.
const QUERY = 0;
/** The histogram of distances: 4 interleaved copies of 513 u32 (hamming.wat). */
const HIST = 64;
const HIST_BYTES = 4 * (CODE_BITS + 1) * 4;
/** The helper thread's histogram, for the part it scans. */
const HELPER_HIST = HIST + HIST_BYTES;
const OUT = 32_768;
const CODES = OUT + MAX_CANDIDATES * 4;
const PAGE = 65_536;
/** The most pages a group's memory may grow to (hamming.wat declares the same maximum). */
const MAX_PAGES = 16_384;
/** Groups from this size on are scanned in two halves, one by the helper thread (when there is one). */
export const SPLIT_SCAN_FROM = 200_000;
/** How long the scan thread waits for the helper's half before it ends the helper and scans alone. */
const HELPER_TIMEOUT_MS = 5_000;

interface Kernel {
  scan(codes: number, n: number, query: number, dist: number, hist: number): void;
  collect(dist: number, n: number, cut: number, limit: number, out: number): number;
}

const hammingModule = new WebAssembly.Module(Buffer.from(HAMMING_WASM_BASE64, 'base64'));
let memories = 0;
let helper: ScanHelper | undefined;

/** Scans this thread's helper has done its half of (tests check that splitting happened). */
export const helperScans = (): number => helper?.scanned ?? 0;

/** The thread's helper, started on the first search of a large group; none once it failed. */
function scanHelper(): ScanHelper | undefined {
  helper ??= new ScanHelper(hammingModule);
  return helper.usable ? helper : undefined;
}

/**
 * A group's faces as 512-bit sign codes (bit i set when dimension i is positive), searched by a
 * full scan of Hamming distances (hamming.wat). The scan only proposes candidates: the caller
 * scores them exactly from the stored vectors. On sign codes of 512-d embeddings the exact best
 * face ranked among the 4 nearest codes in every query of a million synthetic faces, a search of
 * a million codes takes about 4 ms here, and a face costs 64 bytes, so no graph is needed (docs/scale.md).
 *
 * A removed face's slot is filled at once by the last face and the last slot is zeroed: the
 * codes stay packed and no removed face's bits remain.
 */
export class BinaryCodes {
  // Shared, so that the helper thread can scan part of the codes where they are.
  private readonly memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  private readonly kernel = new WebAssembly.Instance(hammingModule, { env: { memory: this.memory } }).exports as unknown as Kernel;
  private readonly id = ++memories;
  private capacity = 0;
  private size = 0;
  private slotKeys = new Float64Array(0);
  private readonly slots: KeySlots;

  /** `splitFrom`: from this many faces on, a search hands half the scan to the helper thread. */
  constructor(capacity = 1024, private readonly splitFrom = SPLIT_SCAN_FROM) {
    this.slots = new KeySlots(capacity);
    this.reserve(capacity);
  }

  get count(): number {
    return this.size;
  }

  /** Bytes held: the codes' memory (with its scratch) and the key tables. */
  get byteSize(): number {
    return this.memory.buffer.byteLength + this.slotKeys.byteLength + this.slots.bytes;
  }

  /** Where the key's code is (its position in `keys()` and `codes()`), if held. */
  slotOf(key: number): number | undefined {
    return this.slots.get(key);
  }

  /** False if the key is already held (its code is left as it was). */
  add(key: number, vector: Float32Array): boolean {
    if (this.slots.has(key)) return false;
    if (vector.length !== CODE_BITS) throw new Error(`a code needs a ${CODE_BITS}-d vector, not ${vector.length}-d`);
    this.reserve(this.size + 1);
    encode(vector, this.bytes(), CODES + this.size * CODE_BYTES);
    this.slotKeys[this.size] = key;
    this.slots.set(key, this.size);
    this.size++;
    return true;
  }

  remove(key: number): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    this.slots.delete(key);
    const last = this.size - 1;
    const bytes = this.bytes();
    if (slot !== last) {
      bytes.copyWithin(CODES + slot * CODE_BYTES, CODES + last * CODE_BYTES, CODES + (last + 1) * CODE_BYTES);
      const moved = this.slotKeys[last];
      this.slotKeys[slot] = moved;
      this.slots.set(moved, slot);
    }
    bytes.fill(0, CODES + last * CODE_BYTES, CODES + (last + 1) * CODE_BYTES);
    this.slotKeys[last] = 0;
    this.size = last;
    return true;
  }

  /** The `k` keys whose codes are nearest the query's (fewer if fewer are held), nearest first, with their distances in bits. */
  search(query: Float32Array, k: number): { keys: number[]; distances: number[] } {
    const want = Math.min(k, this.size, MAX_CANDIDATES);
    if (want <= 0) return { keys: [], distances: [] };
    const bytes = this.bytes();
    encode(query, bytes, QUERY);
    const hist = new Uint32Array(this.memory.buffer, HIST, 2 * 4 * (CODE_BITS + 1));
    hist.fill(0);
    const dist = this.distOffset();
    this.scan(dist);
    // The smallest distance `cut` with at least `want` codes at or below it (both halves' histograms).
    const other = 4 * (CODE_BITS + 1);
    const at = (d: number) => hist[4 * d] + hist[4 * d + 1] + hist[4 * d + 2] + hist[4 * d + 3] +
      hist[other + 4 * d] + hist[other + 4 * d + 1] + hist[other + 4 * d + 2] + hist[other + 4 * d + 3];
    let cut = 0;
    for (let below = 0; below + at(cut) < want; cut++) below += at(cut);
    const found = this.kernel.collect(dist, this.size, cut, want, OUT);
    const slots = new Uint32Array(this.memory.buffer, OUT, found);
    const distances = new Uint16Array(this.memory.buffer, dist, this.size);
    const order = Array.from(slots).sort((a, b) => distances[a] - distances[b] || a - b);
    return { keys: order.map((s) => this.slotKeys[s]), distances: order.map((s) => distances[s]) };
  }

  /** Distances of every code into `dist`, counted into the histograms: the second half by the helper thread when the group is large. */
  private scan(dist: number): void {
    const helper = this.size >= this.splitFrom ? scanHelper() : undefined;
    if (!helper) {
      this.kernel.scan(CODES, this.size, QUERY, dist, HIST);
      return;
    }
    const half = this.size >>> 1;
    const rest = { codes: CODES + half * CODE_BYTES, n: this.size - half, query: QUERY, dist: dist + half * 2 };
    helper.start({ memory: this.memory, id: this.id, ...rest, hist: HELPER_HIST });
    this.kernel.scan(CODES, half, QUERY, dist, HIST);
    if (helper.finish(HELPER_TIMEOUT_MS)) return;
    // Whatever the helper counted before it was ended must not count twice.
    new Uint32Array(this.memory.buffer, HELPER_HIST, HIST_BYTES / 4).fill(0);
    this.kernel.scan(rest.codes, rest.n, rest.query, rest.dist, HIST);
  }

  /** Every held key, in slot order (each key's code is at the same position in `codes()`). */
  keys(): Float64Array {
    return this.slotKeys.subarray(0, this.size);
  }

  /** The codes, `count` × 64 bytes, a view valid until the next change. */
  codes(): Uint8Array {
    return new Uint8Array(this.memory.buffer, CODES, this.size * CODE_BYTES);
  }

  /** The inverse of `keys()` and `codes()`. */
  static from(keys: Float64Array, codes: Uint8Array): BinaryCodes {
    if (codes.length !== keys.length * CODE_BYTES) throw new Error('binary codes: keys and codes disagree in length');
    const out = new BinaryCodes(keys.length);
    out.bytes().set(codes, CODES);
    out.slotKeys.set(keys);
    for (let i = 0; i < keys.length; i++) out.slots.set(keys[i], i);
    // A key given twice would hold one slot and orphan the other.
    if (out.slots.size !== keys.length) throw new Error('binary codes: a key appears twice');
    out.size = keys.length;
    return out;
  }

  private bytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  private distOffset(): number {
    return CODES + this.capacity * CODE_BYTES;
  }

  /** Room for `faces` codes; grows by doubling, so adding n faces costs O(n) copies in all. */
  private reserve(faces: number): void {
    if (faces <= this.capacity) return;
    const capacity = Math.max(faces, this.capacity * 2, 1024);
    const needed = CODES + capacity * (CODE_BYTES + 2);
    const pages = Math.ceil(needed / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (pages > 0) this.memory.grow(pages);
    const keys = new Float64Array(capacity);
    keys.set(this.slotKeys.subarray(0, this.size));
    this.slotKeys = keys;
    this.capacity = capacity;
  }
}

/** The code of `vector` on its own (tests look for it in snapshots). */
export function signCode(vector: Float32Array): Uint8Array {
  const out = new Uint8Array(CODE_BYTES);
  encode(vector, out, 0);
  return out;
}

/** Sign bits of `vector`, packed little-endian (bit b of byte j is dimension 8j + b), at `at`. */
function encode(vector: Float32Array, into: Uint8Array, at: number): void {
  for (let j = 0; j < CODE_BYTES; j++) {
    let byte = 0;
    const o = j * 8;
    for (let b = 0; b < 8; b++) if (vector[o + b] > 0) byte |= 1 << b;
    into[at + j] = byte;
  }
}
