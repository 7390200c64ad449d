import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, rmSync } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** Where persisted search indexes live, inside the data directory. */
export const INDEX_DIR = 'index';
const MAGIC = Buffer.from('FRIDX1\n\0', 'latin1');
const EXTENSION = '.codes';
/** Snapshots of the HNSW graphs that binary codes replaced: never read, removed at start. */
const LEGACY_EXTENSION = '.hnsw';
/** Leftovers of the FIFOs that carried graphs between threads before binary codes. */
const LEGACY_PIPE_PREFIX = '.pipe-';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PREAMBLE = MAGIC.length + IV_BYTES;
/** Bytes read from a snapshot file at a time, and bytes (de)ciphered at a time. */
const READ_BYTES = 1 << 20;
const CIPHER_BYTES = 1 << 16;
/**
 * Persisted indexes, one file per group, AES-256-GCM under a key derived from the master key.
 * An index holds quantised face vectors (sign codes), so it never touches the disk in clear: the
 * scan thread seals its bytes (`sealSnapshot`) and hands the file's bytes over in memory, this
 * thread writes them; for a load the scan thread reads the file and opens it piece by piece
 * (`readSnapshot`). The cipher runs there because a million faces' 72 MB take 0.3–0.6 s to seal
 * or open here, which would hold the event loop.
 *
 * File: magic, IV, ciphertext, tag. The group's identity is the additional data, so a file copied
 * over another group's cannot be loaded for it. Files are named by a hash, so no app key or group
 * id appears in the file system. A write goes to a temporary file, is synced, then renamed over
 * the old one: a crash leaves the old snapshot or the new one, never a torn one.
 */
export class SnapshotFiles {
  constructor(
    private readonly dir: string,
    private readonly key: Uint8Array,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A process killed while writing leaves its temporary file behind; it is never read (a
    // snapshot is only what was renamed into place), so it goes, as do the graph snapshots and
    // FIFOs of versions before binary codes (the codes are rebuilt from the store on first search).
    for (const name of readdirSync(dir)) {
      if (name.endsWith('.tmp') || name.startsWith(LEGACY_PIPE_PREFIX) || name.endsWith(LEGACY_EXTENSION)) rmSync(join(dir, name), { force: true });
    }
  }

  pathOf(group: string): string {
    return join(this.dir, `${createHash('sha256').update(group).digest('hex').slice(0, 40)}${EXTENSION}`);
  }

  /** The key snapshots are sealed with (the scan thread seals and opens them). */
  get sealingKey(): Uint8Array {
    return this.key;
  }

  /** Writes a sealed snapshot (`sealSnapshot`'s bytes) as the group's. Returns the file's size. */
  async write(group: string, sealed: Uint8Array): Promise<number> {
    const target = this.pathOf(group);
    const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const file = await open(temp, 'w', 0o600);
      try {
        await file.writeFile(sealed);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, target);
      await syncDir(this.dir);
      return (await stat(target)).size;
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** Whether any group has a snapshot. */
  any(): boolean {
    return readdirSync(this.dir).some((name) => name.endsWith(EXTENSION));
  }

  exists(group: string): boolean {
    return existsSync(this.pathOf(group));
  }

  /** Deletes every snapshot but those of `groups`; returns how many went. */
  async removeAllBut(groups: Iterable<string>): Promise<number> {
    const keep = new Set([...groups].map((g) => basename(this.pathOf(g))));
    let removed = 0;
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith(EXTENSION) || keep.has(name)) continue;
      await rm(join(this.dir, name), { force: true });
      removed++;
    }
    return removed;
  }

  async remove(group: string): Promise<void> {
    await rm(this.pathOf(group), { force: true });
  }
}

/** What `sealSnapshot` seals: the plaintext's length, then its pieces in order (each used before the next is asked for). */
export interface SnapshotSource {
  length: number;
  pieces(): Iterable<Uint8Array>;
}

/**
 * A snapshot file's bytes for the plaintext `source` gives: magic, IV, AES-256-GCM ciphertext,
 * tag. Sealed piece by piece into the one buffer handed over, for the reason `readSnapshot`
 * reads piece by piece: a million faces' plaintext and its ciphertext as whole buffers held the
 * scan thread (and every search behind it) for 1.0 s a save, mostly in first touches of pages.
 */
export function sealSnapshot(key: Uint8Array, group: string, source: SnapshotSource): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad(group));
  // A buffer of its own (not from Node's pool), so that it can be transferred to the main thread.
  const out = Buffer.from(new ArrayBuffer(PREAMBLE + source.length + TAG_BYTES));
  MAGIC.copy(out, 0);
  iv.copy(out, MAGIC.length);
  let at = PREAMBLE;
  for (const piece of source.pieces()) {
    for (let i = 0; i < piece.length; i += CIPHER_BYTES) at += cipher.update(piece.subarray(i, i + CIPHER_BYTES)).copy(out, at);
  }
  at += cipher.final().copy(out, at);
  if (at !== PREAMBLE + source.length) throw new Error('index snapshot: its pieces do not add up to its length');
  cipher.getAuthTag().copy(out, at);
  return out;
}

/** Where `readSnapshot` hands a snapshot's plaintext: its length first, then its pieces in order. */
export interface SnapshotSink {
  begin(length: number): void;
  take(piece: Buffer): void;
}

/**
 * Reads and opens the snapshot file at `path` piece by piece, handing its plaintext to `sink`.
 * Throws if the file was altered, cut, or sealed for another group or key, possibly after `sink`
 * has seen every piece (GCM authenticates at the end): the caller must then discard what it made
 * of them.
 *
 * Why not one read and one decipher call: a million faces' file is 72 MB, and each of those would
 * fill a new 72 MB buffer, whose first touch of every page costs this machine about 0.2 s a buffer
 * (a fresh page is ~3 µs in this VM). Pieces of 64 KB are deciphered at 2.4 GB/s here, into
 * buffers the allocator hands back again, so the only new memory a load touches is where the
 * caller puts the codes.
 */
export function readSnapshot(key: Uint8Array, group: string, path: string, sink: SnapshotSink): void {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size < PREAMBLE + TAG_BYTES) throw new Error('index snapshot is truncated');
    const preamble = Buffer.alloc(PREAMBLE);
    const tag = Buffer.alloc(TAG_BYTES);
    readFully(fd, preamble, 0);
    readFully(fd, tag, size - TAG_BYTES);
    if (!preamble.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not an index snapshot');
    const decipher = createDecipheriv('aes-256-gcm', key, preamble.subarray(MAGIC.length)).setAAD(aad(group));
    decipher.setAuthTag(tag);
    const chunk = Buffer.allocUnsafe(READ_BYTES);
    const end = size - TAG_BYTES;
    sink.begin(end - PREAMBLE);
    for (let at = PREAMBLE; at < end; ) {
      const n = Math.min(READ_BYTES, end - at);
      readFully(fd, chunk.subarray(0, n), at);
      for (let i = 0; i < n; i += CIPHER_BYTES) sink.take(decipher.update(chunk.subarray(i, Math.min(n, i + CIPHER_BYTES))));
      at += n;
    }
    const rest = decipher.final();
    if (rest.length > 0) sink.take(rest);
  } finally {
    closeSync(fd);
  }
}

function readFully(fd: number, into: Buffer, position: number): void {
  for (let done = 0; done < into.length; ) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new Error('index snapshot is truncated');
    done += n;
  }
}

const aad = (group: string) => Buffer.from(`facerec index snapshot\0${group}`, 'utf8');

async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
