import type { PgConnection } from './pg-connection.js';

/**
 * Versioned schema migrations for PostgreSQL, the counterpart of migrations.ts. They run under a
 * session advisory lock, so when several nodes start at once exactly one migrates and the others
 * wait and then find the schema current. Append-only: never edit a shipped migration.
 */

interface PgMigration {
  version: number;
  description: string;
  sql: string;
}

/** Any fixed 64-bit number; nodes of one installation agree on it. */
const MIGRATION_LOCK = 7_211_411_001;

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    description: 'apps, groups, faces with plaintext vectors searched by pgvector (HNSW, cosine)',
    sql: /* sql */ `
      CREATE EXTENSION IF NOT EXISTS vector;

      -- Installation-wide settings shared by every node (the page-token key among them).
      CREATE TABLE meta (
        key   text PRIMARY KEY,
        value text NOT NULL
      );

      CREATE TABLE apps (
        app_key         text PRIMARY KEY,
        secret_key_hash text NOT NULL,
        create_time     bigint NOT NULL -- epoch ms
      );

      CREATE TABLE groups (
        app_key       text NOT NULL REFERENCES apps (app_key) ON DELETE CASCADE,
        group_id      text NOT NULL,
        model_version text NOT NULL,
        create_time   bigint NOT NULL,
        -- Kept by the store's own statements (in the transaction that adds or deletes faces), so
        -- the quota check reads one locked row instead of counting.
        face_count    integer NOT NULL DEFAULT 0 CHECK (face_count >= 0),
        revision      bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (app_key, group_id)
      );

      CREATE TABLE faces (
        -- Insertion order, never reused: the face key, and the tie-breaker of newest-first order.
        seq               bigserial PRIMARY KEY,
        face_id           text NOT NULL UNIQUE,
        app_key           text NOT NULL,
        group_id          text NOT NULL,
        image_id          text NOT NULL,
        external_image_id text,
        bbox              text NOT NULL, -- JSON {x0,y0,x1,y1}
        landmarks         text NOT NULL, -- JSON [{type,x,y}]
        confidence        double precision NOT NULL,
        create_time       bigint NOT NULL,
        -- Plaintext: searched inside the database (docs/security.md).
        embedding         vector(512) NOT NULL,
        FOREIGN KEY (app_key, group_id) REFERENCES groups (app_key, group_id) ON DELETE CASCADE
      );
      CREATE INDEX faces_by_group_newest ON faces (app_key, group_id, create_time DESC, seq DESC);
      CREATE INDEX faces_by_image ON faces (app_key, group_id, image_id, create_time DESC, seq DESC);
      CREATE INDEX faces_by_external_image ON faces (app_key, group_id, external_image_id, create_time DESC, seq DESC);
      CREATE INDEX faces_by_group_seq ON faces (app_key, group_id, seq);
      -- One graph over every group; queries filter by group with pgvector 0.8's iterative scans.
      CREATE INDEX faces_embedding_hnsw ON faces USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
    `,
  },
  {
    version: 2,
    description: 'privacy: audit log, retention periods, consent (docs/privacy.md)',
    sql: /* sql */ `
      CREATE TABLE audit_log (
        seq         bigint PRIMARY KEY,
        time        bigint NOT NULL,
        app_key     text NOT NULL,
        action      text NOT NULL,
        group_id    text,
        subject_ref text,
        face_refs   text NOT NULL,
        count       integer NOT NULL,
        request_id  text,
        prev_hash   text NOT NULL,
        hash        text NOT NULL
      );
      CREATE INDEX audit_by_time ON audit_log (app_key, time);
      CREATE INDEX audit_by_subject ON audit_log (app_key, subject_ref, time);
      CREATE TABLE app_retention (
        app_key   text PRIMARY KEY REFERENCES apps (app_key) ON DELETE CASCADE,
        period_ms bigint NOT NULL CHECK (period_ms > 0)
      );
      CREATE TABLE group_retention (
        app_key   text NOT NULL,
        group_id  text NOT NULL,
        period_ms bigint NOT NULL CHECK (period_ms > 0),
        PRIMARY KEY (app_key, group_id),
        FOREIGN KEY (app_key, group_id) REFERENCES groups (app_key, group_id) ON DELETE CASCADE
      );
      CREATE TABLE face_consent (
        face_id     text PRIMARY KEY REFERENCES faces (face_id) ON DELETE CASCADE,
        consent_ref text,
        purpose     text
      );
    `,
  },
  {
    version: 3,
    description: 'persons of a group and their faces; face clustering jobs (docs/persons.md)',
    sql: /* sql */ `
      -- A person goes with its group (and app); deleting a person leaves its faces in the group.
      CREATE TABLE persons (
        -- Insertion order, never reused: the keyset cursor of a listing.
        seq         bigserial PRIMARY KEY,
        person_id   text NOT NULL UNIQUE,
        app_key     text NOT NULL,
        group_id    text NOT NULL,
        name        text,
        metadata    text,            -- JSON object, at most 4 KB
        create_time bigint NOT NULL, -- epoch ms
        update_time bigint NOT NULL,
        FOREIGN KEY (app_key, group_id) REFERENCES groups (app_key, group_id) ON DELETE CASCADE
      );
      CREATE INDEX persons_by_group ON persons (app_key, group_id, seq);

      -- A face belongs to at most one person (the primary key); the association goes with the
      -- face (deleted, erased, expired, with its group or app) and with the person.
      CREATE TABLE person_faces (
        face_id   text PRIMARY KEY REFERENCES faces (face_id) ON DELETE CASCADE,
        person_id text NOT NULL REFERENCES persons (person_id) ON DELETE CASCADE
      );
      CREATE INDEX person_faces_by_person ON person_faces (person_id);

      -- Background clustering of a group's faces; goes with its group. The result holds face ids
      -- only (no vectors).
      CREATE TABLE cluster_jobs (
        job_id      text PRIMARY KEY,
        app_key     text NOT NULL,
        group_id    text NOT NULL,
        state       text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
        percent     integer NOT NULL DEFAULT 0,
        params      text NOT NULL,   -- JSON: thresholds and the listed faces, to run it again
        result      text,            -- JSON: clusters and unclustered faces
        error       text,
        create_time bigint NOT NULL,
        update_time bigint NOT NULL,
        FOREIGN KEY (app_key, group_id) REFERENCES groups (app_key, group_id) ON DELETE CASCADE
      );
      CREATE INDEX cluster_jobs_unfinished ON cluster_jobs (create_time) WHERE state IN ('queued', 'running');
    `,
  },
  {
    version: 4,
    description: 'face vectors stored in the row, not out of line (TOAST): one read per face instead of several',
    sql: /* sql */ `
      -- A vector(512) is 2,056 bytes, just over the 2 kB at which PostgreSQL moves values out of
      -- line; a search then reads each candidate's vector from the TOAST table, chunk by chunk.
      -- PLAIN keeps it in the row (a face row stays well under a page). Applies to rows written
      -- from now on; existing rows move when they are next written (or by VACUUM FULL faces).
      ALTER TABLE faces ALTER COLUMN embedding SET STORAGE PLAIN;
    `,
  },
  {
    version: 5,
    description: 'the search graph over half-precision copies of the vectors: half the size, searches about a third faster',
    sql: /* sql */ `
      -- The graph only proposes candidates; they are re-ranked on the full vector(512) column, so
      -- scores do not change (docs/scale.md, "halfvec"). Rebuilding it takes about a minute per
      -- 100,000 faces here; the migration runs once, under the advisory lock, before a node serves.
      DROP INDEX IF EXISTS faces_embedding_hnsw;
      CREATE INDEX faces_embedding_hnsw ON faces USING hnsw ((embedding::halfvec(512)) halfvec_cosine_ops) WITH (m = 16, ef_construction = 64);
    `,
  },
];

export const PG_LATEST_SCHEMA_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1].version;

/** Brings the schema to the latest version; returns the version found before. */
export async function migratePg(connection: PgConnection): Promise<number> {
  return connection.withoutTimeouts(async (query) => {
    await query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await query('CREATE TABLE IF NOT EXISTS facerec_schema (version integer NOT NULL)');
      const { rows } = await query<{ version: number }>('SELECT max(version) AS version FROM facerec_schema');
      const current = rows[0]?.version ?? 0;
      if (current > PG_LATEST_SCHEMA_VERSION) {
        throw new Error(`The database schema is version ${current}, newer than this facerec supports (${PG_LATEST_SCHEMA_VERSION}); upgrade facerec.`);
      }
      for (const migration of PG_MIGRATIONS) {
        if (migration.version <= current) continue;
        await query('BEGIN');
        try {
          await query(migration.sql);
          await query('INSERT INTO facerec_schema (version) VALUES ($1)', [migration.version]);
          await query('COMMIT');
        } catch (err) {
          await query('ROLLBACK');
          throw err;
        }
      }
      return current;
    } finally {
      await query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  });
}
