import type { FaceRecord, FaceWithVector } from './store.js';

/**
 * Exactly the fields that are stored, as getFace will later return them: no vector (callers of
 * addFaces already hold it) and nothing else the caller's object happened to carry. Shared by
 * every Store implementation so that an add answers the same shape in each mode.
 */
export function toStoredRecord(face: FaceWithVector): FaceRecord {
  const record: FaceRecord = {
    faceId: face.faceId,
    imageId: face.imageId,
    bbox: { x0: face.bbox.x0, y0: face.bbox.y0, x1: face.bbox.x1, y1: face.bbox.y1 },
    landmarks: face.landmarks.map(({ type, x, y }) => ({ type, x, y })),
    confidence: face.confidence,
    createTime: new Date(face.createTime.getTime()),
  };
  if (face.externalImageId !== undefined) record.externalImageId = face.externalImageId;
  return record;
}
