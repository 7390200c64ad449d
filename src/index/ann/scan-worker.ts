/**
 * The thread that holds every large group's binary codes (binary-codes.ts) and scans them. A
 * scan of a million faces takes a few milliseconds and a snapshot's bytes are tens of megabytes,
 * so both are handled here, never on the server's event loop.
 *
 * Requests arrive through piscina one at a time, in the order they were sent, so a search sent
 * after an add sees it.
 */
import { readFileSync } from 'node:fs';
import { move, workerData } from 'piscina';
import { openWorkerVectorReader, type VectorReader, type WorkerVectorSource } from '../../store/worker-vectors.js';
import { BinaryCodes, CODE_BITS } from './binary-codes.js';
import { ResidentGroup } from './resident-group.js';
import { openSnapshot, sealSnapshot } from './snapshot-files.js';

export interface ScanOptions {
  dimensions: number;
}

export type ScanTask =
  | { op: 'create'; group: string; options: ScanOptions }
  | { op: 'add'; group: string; keys: Float64Array; vectors: Float32Array }
  | { op: 'remove'; group: string; keys: Float64Array }
  /** The `k` faces whose codes are nearest the query's, nearest first. */
  | { op: 'search'; group: string; query: Float32Array; k: number }
  /**
   * The best `k` faces by exact cosine, at or above `minScore`, best first: the `candidates`
   * nearest codes, their vectors read from the store through the thread's own reader (ScanData).
   */
  | { op: 'rank'; group: string; appKey: string; groupId: string; query: Float32Array; candidates: number; k: number; minScore: number; exclude?: string }
  /** Reads the vectors of up to `limit` faces whose 8-bit vectors are not held yet (resident-group.ts). */
  | { op: 'fill'; group: string; appKey: string; groupId: string; limit: number }
  /** Answers the snapshot file's bytes, sealed with `key`. */
  | { op: 'save'; group: string; meta: SnapshotMeta; key: Uint8Array }
  /** `path`: a snapshot file, read and opened with `key`. */
  | { op: 'load'; group: string; path: string; key: Uint8Array }
  /** Makes the codes hold the faces the store holds now: removes the others, answers the keys they lack. */
  | { op: 'reconcile'; group: string; appKey: string; groupId: string }
  | { op: 'drop'; group: string }
  | { op: 'stats'; group: string };

/** What a snapshot says about itself, ahead of the codes. */
export interface SnapshotMeta {
  format: 2;
  /** The group incarnation (its creation time) the codes belong to. */
  generation: number;
  options: ScanOptions;
}

export interface ScanStats {
  /** Faces searchable. */
  size: number;
}

/** What a step of filling in a loaded group's vectors did. */
export interface FillProgress {
  /** Every face has been offered: those still without a vector were no longer in the store. */
  done: boolean;
  filled: number;
}

/** What the thread is started with. */
export interface ScanData {
  /** Where `rank` reads candidates' vectors; without it only `search` answers. */
  vectors?: WorkerVectorSource;
}

const groups = new Map<string, ResidentGroup>();
const vectorSource = (workerData as ScanData | undefined)?.vectors;
let reader: VectorReader | undefined;

function groupOf(group: string): ResidentGroup {
  const g = groups.get(group);
  if (!g) throw new Error('no binary codes for this group');
  return g;
}

export default function run(task: ScanTask): unknown {
  switch (task.op) {
    case 'create': {
      if (task.options.dimensions !== CODE_BITS) throw new Error(`binary codes are made of ${CODE_BITS}-d vectors`);
      groups.set(task.group, new ResidentGroup());
      return undefined;
    }
    case 'load':
      return load(task.group, openSnapshot(task.key, task.group, readFileSync(task.path)));
    case 'reconcile':
      return reconcile(groupOf(task.group), vectorReader(), task.appKey, task.groupId);
    case 'add': {
      const g = groupOf(task.group);
      const d = task.keys.length === 0 ? 0 : task.vectors.length / task.keys.length;
      // A face can be told twice (read by a build and announced by its registration); `add` keeps the first.
      for (let i = 0; i < task.keys.length; i++) g.add(task.keys[i], task.vectors.subarray(i * d, (i + 1) * d));
      return undefined;
    }
    case 'remove': {
      const g = groupOf(task.group);
      for (const key of task.keys) g.remove(key);
      return undefined;
    }
    case 'search':
      return groupOf(task.group).codes.search(task.query, task.k);
    case 'rank':
      return groupOf(task.group).rank(vectorReader(), task);
    case 'fill':
      return groupOf(task.group).fill(vectorReader(), task.appKey, task.groupId, task.limit) satisfies FillProgress;
    case 'save':
      // piscina transfers a returned value only when it is the value itself that is moved.
      return move(sealSnapshot(task.key, task.group, plaintext(groupOf(task.group).codes, task.meta))) as Uint8Array;
    case 'drop': {
      groups.delete(task.group);
      return undefined;
    }
    case 'stats': {
      const g = groupOf(task.group);
      return { size: g.count } satisfies ScanStats;
    }
  }
}

