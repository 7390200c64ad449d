/**
 * Persistence ports of the privacy operations (docs/privacy.md), kept apart from `Store` so that
 * each store implementation adds them without touching the face store's contract.
 */

/**
 * What a deletion can leave behind in the storage engine's own files (a write-ahead log holding
 * older copies of deleted rows). `purge` resolves once those copies are gone from disk, as far as
 * the engine allows while other connections read.
 */
export interface StorageResidue {
  purge(): Promise<void>;
}
