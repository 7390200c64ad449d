import type { VectorIndex } from './vector-index.js';

type Op = { add: [string, Float32Array] } | { remove: string };

interface Entry<I extends VectorIndex> {
  /** Which incarnation of the group this is (its creation time): a group deleted and created again under the same id is another group. */
  generation: number;
  index?: I;
  loading?: Promise<I>;
  /** Writes that landed while the group was being loaded; replayed onto the loaded index. */
  pending: Op[];
}

/**
 * One index per group, loaded lazily from the store on first search and kept in step with
 * writes afterwards. Writes that commit while a load is in flight are queued and replayed, so a
 * load that read the store just before a register cannot lose that face. Entries carry the
 * group's generation: if the group was deleted and created again behind this process's back
 * (another node, the CLI on the same data dir), the stale index is replaced, not searched.
 */
export class IndexRegistry<I extends VectorIndex = VectorIndex> {
  private readonly entries = new Map<string, Entry<I>>();

  constructor(private readonly create: () => I) {}

  /**
   * The group's index, loaded on first use: `fill` adds the group's faces to the new index (in as
   * many steps as it likes; writes told meanwhile are replayed after it).
   */
  async get(key: string, generation: number, fill: (index: I) => Promise<void>): Promise<I> {
    let entry = this.entries.get(key);
    if (entry?.generation === generation) {
      if (entry.index) return entry.index;
      if (entry.loading) return entry.loading;
    }
    entry = { generation, pending: [] };
    this.entries.set(key, entry);
    const e = entry;
    e.loading = (async () => {
      try {
        const index = this.create();
        await fill(index);
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

  added(key: string, generation: number, id: string, vector: Float32Array): void {
    this.record(key, generation, { add: [id, vector] });
  }

  removed(key: string, generation: number, id: string): void {
    this.record(key, generation, { remove: id });
  }

  /** Forget a group entirely (deleted); a later search reloads from the store. */
  drop(key: string): void {
    this.entries.delete(key);
  }

  private record(key: string, generation: number, op: Op): void {
    const e = this.entries.get(key);
    if (!e) return;
    if (e.generation !== generation) {
      this.entries.delete(key);
      return;
    }
    if (e.index) apply(e.index, op);
    else e.pending.push(op);
  }
}

function apply(index: VectorIndex, op: Op): void {
  if ('add' in op) index.add(op.add[0], op.add[1]);
  else index.remove(op.remove);
}
