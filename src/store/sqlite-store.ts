import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, schemaVersion } from './migrations.js';
import { loadOrCreateKeyFile } from './master-key.js';
import {
  StoreConflictError,
  type AddFacesResult,
  type AppRecord,
  type Cursor,
  type FaceFilter,
  type FaceRecord,
  type FaceWithVector,
  type GroupRecord,
  type Page,
  type Store,
} from './store.js';
import { deriveSubkey, fingerprintsMatch, masterKeyFingerprint, parseMasterKey, VectorCipher } from './vector-crypto.js';

/**
 * The embedded Store: one SQLite file, `<dataDir>/facerec.db`, through better-sqlite3.
 *
 * better-sqlite3 is synchronous, so each method runs to completion within one turn of the event
 * loop; a transaction is therefore atomic relative to every other request in this process, which
 * is what makes the quota checks in createGroup and addFaces race-free. IMMEDIATE transactions
 * plus busy_timeout cover a second process on the same file.
 */

export const DATABASE_FILE = 'facerec.db';
export const MASTER_KEY_FILE = 'master.key';

export interface SqliteStoreOptions {
  /**
   * 64 hex characters or base64 of 32 bytes, normally from FACEREC_MASTER_KEY. Without it the key
   * is read from `<dataDir>/master.key`, which is generated on first start.
   */
  masterKey?: string;
  /** How long a write waits for another process's lock before failing with SQLITE_BUSY. */
  busyTimeoutMs?: number;
}

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

const MASTER_KEY_FINGERPRINT = 'masterKeyFingerprint';

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

