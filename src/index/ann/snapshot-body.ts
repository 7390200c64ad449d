import { BinaryCodes, CODE_BITS } from './binary-codes.js';
import type { SnapshotMeta } from './scan-worker.js';
import type { SnapshotSource } from './snapshot-files.js';

const CODE_BYTES = CODE_BITS / 8;
const KEY_BYTES = 8;
/** A header longer than this is not one this code wrote. */
const MOST_HEADER_BYTES = 4096;

/** Codes copied out per piece of `snapshotBody`: 64 KB. */
const CODES_PER_PIECE = 1024;

/**
 * A snapshot's plaintext: a u32 length and the meta as JSON with the face count, then the keys
 * (count × 8 bytes, float64) and the codes (count × 64 bytes, each whole), given piece by piece
 * (snapshot-files.ts `sealSnapshot`) so that it is never held whole: the keys as a view of where
 * the group keeps them, the codes copied out 1,024 at a time into one reused buffer.
 */
export function snapshotBody(codes: BinaryCodes, meta: SnapshotMeta): SnapshotSource {
  const head = Buffer.from(JSON.stringify({ ...meta, count: codes.count }), 'utf8');
  const count = codes.count;
  return {
    length: 4 + head.length + count * (KEY_BYTES + CODE_BYTES),
    *pieces() {
      const length = Buffer.alloc(4);
      length.writeUInt32LE(head.length, 0);
      yield length;
      yield head;
      const keys = codes.keys();
      yield new Uint8Array(keys.buffer, keys.byteOffset, keys.byteLength);
      const scratch = new Uint8Array(CODES_PER_PIECE * CODE_BYTES);
      for (let slot = 0; slot < count; slot += CODES_PER_PIECE) {
        const n = Math.min(CODES_PER_PIECE, count - slot);
        codes.copyCodes(slot, n, scratch);
        yield scratch.subarray(0, n * CODE_BYTES);
      }
    },
  };
}

/**
 * The inverse of `snapshotBody`, fed piece by piece as a snapshot file is opened
 * (snapshot-files.ts `readSnapshot`): keys and codes go straight to where the group keeps them,
 * so a million faces' 72 MB is never held twice. `begin` gets the plaintext's length first, so a
 * header that does not add up is refused before anything is allocated for it; the caller uses
 * `finish`'s group only once the file's authentication tag has been checked.
 */
export class SnapshotBodyReader {
  private length = 0;
  private pending = Buffer.alloc(0);
  private meta: (SnapshotMeta & { count: number }) | undefined;
  private keys = new Float64Array(0);
  private codes: BinaryCodes | undefined;
  /** Bytes of keys received. */
  private keyBytes = 0;
  /** Codes received whole. */
  private slot = 0;
  /** Codes are gathered here before they are put, so that they are copied word by word (aligned). */
  private readonly scratch = new Uint8Array(1 << 16);
  private carried = 0;

  begin(length: number): void {
    this.length = length;
  }

  take(piece: Buffer): void {
    let rest: Uint8Array = piece;
    if (!this.meta) {
      this.pending = Buffer.concat([this.pending, piece]);
      const headerEnd = this.header();
      if (headerEnd === undefined) return;
      rest = this.pending.subarray(headerEnd);
      this.pending = Buffer.alloc(0);
    }
    const keysTotal = this.keys.length * KEY_BYTES;
    if (this.keyBytes < keysTotal) {
      const n = Math.min(rest.length, keysTotal - this.keyBytes);
      new Uint8Array(this.keys.buffer).set(rest.subarray(0, n), this.keyBytes);
      this.keyBytes += n;
      rest = rest.subarray(n);
    }
    if (rest.length > 0) this.takeCodes(rest);
  }

  /** The group and what its snapshot says of itself; throws if the bytes did not add up. */
  finish(): { meta: SnapshotMeta; codes: BinaryCodes } {
    const { meta, codes } = this;
    if (!meta || !codes || this.keyBytes !== meta.count * KEY_BYTES || this.slot !== meta.count || this.carried !== 0) {
      throw new Error('index snapshot: its size does not match its face count');
    }
    codes.adoptKeys(this.keys);
    return { meta: { format: meta.format, generation: meta.generation, options: meta.options }, codes };
  }

  /** Parses the header once it is all in `pending`: answers where the keys start, or undefined until then. */
  private header(): number | undefined {
    if (this.pending.length < 4) return undefined;
    const headLength = this.pending.readUInt32LE(0);
    if (headLength > MOST_HEADER_BYTES || 4 + headLength > this.length) throw new Error('index snapshot: implausible header');
    if (this.pending.length < 4 + headLength) return undefined;
    const meta = JSON.parse(this.pending.subarray(4, 4 + headLength).toString('utf8')) as SnapshotMeta & { count: number };
    if (!Number.isSafeInteger(meta.count) || meta.count < 0 || this.length !== 4 + headLength + meta.count * (KEY_BYTES + CODE_BYTES)) {
      throw new Error('index snapshot: its size does not match its face count');
    }
    this.meta = meta;
    this.keys = new Float64Array(meta.count);
    this.codes = new BinaryCodes(meta.count);
    return 4 + headLength;
  }

  private takeCodes(bytes: Uint8Array): void {
    const codes = this.codes!;
    for (let i = 0; i < bytes.length; ) {
      const n = Math.min(bytes.length - i, this.scratch.length - this.carried);
      this.scratch.set(bytes.subarray(i, i + n), this.carried);
      i += n;
      const filled = this.carried + n;
      const whole = Math.floor(filled / CODE_BYTES);
      if (this.slot + whole > this.meta!.count) throw new Error('index snapshot: more codes than its face count');
      codes.putCodes(this.slot, this.scratch, 0, whole);
      this.slot += whole;
      this.carried = filled - whole * CODE_BYTES;
      this.scratch.copyWithin(0, whole * CODE_BYTES, filled);
    }
  }
}
