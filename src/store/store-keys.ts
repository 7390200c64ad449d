import { join } from 'node:path';
import { loadOrCreateKeyFile } from './master-key.js';
import { deriveSubkey, fingerprintsMatch, masterKeyFingerprint, parseMasterKey, VectorCipher } from './vector-crypto.js';

/**
 * Which master key a store opens with, whether it is the key its data was encrypted with, and
 * what the store derives from it. Every Store implementation follows the same steps, with its own
 * way of reading and writing the recorded fingerprint:
 *
 *   const key = chooseMasterKey(dataDir, configuredKey, <a fingerprint is recorded>);
 *   <record masterKeyFingerprint(key) under MASTER_KEY_FINGERPRINT unless one is recorded>;
 *   assertRecordedKey(key, <the recorded fingerprint>, dataDir, configuredKey);
 *   const { cipher, tokenSecret } = storeKeys(key);
 *
 * Recording only when absent and then reading back makes two processes opening a new database
 * agree on one key.
 */

export const MASTER_KEY_FILE = 'master.key';
/** The name under which a store records its key's fingerprint next to the data. */
export const MASTER_KEY_FINGERPRINT = 'masterKeyFingerprint';

/**
 * The configured key, else the key file. The file is generated only while the data records no
 * key: data encrypted under a lost key file must not silently get a new one.
 */
export function chooseMasterKey(dataDir: string, configuredKey: string | undefined, keyRecorded: boolean): Buffer {
  return configuredKey !== undefined
    ? parseMasterKey(configuredKey, 'the configured master key (FACEREC_MASTER_KEY)')
    : loadOrCreateKeyFile(join(dataDir, MASTER_KEY_FILE), !keyRecorded);
}

/** A wrong key fails here, at open, rather than on the first face read. */
export function assertRecordedKey(key: Buffer, recordedFingerprint: string, dataDir: string, configuredKey: string | undefined): void {
  if (fingerprintsMatch(recordedFingerprint, masterKeyFingerprint(key))) return;
  const source = configuredKey !== undefined ? 'FACEREC_MASTER_KEY' : join(dataDir, MASTER_KEY_FILE);
  throw new Error(
    `The master key from ${source} is not the key this database's face vectors were encrypted with; ` +
    'start with the original key (vectors cannot be decrypted with any other).');
}

export interface StoreKeys {
  cipher: VectorCipher;
  /**
   * Signs page tokens so they survive restarts: a separate subkey, so token signing never
   * touches the vector key itself.
   */
  tokenSecret: Buffer;
  /** Encrypts persisted vector indexes (their graphs hold quantised face vectors). */
  indexSecret: Buffer;
}

export function storeKeys(masterKey: Buffer): StoreKeys {
  return {
    cipher: new VectorCipher(masterKey),
    tokenSecret: deriveSubkey(masterKey, 'page-tokens'),
    indexSecret: deriveSubkey(masterKey, 'index-snapshots'),
  };
}
