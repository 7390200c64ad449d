import type Database from 'better-sqlite3';
import { join } from 'node:path';
import { toPage } from './pagination.js';
import type { AssociateRefusal, ClusterJobRecord, ClusterJobs, ClusterJobState, NewPerson, PersonChanges, PersonRecord, PersonStore } from './person-store.js';
import { DATABASE_FILE, openDatabase } from './sqlite-connection.js';
import { decodePersonCursor, encodePersonCursor } from './person-cursor.js';
import type { Cursor, Page } from './store.js';

interface PersonRow {
  seq: number;
  personId: string;
  name: string | null;
  metadata: string | null;
  createTime: number;
  updateTime: number;
  faceCount: number;
}

const toPerson = (r: PersonRow): PersonRecord => ({
  personId: r.personId,
  ...(r.name !== null ? { name: r.name } : {}),
  ...(r.metadata !== null ? { metadata: JSON.parse(r.metadata) as Record<string, unknown> } : {}),
  createTime: new Date(r.createTime),
  updateTime: new Date(r.updateTime),
  faceCount: r.faceCount,
});

interface JobRow {
  jobId: string;
  appKey: string;
  groupId: string;
  state: ClusterJobState;
  percent: number;
  params: string;
  result: string | null;
  error: string | null;
  createTime: number;
  updateTime: number;
}

const toJob = (r: JobRow): ClusterJobRecord => ({
  jobId: r.jobId,
  appKey: r.appKey,
  groupId: r.groupId,
  state: r.state,
  percent: r.percent,
  params: JSON.parse(r.params) as Record<string, unknown>,
  ...(r.result !== null ? { result: JSON.parse(r.result) as unknown } : {}),
  ...(r.error !== null ? { error: r.error } : {}),
  createTime: new Date(r.createTime),
  updateTime: new Date(r.updateTime),
});

const PERSON_COLUMNS = `p.seq, p.personId, p.name, p.metadata, p.createTime, p.updateTime,
  (SELECT count(*) FROM person_faces pf WHERE pf.personId = p.personId) AS faceCount`;

/**
 * The person and clustering ports on the SQLite file, on a connection of its own (as
 * SqlitePrivacy). The schema is the Store's to migrate: open this after `SqliteStore.open`.
 * Associations and jobs go with their faces, persons and groups by foreign-key cascades, so a
 * face deleted, erased or expired through the Store leaves no association behind.
 */
export class SqlitePersons implements PersonStore, ClusterJobs {
  readonly #db: Database.Database;

  static open(dataDir: string, options: { busyTimeoutMs?: number } = {}): SqlitePersons {
    return new SqlitePersons(openDatabase(join(dataDir, DATABASE_FILE), options.busyTimeoutMs ?? 5000));
  }

  private constructor(db: Database.Database) {
    this.#db = db;
  }

  close(): void {
    this.#db.close();
  }

