import { closeSync, fsyncSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { generateMasterKey, parseMasterKey } from './vector-crypto.js';

/**
 * The generated key file used when no master key is configured: `<dataDir>/master.key`, 64 hex
 * characters, mode 0600. Losing it makes every stored vector unreadable, and anyone who can read
 * it can decrypt them, so it is created atomically and refused when other users can read it.
 */

export class MasterKeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyFileError';
  }
}

/**
 * Reads the key file; creates it first when it is missing and `mayCreate` is set. `mayCreate` is
 * false when the database already holds data encrypted under some key: generating a fresh key
 * then would only hide the real problem (a lost or misplaced key file).
 */
export function loadOrCreateKeyFile(path: string, mayCreate: boolean): Buffer {
  if (!fileExists(path)) {
    if (!mayCreate) {
      throw new MasterKeyFileError(
        `The database was encrypted with a master key, but ${path} is missing and no master key ` +
        `is configured. Restore the key file or set FACEREC_MASTER_KEY to the original key.`);
    }
    createKeyFile(path);
  }
  return readKeyFile(path);
}

function readKeyFile(path: string): Buffer {
  assertPrivate(path);
  return parseMasterKey(readFileSync(path, 'utf8'), path);
}

/** Like ssh with private keys: a key file other users can read is a leak, so refuse to use it. */
function assertPrivate(path: string): void {
  if (process.platform === 'win32') return; // POSIX modes carry no meaning there
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new MasterKeyFileError(
      `${path} is accessible by other users (mode ${mode.toString(8).padStart(4, '0')}); ` +
      `run \`chmod 600 ${path}\` and restart.`);
  }
}

/**
 * Writes the key to a private temporary file, syncs it, then hard-links it into place. The link
 * fails if the name exists, so two processes starting together agree on one key, and a crash
 * never leaves a half-written key file behind (which `open(path, 'wx')` + write could).
 */
function createKeyFile(path: string): void {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, `${generateMasterKey().toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, path);
  } catch (error) {
    if (!isErrorCode(error, 'EEXIST')) throw error; // another process won the race; use its key
  } finally {
    unlinkSync(temporary);
  }
  syncDirectory(dirname(path));
}

/** Makes the new directory entry itself durable, not just the file contents. */
function syncDirectory(directory: string): void {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync there
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fileExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (error) {
    if (isErrorCode(error, 'ENOENT')) return false;
    throw error;
  }
}

function isErrorCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
