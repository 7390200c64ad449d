import type { VectorIndex } from './vector-index.js';

type Op = { add: [string, Float32Array] } | { remove: string };

interface Entry {
  index?: VectorIndex;
  loading?: Promise<VectorIndex>;
  /** Writes that landed while the group was being loaded; replayed onto the loaded index. */
  pending: Op[];
}

/**
 * One index per group, loaded lazily from the store on first search and kept in step with
 * writes afterwards. Writes that commit while a load is in flight are queued and replayed, so a
 * load that read the store just before a register cannot lose that face.
 */
export class IndexRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly create: () => VectorIndex) {}

  async get(key: string, load: () => Promise<{ faceId: string; vector: Float32Array }[]>): Promise<VectorIndex> {
    let entry = this.entries.get(key);
    if (entry?.index) return entry.index;
    if (entry?.loading) return entry.loading;
    entry = { pending: [] };
    this.entries.set(key, entry);
    const e = entry;
    e.loading = (async () => {
      try {
        const index = this.create();
        for (const { faceId, vector } of await load()) index.add(faceId, vector);
        for (const op of e.pending) apply(index, op);
        e.pending = [];
        e.index = index;
        return index;
      } catch (err) {
        if (this.entries.get(key) === e) this.entries.delete(key);
        throw err;
      } finally {
        e.loading = undefined;
      }
    })();
    return e.loading;
  }

  added(key: string, id: string, vector: Float32Array): void {
    this.record(key, { add: [id, vector] });
  }

  removed(key: string, id: string): void {
    this.record(key, { remove: id });
  }

  /** Forget a group entirely (deleted); a later search reloads from the store. */
  drop(key: string): void {
    this.entries.delete(key);
  }

  private record(key: string, op: Op): void {
    const e = this.entries.get(key);
    if (!e) return;
    if (e.index) apply(e.index, op);
    else e.pending.push(op);
  }
}

function apply(index: VectorIndex, op: Op): void {
  if ('add' in op) index.add(op.add[0], op.add[1]);
  else index.remove(op.remove);
}