function vectorReader(): VectorReader {
  if (!vectorSource) throw new Error('the scan thread was started without a vector source');
  reader ??= openWorkerVectorReader(vectorSource);
  return reader;
}

/**
 * A snapshot's plaintext: a u32 length and the meta as JSON with the face count, then the keys
 * (count × 8 bytes, float64) and the codes (count × 64 bytes).
 */
function plaintext(g: BinaryCodes, meta: SnapshotMeta): Buffer {
  const head = Buffer.from(JSON.stringify({ ...meta, count: g.count }), 'utf8');
  const keys = g.keys();
  const codes = g.codes();
  const bytes = Buffer.from(new ArrayBuffer(4 + head.length + keys.byteLength + codes.length));
  bytes.writeUInt32LE(head.length, 0);
  head.copy(bytes, 4);
  bytes.set(new Uint8Array(keys.buffer, keys.byteOffset, keys.byteLength), 4 + head.length);
  bytes.set(codes, 4 + head.length + keys.byteLength);
  return bytes;
}

/** The inverse of `plaintext`; throws on bytes that do not add up. */
function load(group: string, bytes: Uint8Array): SnapshotMeta {
  const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (body.length < 4) throw new Error('index snapshot: no header');
  const headLength = body.readUInt32LE(0);
  if (headLength > 4096 || 4 + headLength > body.length) throw new Error('index snapshot: implausible header');
  const meta = JSON.parse(body.subarray(4, 4 + headLength).toString('utf8')) as SnapshotMeta & { count: number };
  const at = 4 + headLength;
  const keyBytes = meta.count * 8;
  if (body.length - at !== keyBytes + meta.count * (CODE_BITS / 8)) throw new Error('index snapshot: its size does not match its face count');
  // Copied out: the keys' offset in the buffer need not suit a Float64Array.
  const keys = new Float64Array(meta.count);
  new Uint8Array(keys.buffer).set(body.subarray(at, at + keyBytes));
  groups.set(group, new ResidentGroup(BinaryCodes.from(keys, body.subarray(at + keyBytes))));
  return { format: meta.format, generation: meta.generation, options: meta.options };
}

/**
 * Makes the codes hold exactly the store's keys: removes what the store no longer has and
 * returns the keys the codes lack, for the caller to add with their vectors. Keys are never
 * reused (AUTOINCREMENT) and writes reach this thread in the order they were committed, so a
 * face added since the snapshot raises the largest key and one deleted lowers the count: when
 * count, largest key and sum of keys all agree, the sets are equal and the million keys need
 * not be read (0.3–0.5 s at a million faces).
 */
function reconcile(g: ResidentGroup, reader: VectorReader, appKey: string, groupId: string): { missing: number[]; removed: number } {
  const store = reader.keySummary(appKey, groupId);
  const keys = g.codes.keys();
  let max = 0;
  let sum = 0;
  for (const key of keys) {
    if (key > max) max = key;
    sum += key;
  }
  if (store.count === keys.length && store.max === max && store.sum === sum) return { missing: [], removed: 0 };
  const held = new Uint8Array(g.count);
  const missing: number[] = [];
  for (const key of reader.faceKeys(appKey, groupId)) {
    const slot = g.codes.slotOf(key);
    if (slot === undefined) missing.push(key);
    else held[slot] = 1;
  }
  const extra: number[] = [];
  for (let slot = 0; slot < keys.length; slot++) if (held[slot] === 0) extra.push(keys[slot]);
  for (const key of extra) g.remove(key);
  return { missing, removed: extra.length };
}
