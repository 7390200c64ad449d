import type { DatabaseConfig } from '../config.js';
import { EMBEDDING_SIZE } from '../engine/vectors.js';
import { ExactIndex } from '../index/exact-index.js';
import { toGroupRef } from '../index/face-search.js';
import { PgFaceSearch } from '../index/pg-face-search.js';
import type { AuditEntry } from './audit-chain.js';
import { PgConnection } from './pg-connection.js';
import { PgPrivacy } from './pg-privacy.js';
import { PgStore } from './pg-store.js';
import { PgPersons } from './pg-persons.js';
import { SqlitePersons } from './sqlite-persons.js';
import { SqlitePrivacy } from './sqlite-privacy.js';
import { SqliteStore } from './sqlite-store.js';
import type { AppRecord, FaceWithVector, GroupRecord } from './store.js';

/**
 * `facerec migrate`: a SQLite data dir into a PostgreSQL database (README "PostgreSQL mode").
 *
 * Reads through SqliteStore (which decrypts the vectors with the data dir's master key) and
 * writes through PgStore's import methods, which keep every id, key hash and time, so clients
 * keep working against a server on the database. Copied: apps (key and secret hash), groups
 * (model version, creation time), faces with their vectors, consent records, retention periods,
 * the audit log (verbatim, so its hash chain goes on) and the page-token secret (so page tokens
 * and audit pseudonyms stay valid), persons with their faces and clustering jobs. Not copied:
 * the search-graph snapshots (PostgreSQL searches by itself).
 *
 * Resumable: faces are copied group by group in key order, a batch per transaction, skipping
 * faceIds already there; after each batch the last key copied is recorded in the database's meta
 * table, and a new run of the same data dir starts after it. A run after a kill neither loses nor
 * duplicates a face. Ends with a verification: every group's face count on both sides, and for a
 * sample of faces, search by faceId answers the same top-1 on both sides.
 */

export interface MigrateOptions {
  dataDir: string;
  /** As the server takes it (FACEREC_MASTER_KEY); else `<dataDir>/master.key`. */
  masterKey?: string;
  database: DatabaseConfig;
  /** Faces per transaction. */
  batchSize?: number;
  /** Faces whose search is compared on both sides at the end; 0 skips that part. */
  verifySample?: number;
  /** How many faces there are to copy, and how many of them a previous run copied. */
  onPlan?(plan: { faces: number; alreadyCopied: number }): void;
  /** After each batch of faces is durable in the database. */
  onBatch?(batch: { appKey: string; groupId: string; faces: number; inserted: number }): void | Promise<void>;
  /** Notes for the operator (what is not migrated, and why). */
  note?(line: string): void;
}

export interface CountMismatch { appKey: string; groupId: string; source: number; target: number | undefined }
export interface SearchMismatch { appKey: string; groupId: string; faceId: string; source?: string; target?: string }
export interface PersonMismatch { appKey: string; groupId: string; source: { persons: number; faces: number }; target: { persons: number; faces: number } }

export interface MigrateReport {
  apps: number;
  groups: number;
  /** Faces in the data dir. */
  faces: number;
  /** Faces this run inserted (the rest were copied by an earlier run). */
  facesInserted: number;
  consents: number;
  auditEntries: number;
  /** Persons and cluster jobs in the data dir, all copied. */
  persons: number;
  clusterJobs: number;
  verification: {
    apps: string[];
    counts: CountMismatch[];
    /** Groups whose persons, or faces associated with them, differ after the copy. */
    persons: PersonMismatch[];
    searches: number;
    searchMismatches: SearchMismatch[];
  };
  ok: boolean;
}

/** Statements of a migration may run long (a batch into a large HNSW graph). */
const MIGRATION_STATEMENT_TIMEOUT_MS = 600_000;

