import Database from 'better-sqlite3';
import { closeSync, openSync } from 'node:fs';
import { schemaVersion } from './migrations.js';
import { assertRecordedKey, chooseMasterKey, MASTER_KEY_FINGERPRINT } from './store-keys.js';
import { masterKeyFingerprint } from './vector-crypto.js';

/** Opening the SQLite file: its durability settings and the master-key check against its meta table. */

export const DATABASE_FILE = 'facerec.db';
/** Pages (4 KB) in the WAL past which a connection checkpoints on its own commit. */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/** Connection settings as SQLite reports them, for health checks and tests. */
export interface SqliteSettings {
  journalMode: string;
  /** 2 = FULL. */
  synchronous: number;
  foreignKeys: boolean;
  secureDelete: boolean;
  busyTimeoutMs: number;
  schemaVersion: number;
}

export function openDatabase(path: string, busyTimeoutMs: number): Database.Database {
  // Create the file ourselves so it starts private; SQLite gives the -wal and -shm files the
  // database file's permissions.
  closeSync(openSync(path, 'a', 0o600));
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    configureConnection(db, busyTimeoutMs);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

function configureConnection(db: Database.Database, busyTimeoutMs: number): void {
  const journalMode = db.pragma('journal_mode = WAL', { simple: true });
  if (journalMode !== 'wal') {
    throw new Error(`SQLite refused WAL mode (got ${String(journalMode)}); is the data directory on a network filesystem?`);
  }
  // In WAL mode NORMAL only syncs at checkpoints, so a power cut could drop commits that were
  // already reported to clients. FULL syncs the WAL on every commit: a saved face is on disk.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  // Faces are biometric data: when rows are deleted, overwrite their content with zeros rather
  // than leaving it in free pages. The cost is extra writes on every delete (roughly the size of
  // the deleted rows, e.g. ~2 KB per face), which matters only for very large group deletions.
  // Older copies of a page can survive in the -wal file until a checkpoint reuses it; those
  // hold only encrypted vectors, which is why encryption, not this pragma, is the main defence.
  db.pragma('secure_delete = ON');
  // Truncate the WAL back to this size after checkpoints instead of leaving a large file behind.
  db.pragma('journal_size_limit = 67108864');
  // A server checkpoints from a thread of its own (wal-checkpointer.ts), about every second. A
  // connection checkpoints itself only past this many pages (40 MB): a backstop, should that
  // thread fall behind, and the rule for tools that run without it.
  db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
}

export function connectionSettings(db: Database.Database): SqliteSettings {
  const pragma = (name: string) => db.pragma(name, { simple: true });
  return {
    journalMode: pragma('journal_mode') as string,
    synchronous: pragma('synchronous') as number,
    foreignKeys: pragma('foreign_keys') === 1,
    secureDelete: pragma('secure_delete') === 1,
    busyTimeoutMs: pragma('busy_timeout') as number,
    schemaVersion: schemaVersion(db),
  };
}

/** The store-keys steps (see store-keys.ts) on the `meta` table of a migrated database. */
export function resolveMasterKey(db: Database.Database, dataDir: string, configuredKey: string | undefined): Buffer {
  const key = chooseMasterKey(dataDir, configuredKey, readMeta(db, MASTER_KEY_FINGERPRINT) !== undefined);
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING')
    .run(MASTER_KEY_FINGERPRINT, masterKeyFingerprint(key));
  assertRecordedKey(key, readMeta(db, MASTER_KEY_FINGERPRINT)!, dataDir, configuredKey);
  return key;
}

function readMeta(db: Database.Database, key: string): string | undefined {
  return db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
}
