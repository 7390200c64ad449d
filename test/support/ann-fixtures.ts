import type { AnnFaceSearch } from '../../src/index/ann/ann-face-search.js';
import { toGroupRef, type GroupRef } from '../../src/index/face-search.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { FaceWithVector } from '../../src/store/store.js';
import { ClusteredVectors } from './clustered-vectors.js';
import { readSnapshot } from '../../src/index/ann/snapshot-files.js';

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

/**
 * A store at `dir` holding app 'app' and its group 'g' of `identities` × `photos` clustered faces
 * (`ClusteredVectors` with `seed`), faces in the order made.
 */
export async function clusteredGroup(dir: string, seed: number, identities: number, photos: number, options: Parameters<typeof SqliteStore.open>[1] = {}): Promise<{ store: SqliteStore; gen: ClusteredVectors; faces: FaceWithVector[] }> {
  const store = SqliteStore.open(dir, options);
  await store.createApp('app', 'h');
  await store.createGroup('app', 'g', 'v', 10);
  const gen = new ClusteredVectors(512, seed);
  const faces: FaceWithVector[] = [];
  for (let id = 0; id < identities; id++) for (let p = 0; p < photos; p++) faces.push(faceOf(gen.face(id)));
  await store.addFaces('app', 'g', faces, 1e9);
  return { store, gen, faces };
}

/** The plaintext of the snapshot file at `path`, read as the scan thread reads it (readSnapshot); throws as it does. */
export function openedSnapshot(key: Uint8Array, group: string, path: string): Buffer {
  const pieces: Buffer[] = [];
  readSnapshot(key, group, path, { begin: () => {}, take: (piece) => pieces.push(piece) });
  return Buffer.concat(pieces);
}