export async function migrateSqliteToPg(options: MigrateOptions): Promise<MigrateReport> {
  const batchSize = options.batchSize ?? 1000;
  const note = options.note ?? (() => {});
  const source = SqliteStore.open(options.dataDir, { masterKey: options.masterKey });
  const sourcePrivacy = SqlitePrivacy.open(options.dataDir);
  const connection = new PgConnection({ ...options.database, poolSize: 2, statementTimeoutMs: Math.max(options.database.statementTimeoutMs, MIGRATION_STATEMENT_TIMEOUT_MS) });
  try {
    // The data dir's page-token secret, unless the database has one already: page tokens issued
    // before the move stay valid and audit pseudonyms (keyed from it) stay the same.
    const target = await PgStore.open(connection, { seedTokenSecret: source.tokenSecret() });
    if (!Buffer.from(target.tokenSecret()).equals(Buffer.from(source.tokenSecret()))) {
      note('the database already had a page-token secret of its own: page tokens issued by the SQLite server will not be accepted, and audit pseudonyms of new entries will differ from the copied ones');
    }
    const targetPrivacy = new PgPrivacy(connection);
    // Into a database without faces the graph is built once after the copy (5–10× faster than
    // growing it face by face). A run interrupted before the build finds it missing and builds it.
    if (await target.hasNoFaces()) await target.dropFaceGraph();
    const graphDeferred = !(await target.hasFaceGraph());

    // Apps and groups first (cheap), so the plan knows every group.
    const apps = await source.listApps();
    const groups: GroupRecord[] = [];
    for (const app of apps) {
      await target.importApp(app);
      for (const group of await allGroupsOf(source, app.appKey)) {
        await target.importGroup(group);
        groups.push(group);
      }
      const retention = await sourcePrivacy.retentionOf(app.appKey);
      if (retention.appDefaultMs !== undefined) await targetPrivacy.setAppRetention(app.appKey, retention.appDefaultMs);
      for (const g of retention.groups) await targetPrivacy.setGroupRetention(app.appKey, g.groupId, g.periodMs);
    }
    const totalFaces = groups.reduce((n, g) => n + g.faceCount, 0);
    let alreadyCopied = 0;
    for (const g of groups) alreadyCopied += Math.min(g.faceCount, (await target.getGroup(g.appKey, g.groupId))?.faceCount ?? 0);
    options.onPlan?.({ faces: totalFaces, alreadyCopied });

    let facesInserted = 0;
    let consents = 0;
    for (const group of groups) {
      const { appKey, groupId } = group;
      // Named by the group's creation time too: a group deleted and made again is another group.
      const checkpointKey = `migrate:${JSON.stringify([appKey, groupId, group.createTime.getTime()])}`;
      let after = Number((await target.metaValue(checkpointKey)) ?? 0);
      for (;;) {
        const keyed = await source.vectorBatch(appKey, groupId, after, batchSize);
        if (keyed.length === 0) break;
        const records = new Map((await source.getFaces(appKey, groupId, keyed.map((f) => f.faceId))).map((r) => [r.faceId, r]));
        const faces: FaceWithVector[] = [];
        for (const { faceId, vector } of keyed) {
          const record = records.get(faceId);
          if (record) faces.push({ ...record, vector });
        }
        const inserted = await target.importFaces(appKey, groupId, faces);
        facesInserted += inserted;
        consents += await copyConsent(sourcePrivacy, targetPrivacy, faces.map((f) => f.faceId));
        after = keyed[keyed.length - 1].key;
        // Only once the batch and its consent are in: a run killed before this repeats the batch.
        await target.setMetaValue(checkpointKey, String(after));
        await options.onBatch?.({ appKey, groupId, faces: faces.length, inserted });
      }
    }

    if (graphDeferred) {
      note('building the search graph over the copied faces (once, after the copy; PostgreSQL\'s maintenance_work_mem sets how fast)');
      await target.buildFaceGraph();
    }
    await target.analyzeFaces();

    // Persons after the faces they hold; jobs with them (an unfinished one runs again on a node).
    const { persons, clusterJobs, personMismatches } = await copyPersons(options.dataDir, connection, groups);

    let auditEntries = 0;
    try {
      auditEntries = await copyAudit(sourcePrivacy, targetPrivacy, connection);
    } catch (err) {
      // A server on the database wrote entries of its own meanwhile: both logs are kept as they are.
      note(`audit log not copied: ${(err as Error).message}`);
    }
    const verification = { ...(await verify(source, target, new PgFaceSearch(connection, EMBEDDING_SIZE), apps, groups, options.verifySample ?? 100)), persons: personMismatches };
    const ok = verification.apps.length === 0 && verification.counts.length === 0 && verification.persons.length === 0 && verification.searchMismatches.length === 0;
    return { apps: apps.length, groups: groups.length, faces: totalFaces, facesInserted, consents, auditEntries, persons, clusterJobs, verification, ok };
  } finally {
    await connection.close();
    sourcePrivacy.close();
    await source.close();
  }
}

