/**
 * Wire shapes of the NHN Face Recognition API v2.0 as facerec sends them (src/http/nhn-v2.ts).
 * Coordinates are fractions 0–1 of the image size; similarity is 0–100; confidence is 0–1.
 */

export interface NhnHeader {
  isSuccessful: boolean;
  resultCode: number;
  resultMessage: string;
  /** facerec's reason for a failure, in words (not part of NHN's API). */
  detail?: string;
}

export interface Envelope<T> {
  header: NhnHeader;
  data?: T;
}

// The face shapes are the TypeScript client's (src/client/types.ts), the project's one definition
// of the v2.0 wire format; type-only, so nothing of the client enters the bundle.
import type { BoundingBox, Face, FaceDetailMatch, FaceMatch } from '../../../src/client/types';
export type { FaceDetail, Landmark, LandmarkType } from '../../../src/client/types';
import type { FaceDetail } from '../../../src/client/types';

export type BBox = BoundingBox;
/** Degrees: x = yaw, y = pitch, z = roll (docs/api-compatibility.md gives the signs). */
export type Orientation = NonNullable<FaceDetail['orientation']>;
export type StoredFace = Face;
export type ScoredFaceDetail = FaceDetailMatch;
export type SearchMatch = FaceMatch;

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

export type { SpoofingCondition } from '../../../src/client/types';
import type { SpoofingCondition } from '../../../src/client/types';

/** Optional parts of a face detail a request asks for (NHN defaults: orientation and mask on, spoofing off). */
export interface DetailOptions {
  spoofing?: boolean;
  spoofingCondition?: SpoofingCondition;
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

// facerec's privacy extension (/x/v1, docs/privacy.md), as the TypeScript client types it.
export type { ErasureResult as ErasureData, SubjectAccessResult as SubjectData, SubjectFace } from '../../../src/client/types';

// facerec's person layer, clustering and album search (/x/v1, docs/persons.md), as the client types them.
export type {
  AlbumPhoto,
  Cluster,
  ClusterJob,
  FindPhotosResult as PhotosData,
  ListPersonsResult,
  Person,
  PersonFields,
  PersonWithFaces,
  RegisterPersonResult as RegisterPersonData,
} from '../../../src/client/person-types';
