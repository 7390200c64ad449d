/**
 * Request and response types of the NHN Cloud Face Recognition API v2.0 as facerec serves it.
 * Kept free of server imports so that the client can be lifted into its own package.
 */

/** An image: its bytes (sent base64-encoded), or a URL the server downloads. */
export type ImageSource = Uint8Array | { url: string };

export interface ResponseHeader {
  isSuccessful: boolean;
  resultCode: number;
  resultMessage: string;
  /** facerec's reason for a failure (absent on success and from NHN's own service). */
  detail?: string;
}

// ── shapes inside responses ──────────────────────────────────────────────────

/** Box corners as fractions (0..1) of the image width and height. */
export interface BoundingBox {
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

/** A face found in a request image. */
export interface FaceDetail {
  bbox: BoundingBox;
  landmarks: Landmark[];
  /** Degrees: x = yaw, y = pitch, z = roll. Present unless `orientation: false` was asked. */
  orientation?: { x: number; y: number; z: number };
  /** Present unless `mask: false` was asked. */
  mask?: boolean;
  /** Present when spoofing was asked for: true = judged a presentation attack. */
  spoofing?: boolean;
  /** Detector confidence, 0..1. */
  confidence: number;
}

/** A face stored in a group. */
export interface Face {
  faceId: string;
  imageId: string;
  externalImageId?: string;
  bbox: BoundingBox;
  confidence: number;
}

export interface GroupSummary {
  groupId: string;
}

export interface GroupDetails {
  groupId: string;
  /** `YYYY-MM-DDTHH:MM:SS`, UTC. */
  createTime: string;
  faceCount: number;
}

export interface FaceMatch {
  face: Face;
  /** 0..100. */
  similarity: number;
}

export interface FaceDetailMatch {
  faceDetail: FaceDetail;
  similarity: number;
}

// ── request options ──────────────────────────────────────────────────────────

export type SpoofingCondition = 'weak' | 'balanced' | 'strict';

/** Which optional parts of each returned face detail to compute (NHN defaults: orientation and mask on). */
export interface DetailOptions {
  orientation?: boolean;
  mask?: boolean;
  spoofing?: boolean;
  spoofingCondition?: SpoofingCondition;
}

export interface PageOptions {
  /** 1..200. */
  limit: number;
  nextToken?: string;
}

export interface FaceFilter {
  faceId?: string;
  imageId?: string;
  externalImageId?: string;
}

export interface RegisterOptions extends DetailOptions {
  /** Register the largest `limit` faces of the image (1..20). */
  limit: number;
  /** `[a-zA-Z0-9_.\-:]{1,255}`. */
  externalImageId?: string;
}

export interface SearchOptions {
  /** 1..4096. */
  limit: number;
  /** 1..100; faces with similarity ≥ threshold are returned. */
  threshold: number;
}

export interface CompareOptions extends DetailOptions {
  threshold: number;
}

export interface SpoofingOptions {
  spoofingCondition?: SpoofingCondition;
  /** The image is one aligned 224×224 face: no detection. */
  aligned?: boolean;
}

/** For the paging iterators: faces or groups fetched per request (1..200, default 200). */
export interface IterateOptions {
  pageSize?: number;
}

// ── response data ────────────────────────────────────────────────────────────

export interface ListGroupsResult {
  groupCount: number;
  groups: GroupSummary[];
  /** Pass as `nextToken` for the next page; "" on the last page (NHN marks it required). */
  nextToken: string;
}

export interface DetectResult {
  faceDetailCount: number;
  faceDetails: FaceDetail[];
}

export interface RegisterResult {
  /**
   * 0, or 40070 when the group filled up part-way: some faces were added, the rest are in
   * `notAddedFaces` (NHN's partial success, `isSuccessful: true`).
   */
  resultCode: number;
  resultMessage: string;
  addedFaceCount: number;
  addedFaces: Face[];
  addedFaceDetails: FaceDetail[];
  notAddedFaceCount: number;
  notAddedFaces: FaceDetail[];
}

export interface ListFacesResult {
  faceCount: number;
  faces: Face[];
  /** Pass as `nextToken` for the next page; "" on the last page (NHN marks it required). */
  nextToken: string;
}

export interface SearchByFaceIdResult {
  matchFaceCount: number;
  matchFaces: FaceMatch[];
}

export interface SearchByImageResult extends SearchByFaceIdResult {
  sourceFace: FaceDetail;
}

export interface CompareResult {
  matchedFaceDetailCount: number;
  matchedFaceDetails: FaceDetailMatch[];
  unmatchedFaceDetailCount: number;
  unmatchedFaceDetails: FaceDetailMatch[];
  sourceFace: FaceDetail;
}

export interface VerifyResult {
  similarity: number;
  face: Face;
  sourceFace: FaceDetail;
}

export type SpoofingResult = DetectResult;

// ── facerec's privacy extension (/x/v1/appkeys/{appKey}; not on NHN Cloud) ─────

/** What the data subject agreed to: each 1–255 characters without control characters. */
export interface ConsentOptions {
  /** Your reference to the consent (a record id, a form and its version). */
  consentRef?: string;
  /** What the face is processed for, as the consent states it. */
  purpose?: string;
}

export type RegisterWithConsentOptions = RegisterOptions & ConsentOptions;

/** A face as subject access shows it: where it is and what describes it, never its vector. */
export interface SubjectFace {
  groupId: string;
  faceId: string;
  imageId: string;
  externalImageId: string;
  /** UTC, `YYYY-MM-DDTHH:mm:ss`. */
  createTime: string;
  bbox: BoundingBox;
  confidence: number;
  /** Present when the face was registered with consent metadata. */
  consentRef?: string;
  purpose?: string;
}

export interface SubjectAccessResult {
  externalImageId: string;
  faceCount: number;
  faces: SubjectFace[];
}

export interface ErasureResult {
  externalImageId: string;
  /** Faces this call deleted (a retry counts only what was still there). */
  deletedFaceCount: number;
  /** Groups that held some of them; groups with none are not listed. */
  groups: { groupId: string; deletedFaceCount: number }[];
}

export type AuditAction = 'register' | 'delete' | 'search' | 'verify' | 'compare' | 'erase' | 'export' | 'expire';

/** One audit log entry; subjects and faces appear only as keyed pseudonyms. */
export interface AuditEntry {
  seq: number;
  /** ISO 8601. */
  time: string;
  action: AuditAction;
  groupId?: string;
  subjectRef?: string;
  faceRefs: string[];
  count: number;
  requestId?: string;
  prevHash: string;
  hash: string;
}

export interface AuditQuery {
  /** Inclusive. */
  from?: Date | string;
  /** Exclusive. */
  to?: Date | string;
  /** Only entries about this subject. */
  externalImageId?: string;
  /** 1..1000 (server default 100). */
  limit?: number;
  /** Only entries after this seq (paging: the last seq seen). */
  afterSeq?: number;
}

export interface AuditLogResult {
  entryCount: number;
  entries: AuditEntry[];
}

export interface RetentionSettings {
  /** The app's default period in days; absent: groups without their own keep their faces. */
  defaultRetentionDays?: number;
  groups: { groupId: string; retentionDays: number }[];
}