async function allGroupsOf(store: SqliteStore | PgStore, appKey: string): Promise<GroupRecord[]> {
  const out: GroupRecord[] = [];
  for (let after: string | undefined; ;) {
    const page = await store.listGroups(appKey, 1000, after);
    out.push(...page.items);
    if (!page.next) return out;
    after = page.next;
  }
}

/** Consent records of the given faces, grouped by what was agreed to (one statement per kind). */
async function copyConsent(source: SqlitePrivacy, target: PgPrivacy, faceIds: string[]): Promise<number> {
  const consent = await source.consentOf(faceIds);
  const byKind = new Map<string, string[]>();
  for (const [faceId, c] of consent) {
    const kind = JSON.stringify([c.consentRef ?? null, c.purpose ?? null]);
    byKind.set(kind, [...(byKind.get(kind) ?? []), faceId]);
  }
  for (const [kind, ids] of byKind) {
    const [consentRef, purpose] = JSON.parse(kind) as [string | null, string | null];
    await target.recordConsent(ids, { ...(consentRef !== null ? { consentRef } : {}), ...(purpose !== null ? { purpose } : {}) });
  }
  return consent.size;
}

/** The audit log, verbatim; entries below the database's last one were copied before and are skipped. */
async function copyAudit(source: SqlitePrivacy, target: PgPrivacy, connection: PgConnection): Promise<number> {
  const { rows } = await connection.query<{ seq: number | null }>('SELECT max(seq) AS seq FROM audit_log');
  const have = rows[0]?.seq ?? 0;
  const { anchor, entries } = source.chain();
  let batch: AuditEntry[] = [];
  let copied = 0;
  const flush = async () => {
    copied += await target.importAuditEntries(batch, anchor);
    batch = [];
  };
  for (const entry of entries) {
    // The last one already there is sent again: the import checks it is the same entry.
    if (entry.seq < have) continue;
    batch.push(entry);
    if (batch.length === 1000) await flush();
  }
  await flush();
  return copied;
}

/**
 * Persons (with their faces) and clustering jobs of every group. Returns how many the data dir
 * has, and a mismatch per group whose persons or associations differ afterwards.
 */
async function copyPersons(dataDir: string, connection: PgConnection, groups: GroupRecord[]): Promise<{ persons: number; clusterJobs: number; personMismatches: PersonMismatch[] }> {
  const source = SqlitePersons.open(dataDir);
  const target = new PgPersons(connection);
  let persons = 0;
  let clusterJobs = 0;
  const personMismatches: PersonMismatch[] = [];
  try {
    for (const { appKey, groupId } of groups) {
      let sourceLinks = 0;
      let groupPersons = 0;
      let after: string | undefined;
      do {
        const page = await source.listPersons(appKey, groupId, 500, after);
        for (const person of page.items) {
          const faceIds = await source.personFaceIds(appKey, groupId, person.personId);
          await target.importPerson(appKey, groupId, person, faceIds);
          sourceLinks += faceIds.length;
          groupPersons++;
        }
        after = page.next;
      } while (after !== undefined);
      const jobs = await source.jobsOf(appKey, groupId);
      for (const job of jobs) await target.importJob(job);
      clusterJobs += jobs.length;
      persons += groupPersons;
      const there = await target.groupCounts(appKey, groupId);
      if (there.persons !== groupPersons || there.faces !== sourceLinks) {
        personMismatches.push({ appKey, groupId, source: { persons: groupPersons, faces: sourceLinks }, target: there });
      }
    }
  } finally {
    source.close();
  }
  return { persons, clusterJobs, personMismatches };
}

