/**
 * The persistence boundary. The domain talks only to this interface; SQLite is the embedded
 * default and a PostgreSQL implementation will follow, so nothing here names a SQL dialect.
 *
 * Durability contract: every method that writes resolves only after the write is on disk
 * (committed and synced). Vectors are encrypted by the implementation before they are stored
 * and decrypted when read; callers see plain Float32Arrays.
 */

export interface AppRecord {
  appKey: string;
  /** sha256 of the v2 secret key; the secret itself is never stored. */
  secretKeyHash: string;
  createTime: Date;
}

export interface GroupRecord {
  appKey: string;
  groupId: string;
  modelVersion: string;
  createTime: Date;
  faceCount: number;
  /** Counts every face added to or removed from the group; a vector index snapshot records it. */
  revision: number;
}

/**
 * The store's integer key of a face: stable for the face's life and never reused, so a vector
 * index can name faces by it (8 bytes) instead of by faceId.
 */
export type FaceKey = number;

/** A face as a vector index needs it. */
export interface KeyedVector {
  key: FaceKey;
  faceId: string;
  vector: Float32Array;
}

/** Box and landmarks are fractions (0..1) of the registered image's width and height. */
export interface FaceRecord {
  faceId: string;
  imageId: string;
  externalImageId?: string;
  bbox: { x0: number; y0: number; x1: number; y1: number };
  landmarks: { type: string; x: number; y: number }[];
  confidence: number;
  createTime: Date;
}

export interface FaceWithVector extends FaceRecord {
  vector: Float32Array;
}

export interface FaceFilter {
  faceId?: string;
  imageId?: string;
  externalImageId?: string;
}

/**
 * Keyset pagination: an opaque position after which the next page starts. Groups are ordered
 * by groupId ascending; faces newest first (createTime desc, then most recently inserted first,
 * which orders faces added in one call, sharing a createTime, deterministically).
 */
export type Cursor = string;

export interface Page<T> {
  items: T[];
  /** Position after the last item, present when more items may follow. */
  next?: Cursor;
}

export interface AddFacesResult {
  /** The first `added.length` of the faces given, in the order given. */
  added: FaceRecord[];
  /** The key of each added face, in the same order. */
  keys: FaceKey[];
  /** Faces refused because the group reached its quota during this call. */
  refusedForQuota: number;
}

/** Why a create was refused: the record already exists, or the owner reached its quota. */
export type StoreConflictReason = 'exists' | 'quota';

export class StoreConflictError extends Error {
  constructor(message: string, readonly reason: StoreConflictReason = 'exists') {
    super(message);
    this.name = 'StoreConflictError';
  }
}

/**
 * The database could not be reached or did not answer in time (a networked store: PostgreSQL
 * restarting, a network partition, a statement timeout). Requests fail fast with NHN -50000 and a
 * detail saying so; the store reconnects by itself, so a retry succeeds once the database is back.
 */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export interface Store {
  // Apps (tenants). Every group and face belongs to exactly one app.
  /** Throws StoreConflictError (reason 'exists') if the app exists. */
  createApp(appKey: string, secretKeyHash: string): Promise<AppRecord>;
  getApp(appKey: string): Promise<AppRecord | undefined>;
  listApps(): Promise<AppRecord[]>;
  /** Replaces the app's secret key hash (key rotation). False if the app does not exist. */
  setAppSecret(appKey: string, secretKeyHash: string): Promise<boolean>;
  /** Deletes the app with all its groups, faces and vectors. */
  deleteApp(appKey: string): Promise<boolean>;

  /**
   * Throws StoreConflictError with reason 'exists' if the group exists, or 'quota' if the app
   * already has `maxGroups`. The app must exist.
   */
  createGroup(appKey: string, groupId: string, modelVersion: string, maxGroups: number): Promise<GroupRecord>;
  getGroup(appKey: string, groupId: string): Promise<GroupRecord | undefined>;
  listGroups(appKey: string, limit: number, after?: Cursor): Promise<Page<GroupRecord>>;
  /** Deletes the group, its faces and vectors. False if it did not exist. */
  deleteGroup(appKey: string, groupId: string): Promise<boolean>;

  /**
   * Adds faces to a group atomically with the quota check: faces are added in the given order
   * until the group holds `maxFaces`; the rest are refused. Resolves once durable.
   * Resolves undefined if the group does not exist.
   */
  addFaces(appKey: string, groupId: string, faces: FaceWithVector[], maxFaces: number): Promise<AddFacesResult | undefined>;
  getFace(appKey: string, groupId: string, faceId: string): Promise<FaceWithVector | undefined>;
  /** The records of the given faces that exist in the group (any order; missing ids are skipped). */
  getFaces(appKey: string, groupId: string, faceIds: string[]): Promise<FaceRecord[]>;
  listFaces(appKey: string, groupId: string, limit: number, filter: FaceFilter, after?: Cursor): Promise<Page<FaceRecord>>;
  /** The deleted face's key; undefined if the face is not in the group. */
  deleteFace(appKey: string, groupId: string, faceId: string): Promise<FaceKey | undefined>;
  /** The face count of every group of every app (operations metrics; no ids leave the store). */
  groupFaceCounts(): Promise<number[]>;
  /** The keys of every face of the group, ascending: what an index snapshot is reconciled against. */
  faceKeys(appKey: string, groupId: string): Promise<FaceKey[]>;
  /** Up to `limit` faces whose key is above `afterKey`, ascending by key: an index built in batches. */
  vectorBatch(appKey: string, groupId: string, afterKey: FaceKey, limit: number): Promise<KeyedVector[]>;
  /** The faces of the group with the given keys (any order; keys no longer in the group are skipped). */
  vectorsByKeys(appKey: string, groupId: string, keys: FaceKey[]): Promise<KeyedVector[]>;

  close(): Promise<void>;
}
