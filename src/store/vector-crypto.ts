import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { endianness } from 'node:os';

/**
 * Encryption at rest for face feature vectors: AES-256-GCM with a random 12-byte IV per vector
 * and the faceId as additional authenticated data, so a ciphertext copied onto another row
 * fails authentication instead of silently becoming that face's vector.
 *
 * Blob layout: version (1 byte) | iv (12) | tag (16) | ciphertext (4 bytes per float).
 */

export const MASTER_KEY_BYTES = 32;
const BLOB_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;
const CIPHER = 'aes-256-gcm';

// Vectors are stored as their in-memory bytes; a big-endian host would write a database that
// little-endian hosts misread. No supported platform is big-endian, so refuse rather than convert.
if (endianness() !== 'LE') {
  throw new Error('facerec stores vectors little-endian and does not support big-endian hosts');
}

export class VectorDecryptionError extends Error {
  constructor(readonly faceId: string, detail: string) {
    super(`Cannot decrypt the feature vector of face ${faceId}: ${detail}`);
    this.name = 'VectorDecryptionError';
  }
}

export class MasterKeyFormatError extends Error {
  constructor(source: string, detail: string) {
    super(`Invalid master key from ${source}: ${detail}. ` +
      `Expected 64 hex characters or the base64 encoding of ${MASTER_KEY_BYTES} bytes ` +
      `(e.g. the output of \`openssl rand -hex 32\`).`);
    this.name = 'MasterKeyFormatError';
  }
}

/**
 * Parses a master key written as 64 hex characters or base64/base64url of 32 bytes.
 * `source` names where the text came from, for the error message; the key itself is never echoed.
 */
export function parseMasterKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  // 32 bytes are 43 base64 characters plus one '=' of padding. Node's base64 decoder also
  // accepts the base64url alphabet, so both spellings work.
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) return Buffer.from(trimmed, 'base64');
  throw new MasterKeyFormatError(source, `got ${trimmed.length} characters that are neither form`);
}

export function generateMasterKey(): Buffer {
  return randomBytes(MASTER_KEY_BYTES);
}

/**
 * A one-way identifier of a key, stored next to the data so that opening the database with a
 * different key fails at startup with a clear message instead of on the first face read.
 */
export function masterKeyFingerprint(key: Buffer): string {
  return createHmac('sha256', key).update('facerec/master-key-fingerprint/v1').digest('hex');
}

/** An independent key for another purpose (e.g. signing page tokens), derived with HKDF. */
export function deriveSubkey(masterKey: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `facerec/${purpose}/v1`, MASTER_KEY_BYTES));
}

export function fingerprintsMatch(a: string, b: string): boolean {
  const bufA = Buffer.from(a, 'utf8');
  const bufB = Buffer.from(b, 'utf8');
  return bufA.length === bufB.length && timingSafeEqual(bufA, bufB);
}

export class VectorCipher {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== MASTER_KEY_BYTES) throw new Error(`A vector key must be ${MASTER_KEY_BYTES} bytes, got ${key.length}`);
    this.#key = Buffer.from(key); // private copy: the caller may zero or reuse its buffer
  }

  encrypt(faceId: string, vector: Float32Array): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(faceId, 'utf8'));
    const plaintext = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.of(BLOB_VERSION), iv, cipher.getAuthTag(), ciphertext]);
  }

  /** Throws VectorDecryptionError rather than ever returning a vector that failed authentication. */
  decrypt(faceId: string, blob: Uint8Array): Float32Array {
    if (blob.length < HEADER_BYTES) throw new VectorDecryptionError(faceId, `stored blob is truncated (${blob.length} bytes)`);
    if (blob[0] !== BLOB_VERSION) throw new VectorDecryptionError(faceId, `unknown blob version ${blob[0]}`);
    const iv = blob.subarray(1, 1 + IV_BYTES);
    const tag = blob.subarray(1 + IV_BYTES, HEADER_BYTES);
    const ciphertext = blob.subarray(HEADER_BYTES);
    if (ciphertext.length % Float32Array.BYTES_PER_ELEMENT !== 0) {
      throw new VectorDecryptionError(faceId, `ciphertext length ${ciphertext.length} is not a whole number of floats`);
    }

    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv(CIPHER, this.#key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(faceId, 'utf8'));
      decipher.setAuthTag(tag);
      const head = decipher.update(ciphertext);
      const tail = decipher.final(); // checks the tag; empty for GCM
      plaintext = tail.length === 0 ? head : Buffer.concat([head, tail]);
    } catch {
      throw new VectorDecryptionError(faceId, 'authentication failed (wrong master key, or the stored vector was altered or belongs to another face)');
    }
    return toFloat32Array(plaintext);
  }
}

/**
 * The decrypted bytes as floats. A buffer that owns its whole, aligned memory (what the decipher
 * returns) is viewed in place: a search decrypts dozens of vectors, and each copy is garbage.
 * Anything else (a slice of a shared pool, an odd offset) is copied into a fresh buffer.
 */
function toFloat32Array(bytes: Buffer): Float32Array {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length) {
    return new Float32Array(bytes.buffer, 0, bytes.length / Float32Array.BYTES_PER_ELEMENT);
  }
  const vector = new Float32Array(bytes.length / Float32Array.BYTES_PER_ELEMENT);
  new Uint8Array(vector.buffer).set(bytes);
  return vector;
}