/** Scores of equal faces agree to the last bit on both sides (both re-rank with ExactIndex); ties may order either way. */
const SCORE_TIE = 1e-6;

async function verify(
  source: SqliteStore, target: PgStore, targetSearch: PgFaceSearch, apps: AppRecord[], groups: GroupRecord[], sample: number,
): Promise<Omit<MigrateReport['verification'], 'persons'>> {
  const appMismatches: string[] = [];
  for (const app of apps) {
    const there = await target.getApp(app.appKey);
    if (!there || there.secretKeyHash !== app.secretKeyHash) appMismatches.push(app.appKey);
  }
  const counts: CountMismatch[] = [];
  const targetGroups = new Map<string, GroupRecord>();
  for (const g of groups) {
    // The source's count as it is now (a server still writing to the data dir would show here).
    const now = await source.getGroup(g.appKey, g.groupId);
    const there = await target.getGroup(g.appKey, g.groupId);
    const sourceCount = now?.faceCount ?? 0;
    // The target's maintained count and its rows, both.
    const rows = there ? (await target.faceKeys(g.appKey, g.groupId)).length : undefined;
    if (!there || there.faceCount !== sourceCount || rows !== sourceCount) {
      counts.push({ appKey: g.appKey, groupId: g.groupId, source: sourceCount, target: there ? Math.min(there.faceCount, rows ?? 0) : undefined });
    }
    if (there) targetGroups.set(`${g.appKey}\u0000${g.groupId}`, there);
  }

  // The sample: spread over the largest groups, evenly over each group's faces.
  const searchable = groups.filter((g) => g.faceCount >= 2).sort((a, b) => b.faceCount - a.faceCount);
  const perGroup = new Map<GroupRecord, number>();
  for (let left = sample, progressed = true; left > 0 && progressed;) {
    progressed = false;
    for (const g of searchable) {
      if (left === 0) break;
      const n = perGroup.get(g) ?? 0;
      if (n < g.faceCount) { perGroup.set(g, n + 1); left--; progressed = true; }
    }
  }
  let searches = 0;
  const searchMismatches: SearchMismatch[] = [];
  for (const [g, n] of perGroup) {
    const there = targetGroups.get(`${g.appKey}\u0000${g.groupId}`);
    if (!there) continue;
    const keys = await source.faceKeys(g.appKey, g.groupId);
    const picked = Array.from({ length: n }, (_, i) => keys[Math.floor(((i + 0.5) / n) * keys.length)]);
    const queries = await source.vectorsByKeys(g.appKey, g.groupId, picked);
    const truth = await exactTop1(source, g, queries);
    for (let i = 0; i < queries.length; i++) {
      const q = queries[i];
      const [hit] = await targetSearch.search(toGroupRef(there), q.vector, 1, -Infinity, q.faceId);
      const want = truth[i];
      searches++;
      const same = hit?.faceId === want?.faceId || (hit !== undefined && want !== undefined && Math.abs(hit.score - want.score) <= SCORE_TIE);
      if (!same) searchMismatches.push({ appKey: g.appKey, groupId: g.groupId, faceId: q.faceId, source: want?.faceId, target: hit?.faceId });
    }
  }
  return { apps: appMismatches, counts, searches, searchMismatches };
}

/** The exact best other face of each query in the source group: one pass over its vectors. */
async function exactTop1(source: SqliteStore, g: GroupRecord, queries: { faceId: string; vector: Float32Array }[]): Promise<({ faceId: string; score: number } | undefined)[]> {
  const best: ({ faceId: string; score: number } | undefined)[] = queries.map(() => undefined);
  for (let after = 0; ;) {
    const batch = await source.vectorBatch(g.appKey, g.groupId, after, 10_000);
    if (batch.length === 0) return best;
    const index = new ExactIndex(EMBEDDING_SIZE);
    for (const f of batch) index.add(f.faceId, f.vector);
    queries.forEach((q, i) => {
      const [hit] = index.search(q.vector, 1, -Infinity, q.faceId);
      if (hit && (best[i] === undefined || hit.score > best[i]!.score)) best[i] = { faceId: hit.id, score: hit.score };
    });
    after = batch[batch.length - 1].key;
  }
}
