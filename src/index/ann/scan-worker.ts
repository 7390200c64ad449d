/**
 * The thread that holds every large group's binary codes (binary-codes.ts) and scans them. A
 * scan of a million faces takes a few milliseconds and a snapshot's bytes are tens of megabytes,
 * so both are handled here, never on the server's event loop.
 *
 * Requests arrive through piscina one at a time, in the order they were sent, so a search sent
 * after an add sees it.
 */
import { move, workerData } from 'piscina';
import { openWorkerVectorReader, type VectorReader, type WorkerVectorSource } from '../../store/worker-vectors.js';
import { CODE_BITS } from './binary-codes.js';
import { ResidentGroup } from './resident-group.js';
import { SnapshotBodyReader, snapshotBody } from './snapshot-body.js';
import { readSnapshot, sealSnapshot } from './snapshot-files.js';

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
    case 'load': {
      const body = new SnapshotBodyReader();
      readSnapshot(task.key, task.group, task.path, body);
      // Only now is the file known to be whole and this group's: its codes may be searched.
      const { meta, codes } = body.finish();
      groups.set(task.group, new ResidentGroup(codes));
      return meta;
    }
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
      return move(sealSnapshot(task.key, task.group, snapshotBody(groupOf(task.group).codes, task.meta))) as Uint8Array;
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
 * Makes the codes hold exactly the store's keys: removes what the store no longer has and
 * returns the keys the codes lack, for the caller to add with their vectors. The snapshot's keys
 * are the group's at one moment of its history (writes reach this thread in the order they were
 * committed), and keys are handed out in increasing order and never reused (AUTOINCREMENT). So a
 * face added since, and still there, makes the store's largest key larger than any the codes
 * hold; if there is none, the store's keys are a subset of the codes', and equal counts make the
 * sets equal. Count and largest key come from one cheap read, so the million keys need not be
 * read (0.3–0.5 s at a million faces).
 */
function reconcile(g: ResidentGroup, reader: VectorReader, appKey: string, groupId: string): { missing: number[]; removed: number } {
  const store = reader.keySummary(appKey, groupId);
  const keys = g.codes.keys();
  let max = 0;
  for (const key of keys) if (key > max) max = key;
  if (store.count === keys.length && store.max === max) return { missing: [], removed: 0 };
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