export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #cipher: VectorCipher;
  readonly #tokenSecret: Buffer;
  readonly #statements: ReturnType<typeof prepareStatements>;
  /** listFaces SQL varies with the filters present; one prepared statement per combination. */
  readonly #listFacesStatements = new Map<string, Database.Statement>();

  static open(dataDir: string, options: SqliteStoreOptions = {}): SqliteStore {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const db = openDatabase(join(dataDir, DATABASE_FILE), options.busyTimeoutMs ?? 5000);
    try {
      migrate(db);
      const key = resolveMasterKey(db, dataDir, options.masterKey);
      return new SqliteStore(db, new VectorCipher(key), deriveSubkey(key, 'page-tokens'));
    } catch (error) {
      db.close();
      throw error;
    }
  }

  private constructor(db: Database.Database, cipher: VectorCipher, tokenSecret: Buffer) {
    this.#db = db;
    this.#cipher = cipher;
    this.#tokenSecret = tokenSecret;
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
    return { appKey, groupId, modelVersion, createTime, faceCount: 0 };
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
    return toPage(rows, limit, toGroupRecord, (last) => encodeCursor({ g: last.groupId }));
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
      const added = accepted.map((face) => this.#insertFace(appKey, groupId, face));
      return { added, refusedForQuota: faces.length - accepted.length };
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
    return toPage(rows, limit, toFaceRecord, (last) => encodeCursor({ t: last.createTime, s: last.seq }));
  }

  async deleteFace(appKey: string, groupId: string, faceId: string): Promise<boolean> {
    return this.#statements.deleteFace.run(faceId, appKey, groupId).changes > 0;
  }

  async groupFaceCounts(): Promise<number[]> {
    return this.#statements.groupFaceCounts.all() as number[];
  }

  async loadVectors(appKey: string, groupId: string): Promise<{ faceId: string; vector: Float32Array }[]> {
    const vectors: { faceId: string; vector: Float32Array }[] = [];
    // iterate() rather than all(): decrypt row by row instead of holding every ciphertext at once.
    for (const row of this.#statements.loadVectors.iterate(appKey, groupId) as Iterable<{ faceId: string; vector: Buffer }>) {
      vectors.push({ faceId: row.faceId, vector: this.#cipher.decrypt(row.faceId, row.vector) });
    }
    return vectors;
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

  settings(): SqliteSettings {
    const pragma = (name: string) => this.#db.pragma(name, { simple: true });
    return {
      journalMode: pragma('journal_mode') as string,
      synchronous: pragma('synchronous') as number,
      foreignKeys: pragma('foreign_keys') === 1,
      secureDelete: pragma('secure_delete') === 1,
      busyTimeoutMs: pragma('busy_timeout') as number,
      schemaVersion: schemaVersion(this.#db),
    };
  }

  // ---- helpers ----

  /** Inserts one face (the vector encrypted) and returns the record as stored. */
  #insertFace(appKey: string, groupId: string, face: FaceWithVector): FaceRecord {
    const record = toStoredRecord(face);
    this.#statements.insertFace.run({
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
    return record;
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

// ---- opening ----

function openDatabase(path: string, busyTimeoutMs: number): Database.Database {
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
}

/**
 * The configured key, else the key file. The first open records the key's fingerprint; later
 * opens must present the same key, so a wrong key fails here rather than on a face read.
 */
function resolveMasterKey(db: Database.Database, dataDir: string, configuredKey: string | undefined): Buffer {
  const recorded = readMeta(db, MASTER_KEY_FINGERPRINT);
  const key = configuredKey !== undefined
    ? parseMasterKey(configuredKey, 'the configured master key (FACEREC_MASTER_KEY)')
    : loadOrCreateKeyFile(join(dataDir, MASTER_KEY_FILE), recorded === undefined);

  // Insert-if-absent then read back: two processes opening a new database agree on one key.
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING')
    .run(MASTER_KEY_FINGERPRINT, masterKeyFingerprint(key));
  const expected = readMeta(db, MASTER_KEY_FINGERPRINT)!;
  if (!fingerprintsMatch(expected, masterKeyFingerprint(key))) {
    const source = configuredKey !== undefined ? 'FACEREC_MASTER_KEY' : join(dataDir, MASTER_KEY_FILE);
    throw new Error(
      `The master key from ${source} is not the key this database's face vectors were encrypted with; ` +
      'start with the original key (vectors cannot be decrypted with any other).');
  }
  return key;
}

function readMeta(db: Database.Database, key: string): string | undefined {
  return db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
}

function prepareStatements(db: Database.Database) {
  return {
    insertApp: db.prepare('INSERT INTO apps (appKey, secretKeyHash, createTime) VALUES (?, ?, ?)'),
    getApp: db.prepare('SELECT appKey, secretKeyHash, createTime FROM apps WHERE appKey = ?'),
    listApps: db.prepare('SELECT appKey, secretKeyHash, createTime FROM apps ORDER BY appKey'),
    setAppSecret: db.prepare('UPDATE apps SET secretKeyHash = ? WHERE appKey = ?'),
    deleteApp: db.prepare('DELETE FROM apps WHERE appKey = ?'),

    insertGroup: db.prepare('INSERT INTO groups (appKey, groupId, modelVersion, createTime) VALUES (?, ?, ?, ?)'),
    getGroup: db.prepare('SELECT appKey, groupId, modelVersion, createTime, faceCount FROM groups WHERE appKey = ? AND groupId = ?'),
    countGroups: db.prepare('SELECT count(*) FROM groups WHERE appKey = ?').pluck(),
    groupFaceCounts: db.prepare('SELECT faceCount FROM groups').pluck(),
    listGroupsFirst: db.prepare(
      'SELECT appKey, groupId, modelVersion, createTime, faceCount FROM groups WHERE appKey = ? ORDER BY groupId LIMIT ?'),
    listGroupsAfter: db.prepare(
      'SELECT appKey, groupId, modelVersion, createTime, faceCount FROM groups WHERE appKey = ? AND groupId > ? ORDER BY groupId LIMIT ?'),
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
    deleteFace: db.prepare('DELETE FROM faces WHERE faceId = ? AND appKey = ? AND groupId = ?'),
    // Ordered like the index it walks, so no sort of every ciphertext is needed.
    loadVectors: db.prepare(
      'SELECT faceId, vector FROM faces WHERE appKey = ? AND groupId = ? ORDER BY createTime DESC, seq DESC'),
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

/**
 * Exactly the fields that are stored, as getFace will later return them: no vector (callers of
 * addFaces already hold it) and nothing else the caller's object happened to carry.
 */
function toStoredRecord(face: FaceWithVector): FaceRecord {
  const record: FaceRecord = {
    faceId: face.faceId,
    imageId: face.imageId,
    bbox: { x0: face.bbox.x0, y0: face.bbox.y0, x1: face.bbox.x1, y1: face.bbox.y1 },
    landmarks: face.landmarks.map(({ type, x, y }) => ({ type, x, y })),
    confidence: face.confidence,
    createTime: new Date(face.createTime.getTime()),
  };
  if (face.externalImageId !== undefined) record.externalImageId = face.externalImageId;
  return record;
}

// ---- pagination ----

function assertPageLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`Page limit must be a positive integer, got ${limit}`);
}

/** Rows were fetched with limit + 1: the extra row only tells whether another page exists. */
function toPage<Row, Item>(rows: Row[], limit: number, toItem: (row: Row) => Item, cursorAfter: (row: Row) => Cursor): Page<Item> {
  const pageRows = rows.slice(0, limit);
  const page: Page<Item> = { items: pageRows.map(toItem) };
  if (rows.length > limit) page.next = cursorAfter(pageRows[pageRows.length - 1]);
  return page;
}

interface GroupCursor {
  g: string;
}

interface FaceCursor {
  /** createTime, epoch ms */
  t: number;
  /** insertion sequence */
  s: number;
}

function encodeCursor(position: GroupCursor | FaceCursor): Cursor {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

function decodeCursor(cursor: Cursor): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
  } catch {
    // fall through to the error below
  }
  throw new Error('Malformed store cursor');
}

function decodeGroupCursor(cursor: Cursor): string {
  const { g } = decodeCursor(cursor);
  if (typeof g !== 'string') throw new Error('Malformed group cursor');
  return g;
}

function decodeFaceCursor(cursor: Cursor): FaceCursor {
  const { t, s } = decodeCursor(cursor);
  if (!Number.isSafeInteger(t) || !Number.isSafeInteger(s)) throw new Error('Malformed face cursor');
  return { t: t as number, s: s as number };
}
