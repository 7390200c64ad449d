import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrate } from './migrations.js';
import { toStoredRecord } from './stored-record.js';
import { assertPageLimit, decodeFaceCursor, decodeGroupCursor, encodeFaceCursor, encodeGroupCursor, toPage } from './pagination.js';
import { connectionSettings, DATABASE_FILE, openDatabase, resolveMasterKey, type SqliteSettings } from './sqlite-connection.js';
import { storeKeys } from './store-keys.js';
import { toKeyedVector, VECTORS_BY_KEYS_SQL, type KeyedRow, type SqliteVectorReaderOptions } from './sqlite-vector-reader.js';
import type { WorkerVectorSource } from './worker-vectors.js';
import {
  StoreConflictError,
  type AddFacesResult,
  type AppRecord,
  type Cursor,
  type FaceFilter,
  type FaceKey,
  type FaceRecord,
  type FaceWithVector,
  type GroupRecord,
  type KeyedVector,
  type Page,
  type Store,
} from './store.js';
import type { VectorCipher } from './vector-crypto.js';

/**
 * The embedded Store: one SQLite file, `<dataDir>/facerec.db`, through better-sqlite3.
 *
 * better-sqlite3 is synchronous, so each method runs to completion within one turn of the event
 * loop; a transaction is therefore atomic relative to every other request in this process, which
 * is what makes the quota checks in createGroup and addFaces race-free. IMMEDIATE transactions
 * plus busy_timeout cover a second process on the same file.
 */

export interface SqliteStoreOptions {
  /**
   * 64 hex characters or base64 of 32 bytes, normally from FACEREC_MASTER_KEY. Without it the key
   * is read from `<dataDir>/master.key`, which is generated on first start.
   */
  masterKey?: string;
  /** How long a write waits for another process's lock before failing with SQLITE_BUSY. */
  busyTimeoutMs?: number;
}

interface AppRow {
  appKey: string;
  secretKeyHash: string;
  createTime: number;
}

interface GroupRow {
  appKey: string;
  groupId: string;
  modelVersion: string;
  createTime: number;
  faceCount: number;
  revision: number;
}

interface FaceRow {
  seq: number;
  faceId: string;
  imageId: string;
  externalImageId: string | null;
  bbox: string;
  landmarks: string;
  confidence: number;
  createTime: number;
}

interface FaceRowWithVector extends FaceRow {
  vector: Buffer;
}

const FACE_COLUMN_NAMES = ['seq', 'faceId', 'imageId', 'externalImageId', 'bbox', 'landmarks', 'confidence', 'createTime'];
const FACE_COLUMNS = FACE_COLUMN_NAMES.join(', ');

/** Face keys read per step by faceKeys (a few milliseconds each). */
const FACE_KEY_PAGE = 20_000;

