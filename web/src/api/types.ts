/**
 * Wire shapes of the NHN Face Recognition API v2.0 as facerec sends them (src/http/nhn-v2.ts).
 * Coordinates are fractions 0–1 of the image size; similarity is 0–100; confidence is 0–1.
 */

export interface NhnHeader {
  isSuccessful: boolean;
  resultCode: number;
  resultMessage: string;
}

export interface Envelope<T> {
  header: NhnHeader;
  data?: T;
}

export interface BBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export type LandmarkType = 'leftEye' | 'rightEye' | 'nose' | 'leftLip' | 'rightLip';

export interface Landmark {
  type: LandmarkType;
  x: number;
  y: number;
}

/** Degrees: x = yaw, y = pitch, z = roll (docs/api-compatibility.md gives the signs). */
export interface Orientation {
  x: number;
  y: number;
  z: number;
}

export interface FaceDetail {
  bbox: BBox;
  landmarks: Landmark[];
  orientation?: Orientation;
  mask?: boolean;
  /** Present only when spoofing was asked for: true = judged a presentation attack. */
  spoofing?: boolean;
  confidence: number;
}

export interface StoredFace {
  faceId: string;
  imageId: string;
  externalImageId?: string;
  bbox: BBox;
  confidence: number;
}

export interface ScoredFaceDetail {
  faceDetail: FaceDetail;
  similarity: number;
}

export interface SearchMatch {
  face: StoredFace;
  similarity: number;
}

export interface DetectData {
  faceDetailCount: number;
  faceDetails: FaceDetail[];
}

export interface CompareData {
  matchedFaceDetailCount: number;
  matchedFaceDetails: ScoredFaceDetail[];
  unmatchedFaceDetailCount: number;
  unmatchedFaceDetails: ScoredFaceDetail[];
  sourceFace: FaceDetail;
}

export interface GroupsData {
  groupCount: number;
  groups: { groupId: string }[];
  nextToken?: string;
}

export interface GroupDetails {
  groupId: string;
  createTime: string;
  faceCount: number;
}

export interface RegisterData {
  addedFaceCount: number;
  addedFaces: StoredFace[];
  addedFaceDetails: FaceDetail[];
  notAddedFaceCount: number;
  notAddedFaces: FaceDetail[];
}

export interface FacesData {
  faceCount: number;
  faces: StoredFace[];
  nextToken?: string;
}

export interface SearchData {
  matchFaceCount: number;
  matchFaces: SearchMatch[];
  /** Only for search by image: the face of the uploaded image that was searched for. */
  sourceFace?: FaceDetail;
}

export interface VerifyData {
  similarity: number;
  face: StoredFace;
  sourceFace: FaceDetail;
}

export type SpoofingCondition = 'weak' | 'balanced' | 'strict';

/** Optional parts of a face detail a request asks for (NHN defaults: orientation and mask on, spoofing off). */
export interface DetailOptions {
  spoofing?: boolean;
  spoofingCondition?: SpoofingCondition;
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}
