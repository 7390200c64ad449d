import type { Store } from '../store/store.js';
import { ExactIndex } from './exact-index.js';
import type { FaceSearch, GroupRef, SearchHit } from './face-search.js';
import { IndexRegistry } from './index-registry.js';

/** Exact scans of per-group vectors held in memory: the reference every other FaceSearch is tested against. */
export class ExactFaceSearch implements FaceSearch {
  private readonly registry: IndexRegistry;

  constructor(
    private readonly store: Pick<Store, 'loadVectors'>,
    dimensions: number,
  ) {
    this.registry = new IndexRegistry(() => new ExactIndex(dimensions));
  }

  async search(group: GroupRef, query: Float32Array, k: number, minScore: number, exclude?: string): Promise<SearchHit[]> {
    const { appKey, groupId } = group;
    const index = await this.registry.get(registryKey(group), group.generation, () => this.store.loadVectors(appKey, groupId));
    return index.search(query, k, minScore, exclude).map((h) => ({ faceId: h.id, score: h.score }));
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
}

const registryKey = (g: { appKey: string; groupId: string }) => `${g.appKey}\u0000${g.groupId}`;