export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #cipher: VectorCipher;
  readonly #tokenSecret: Buffer;
  readonly #indexSecret: Buffer;
  readonly #statements: ReturnType<typeof prepareStatements>;
  /** What a worker thread needs to read vectors itself (workerVectorSource). */
  readonly #readerOptions: SqliteVectorReaderOptions;
  /** listFaces SQL varies with the filters present; one prepared statement per combination. */
  readonly #listFacesStatements = new Map<string, Database.Statement>();

  static open(dataDir: string, options: SqliteStoreOptions = {}): SqliteStore {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const path = join(dataDir, DATABASE_FILE);
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    const db = openDatabase(path, busyTimeoutMs);
    try {
      migrate(db);
      const masterKey = resolveMasterKey(db, dataDir, options.masterKey);
      const { cipher, tokenSecret, indexSecret } = storeKeys(masterKey);
      return new SqliteStore(db, cipher, tokenSecret, indexSecret, { path, masterKey: Uint8Array.from(masterKey), busyTimeoutMs });
    } catch (error) {
      db.close();
      throw error;
    }
  }

  private constructor(db: Database.Database, cipher: VectorCipher, tokenSecret: Buffer, indexSecret: Buffer, readerOptions: SqliteVectorReaderOptions) {
    this.#db = db;
    this.#readerOptions = readerOptions;
    this.#cipher = cipher;
    this.#tokenSecret = tokenSecret;
    this.#indexSecret = indexSecret;
    this.#statements = prepareStatements(db);
  }

  // ---- apps ----

  async createApp(appKey: string, secretKeyHash: string): Promise<AppRecord> {
    const createTime = new Date();
    this.#db.transaction(() => {
      if (this.#statements.getApp.get(appKey)) throw new StoreConflictError(`App ${appKey} already exists`, 'exists');
      this.#statements.insertApp.run(appKey, secretKeyHash, createTime.getTime());
    }).immediate();
    return { appKey, secretKeyHash, createTime };
  }

  async getApp(appKey: string): Promise<AppRecord | undefined> {
    const row = this.#statements.getApp.get(appKey) as AppRow | undefined;
    return row && toAppRecord(row);
  }

  async listApps(): Promise<AppRecord[]> {
    return (this.#statements.listApps.all() as AppRow[]).map(toAppRecord);
  }

  /** Replaces the app's secret key hash (rotation). False if the app does not exist. */
  async setAppSecret(appKey: string, secretKeyHash: string): Promise<boolean> {
    return this.#statements.setAppSecret.run(secretKeyHash, appKey).changes > 0;
  }

  async deleteApp(appKey: string): Promise<boolean> {
    // Groups and faces follow through ON DELETE CASCADE, in the same statement's transaction.
    return this.#statements.deleteApp.run(appKey).changes > 0;
  }

  // ---- groups ----

  async createGroup(appKey: string, groupId: string, modelVersion: string, maxGroups: number): Promise<GroupRecord> {
    const createTime = new Date();
    this.#db.transaction(() => {
      if (!this.#statements.getApp.get(appKey)) throw new Error(`Cannot create group ${groupId}: app ${appKey} does not exist`);
      if (this.#statements.getGroup.get(appKey, groupId)) {
        throw new StoreConflictError(`Group ${groupId} already exists`, 'exists');
      }
      const groupCount = this.#statements.countGroups.get(appKey) as number;
      if (groupCount >= maxGroups) {
        throw new StoreConflictError(`App ${appKey} already has the maximum of ${maxGroups} groups`, 'quota');
      }
      this.#statements.insertGroup.run(appKey, groupId, modelVersion, createTime.getTime());
    }).immediate();
    return { appKey, groupId, modelVersion, createTime, faceCount: 0, revision: 0 };
  }

  async getGroup(appKey: string, groupId: string): Promise<GroupRecord | undefined> {
    const row = this.#statements.getGroup.get(appKey, groupId) as GroupRow | undefined;
    return row && toGroupRecord(row);
  }

  async listGroups(appKey: string, limit: number, after?: Cursor): Promise<Page<GroupRecord>> {
    assertPageLimit(limit);
    const rows = (after === undefined
      ? this.#statements.listGroupsFirst.all(appKey, limit + 1)
      : this.#statements.listGroupsAfter.all(appKey, decodeGroupCursor(after), limit + 1)) as GroupRow[];
    return toPage(rows, limit, toGroupRecord, (last) => encodeGroupCursor(last.groupId));
  }

  async deleteGroup(appKey: string, groupId: string): Promise<boolean> {
    // Faces and their vectors follow through ON DELETE CASCADE; secure_delete zeroes their pages.
    return this.#statements.deleteGroup.run(appKey, groupId).changes > 0;
  }

  // ---- faces ----

  async addFaces(appKey: string, groupId: string, faces: FaceWithVector[], maxFaces: number): Promise<AddFacesResult | undefined> {
    return this.#db.transaction((): AddFacesResult | undefined => {
      const group = this.#statements.getGroup.get(appKey, groupId) as GroupRow | undefined;
      if (!group) return undefined;
      const room = Math.max(0, maxFaces - group.faceCount);
      const accepted = faces.slice(0, room);
      const added: FaceRecord[] = [];
      const keys: FaceKey[] = [];
      for (const face of accepted) {
        const { record, key } = this.#insertFace(appKey, groupId, face);
        added.push(record);
        keys.push(key);
      }
      return { added, keys, refusedForQuota: faces.length - accepted.length };
    }).immediate();
  }

  async getFace(appKey: string, groupId: string, faceId: string): Promise<FaceWithVector | undefined> {
    const row = this.#statements.getFace.get(faceId, appKey, groupId) as FaceRowWithVector | undefined;
    if (!row) return undefined;
    return { ...toFaceRecord(row), vector: this.#cipher.decrypt(row.faceId, row.vector) };
  }

  async getFaces(appKey: string, groupId: string, faceIds: string[]): Promise<FaceRecord[]> {
    if (faceIds.length === 0) return [];
    // One statement for any number of ids: the list travels as a JSON array.
    const rows = this.#statements.getFaces.all({ appKey, groupId, faceIds: JSON.stringify(faceIds) }) as FaceRow[];
    return rows.map(toFaceRecord);
  }

  async listFaces(appKey: string, groupId: string, limit: number, filter: FaceFilter, after?: Cursor): Promise<Page<FaceRecord>> {
    assertPageLimit(limit);
    const position = after === undefined ? undefined : decodeFaceCursor(after);
    const statement = this.#listFacesStatement(filter, position !== undefined);
    const rows = statement.all({
      appKey,
      groupId,
      faceId: filter.faceId,
      imageId: filter.imageId,
      externalImageId: filter.externalImageId,
      afterTime: position?.t,
      afterSeq: position?.s,
      limit: limit + 1,
    }) as FaceRow[];
    return toPage(rows, limit, toFaceRecord, (last) => encodeFaceCursor({ t: last.createTime, s: last.seq }));
  }

  async deleteFace(appKey: string, groupId: string, faceId: string): Promise<FaceKey | undefined> {
    return this.#statements.deleteFace.get(faceId, appKey, groupId) as FaceKey | undefined;
  }

  async groupFaceCounts(): Promise<number[]> {
    return this.#statements.groupFaceCounts.all() as number[];
  }

  async faceKeys(appKey: string, groupId: string): Promise<FaceKey[]> {
    // A page at a time with a turn of the event loop between: a million keys in one synchronous
    // read would hold every other request for a few hundred milliseconds.
    const keys: FaceKey[] = [];
    for (let after = 0; ;) {
      const page = this.#statements.faceKeys.all(appKey, groupId, after, FACE_KEY_PAGE) as FaceKey[];
      for (const key of page) keys.push(key);
      if (page.length < FACE_KEY_PAGE) return keys;
      after = page[page.length - 1];
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async vectorBatch(appKey: string, groupId: string, afterKey: FaceKey, limit: number): Promise<KeyedVector[]> {
    const rows = this.#statements.vectorBatch.all(appKey, groupId, afterKey, limit) as KeyedRow[];
    return rows.map((row) => toKeyedVector(this.#cipher, row));
  }

  async vectorsByKeys(appKey: string, groupId: string, keys: FaceKey[]): Promise<KeyedVector[]> {
    if (keys.length === 0) return [];
    const rows = this.#statements.vectorsByKeys.all({ appKey, groupId, keys: JSON.stringify(keys) }) as KeyedRow[];
    return rows.map((row) => toKeyedVector(this.#cipher, row));
  }

  // ---- lifecycle ----

  async close(): Promise<void> {
    if (!this.#db.open) return;
    try {
      // Fold the WAL into the main file and empty it, so the data directory is self-contained.
      this.#db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // A full (or failing) disk can refuse the checkpoint. Nothing is lost: every commit is in
      // the WAL, which the next open replays. The file must still be released, and a shutdown
      // must not turn into a crash.
    } finally {
      this.#db.close();
    }
  }

  /**
   * A secret for signing page tokens that survives restarts, derived from the master key (a
   * separate subkey, so token signing never touches the vector key itself).
   */
  tokenSecret(): Uint8Array {
    return this.#tokenSecret;
  }

  /** How a worker thread opens a read-only connection of its own to this store's vectors. */
  workerVectorSource(): WorkerVectorSource {
    return { kind: 'sqlite', options: this.#readerOptions };
  }

  /** The key persisted vector indexes are encrypted with, derived from the master key. */
  indexSecret(): Uint8Array {
    return this.#indexSecret;
  }

  settings(): SqliteSettings {
    return connectionSettings(this.#db);
  }

  // ---- helpers ----


  /** Inserts one face (the vector encrypted) and returns the record as stored, with its key. */
  #insertFace(appKey: string, groupId: string, face: FaceWithVector): { record: FaceRecord; key: FaceKey } {
    const record = toStoredRecord(face);
    const { lastInsertRowid } = this.#statements.insertFace.run({
      faceId: record.faceId,
      appKey,
      groupId,
      imageId: record.imageId,
      externalImageId: record.externalImageId ?? null,
      bbox: JSON.stringify(record.bbox),
      landmarks: JSON.stringify(record.landmarks),
      confidence: record.confidence,
      createTime: record.createTime.getTime(),
      vector: this.#cipher.encrypt(record.faceId, face.vector),
    });
    return { record, key: Number(lastInsertRowid) };
  }

  #listFacesStatement(filter: FaceFilter, hasCursor: boolean): Database.Statement {
    const conditions = ['appKey = @appKey', 'groupId = @groupId'];
    if (filter.faceId !== undefined) conditions.push('faceId = @faceId');
    if (filter.imageId !== undefined) conditions.push('imageId = @imageId');
    if (filter.externalImageId !== undefined) conditions.push('externalImageId = @externalImageId');
    // Row-value comparison walks the (createTime DESC, seq DESC) index straight to the position.
    if (hasCursor) conditions.push('(createTime, seq) < (@afterTime, @afterSeq)');
    const sql = `SELECT ${FACE_COLUMNS} FROM faces WHERE ${conditions.join(' AND ')} ` +
      'ORDER BY createTime DESC, seq DESC LIMIT @limit';

    let statement = this.#listFacesStatements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#listFacesStatements.set(sql, statement);
    }
    return statement;
  }
}

// ---- statements ----

function prepareStatements(db: Database.Database) {
  return {
    insertApp: db.prepare('INSERT INTO apps (appKey, secretKeyHash, createTime) VALUES (?, ?, ?)'),
    getApp: db.prepare('SELECT appKey, secretKeyHash, createTime FROM apps WHERE appKey = ?'),
    listApps: db.prepare('SELECT appKey, secretKeyHash, createTime FROM apps ORDER BY appKey'),
    setAppSecret: db.prepare('UPDATE apps SET secretKeyHash = ? WHERE appKey = ?'),
    deleteApp: db.prepare('DELETE FROM apps WHERE appKey = ?'),

    insertGroup: db.prepare('INSERT INTO groups (appKey, groupId, modelVersion, createTime) VALUES (?, ?, ?, ?)'),
    getGroup: db.prepare('SELECT appKey, groupId, modelVersion, createTime, faceCount, revision FROM groups WHERE appKey = ? AND groupId = ?'),
    countGroups: db.prepare('SELECT count(*) FROM groups WHERE appKey = ?').pluck(),
    groupFaceCounts: db.prepare('SELECT faceCount FROM groups').pluck(),
    listGroupsFirst: db.prepare(
      'SELECT appKey, groupId, modelVersion, createTime, faceCount, revision FROM groups WHERE appKey = ? ORDER BY groupId LIMIT ?'),
    listGroupsAfter: db.prepare(
      'SELECT appKey, groupId, modelVersion, createTime, faceCount, revision FROM groups WHERE appKey = ? AND groupId > ? ORDER BY groupId LIMIT ?'),
    deleteGroup: db.prepare('DELETE FROM groups WHERE appKey = ? AND groupId = ?'),

    insertFace: db.prepare(
      'INSERT INTO faces (faceId, appKey, groupId, imageId, externalImageId, bbox, landmarks, confidence, createTime, vector) ' +
      'VALUES (@faceId, @appKey, @groupId, @imageId, @externalImageId, @bbox, @landmarks, @confidence, @createTime, @vector)'),
    getFace: db.prepare(`SELECT ${FACE_COLUMNS}, vector FROM faces WHERE faceId = ? AND appKey = ? AND groupId = ?`),
    // CROSS JOIN pins the id list as the outer loop: one faceId lookup per id, instead of
    // the planner's choice of scanning the whole group and testing each face against the list.
    getFaces: db.prepare(
      `SELECT ${FACE_COLUMN_NAMES.map((column) => `faces.${column}`).join(', ')} ` +
      'FROM json_each(@faceIds) AS wanted CROSS JOIN faces ON faces.faceId = wanted.value ' +
      'WHERE faces.appKey = @appKey AND faces.groupId = @groupId'),
    deleteFace: db.prepare('DELETE FROM faces WHERE faceId = ? AND appKey = ? AND groupId = ? RETURNING seq').pluck(),
    // Ordered like the index it walks, so no sort of every ciphertext is needed.
    faceKeys: db.prepare('SELECT seq FROM faces WHERE appKey = ? AND groupId = ? AND seq > ? ORDER BY seq LIMIT ?').pluck(),
    vectorBatch: db.prepare(
      'SELECT seq, faceId, vector FROM faces WHERE appKey = ? AND groupId = ? AND seq > ? ORDER BY seq LIMIT ?'),
    vectorsByKeys: db.prepare(VECTORS_BY_KEYS_SQL),
  };
}

// ---- rows to records ----

function toAppRecord(row: AppRow): AppRecord {
  return { appKey: row.appKey, secretKeyHash: row.secretKeyHash, createTime: new Date(row.createTime) };
}

function toGroupRecord(row: GroupRow): GroupRecord {
  return {
    appKey: row.appKey,
    groupId: row.groupId,
    modelVersion: row.modelVersion,
    createTime: new Date(row.createTime),
    faceCount: row.faceCount,
    revision: row.revision,
  };
}

function toFaceRecord(row: FaceRow): FaceRecord {
  const record: FaceRecord = {
    faceId: row.faceId,
    imageId: row.imageId,
    bbox: JSON.parse(row.bbox),
    landmarks: JSON.parse(row.landmarks),
    confidence: row.confidence,
    createTime: new Date(row.createTime),
  };
  if (row.externalImageId !== null) record.externalImageId = row.externalImageId;
  return record;
}
