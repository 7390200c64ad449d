import type { FaceKey, KeyedVector, Store } from '../../store/store.js';
import type { FaceSearch, GroupRef, SearchHit } from '../face-search.js';
import { HnswHost } from './hnsw-host.js';
import type { HnswOptions } from './hnsw-worker.js';

export interface AnnSettings {
  /** Groups with fewer faces are searched by the exact scan (measured crossover: docs/scale.md). */
  exactBelow: number;
  /** Candidates fetched from the graph per result wanted, before exact re-ranking. */
  candidatesPerResult: number;
  /** Fewest candidates fetched, however few results are wanted. */
  minCandidates: number;
  /** Faces read from the store and added to a graph per step of a build. */
  buildBatch: number;
  hnsw: HnswOptions;
}

export const DEFAULT_ANN_SETTINGS: AnnSettings = {
  exactBelow: 20_000,
  candidatesPerResult: 2,
  minCandidates: 32,
  buildBatch: 1_000,
  hnsw: { dimensions: 512, connectivity: 16, expansionAdd: 128, expansionSearch: 64 },
};

type VectorSource = Pick<Store, 'vectorBatch' | 'vectorsByKeys'>;

interface AnnGroup {
  generation: number;
  /** Resolves once every face the store held when the build began is in the graph. */
  built: Promise<void>;
  ready: boolean;
}

/**
 * Large groups searched through an HNSW graph in a worker thread (hnsw-worker.ts), small ones by
 * the exact scan it is tested against. The graph only proposes candidates: their vectors are
 * read from the store and scored exactly, so every score is the exact cosine, a face deleted
 * from the store is never returned, and quantisation (i8 in the graph) costs recall, never
 * accuracy of the figures.
 */
export class AnnFaceSearch implements FaceSearch {
  private readonly groups = new Map<string, AnnGroup>();
  private readonly host = new HnswHost();

  constructor(
    private readonly store: VectorSource,
    private readonly exact: FaceSearch,
    private readonly settings: AnnSettings = DEFAULT_ANN_SETTINGS,
  ) {}

  async search(group: GroupRef, query: Float32Array, k: number, minScore: number, exclude?: string): Promise<SearchHit[]> {
    const name = groupName(group);
    let g = this.groups.get(name);
    if (g && g.generation !== group.generation) {
      this.forget(name);
      g = undefined;
    }
    if (!g && group.faceCount >= this.settings.exactBelow) g = this.build(name, group);
    // Until its graph is complete a group is answered exactly, so a build never costs an answer.
    if (!g?.ready) return this.exact.search(group, query, k, minScore, exclude);

    const wanted = Math.max(this.settings.minCandidates, (k + (exclude ? 1 : 0)) * this.settings.candidatesPerResult);
    const { keys } = await this.host.search(name, query, wanted);
    const candidates = await this.store.vectorsByKeys(group.appKey, group.groupId, keys);
    return rerank(candidates, query, k, minScore, exclude);
  }

  /** Whether searches of the group go through its graph (false while the exact scan answers). */
  isGraphReady(group: GroupRef): boolean {
    return this.current(group)?.ready ?? false;
  }

  added(group: GroupRef, faces: KeyedVector[]): void {
    this.exact.added(group, faces);
    const g = this.current(group);
    if (!g || faces.length === 0) return;
    void this.host.add(groupName(group), Float64Array.from(faces, (f) => f.key), packVectors(faces, this.settings.hnsw.dimensions));
  }

  removed(group: GroupRef, face: { key: FaceKey; faceId: string }): void {
    this.exact.removed(group, face);
    if (this.current(group)) void this.host.remove(groupName(group), [face.key]);
  }

  dropped(group: { appKey: string; groupId: string }): void {
    this.exact.dropped(group);
    this.forget(groupName(group));
  }

  async close(): Promise<void> {
    await this.host.close();
    await this.exact.close();
  }

  private current(group: GroupRef): AnnGroup | undefined {
    const name = groupName(group);
    const g = this.groups.get(name);
    if (g && g.generation !== group.generation) {
      this.forget(name);
      return undefined;
    }
    return g;
  }

  private forget(name: string): void {
    if (!this.groups.delete(name)) return;
    void this.host.drop(name);
  }

  /**
   * Reads the group from the store in key order and adds it to a new graph, one batch per turn
   * of the event loop. Faces registered meanwhile reach the graph through `added` as well; the
   * worker skips a key it already holds, so a face read by the build and told by `added` is added once.
   */
  private build(name: string, group: GroupRef): AnnGroup {
    const { appKey, groupId } = group;
    const g: AnnGroup = { generation: group.generation, ready: false, built: Promise.resolve() };
    this.groups.set(name, g);
    g.built = (async () => {
      await this.host.create(name, this.settings.hnsw);
      let after = 0;
      for (;;) {
        if (this.groups.get(name) !== g) return;
        const batch = await this.store.vectorBatch(appKey, groupId, after, this.settings.buildBatch);
        if (batch.length === 0) break;
        // Sent in the same turn as the read, so a removal told after the read reaches the worker after this add.
        const sent = this.host.add(name, Float64Array.from(batch, (f) => f.key), packVectors(batch, this.settings.hnsw.dimensions));
        after = batch[batch.length - 1].key;
        await sent;
      }
      if (this.groups.get(name) !== g) return;
      g.ready = true;
      this.exact.dropped(group);
    })().catch((error: unknown) => {
      // A failed build leaves the group to the exact scan; the next search tries again.
      if (this.groups.get(name) === g) this.forget(name);
      throw error;
    });
    g.built.catch(() => {});
    return g;
  }
}

function rerank(candidates: KeyedVector[], query: Float32Array, k: number, minScore: number, exclude?: string): SearchHit[] {
  const hits: SearchHit[] = [];
  for (const c of candidates) {
    if (c.faceId === exclude) continue;
    let s = 0;
    for (let i = 0; i < query.length; i++) s += c.vector[i] * query[i];
    if (s >= minScore) hits.push({ faceId: c.faceId, score: s });
  }
  return hits.sort((a, b) => b.score - a.score).slice(0, k);
}

function packVectors(faces: { vector: Float32Array }[], dimensions: number): Float32Array {
  const out = new Float32Array(faces.length * dimensions);
  faces.forEach((f, i) => out.set(f.vector, i * dimensions));
  return out;
}

const groupName = (g: { appKey: string; groupId: string }) => `${g.appKey}\u0000${g.groupId}`;
