import type { SpoofCondition } from '../engine/spoof.js';

/** An image as a client passes it: raw bytes (already base64-decoded or uploaded) or a URL to fetch. */
export type ImageInput = { bytes: Uint8Array } | { url: string };

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

/** A face found in a request image. Coordinates are fractions (0..1) of the image size. */
export interface FaceDetail {
  bbox: BBox;
  landmarks: Landmark[];
  /** Degrees: x = yaw, y = pitch, z = roll (signs in docs/engine.md). */
  orientation?: { x: number; y: number; z: number };
  mask?: boolean;
  /** Present when spoofing was asked for: true = judged a presentation attack. */
  spoofing?: boolean;
  confidence: number;
}

/** A face stored in a group. */
export interface StoredFace {
  faceId: string;
  imageId: string;
  externalImageId?: string;
  bbox: BBox;
  confidence: number;
}

/** Which optional parts of a FaceDetail a request asks for (NHN request flags). */
export interface DetailFlags {
  orientation: boolean;
  mask: boolean;
  spoofing: boolean;
  spoofingCondition: SpoofCondition;
}

export interface GroupInfo {
  groupId: string;
  modelVersion: string;
  createTime: Date;
  faceCount: number;
}

export interface Paged<T> {
  items: T[];
  nextToken?: string;
}

export interface SearchMatch {
  face: StoredFace;
  similarity: number;
}
