import type { Store } from '../store/store.js';
import { ExactIndex } from './exact-index.js';
import type { FaceSearch, GroupRef, SearchHit } from './face-search.js';
import { IndexRegistry } from './index-registry.js';

/** Exact scans of per-group vectors held in memory: the reference every other FaceSearch is tested against. */
export class ExactFaceSearch implements FaceSearch {
  private readonly registry: IndexRegistry<ExactIndex>;

  constructor(
    private readonly store: Pick<Store, 'vectorBatch'>,
    dimensions: number,
  ) {
    this.registry = new IndexRegistry(() => new ExactIndex(dimensions));
  }

  async search(group: GroupRef, query: Float32Array, k: number, minScore: number, exclude?: string): Promise<SearchHit[]> {
    const { appKey, groupId } = group;
    const index = await this.registry.get(registryKey(group), group.generation, (index) => this.fillInBatches(index, appKey, groupId));
    const hits = index.size <= SCAN_SLICE
      ? index.search(query, k, minScore, exclude)
      : await index.searchInSlices(query, k, minScore, exclude, SCAN_SLICE, nextTurn);
    return hits.map((h) => ({ faceId: h.id, score: h.score }));
  }

  added(group: GroupRef, faces: { faceId: string; vector: Float32Array }[]): void {
    for (const f of faces) this.registry.added(registryKey(group), group.generation, f.faceId, f.vector);
  }

  removed(group: GroupRef, face: { faceId: string }): void {
    this.registry.removed(registryKey(group), group.generation, face.faceId);
  }

  dropped(group: { appKey: string; groupId: string }): void {
    this.registry.drop(registryKey(group));
  }

  async close(): Promise<void> {}

  /**
   * Reads and decrypts the group's vectors a batch at a time into `index`, with a turn of the
   * event loop in between, so loading a group never holds up other requests for more than a batch.
   */
  private async fillInBatches(index: ExactIndex, appKey: string, groupId: string): Promise<void> {
    for (let after = 0; ;) {
      const batch = await this.store.vectorBatch(appKey, groupId, after, LOAD_BATCH);
      if (batch.length === 0) return;
      for (const { faceId, vector } of batch) index.add(faceId, vector);
      after = batch[batch.length - 1].key;
      await nextTurn();
    }
  }
}

/** Decrypting a vector costs 35–80 µs: 200 a turn keep the event loop's turns near 10 ms. */
const LOAD_BATCH = 200;
/**
 * Vectors scored per turn of the event loop (about 1 ms per 1,000 here). Groups this small are
 * scanned in one go; a larger one (only while its graph is being built) in slices, so a scan of a
 * million faces, over a second in all, never stops the server from answering meanwhile.
 */
const SCAN_SLICE = 20_000;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const registryKey = (g: { appKey: string; groupId: string }) => `${g.appKey}\u0000${g.groupId}`;
