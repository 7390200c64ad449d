/**
 * The thread that owns every HNSW graph (usearch). usearch's calls are synchronous native code,
 * so they run here, never on the server's event loop: a load of a million faces or a busy
 * search keeps this thread, not the one answering /health.
 *
 * Requests arrive through piscina one at a time, in the order they were sent, so a search sent
 * after an add sees it.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import usearch, { MetricKind, ScalarKind, type Index } from 'usearch';
import { KeyBitmap } from './key-bitmap.js';

export interface HnswOptions {
  dimensions: number;
  connectivity: number;
  expansionAdd: number;
  expansionSearch: number;
}

export type HnswTask =
  | { op: 'create'; group: string; options: HnswOptions }
  | { op: 'add'; group: string; keys: Float64Array; vectors: Float32Array; threads?: number }
  | { op: 'remove'; group: string; keys: Float64Array }
  /** `breadth`: how many nodes the search keeps in view (usearch's expansion, raised to it when larger); the best `k` are returned. */
  | { op: 'search'; group: string; query: Float32Array; k: number; breadth?: number }
  | { op: 'save'; group: string; path: string; meta: SnapshotMeta }
  | { op: 'load'; group: string; path: string; sections: [Uint8Array, Uint8Array] }
  | { op: 'reconcile'; group: string; storeKeys: Float64Array }
  | { op: 'drop'; group: string }
  | { op: 'stats'; group: string };

/** What a snapshot says about itself, ahead of the graph's bytes. */
export interface SnapshotMeta {
  format: 1;
  /** The group incarnation (its creation time) the graph belongs to. */
  generation: number;
  options: HnswOptions;
}

export interface HnswStats {
  /** Faces searchable. */
  size: number;
  /** Slots holding a scrubbed placeholder where a face was removed. */
  placeholders: number;
}

/**
 * A removed face's slot keeps its vector bytes in usearch until the slot is reused, in memory
 * and in every saved file. Each removal is therefore followed at once by an add that reuses the
 * freed slot (the only one free, as every removal is followed so) with a fixed vector under a
 * placeholder key, which overwrites the biometric bytes. Placeholder keys start here and are
 * never returned by a search; the highest-numbered one gives its slot to the next face added.
 */
export const PLACEHOLDER_KEY_BASE = 2n ** 62n;

interface Graph {
  index: Index;
  keys: KeyBitmap;
  placeholders: bigint;
  scrub: Float32Array;
}

const graphs = new Map<string, Graph>();

function newIndex(o: HnswOptions): Index {
  return new usearch.Index({
    dimensions: o.dimensions,
    metric: MetricKind.Cos,
    // i8 holds each vector in 512 bytes instead of 2,048; the caller re-ranks candidates with the
    // exact vectors, so scores stay exact.
    quantization: ScalarKind.I8,
    connectivity: o.connectivity,
    expansion_add: o.expansionAdd,
    expansion_search: o.expansionSearch,
    multi: false,
  });
}

function graph(group: string): Graph {
  const g = graphs.get(group);
  if (!g) throw new Error(`no HNSW graph for this group`);
  return g;
}

function scrubVector(dimensions: number): Float32Array {
  const v = new Float32Array(dimensions);
  v[0] = 1;
  return v;
}

