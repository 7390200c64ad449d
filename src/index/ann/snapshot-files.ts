import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
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
/**
 * Persisted indexes, one file per group, AES-256-GCM under a key derived from the master key.
 * An index holds quantised face vectors (sign codes), so it never touches the disk in clear: the
 * scan thread seals its bytes (`sealSnapshot`) and hands the file's bytes over in memory, this
 * thread writes them; for a load the scan thread reads the file and opens it (`openSnapshot`). The
 * cipher runs there because Node's AES-GCM does about 250 MB/s here: a million faces' 72 MB would
 * hold the event loop for 0.3 s, or take 0.8 s in turns.
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

/** A snapshot file's bytes for `plaintext`: magic, IV, AES-256-GCM ciphertext, tag. */
export function sealSnapshot(key: Uint8Array, group: string, plaintext: Uint8Array): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad(group));
  const out = Buffer.from(new ArrayBuffer(PREAMBLE + plaintext.length + TAG_BYTES));
  MAGIC.copy(out, 0);
  iv.copy(out, MAGIC.length);
  let at = PREAMBLE + cipher.update(plaintext).copy(out, PREAMBLE);
  at += cipher.final().copy(out, at);
  cipher.getAuthTag().copy(out, at);
  return out;
}

/** The plaintext of a snapshot file's bytes; throws if they were altered, cut, or sealed for another group or key. */
export function openSnapshot(key: Uint8Array, group: string, file: Uint8Array): Buffer {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (bytes.length < PREAMBLE + TAG_BYTES) throw new Error('index snapshot is truncated');
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not an index snapshot');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(MAGIC.length, PREAMBLE)).setAAD(aad(group));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  const plaintext = decipher.update(bytes.subarray(PREAMBLE, bytes.length - TAG_BYTES));
  const rest = decipher.final();
  return rest.length === 0 ? plaintext : Buffer.concat([plaintext, rest]);
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
