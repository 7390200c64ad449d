import type pg from 'pg';
import { toPage } from './pagination.js';
import type { AssociateRefusal, ClusterJobRecord, ClusterJobs, ClusterJobState, NewPerson, PersonChanges, PersonRecord, PersonStore } from './person-store.js';
import type { PgConnection } from './pg-connection.js';
import { decodePersonCursor, encodePersonCursor } from './person-cursor.js';
import type { Cursor, Page } from './store.js';

interface PersonRow {
  seq: string;
  person_id: string;
  name: string | null;
  metadata: string | null;
  create_time: string;
  update_time: string;
  face_count: number;
}

const toPerson = (r: PersonRow): PersonRecord => ({
  personId: r.person_id,
  ...(r.name !== null ? { name: r.name } : {}),
  ...(r.metadata !== null ? { metadata: JSON.parse(r.metadata) as Record<string, unknown> } : {}),
  createTime: new Date(Number(r.create_time)),
  updateTime: new Date(Number(r.update_time)),
  faceCount: r.face_count,
});

interface JobRow {
  job_id: string;
  app_key: string;
  group_id: string;
  state: ClusterJobState;
  percent: number;
  params: string;
  result: string | null;
  error: string | null;
  create_time: string;
  update_time: string;
}

const toJob = (r: JobRow): ClusterJobRecord => ({
  jobId: r.job_id,
  appKey: r.app_key,
  groupId: r.group_id,
  state: r.state,
  percent: r.percent,
  params: JSON.parse(r.params) as Record<string, unknown>,
  ...(r.result !== null ? { result: JSON.parse(r.result) as unknown } : {}),
  ...(r.error !== null ? { error: r.error } : {}),
  createTime: new Date(Number(r.create_time)),
  updateTime: new Date(Number(r.update_time)),
});

const PERSON_COLUMNS = `p.seq, p.person_id, p.name, p.metadata, p.create_time, p.update_time,
  (SELECT count(*)::int FROM person_faces pf WHERE pf.person_id = p.person_id) AS face_count`;

/** A pool client inside a transaction, or the connection for a single statement. */
interface Queryable {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/**
 * The person and clustering ports on PostgreSQL (migration 3), the counterpart of SqlitePersons:
 * the same rules, one transaction per write. Associations go with their faces and persons, and
 * persons and jobs with their groups, by foreign-key cascades. Writes that check and then change
 * lock the person's row (FOR UPDATE), so two nodes associating faces at once cannot both pass a
 * check that only one of them may.
 */
export class PgPersons implements PersonStore, ClusterJobs {
  constructor(private readonly db: PgConnection) {}

  /** The connection is the runtime's; it closes it. */
  close(): void {}

  async createPerson(appKey: string, groupId: string, person: NewPerson): Promise<PersonRecord | undefined> {
    return this.db.transaction(async (tx) => {
      const group = await tx.query('SELECT 1 FROM groups WHERE app_key = $1 AND group_id = $2 FOR SHARE', [appKey, groupId]);
      if (group.rowCount === 0) return undefined;
      const now = Date.now();
      await tx.query('INSERT INTO persons (person_id, app_key, group_id, name, metadata, create_time, update_time) VALUES ($1, $2, $3, $4, $5, $6, $6)',
        [person.personId, appKey, groupId, person.name ?? null, person.metadata ? JSON.stringify(person.metadata) : null, now]);
      return this.#person(tx, appKey, groupId, person.personId);
    });
  }

  async getPerson(appKey: string, groupId: string, personId: string): Promise<PersonRecord | undefined> {
    return this.#person(this.db, appKey, groupId, personId);
  }

  async #person(q: Queryable, appKey: string, groupId: string, personId: string, lock = false): Promise<PersonRecord | undefined> {
    const { rows } = await q.query<PersonRow>(
      `SELECT ${PERSON_COLUMNS} FROM persons p WHERE p.app_key = $1 AND p.group_id = $2 AND p.person_id = $3${lock ? ' FOR UPDATE' : ''}`,
      [appKey, groupId, personId]);
    return rows[0] && toPerson(rows[0]);
  }

  async listPersons(appKey: string, groupId: string, limit: number, after?: Cursor): Promise<Page<PersonRecord>> {
    const afterSeq = after === undefined ? 0 : decodePersonCursor(after);
    const { rows } = await this.db.query<PersonRow>(
      `SELECT ${PERSON_COLUMNS} FROM persons p WHERE p.app_key = $1 AND p.group_id = $2 AND p.seq > $3 ORDER BY p.seq LIMIT $4`,
      [appKey, groupId, afterSeq, limit + 1]);
    return toPage(rows, limit, toPerson, (r) => encodePersonCursor(Number(r.seq)));
  }

