// Wire types of facerec's person layer, clustering and album search (`/x/v1`, docs/persons.md).
import type { BoundingBox, DetailOptions, Face, FaceDetail } from './types.js';

export interface Person {
  personId: string;
  name?: string;
  /** Any JSON object, at most 4 KB as JSON. */
  metadata?: Record<string, unknown>;
  faceCount: number;
  /** `YYYY-MM-DDTHH:MM:SS`, UTC. */
  createTime: string;
  updateTime: string;
}

export interface PersonWithFaces extends Person {
  faceIds: string[];
}

export interface PersonFields {
  name?: string;
  metadata?: Record<string, unknown>;
}

export interface ListPersonsResult {
  personCount: number;
  persons: Person[];
  /** The empty string on the last page. */
  nextToken: string;
}

export interface RegisterPersonOptions extends PersonFields, DetailOptions {
  /** Add the faces to this person instead of creating one. */
  personId?: string;
  externalImageId?: string;
}

export interface RegisterPersonResult {
  person: Person;
  /** One entry per image, in order: the face registered, or why none was. */
  images: ({ index: number; faceId: string; face: Face } | { index: number; error: { resultCode: number; resultMessage: string; detail: string } })[];
}

export interface PersonMatch {
  person: Person;
  /** The best similarity over the person's faces, 0..100. */
  similarity: number;
  face: Face;
}

export interface SearchPersonsResult {
  sourceFace: FaceDetail;
  personCount: number;
  persons: PersonMatch[];
}

export interface VerifyPersonResult {
  similarity: number;
  face: Face;
  person: Person;
  sourceFace: FaceDetail;
}

export interface AlbumPhoto {
  imageId: string;
  externalImageId?: string;
  faces: { faceId: string; bbox: BoundingBox; similarity: number; personId?: string }[];
}

export interface FindPhotosResult {
  photoCount: number;
  photos: AlbumPhoto[];
  personId?: string;
  sourceFace?: FaceDetail;
}

export interface Cluster {
  clusterId: string;
  faceCount: number;
  representativeFaceId: string;
  faceIds: string[];
}

export interface ClusterJob {
  jobId: string;
  groupId: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  percent: number;
  createTime: string;
  updateTime: string;
  threshold: number;
  attachThreshold: number;
  faceCount?: number;
  clusterCount?: number;
  clusters?: Cluster[];
  unclusteredFaceIds?: string[];
  error?: string;
}
