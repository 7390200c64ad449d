/**
 * The thread that owns every HNSW graph (usearch). usearch's calls are synchronous native code,
 * so they run here, never on the server's event loop: a load of a million faces or a busy
 * search keeps this thread, not the one answering /health.
 *
 * Requests arrive through piscina one at a time, in the order they were sent, so a search sent
 * after an add sees it.
 */
import usearch, { MetricKind, ScalarKind, type Index } from 'usearch';

export interface HnswOptions {
  dimensions: number;
  connectivity: number;
  expansionAdd: number;
  expansionSearch: number;
}

export type HnswTask =
  | { op: 'create'; group: string; options: HnswOptions }
  | { op: 'add'; group: string; keys: Float64Array; vectors: Float32Array }
  | { op: 'remove'; group: string; keys: Float64Array }
  | { op: 'search'; group: string; query: Float32Array; k: number }
  | { op: 'save'; group: string; path: string }
  | { op: 'load'; group: string; path: string; options: HnswOptions }
  | { op: 'drop'; group: string }
  | { op: 'stats'; group: string };

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
 * never returned by a search.
 */
export const PLACEHOLDER_KEY_BASE = 2n ** 62n;

interface Graph {
  index: Index;
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
      graphs.set(task.group, { index: newIndex(task.options), placeholders: 0n, scrub: scrubVector(task.options.dimensions) });
      return undefined;
    }
    case 'load': {
      const index = newIndex(task.options);
      index.load(task.path);
      // A loaded file holds its placeholders; count them so they never surface and are not counted as faces.
      graphs.set(task.group, { index, placeholders: countPlaceholders(index), scrub: scrubVector(task.options.dimensions) });
      return undefined;
    }
    case 'add': {
      const g = graph(task.group);
      if (task.keys.length === 0) return undefined;
      // A face can be told twice (read by a build and announced by its registration); add it once.
      const d = task.vectors.length / task.keys.length;
      for (let i = 0; i < task.keys.length; i++) {
        const key = BigInt(task.keys[i]);
        if (!g.index.contains(key)) g.index.add(key, task.vectors.subarray(i * d, (i + 1) * d), 1);
      }
      return undefined;
    }
    case 'remove': {
      const g = graph(task.group);
      for (const key of task.keys) {
        if ((g.index.remove(BigInt(key)) as number) > 0) {
          g.index.add(PLACEHOLDER_KEY_BASE + g.placeholders, g.scrub, 1);
          g.placeholders += 1n;
        }
      }
      return undefined;
    }
    case 'search': {
      const g = graph(task.group);
      const { keys, distances } = g.index.search(task.query, task.k, 1);
      const out: number[] = [];
      const dist: number[] = [];
      for (let i = 0; i < keys.length; i++) {
        if (keys[i] >= PLACEHOLDER_KEY_BASE) continue;
        out.push(Number(keys[i]));
        dist.push(distances[i]);
      }
      return { keys: out, distances: dist };
    }
    case 'save': {
      graph(task.group).index.save(task.path);
      return undefined;
    }
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

/** Placeholders are numbered from the base without gaps, so the first absent number is their count. */
function countPlaceholders(index: Index): bigint {
  let n = 0n;
  while (index.contains(PLACEHOLDER_KEY_BASE + n)) n += 1n;
  return n;
}
