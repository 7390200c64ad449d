import type { Database } from 'better-sqlite3';

/**
 * Versioned schema migrations. The schema version lives in `PRAGMA user_version` (part of the
 * database header, so it commits atomically with the migration that sets it). Migrations are
 * append-only: never edit one that has shipped; add the next version instead.
 */

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'apps, groups, faces with encrypted vectors, maintained face counts',
    sql: /* sql */ `
      -- Store-level settings, e.g. the fingerprint of the master key the vectors are encrypted with.
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;

      CREATE TABLE apps (
        appKey        TEXT PRIMARY KEY,
        secretKeyHash TEXT NOT NULL,
        createTime    INTEGER NOT NULL -- epoch ms
      ) STRICT;

      CREATE TABLE groups (
        appKey       TEXT NOT NULL REFERENCES apps (appKey) ON DELETE CASCADE,
        groupId      TEXT NOT NULL,
        modelVersion TEXT NOT NULL,
        createTime   INTEGER NOT NULL, -- epoch ms
        -- Maintained by the triggers below so that getGroup and the quota check in addFaces
        -- cost one row read instead of counting the group's faces.
        faceCount    INTEGER NOT NULL DEFAULT 0 CHECK (faceCount >= 0),
        PRIMARY KEY (appKey, groupId)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE faces (
        -- Insertion order, never reused (AUTOINCREMENT): the tie-breaker that makes newest-first
        -- order deterministic for faces sharing a createTime, and keyset cursors stable.
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        faceId          TEXT NOT NULL UNIQUE,
        appKey          TEXT NOT NULL,
        groupId         TEXT NOT NULL,
        imageId         TEXT NOT NULL,
        externalImageId TEXT,
        bbox            TEXT NOT NULL, -- JSON {x0,y0,x1,y1}, fractions of the image size
        landmarks       TEXT NOT NULL, -- JSON [{type,x,y}], fractions of the image size
        confidence      REAL NOT NULL,
        createTime      INTEGER NOT NULL, -- epoch ms
        vector          BLOB NOT NULL,    -- AES-256-GCM, see vector-crypto.ts
        FOREIGN KEY (appKey, groupId) REFERENCES groups (appKey, groupId) ON DELETE CASCADE
      ) STRICT;

      -- Newest first per group; also serves the cascade delete of a group.
      CREATE INDEX faces_by_group_newest ON faces (appKey, groupId, createTime DESC, seq DESC);
      -- The v2 list filters, each keeping newest-first order (faceId is covered by its UNIQUE index).
      CREATE INDEX faces_by_image ON faces (appKey, groupId, imageId, createTime DESC, seq DESC);
      CREATE INDEX faces_by_external_image ON faces (appKey, groupId, externalImageId, createTime DESC, seq DESC);

      CREATE TRIGGER faces_count_on_insert AFTER INSERT ON faces BEGIN
        UPDATE groups SET faceCount = faceCount + 1 WHERE appKey = NEW.appKey AND groupId = NEW.groupId;
      END;
      -- Also fires for the cascade from a deleted group, where it updates nothing.
      CREATE TRIGGER faces_count_on_delete AFTER DELETE ON faces BEGIN
        UPDATE groups SET faceCount = faceCount - 1 WHERE appKey = OLD.appKey AND groupId = OLD.groupId;
      END;
    `,
  },
  {
    version: 2,
    description: 'faces by group in key order (vector index loading), group revisions (index snapshots)',
    sql: /* sql */ `
      -- Walks a group's faces in key (seq) order: batched index builds and the key list an index
      -- snapshot is reconciled against.
      CREATE INDEX faces_by_group_seq ON faces (appKey, groupId, seq);

      -- Counts every face added to or removed from the group. A persisted vector index records the
      -- revision it reflects; an equal revision at load proves nothing changed since.
      ALTER TABLE groups ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

      DROP TRIGGER faces_count_on_insert;
      DROP TRIGGER faces_count_on_delete;
      CREATE TRIGGER faces_count_on_insert AFTER INSERT ON faces BEGIN
        UPDATE groups SET faceCount = faceCount + 1, revision = revision + 1
          WHERE appKey = NEW.appKey AND groupId = NEW.groupId;
      END;
      -- Also fires for the cascade from a deleted group, where it updates nothing.
      CREATE TRIGGER faces_count_on_delete AFTER DELETE ON faces BEGIN
        UPDATE groups SET faceCount = faceCount - 1, revision = revision + 1
          WHERE appKey = OLD.appKey AND groupId = OLD.groupId;
      END;
    `,
  },
  {
    version: 3,
    description: 'audit log: append-only, hash-chained (docs/privacy.md)',
    sql: /* sql */ `
      CREATE TABLE audit_log (
        seq        INTEGER PRIMARY KEY, -- chain position; part of each hash
        time       INTEGER NOT NULL,    -- epoch ms
        appKey     TEXT NOT NULL,
        action     TEXT NOT NULL,
        groupId    TEXT,
        subjectRef TEXT,                -- keyed pseudonym of the externalImageId
        faceRefs   TEXT NOT NULL,       -- JSON array of keyed pseudonyms of faceIds
        count      INTEGER NOT NULL,
        requestId  TEXT,
        prevHash   TEXT NOT NULL,
        hash       TEXT NOT NULL
      ) STRICT;
      CREATE INDEX audit_by_time ON audit_log (appKey, time);
      CREATE INDEX audit_by_subject ON audit_log (appKey, subjectRef, time);
      -- Append-only: no entry changes, and only the oldest may go (retention prunes from the head).
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
        SELECT RAISE(ABORT, 'the audit log is append-only');
      END;
      CREATE TRIGGER audit_log_prune_from_head BEFORE DELETE ON audit_log
        WHEN OLD.seq > (SELECT min(seq) FROM audit_log) BEGIN
        SELECT RAISE(ABORT, 'audit entries are removed only from the oldest on');
      END;
    `,
  },
  {
    version: 4,
    description: 'retention periods per app (default) and per group (docs/privacy.md)',
    sql: /* sql */ `
      CREATE TABLE app_retention (
        appKey   TEXT PRIMARY KEY REFERENCES apps (appKey) ON DELETE CASCADE,
        periodMs INTEGER NOT NULL CHECK (periodMs > 0)
      ) STRICT;
      -- Goes with its group: a group created again under the same id starts without one.
      CREATE TABLE group_retention (
        appKey   TEXT NOT NULL,
        groupId  TEXT NOT NULL,
        periodMs INTEGER NOT NULL CHECK (periodMs > 0),
        PRIMARY KEY (appKey, groupId),
        FOREIGN KEY (appKey, groupId) REFERENCES groups (appKey, groupId) ON DELETE CASCADE
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 5,
    description: 'consent metadata of faces registered through the privacy extension',
    sql: /* sql */ `
      -- Goes with its face (deleted, erased, expired, or with its group or app).
      CREATE TABLE face_consent (
        faceId     TEXT PRIMARY KEY REFERENCES faces (faceId) ON DELETE CASCADE,
        consentRef TEXT,
        purpose    TEXT
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 6,
    description: 'persons of a group and their faces; face clustering jobs (docs/persons.md)',
    sql: /* sql */ `
      -- A person goes with its group (and app); deleting a person leaves its faces in the group.
      CREATE TABLE persons (
        -- Insertion order, never reused: the keyset cursor of a listing.
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        personId   TEXT NOT NULL UNIQUE,
        appKey     TEXT NOT NULL,
        groupId    TEXT NOT NULL,
        name       TEXT,
        metadata   TEXT,             -- JSON object, at most 4 KB
        createTime INTEGER NOT NULL, -- epoch ms
        updateTime INTEGER NOT NULL, -- epoch ms
        FOREIGN KEY (appKey, groupId) REFERENCES groups (appKey, groupId) ON DELETE CASCADE
      ) STRICT;
      CREATE INDEX persons_by_group ON persons (appKey, groupId, seq);

      -- A face belongs to at most one person (the primary key). The association goes with the
      -- face (deleted, erased, expired, with its group or app) and with the person.
      CREATE TABLE person_faces (
        faceId   TEXT PRIMARY KEY REFERENCES faces (faceId) ON DELETE CASCADE,
        personId TEXT NOT NULL REFERENCES persons (personId) ON DELETE CASCADE
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX person_faces_by_person ON person_faces (personId);

      -- Background clustering of a group's faces; goes with its group. The result holds face ids
      -- only (no vectors).
      CREATE TABLE cluster_jobs (
        jobId      TEXT PRIMARY KEY,
        appKey     TEXT NOT NULL,
        groupId    TEXT NOT NULL,
        state      TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
        percent    INTEGER NOT NULL DEFAULT 0,
        params     TEXT NOT NULL,    -- JSON: thresholds and the listed faces, to run it again after a restart
        result     TEXT,             -- JSON: clusters and unclustered faces
        error      TEXT,
        createTime INTEGER NOT NULL,
        updateTime INTEGER NOT NULL,
        FOREIGN KEY (appKey, groupId) REFERENCES groups (appKey, groupId) ON DELETE CASCADE
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX cluster_jobs_by_state ON cluster_jobs (state);
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/**
 * Brings the schema up to date in one IMMEDIATE transaction: either every pending migration
 * applies or none does, and a second process opening the same file waits instead of racing.
 */
export function migrate(db: Database): void {
  db.transaction(() => {
    const current = schemaVersion(db);
    if (current > LATEST_SCHEMA_VERSION) {
      throw new Error(
        `The database schema is version ${current}, newer than this facerec supports ` +
        `(${LATEST_SCHEMA_VERSION}); upgrade facerec or restore a matching backup.`);
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }
  }).immediate();
}

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}
