import type { FaceWithVector } from '../src/store/store.js';
import { ClusteredVectors } from '../test/support/clustered-vectors.js';

/**
 * bench:scale's synthetic data set, the same for every store: face f<j> is a photo of identity
 * ⌊j / PHOTOS_PER_ID⌋, drawn by ClusteredVectors seeded with the data set's size, so a data set
 * of n faces holds the same vectors in SQLite and in PostgreSQL.
 */
export const PHOTOS_PER_ID = 5;

/** Faces f<j> are photos of person ⌊j / PHOTOS_PER_ID⌋. */
export const personOf = (faceId: string) => Math.floor(Number(faceId.slice(1)) / PHOTOS_PER_ID);

export function makeFace(vector: Float32Array, id: string, createTime = new Date()): FaceWithVector {
  return { faceId: id, imageId: id, bbox: { x0: 0.1, y0: 0.1, x1: 0.5, y1: 0.5 }, landmarks: [], confidence: 0.99, createTime, vector };
}

/** The faces f<from>… f<to - 1> of the data set made by `gen` (faces must be drawn in order). */
export function dataSetFaces(gen: ClusteredVectors, from: number, to: number, prefix = 'f'): FaceWithVector[] {
  const out: FaceWithVector[] = [];
  for (let j = from; j < to; j++) out.push(makeFace(gen.face(Math.floor(j / PHOTOS_PER_ID)), `${prefix}${j}`));
  return out;
}
