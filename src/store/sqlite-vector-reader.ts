import Database from 'better-sqlite3';
import type { FaceKey, KeyedVector } from './store.js';
import { VectorCipher } from './vector-crypto.js';
import type { KeyedFace, KeySummary, VectorReader, VectorsWanted } from './worker-vectors.js';

/**
 * The faces of a group with the given keys, the key list as a JSON array. As getFaces: the key
 * list is the outer loop, one primary-key lookup per key.
 */
export const VECTORS_BY_KEYS_SQL =
  'SELECT faces.seq, faces.faceId, faces.vector FROM json_each(@keys) AS wanted CROSS JOIN faces ON faces.seq = wanted.value ' +
  'WHERE faces.appKey = @appKey AND faces.groupId = @groupId';

/** The faces of a group with the given keys, with what a search answers of them and their vectors. */
// The vector column only where it was asked for: each one the driver hands back is a fresh 2 KB
// buffer, and eleven a search (the top ten and the query's own face) were most of what the scan
// thread allocated, so most of its young-generation collections (docs/scale.md, stop 31).
const FACES_BY_KEYS_SQL =
  'SELECT faces.seq, faces.faceId, faces.imageId, faces.externalImageId, faces.bbox, faces.confidence, ' +
  'CASE WHEN faces.seq IN (SELECT value FROM json_each(@vectorKeys)) AND faces.faceId IS NOT @except THEN faces.vector END AS vector ' +
  'FROM json_each(@keys) AS wanted CROSS JOIN faces ON faces.seq = wanted.value WHERE faces.appKey = @appKey AND faces.groupId = @groupId';

interface FaceRow extends Omit<KeyedRow, 'vector'> {
  vector: Buffer | null;
  imageId: string;
  externalImageId: string | null;
  bbox: string;
  confidence: number;
}

export interface SqliteVectorReaderOptions {
  /** The database file. */
  path: string;
  /** The master key the vectors are encrypted with. */
  masterKey: Uint8Array;
  busyTimeoutMs: number;
}

/** A face's key, id and encrypted vector, as the vector queries read them. */
export interface KeyedRow {
  seq: number;
  faceId: string;
  vector: Buffer;
}

/** A row of the vector queries with its vector decrypted. */
export function toKeyedVector(cipher: VectorCipher, row: KeyedRow): KeyedVector {
  return { key: row.seq, faceId: row.faceId, vector: cipher.decrypt(row.faceId, row.vector) };
}

/**
 * A read-only connection of a worker thread to the store's file (WorkerVectorSource). WAL mode
 * lets it read while the server's connection writes; each read sees every commit made before it
 * began, so a face is readable here as soon as its registration has been answered, and a deleted
 * one is not.
 */
export function openSqliteVectorReader({ path, masterKey, busyTimeoutMs }: SqliteVectorReaderOptions): VectorReader {
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
  const cipher = new VectorCipher(Buffer.from(masterKey));
  const statement = db.prepare(VECTORS_BY_KEYS_SQL);
  const faces = db.prepare(FACES_BY_KEYS_SQL);
  const keysOf = db.prepare('SELECT seq FROM faces WHERE appKey = ? AND groupId = ?').pluck();
  // The count the groups table maintains and the last entry of faces_by_group_seq: 0.05 ms at a
  // million faces, where counting and summing the keys took 80-450 ms of a cold load.
  const summaryOf = db.prepare(
    'SELECT coalesce((SELECT faceCount FROM groups WHERE appKey = @appKey AND groupId = @groupId), 0) AS count, ' +
      'coalesce((SELECT max(seq) FROM faces WHERE appKey = @appKey AND groupId = @groupId), 0) AS max',
  );
  return {
    vectorsByKeys(appKey: string, groupId: string, keys: ArrayLike<FaceKey>): KeyedVector[] {
      if (keys.length === 0) return [];
      const rows = statement.all({ appKey, groupId, keys: JSON.stringify(Array.from(keys)) }) as KeyedRow[];
      return rows.map((row) => toKeyedVector(cipher, row));
    },
    facesByKeys(appKey: string, groupId: string, keys: ArrayLike<FaceKey>, vectors: VectorsWanted): KeyedFace[] {
      if (keys.length === 0) return [];
      const rows = faces.all({ appKey, groupId, keys: JSON.stringify(Array.from(keys)), vectorKeys: JSON.stringify(Array.from(vectors.keys)), except: vectors.except ?? null }) as FaceRow[];
      return rows.map((row) => {
        const face: KeyedFace = { key: row.seq, faceId: row.faceId, imageId: row.imageId, bbox: JSON.parse(row.bbox) as KeyedFace['bbox'], confidence: row.confidence };
        if (row.externalImageId !== null) face.externalImageId = row.externalImageId;
        if (row.vector !== null) face.vector = cipher.decrypt(row.faceId, row.vector);
        return face;
      });
    },
    faceKeys(appKey: string, groupId: string): Float64Array {
      // One read, so one snapshot of the group; on this thread its few hundred milliseconds at a
      // million faces hold no request.
      return Float64Array.from(keysOf.all(appKey, groupId) as FaceKey[]);
    },
    keySummary: (appKey: string, groupId: string) => summaryOf.get({ appKey, groupId }) as KeySummary,
    close: () => db.close(),
  };
}