  async updatePerson(appKey: string, groupId: string, personId: string, changes: PersonChanges): Promise<PersonRecord | undefined> {
    return this.db.transaction(async (tx) => {
      if (!(await this.#person(tx, appKey, groupId, personId, true))) return undefined;
      const sets = ['update_time = $2'];
      const values: unknown[] = [personId, Date.now()];
      if (changes.name !== undefined) {
        values.push(changes.name);
        sets.push(`name = $${values.length}`);
      }
      if (changes.metadata !== undefined) {
        values.push(changes.metadata === null ? null : JSON.stringify(changes.metadata));
        sets.push(`metadata = $${values.length}`);
      }
      await tx.query(`UPDATE persons SET ${sets.join(', ')} WHERE person_id = $1`, values);
      return this.#person(tx, appKey, groupId, personId);
    });
  }

  async deletePerson(appKey: string, groupId: string, personId: string): Promise<string[] | undefined> {
    return this.db.transaction(async (tx) => {
      if (!(await this.#person(tx, appKey, groupId, personId, true))) return undefined;
      const faceIds = await this.#faceIdsOf(tx, personId);
      await tx.query('DELETE FROM persons WHERE person_id = $1', [personId]);
      return faceIds;
    });
  }

  async associateFaces(appKey: string, groupId: string, personId: string, faceIds: string[], maxFaces: number): Promise<{ ok: true; person: PersonRecord } | { ok: false; refusal: AssociateRefusal }> {
    return this.db.transaction(async (tx): Promise<{ ok: true; person: PersonRecord } | { ok: false; refusal: AssociateRefusal }> => {
      const person = await this.#person(tx, appKey, groupId, personId, true);
      if (!person) return { ok: false, refusal: { reason: 'no-person' } };
      // The faces are locked too: a face deleted meanwhile cannot be associated after the check.
      const { rows } = await tx.query<{ face_id: string; owner: string | null }>(
        `SELECT f.face_id, pf.person_id AS owner FROM faces f LEFT JOIN person_faces pf ON pf.face_id = f.face_id
          WHERE f.face_id = ANY($1::text[]) AND f.app_key = $2 AND f.group_id = $3 FOR UPDATE OF f`,
        [faceIds, appKey, groupId]);
      const found = new Map(rows.map((r) => [r.face_id, r.owner]));
      const adding = new Set<string>();
      for (const faceId of faceIds) {
        if (!found.has(faceId)) return { ok: false, refusal: { reason: 'no-face', faceId } };
        const current = found.get(faceId);
        if (current === null) adding.add(faceId);
        else if (current !== personId) return { ok: false, refusal: { reason: 'other-person', faceId, personId: current! } };
      }
      if (person.faceCount + adding.size > maxFaces) return { ok: false, refusal: { reason: 'quota' } };
      // A face another transaction gave to a person after our read fails the primary key: the
      // whole call is refused by the error rather than half done.
      await tx.query('INSERT INTO person_faces (face_id, person_id) SELECT unnest($1::text[]), $2 ON CONFLICT (face_id) DO NOTHING', [[...adding], personId]);
      await tx.query('UPDATE persons SET update_time = $2 WHERE person_id = $1', [personId, Date.now()]);
      return { ok: true, person: (await this.#person(tx, appKey, groupId, personId))! };
    });
  }

  async disassociateFaces(appKey: string, groupId: string, personId: string, faceIds: string[]): Promise<string[] | undefined> {
    return this.db.transaction(async (tx) => {
      if (!(await this.#person(tx, appKey, groupId, personId, true))) return undefined;
      const { rows } = await tx.query<{ face_id: string }>('DELETE FROM person_faces WHERE person_id = $1 AND face_id = ANY($2::text[]) RETURNING face_id', [personId, faceIds]);
      const gone = new Set(rows.map((r) => r.face_id));
      if (gone.size) await tx.query('UPDATE persons SET update_time = $2 WHERE person_id = $1', [personId, Date.now()]);
      return [...new Set(faceIds)].filter((faceId) => gone.has(faceId));
    });
  }

  async personFaceIds(appKey: string, groupId: string, personId: string): Promise<string[]> {
    if (!(await this.#person(this.db, appKey, groupId, personId))) return [];
    return this.#faceIdsOf(this.db, personId);
  }

  async #faceIdsOf(q: Queryable, personId: string): Promise<string[]> {
    const { rows } = await q.query<{ face_id: string }>('SELECT face_id FROM person_faces WHERE person_id = $1 ORDER BY face_id COLLATE "C"', [personId]);
    return rows.map((r) => r.face_id);
  }

  async personsOfFaces(appKey: string, groupId: string, faceIds: string[]): Promise<Map<string, string>> {
    const { rows } = await this.db.query<{ face_id: string; person_id: string }>(
      `SELECT pf.face_id, pf.person_id FROM person_faces pf JOIN persons p ON p.person_id = pf.person_id
        WHERE pf.face_id = ANY($1::text[]) AND p.app_key = $2 AND p.group_id = $3`,
      [faceIds, appKey, groupId]);
    return new Map(rows.map((r) => [r.face_id, r.person_id]));
  }

  // ── bulk import (`facerec migrate`) ─────────────────────────────────────

  /**
   * A person as another store holds it (id, name, metadata and times kept) with those of its
   * faces that are in the group here. Idempotent: a repeated import makes the fields the ones
   * given and adds associations that are missing. Faces this database gave to another person
   * stay with that person.
   */
  async importPerson(appKey: string, groupId: string, person: PersonRecord, faceIds: string[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO persons (person_id, app_key, group_id, name, metadata, create_time, update_time) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (person_id) DO UPDATE SET name = excluded.name, metadata = excluded.metadata, update_time = excluded.update_time`,
        [person.personId, appKey, groupId, person.name ?? null, person.metadata ? JSON.stringify(person.metadata) : null, person.createTime.getTime(), person.updateTime.getTime()]);
      await tx.query(
        `INSERT INTO person_faces (face_id, person_id)
         SELECT f.face_id, $2 FROM faces f WHERE f.face_id = ANY($1::text[]) AND f.app_key = $3 AND f.group_id = $4
         ON CONFLICT (face_id) DO NOTHING`,
        [faceIds, person.personId, appKey, groupId]);
    });
  }

  /** How many persons a group has, and how many faces are associated with them. */
  async groupCounts(appKey: string, groupId: string): Promise<{ persons: number; faces: number }> {
    const { rows } = await this.db.query<{ persons: number; faces: number }>(
      `SELECT count(DISTINCT p.person_id)::int AS persons, count(pf.face_id)::int AS faces
         FROM persons p LEFT JOIN person_faces pf ON pf.person_id = p.person_id
        WHERE p.app_key = $1 AND p.group_id = $2`, [appKey, groupId]);
    return rows[0];
  }

  /** A clustering job as another store holds it; one already here is left as it is. */
  async importJob(job: ClusterJobRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO cluster_jobs (job_id, app_key, group_id, state, percent, params, result, error, create_time, update_time)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (job_id) DO NOTHING`,
      [job.jobId, job.appKey, job.groupId, job.state, job.percent, JSON.stringify(job.params),
        job.result === undefined ? null : JSON.stringify(job.result), job.error ?? null, job.createTime.getTime(), job.updateTime.getTime()]);
  }

  // ── clustering jobs ──────────────────────────────────────────────────────

  async createJob(job: { jobId: string; appKey: string; groupId: string; params: Record<string, unknown> }): Promise<ClusterJobRecord | undefined> {
    return this.db.transaction(async (tx) => {
      const group = await tx.query('SELECT 1 FROM groups WHERE app_key = $1 AND group_id = $2 FOR SHARE', [job.appKey, job.groupId]);
      if (group.rowCount === 0) return undefined;
      const now = Date.now();
      const { rows } = await tx.query<JobRow>(
        `INSERT INTO cluster_jobs (job_id, app_key, group_id, state, percent, params, create_time, update_time)
         VALUES ($1, $2, $3, 'queued', 0, $4, $5, $5) RETURNING *`,
        [job.jobId, job.appKey, job.groupId, JSON.stringify(job.params), now]);
      return toJob(rows[0]);
    });
  }

  async getJob(appKey: string, groupId: string, jobId: string): Promise<ClusterJobRecord | undefined> {
    const { rows } = await this.db.query<JobRow>('SELECT * FROM cluster_jobs WHERE job_id = $1 AND app_key = $2 AND group_id = $3', [jobId, appKey, groupId]);
    return rows[0] && toJob(rows[0]);
  }

  async updateJob(jobId: string, changes: { state?: ClusterJobState; percent?: number; result?: unknown; error?: string }): Promise<void> {
    const sets = ['update_time = $2'];
    const values: unknown[] = [jobId, Date.now()];
    const set = (column: string, value: unknown) => {
      values.push(value);
      sets.push(`${column} = $${values.length}`);
    };
    if (changes.state !== undefined) set('state', changes.state);
    if (changes.percent !== undefined) set('percent', Math.round(changes.percent));
    if (changes.result !== undefined) set('result', JSON.stringify(changes.result));
    if (changes.error !== undefined) set('error', changes.error);
    await this.db.query(`UPDATE cluster_jobs SET ${sets.join(', ')} WHERE job_id = $1`, values);
  }

  async unfinishedJobs(): Promise<ClusterJobRecord[]> {
    const { rows } = await this.db.query<JobRow>(`SELECT * FROM cluster_jobs WHERE state IN ('queued', 'running') ORDER BY create_time`);
    return rows.map(toJob);
  }
}
