import { openSqliteVectorReader, type SqliteVectorReaderOptions } from './sqlite-vector-reader.js';
import type { FaceKey, FaceRecord, KeyedVector } from './store.js';

/**
 * How a worker thread opens its own reader of a store's vectors; structured-cloneable, so it can
 * travel to the thread. The search thread reads its candidates through it, so their decryption
 * (a native cipher object per vector, whose clean-up made the event loop's minor GCs take
 * 10–17 ms) stays off the server's event loop.
 */
export type WorkerVectorSource = { kind: 'sqlite'; options: SqliteVectorReaderOptions };

/** A face of `facesByKeys`: what a search answers of it, and its vector if it was asked for. */
export interface KeyedFace extends Pick<FaceRecord, 'faceId' | 'imageId' | 'externalImageId' | 'bbox' | 'confidence'> {
  key: FaceKey;
  vector?: Float32Array;
}

/** Which faces `facesByKeys` returns with their vectors: these keys, but never the face `except`. */
export interface VectorsWanted {
  keys: ArrayLike<FaceKey>;
  /** A search by a stored face's id never needs that face's own vector. */
  except?: string;
}

/** How many faces a group holds and its largest key. */
export interface KeySummary {
  count: number;
  max: number;
}

/** A synchronous reader of one store's vectors, held by a worker thread. */
export interface VectorReader {
  /** The faces of the group with the given keys (any order; keys no longer in the group are skipped). */
  vectorsByKeys(appKey: string, groupId: string, keys: ArrayLike<FaceKey>): KeyedVector[];
  /**
   * The faces of the group with the given keys, in one read (any order; keys no longer in the
   * group are skipped), with what a search answers of them, and each with its vector only where
   * `vectors` asks for it: the others cost no decryption, nor even a copy of their ciphertext.
   */
  facesByKeys(appKey: string, groupId: string, keys: ArrayLike<FaceKey>, vectors: VectorsWanted): KeyedFace[];
  /** The keys of every face of the group. */
  faceKeys(appKey: string, groupId: string): Float64Array;
  /** How many faces the group holds and its largest key, in one read: a maintained count and an index's last entry. */
  keySummary(appKey: string, groupId: string): KeySummary;
  close(): void;
}

export function openWorkerVectorReader(source: WorkerVectorSource): VectorReader {
  switch (source.kind) {
    case 'sqlite':
      return openSqliteVectorReader(source.options);
  }
}