  async createPerson(appKey: string, groupId: string, person: NewPerson): Promise<PersonRecord | undefined> {
    return this.#db.transaction(() => {
      const group = this.#db.prepare('SELECT 1 FROM groups WHERE appKey = ? AND groupId = ?').get(appKey, groupId);
      if (!group) return undefined;
      const now = Date.now();
      this.#db.prepare('INSERT INTO persons (personId, appKey, groupId, name, metadata, createTime, updateTime) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(person.personId, appKey, groupId, person.name ?? null, person.metadata ? JSON.stringify(person.metadata) : null, now, now);
      return this.#person(appKey, groupId, person.personId);
    }).immediate();
  }

  async getPerson(appKey: string, groupId: string, personId: string): Promise<PersonRecord | undefined> {
    return this.#person(appKey, groupId, personId);
  }

  #person(appKey: string, groupId: string, personId: string): PersonRecord | undefined {
    const row = this.#db.prepare(`SELECT ${PERSON_COLUMNS} FROM persons p WHERE p.appKey = ? AND p.groupId = ? AND p.personId = ?`)
      .get(appKey, groupId, personId) as PersonRow | undefined;
    return row && toPerson(row);
  }

  async listPersons(appKey: string, groupId: string, limit: number, after?: Cursor): Promise<Page<PersonRecord>> {
    const afterSeq = after === undefined ? 0 : decodePersonCursor(after);
    const rows = this.#db.prepare(`SELECT ${PERSON_COLUMNS} FROM persons p WHERE p.appKey = ? AND p.groupId = ? AND p.seq > ? ORDER BY p.seq LIMIT ?`)
      .all(appKey, groupId, afterSeq, limit + 1) as PersonRow[];
    return toPage(rows, limit, toPerson, (r) => encodePersonCursor(r.seq));
  }

  async updatePerson(appKey: string, groupId: string, personId: string, changes: PersonChanges): Promise<PersonRecord | undefined> {
    return this.#db.transaction(() => {
      if (!this.#person(appKey, groupId, personId)) return undefined;
      const sets = ['updateTime = ?'];
      const values: unknown[] = [Date.now()];
      if (changes.name !== undefined) {
        sets.push('name = ?');
        values.push(changes.name);
      }
      if (changes.metadata !== undefined) {
        sets.push('metadata = ?');
        values.push(changes.metadata === null ? null : JSON.stringify(changes.metadata));
      }
      this.#db.prepare(`UPDATE persons SET ${sets.join(', ')} WHERE personId = ?`).run(...values, personId);
      return this.#person(appKey, groupId, personId);
    }).immediate();
  }

  async deletePerson(appKey: string, groupId: string, personId: string): Promise<string[] | undefined> {
    return this.#db.transaction(() => {
      if (!this.#person(appKey, groupId, personId)) return undefined;
      const faceIds = this.#faceIdsOf(personId);
      this.#db.prepare('DELETE FROM persons WHERE personId = ?').run(personId);
      return faceIds;
    }).immediate();
  }

  async associateFaces(appKey: string, groupId: string, personId: string, faceIds: string[], maxFaces: number): Promise<{ ok: true; person: PersonRecord } | { ok: false; refusal: AssociateRefusal }> {
    return this.#db.transaction((): { ok: true; person: PersonRecord } | { ok: false; refusal: AssociateRefusal } => {
      const person = this.#person(appKey, groupId, personId);
      if (!person) return { ok: false, refusal: { reason: 'no-person' } };
      const inGroup = this.#db.prepare('SELECT 1 FROM faces WHERE faceId = ? AND appKey = ? AND groupId = ?');
      const owner = this.#db.prepare('SELECT personId FROM person_faces WHERE faceId = ?').pluck();
      let adding = 0;
      for (const faceId of faceIds) {
        if (!inGroup.get(faceId, appKey, groupId)) return { ok: false, refusal: { reason: 'no-face', faceId } };
        const current = owner.get(faceId) as string | undefined;
        if (current === undefined) adding++;
        else if (current !== personId) return { ok: false, refusal: { reason: 'other-person', faceId, personId: current } };
      }
      if (person.faceCount + adding > maxFaces) return { ok: false, refusal: { reason: 'quota' } };
      const insert = this.#db.prepare('INSERT INTO person_faces (faceId, personId) VALUES (?, ?) ON CONFLICT (faceId) DO NOTHING');
      for (const faceId of faceIds) insert.run(faceId, personId);
      this.#db.prepare('UPDATE persons SET updateTime = ? WHERE personId = ?').run(Date.now(), personId);
      return { ok: true, person: this.#person(appKey, groupId, personId)! };
    }).immediate();
  }

  async disassociateFaces(appKey: string, groupId: string, personId: string, faceIds: string[]): Promise<string[] | undefined> {
    return this.#db.transaction(() => {
      if (!this.#person(appKey, groupId, personId)) return undefined;
      const remove = this.#db.prepare('DELETE FROM person_faces WHERE faceId = ? AND personId = ?');
      const removed = faceIds.filter((faceId) => remove.run(faceId, personId).changes > 0);
      if (removed.length) this.#db.prepare('UPDATE persons SET updateTime = ? WHERE personId = ?').run(Date.now(), personId);
      return removed;
    }).immediate();
  }

  async personFaceIds(appKey: string, groupId: string, personId: string): Promise<string[]> {
    if (!this.#person(appKey, groupId, personId)) return [];
    return this.#faceIdsOf(personId);
  }

  #faceIdsOf(personId: string): string[] {
    return this.#db.prepare('SELECT faceId FROM person_faces WHERE personId = ? ORDER BY faceId').pluck().all(personId) as string[];
  }

  async personsOfFaces(appKey: string, groupId: string, faceIds: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const q = this.#db.prepare(`SELECT pf.personId FROM person_faces pf JOIN persons p ON p.personId = pf.personId
                                WHERE pf.faceId = ? AND p.appKey = ? AND p.groupId = ?`).pluck();
    for (const faceId of faceIds) {
      const personId = q.get(faceId, appKey, groupId) as string | undefined;
      if (personId !== undefined) out.set(faceId, personId);
    }
    return out;
  }

  // ── clustering jobs ──────────────────────────────────────────────────────

  async createJob(job: { jobId: string; appKey: string; groupId: string; params: Record<string, unknown> }): Promise<ClusterJobRecord | undefined> {
    return this.#db.transaction(() => {
      if (!this.#db.prepare('SELECT 1 FROM groups WHERE appKey = ? AND groupId = ?').get(job.appKey, job.groupId)) return undefined;
      const now = Date.now();
      this.#db.prepare(`INSERT INTO cluster_jobs (jobId, appKey, groupId, state, percent, params, createTime, updateTime) VALUES (?, ?, ?, 'queued', 0, ?, ?, ?)`)
        .run(job.jobId, job.appKey, job.groupId, JSON.stringify(job.params), now, now);
      return this.#job(job.jobId);
    }).immediate();
  }

  async getJob(appKey: string, groupId: string, jobId: string): Promise<ClusterJobRecord | undefined> {
    const job = this.#job(jobId);
    return job && job.appKey === appKey && job.groupId === groupId ? job : undefined;
  }

  #job(jobId: string): ClusterJobRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM cluster_jobs WHERE jobId = ?').get(jobId) as JobRow | undefined;
    return row && toJob(row);
  }

  async updateJob(jobId: string, changes: { state?: ClusterJobState; percent?: number; result?: unknown; error?: string }): Promise<void> {
    const sets = ['updateTime = ?'];
    const values: unknown[] = [Date.now()];
    if (changes.state !== undefined) { sets.push('state = ?'); values.push(changes.state); }
    if (changes.percent !== undefined) { sets.push('percent = ?'); values.push(Math.round(changes.percent)); }
    if (changes.result !== undefined) { sets.push('result = ?'); values.push(JSON.stringify(changes.result)); }
    if (changes.error !== undefined) { sets.push('error = ?'); values.push(changes.error); }
    this.#db.prepare(`UPDATE cluster_jobs SET ${sets.join(', ')} WHERE jobId = ?`).run(...values, jobId);
  }

  async unfinishedJobs(): Promise<ClusterJobRecord[]> {
    return (this.#db.prepare(`SELECT * FROM cluster_jobs WHERE state IN ('queued', 'running') ORDER BY createTime`).all() as JobRow[]).map(toJob);
  }

  /** Every job of a group, oldest first (`facerec migrate`). */
  async jobsOf(appKey: string, groupId: string): Promise<ClusterJobRecord[]> {
    return (this.#db.prepare('SELECT * FROM cluster_jobs WHERE appKey = ? AND groupId = ? ORDER BY createTime').all(appKey, groupId) as JobRow[]).map(toJob);
  }
}
