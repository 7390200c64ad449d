import type Database from 'better-sqlite3';
import { join } from 'node:path';
import { DATABASE_FILE, openDatabase } from './sqlite-connection.js';
import type { StorageResidue } from './privacy-store.js';

/**
 * The privacy ports on the SQLite file. A connection of its own to the same file (WAL mode lets
 * it share the database with the Store's connection), so the Store's class stays as it is.
 * The schema is the Store's to migrate: open this after `SqliteStore.open`.
 */
export class SqlitePrivacy implements StorageResidue {
  readonly #db: Database.Database;

  static open(dataDir: string, options: { busyTimeoutMs?: number } = {}): SqlitePrivacy {
    return new SqlitePrivacy(openDatabase(join(dataDir, DATABASE_FILE), options.busyTimeoutMs ?? 5000));
  }

  private constructor(db: Database.Database) {
    this.#db = db;
  }

  /**
   * secure_delete zeroes deleted rows in the database file, but the WAL still holds the pages as
   * they were before the delete until a checkpoint; TRUNCATE copies the WAL back and empties it.
   */
  async purge(): Promise<void> {
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    this.#db.close();
  }
}
