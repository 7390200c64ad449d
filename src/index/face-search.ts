import type { FaceKey, FaceRecord, GroupRecord, KeyedVector } from '../store/store.js';

/**
 * One group as a search index sees it. `generation` tells incarnations apart (a group deleted and
 * created again under the same id is another group); `revision` and `faceCount` are the store's
 * at the time the caller read the group.
 */
export interface GroupRef {
  appKey: string;
  groupId: string;
  generation: number;
  revision: number;
  faceCount: number;
}

/** A group as the store holds it, as the search sees it. */
export const toGroupRef = (g: GroupRecord): GroupRef => ({
  appKey: g.appKey,
  groupId: g.groupId,
  generation: g.createTime.getTime(),
  revision: g.revision,
  faceCount: g.faceCount,
});

/** What a search's answer shows of a face besides its id and score. */
export type HitFace = Pick<FaceRecord, 'imageId' | 'externalImageId' | 'bbox' | 'confidence'>;

export interface SearchHit {
  faceId: string;
  /**
   * Cosine similarity of the stored vector and the query: exact, but for the results after the
   * first of a large group's search, which may be ranked on 8-bit vectors (within 2e-3; docs/scale.md).
   */
  score: number;
  /**
   * The face's record, when the search read it with the face's id and no deletion of a face
   * reached the index while it ran (so it is current when answered); otherwise the caller reads it.
   */
  face?: HitFace;
}

/**
 * 1:N search over the faces of a group: the domain's one port to whatever answers it (an exact
 * scan in memory, an ANN index in a worker thread, or the database itself). Writes are told
 * after they are durable in the store; a search issued after such a call sees them.
 */
export interface FaceSearch {
  /** Best `k` faces by cosine, at or above `minScore`, best first; `exclude` is skipped. */
  search(group: GroupRef, query: Float32Array, k: number, minScore: number, exclude?: string): Promise<SearchHit[]>;
  added(group: GroupRef, faces: KeyedVector[]): void;
  removed(group: GroupRef, face: { key: FaceKey; faceId: string }): void;
  /** The group is gone: forget it, everywhere this search keeps anything. */
  dropped(group: { appKey: string; groupId: string }): void;
  close(): Promise<void>;
}