export default function run(task: HnswTask): unknown {
  switch (task.op) {
    case 'create': {
      graphs.set(task.group, newGraph(newIndex(task.options), new KeyBitmap(), task.options));
      return undefined;
    }
    case 'load':
      return load(task.group, task.path, task.sections);
    case 'reconcile':
      return reconcile(graph(task.group), task.storeKeys);
    case 'add': {
      const g = graph(task.group);
      if (task.keys.length === 0) return undefined;
      // A face can be told twice (read by a build and announced by its registration); add it once.
      const d = task.vectors.length / task.keys.length;
      const fresh: number[] = [];
      for (let i = 0; i < task.keys.length; i++) if (!g.index.contains(BigInt(task.keys[i]))) fresh.push(i);
      if (fresh.length === 0) return undefined;
      // A new face takes a placeholder's slot while any is left, so deletions never leave the
      // graph a growing heap of placeholder nodes. One at a time: usearch's parallel add can fail
      // ("Reserve capacity ahead of insertions") when many slots are free at once.
      let taken = 0;
      for (; taken < fresh.length && g.placeholders > 0n; taken++) {
        const row = fresh[taken];
        g.placeholders -= 1n;
        g.index.remove(PLACEHOLDER_KEY_BASE + g.placeholders);
        g.index.add(BigInt(task.keys[row]), task.vectors.subarray(row * d, (row + 1) * d), 1);
        g.keys.add(task.keys[row]);
      }
      const rest = fresh.slice(taken);
      if (rest.length === 0) return undefined;
      const keys = BigUint64Array.from(rest, (i) => BigInt(task.keys[i]));
      const vectors = rest.length === task.keys.length ? task.vectors : packRows(task.vectors, rest, d);
      g.index.add(keys, vectors, task.threads ?? 1);
      for (const i of rest) g.keys.add(task.keys[i]);
      return undefined;
    }
    case 'remove': {
      const g = graph(task.group);
      for (const key of task.keys) removeScrubbed(g, key);
      return undefined;
    }
    case 'search': {
      const g = graph(task.group);
      const { keys, distances } = g.index.search(task.query, Math.max(task.k, task.breadth ?? 0), 1);
      const out: number[] = [];
      const dist: number[] = [];
      for (let i = 0; i < keys.length && out.length < task.k; i++) {
        if (keys[i] >= PLACEHOLDER_KEY_BASE) continue;
        out.push(Number(keys[i]));
        dist.push(distances[i]);
      }
      return { keys: out, distances: dist };
    }
    case 'save':
      return save(graph(task.group), task.path, task.meta);
    case 'drop': {
      graphs.delete(task.group);
      return undefined;
    }
    case 'stats': {
      const g = graph(task.group);
      return { size: g.index.size() - Number(g.placeholders), placeholders: Number(g.placeholders) } satisfies HnswStats;
    }
  }
}

function packRows(vectors: Float32Array, rows: number[], d: number): Float32Array {
  const out = new Float32Array(rows.length * d);
  rows.forEach((row, i) => out.set(vectors.subarray(row * d, (row + 1) * d), i * d));
  return out;
}

function newGraph(index: Index, keys: KeyBitmap, options: HnswOptions): Graph {
  // A loaded file holds its placeholders; count them so they never surface and are not counted as faces.
  return { index, keys, placeholders: countPlaceholders(index), scrub: scrubVector(options.dimensions) };
}

function removeScrubbed(g: Graph, key: number): void {
  if ((g.index.remove(BigInt(key)) as number) > 0) {
    g.index.add(PLACEHOLDER_KEY_BASE + g.placeholders, g.scrub, 1);
    g.placeholders += 1n;
  }
  g.keys.delete(key);
}

/**
 * A snapshot's plaintext: two sections, each a u32 length and its bytes (the meta as JSON with
 * the key span; the key bitmap), then usearch's own bytes. The FIFO is held open across
 * usearch's save so the reader sees one stream.
 */
function save(g: Graph, path: string, meta: SnapshotMeta): { faces: number } {
  const { base, bits } = g.keys.toBytes();
  const head = Buffer.from(JSON.stringify({ ...meta, keyBase: base }), 'utf8');
  const fd = openSync(path, 'w');
  try {
    for (const section of [head, bits]) {
      const length = Buffer.alloc(4);
      length.writeUInt32LE(section.length);
      writeAll(fd, length);
      writeAll(fd, section);
    }
    g.index.save(path);
  } finally {
    closeSync(fd);
  }
  return { faces: g.keys.count };
}

/** The sections come split off by the reader (snapshot-files.ts); `path` carries usearch's bytes only. */
function load(group: string, path: string, [head, bits]: [Uint8Array, Uint8Array]): SnapshotMeta {
  const meta = JSON.parse(Buffer.from(head).toString('utf8')) as SnapshotMeta & { keyBase: number };
  const keys = new KeyBitmap(meta.keyBase, new Uint8Array(bits));
  const index = newIndex(meta.options);
  index.load(path);
  graphs.set(group, newGraph(index, keys, meta.options));
  return { format: meta.format, generation: meta.generation, options: meta.options };
}

/**
 * Makes the graph hold exactly `storeKeys` (ascending): removes what the store no longer has and
 * returns the keys the graph lacks, for the caller to add with their vectors.
 */
function reconcile(g: Graph, storeKeys: Float64Array): { missing: number[]; removed: number } {
  const wanted = new KeyBitmap();
  const missing: number[] = [];
  for (const key of storeKeys) {
    wanted.add(key);
    if (!g.keys.has(key)) missing.push(key);
  }
  const extra = [...g.keys.keys()].filter((key) => !wanted.has(key));
  for (const key of extra) removeScrubbed(g, key);
  return { missing, removed: extra.length };
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** Placeholders are numbered from the base without gaps, so the first absent number is their count. */
function countPlaceholders(index: Index): bigint {
  let n = 0n;
  while (index.contains(PLACEHOLDER_KEY_BASE + n)) n += 1n;
  return n;
}
