import type { AnnFaceSearch } from '../../src/index/ann/ann-face-search.js';
import { toGroupRef, type GroupRef } from '../../src/index/face-search.js';
import type { SqliteStore } from '../../src/store/sqlite-store.js';
import type { FaceWithVector } from '../../src/store/store.js';

let n = 0;
/** A stored face around `vector`, with ids unique within the test process. */
export function faceOf(vector: Float32Array): FaceWithVector {
  n++;
  return {
    faceId: `face-${n}`, imageId: `img-${n}`, bbox: { x0: 0, y0: 0, x1: 1, y1: 1 }, landmarks: [],
    confidence: 1, createTime: new Date(1_700_000_000_000 + n), vector,
  };
}

/** The index's view of group `groupId` of app 'app', as the domain would pass it now. */
export async function groupOf(store: SqliteStore, groupId: string): Promise<GroupRef> {
  return toGroupRef((await store.getGroup('app', groupId))!);
}

/** Searches until the group's index is ready (searches are answered exactly until then). */
export async function untilIndexReady(ann: AnnFaceSearch, group: () => Promise<GroupRef>, query: Float32Array): Promise<void> {
  for (let i = 0; i < 400; i++) {
    await ann.search(await group(), query, 1, -1);
    if (ann.isIndexReady(await group())) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('index not ready');
}
