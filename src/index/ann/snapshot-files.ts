import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { constants, createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';

/** Where persisted search indexes live, inside the data directory. */
export const INDEX_DIR = 'index';
const PIPE_PREFIX = '.pipe-';
const MAGIC = Buffer.from('FRIDX1\n\0', 'latin1');
const EXTENSION = '.codes';
/** Snapshots of the HNSW graphs that binary codes replaced: never read, removed at start. */
const LEGACY_EXTENSION = '.hnsw';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PREAMBLE = MAGIC.length + IV_BYTES;
/** Large reads and writes: the FIFO between this thread and the scan thread is the bottleneck. */
const CHUNK = 1 << 20;
/** A section is a few hundred bytes of JSON; anything larger is a damaged file. */
const MAX_SECTION_BYTES = 64 << 20;

/**
 * Persisted indexes, one file per group, AES-256-GCM under a key derived from the master key.
 * An index holds quantised face vectors, so it never touches the disk in clear: the scan thread
 * writes its bytes into a FIFO (a pipe with a name, kernel memory only), this thread encrypts
 * them on their way to the file, and a load runs the same way backwards.
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
    // A process killed while writing leaves its temporary file and its FIFO behind; neither is
    // ever read (a snapshot is only what was renamed into place), so they go, as do the graph
    // snapshots of versions before binary codes (rebuilt from the store on first search).
    for (const name of readdirSync(dir)) {
      if (name.endsWith('.tmp') || name.startsWith(PIPE_PREFIX)) rmSync(join(dir, name), { force: true });
    }
  }

  pathOf(group: string): string {
    return join(this.dir, `${createHash('sha256').update(group).digest('hex').slice(0, 40)}${EXTENSION}`);
  }

  /** `produce` writes the plaintext into the FIFO it is given (and resolves when done). Returns the file's size. */
  async write(group: string, produce: (fifo: string) => Promise<void>): Promise<number> {
    const target = this.pathOf(group);
    const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    const fifo = await this.fifo();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv).setAAD(aad(group));
    try {
      const file = await open(temp, 'w', 0o600);
      try {
        await file.write(Buffer.concat([MAGIC, iv]));
        const reading = pipeline(createReadStream(fifo, { highWaterMark: CHUNK }), cipher, new TurnTaker(), createWriteStream('', { fd: file.fd, autoClose: false, highWaterMark: CHUNK }));
        await settleBoth(produce(fifo), reading, () => unblockReader(fifo));
        await file.write(cipher.getAuthTag());
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
    } finally {
      await rm(fifo, { force: true });
    }
  }

  /**
   * Decrypts the group's snapshot: the `sectionCount` length-prefixed sections the writer put
   * first are handed to `consume` as they are, the rest flows into the FIFO it is given. False if
   * there is no snapshot. Throws if the file was altered or cut (the tag is checked as the stream
   * ends, so `consume` may have read bytes by then: its result must be dropped on a throw).
   */
  async read(group: string, sectionCount: number, consume: (fifo: string, sections: Buffer[]) => Promise<void>): Promise<boolean> {
    const path = this.pathOf(group);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      return false;
    }
    if (size < PREAMBLE + TAG_BYTES) throw new Error('index snapshot is truncated');
    const head = Buffer.alloc(PREAMBLE);
    const tag = Buffer.alloc(TAG_BYTES);
    const file = await open(path, 'r');
    try {
      await file.read(head, 0, PREAMBLE, 0);
      await file.read(tag, 0, TAG_BYTES, size - TAG_BYTES);
    } finally {
      await file.close();
    }
    if (!head.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not an index snapshot');
    const decipher = createDecipheriv('aes-256-gcm', this.key, head.subarray(MAGIC.length)).setAAD(aad(group));
    decipher.setAuthTag(tag);
    const fifo = await this.fifo();
    try {
      const sections = new SectionSplitter(sectionCount);
      const writing = pipeline(
        createReadStream(path, { start: PREAMBLE, end: size - TAG_BYTES - 1, highWaterMark: CHUNK }),
        decipher,
        new TurnTaker(),
        sections,
        createWriteStream(fifo, { highWaterMark: CHUNK }),
      );
      // The consumer starts once the sections are in; a stream that fails or ends before then fails it too.
      let started = false;
      const consuming = new Promise<void>((resolve, reject) => {
        sections.once('sections', (parts: Buffer[]) => {
          started = true;
          consume(fifo, parts).then(resolve, reject);
        });
        writing.then(() => started || reject(new Error('index snapshot holds no codes')), reject);
      });
      await settleBoth(consuming, writing, () => unblockWriter(fifo));
      return true;
    } finally {
      await rm(fifo, { force: true });
    }
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

  private async fifo(): Promise<string> {
    const path = join(this.dir, `${PIPE_PREFIX}${randomBytes(8).toString('hex')}`);
    await promisify(execFile)('mkfifo', ['-m', '600', path]);
    return path;
  }
}

/**
 * Takes `count` sections (u32 little-endian length, then the bytes) off the front of a stream,
 * announces them in one 'sections' event, and passes everything after them through.
 */
class SectionSplitter extends Transform {
  private pending = Buffer.alloc(0);
  private readonly parts: Buffer[] = [];

  constructor(private readonly count: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.parts.length === this.count) return done(null, chunk);
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.parts.length < this.count && this.pending.length >= 4) {
      const length = this.pending.readUInt32LE(0);
      if (length > MAX_SECTION_BYTES) return done(new Error('index snapshot header is implausibly large'));
      if (this.pending.length < 4 + length) break;
      this.parts.push(Buffer.from(this.pending.subarray(4, 4 + length)));
      this.pending = this.pending.subarray(4 + length);
    }
    if (this.parts.length < this.count) return done();
    this.emit('sections', this.parts);
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    done(null, rest.length > 0 ? rest : undefined);
  }

  override _flush(done: TransformCallback): void {
    done(this.parts.length < this.count ? new Error('index snapshot ended inside its header') : null);
  }
}

/**
 * Passes each chunk on in a later turn of the event loop. Without it a stream whose reads
 * complete back to back ciphers chunk after chunk in one stretch (a 1 M-face snapshot held the
 * server for up to 200 ms at a time); with it, requests get a turn after every chunk.
 */
class TurnTaker extends Transform {
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    setImmediate(done, null, chunk);
  }
}

const aad = (group: string) => Buffer.from(`facerec index snapshot\0${group}`, 'utf8');

/**
 * Both ends of a FIFO must finish. If one side fails before opening the pipe, the other would
 * wait in open() forever; `unblock` opens the missing end once so it can fail or finish.
 */
async function settleBoth(a: Promise<void>, b: Promise<void>, unblock: () => Promise<void>): Promise<void> {
  const results = await Promise.allSettled([
    a.catch(async (e: unknown) => {
      await unblock();
      throw e;
    }),
    b,
  ]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Lets a reader blocked in open() go on (it then reads end-of-file). */
async function unblockReader(fifo: string): Promise<void> {
  try {
    const h = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    await h.close();
  } catch {
    // No reader is waiting: nothing to release.
  }
}

/** Lets a writer blocked in open() go on (its writes then fail with EPIPE). */
async function unblockWriter(fifo: string): Promise<void> {
  try {
    const h = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    await h.close();
  } catch {
    // Nothing to release.
  }
}

async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
