import { chainHash, GENESIS_HASH, type AuditEntry, type AuditFields } from './audit-chain.js';
import type { PgConnection } from './pg-connection.js';
import type { AuditLog, AuditQuery, Consent, ConsentRecords, RetentionPolicies } from './privacy-store.js';

/** meta key: the hash the oldest kept audit entry follows, once older ones were pruned. */
const AUDIT_ANCHOR = 'audit_anchor';
/** Serialises appends from every node, so the chain stays one chain. */
const AUDIT_LOCK = 7_211_411_002;

interface AuditRow {
  seq: number; time: number; app_key: string; action: string; group_id: string | null; subject_ref: string | null;
  face_refs: string; count: number; request_id: string | null; prev_hash: string; hash: string;
}

const toEntry = (r: AuditRow): AuditEntry => ({
  seq: r.seq,
  time: new Date(r.time),
  appKey: r.app_key,
  action: r.action as AuditEntry['action'],
  ...(r.group_id !== null ? { groupId: r.group_id } : {}),
  ...(r.subject_ref !== null ? { subjectRef: r.subject_ref } : {}),
  faceRefs: JSON.parse(r.face_refs) as string[],
  count: r.count,
  ...(r.request_id !== null ? { requestId: r.request_id } : {}),
  prevHash: r.prev_hash,
  hash: r.hash,
});

/**
 * The privacy ports (audit log, retention, consent) on PostgreSQL, shared by every node like the
 * face store. The schema is PgStore's to migrate: open that first. Deleted rows linger in
 * PostgreSQL's heap until VACUUM (autovacuum) reclaims them; that is the operator's storage layer
 * (docs/security.md), so this port has no StorageResidue to purge.
 */
export class PgPrivacy implements AuditLog, RetentionPolicies, ConsentRecords {
  constructor(private readonly db: PgConnection) {}

  async append(fields: AuditFields): Promise<AuditEntry> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
      const { rows } = await tx.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
      const anchor = await this.#anchor(tx);
      const seq = rows[0] ? rows[0].seq + 1 : anchor.seq + 1;
      const prevHash = rows[0]?.hash ?? anchor.hash;
      const hash = chainHash(seq, fields, prevHash);
      await tx.query(
        'INSERT INTO audit_log (seq, time, app_key, action, group_id, subject_ref, face_refs, count, request_id, prev_hash, hash) ' +
        'VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)',
        [seq, fields.time.getTime(), fields.appKey, fields.action, fields.groupId ?? null, fields.subjectRef ?? null,
          JSON.stringify(fields.faceRefs), fields.count, fields.requestId ?? null, prevHash, hash]);
      return { ...fields, seq, prevHash, hash };
    });
  }

  async query(q: AuditQuery): Promise<AuditEntry[]> {
    const where = ['app_key = $1', 'seq > $2'];
    const args: (string | number)[] = [q.appKey, q.afterSeq ?? 0];
    if (q.from) { args.push(q.from.getTime()); where.push(`time >= $${args.length}`); }
    if (q.to) { args.push(q.to.getTime()); where.push(`time < $${args.length}`); }
    if (q.subjectRef) { args.push(q.subjectRef); where.push(`subject_ref = $${args.length}`); }
    args.push(q.limit);
    const { rows } = await this.db.query<AuditRow>(`SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${args.length}`, args);
    return rows.map(toEntry);
  }

  /**
   * The chain is verified by `facerec audit verify`, which reads the SQLite store; on PostgreSQL
   * it is verified with chainEntries (async) instead.
   */
  chain(): { anchor: string; entries: Iterable<AuditEntry> } {
    throw new Error('the PostgreSQL audit log is read with chainEntries()');
  }

  /** Every entry in seq order with the hash the first must follow. */
  async chainEntries(): Promise<{ anchor: string; entries: AuditEntry[] }> {
    const anchor = await this.#anchor(this.db);
    const { rows } = await this.db.query<AuditRow>('SELECT * FROM audit_log ORDER BY seq');
    return { anchor: anchor.hash, entries: rows.map(toEntry) };
  }

  async prune(before: Date): Promise<number> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
      const { rows } = await tx.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log WHERE time < $1 ORDER BY seq DESC LIMIT 1', [before.getTime()]);
      if (rows.length === 0) return 0;
      const removed = await tx.query('DELETE FROM audit_log WHERE seq <= $1', [rows[0].seq]);
      await tx.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        [AUDIT_ANCHOR, JSON.stringify({ seq: rows[0].seq, hash: rows[0].hash })]);
      return removed.rowCount ?? 0;
    });
  }

  async setAppRetention(appKey: string, periodMs: number | undefined): Promise<void> {
    if (periodMs === undefined) await this.db.query('DELETE FROM app_retention WHERE app_key = $1', [appKey]);
    else await this.db.query('INSERT INTO app_retention (app_key, period_ms) VALUES ($1, $2) ON CONFLICT (app_key) DO UPDATE SET period_ms = excluded.period_ms', [appKey, periodMs]);
  }

  async setGroupRetention(appKey: string, groupId: string, periodMs: number | undefined): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const group = await tx.query('SELECT 1 FROM groups WHERE app_key = $1 AND group_id = $2 FOR SHARE', [appKey, groupId]);
      if (group.rowCount === 0) return false;
      if (periodMs === undefined) await tx.query('DELETE FROM group_retention WHERE app_key = $1 AND group_id = $2', [appKey, groupId]);
      else await tx.query('INSERT INTO group_retention (app_key, group_id, period_ms) VALUES ($1, $2, $3) ON CONFLICT (app_key, group_id) DO UPDATE SET period_ms = excluded.period_ms', [appKey, groupId, periodMs]);
      return true;
    });
  }

  async retentionOf(appKey: string): Promise<{ appDefaultMs?: number; groups: { groupId: string; periodMs: number }[] }> {
    const app = await this.db.query<{ period_ms: number }>('SELECT period_ms FROM app_retention WHERE app_key = $1', [appKey]);
    const groups = await this.db.query<{ group_id: string; period_ms: number }>('SELECT group_id, period_ms FROM group_retention WHERE app_key = $1 ORDER BY group_id COLLATE "C"', [appKey]);
    return { ...(app.rows[0] ? { appDefaultMs: app.rows[0].period_ms } : {}), groups: groups.rows.map((g) => ({ groupId: g.group_id, periodMs: g.period_ms })) };
  }

  async appsWithRetention(): Promise<string[]> {
    const { rows } = await this.db.query<{ app_key: string }>('SELECT app_key FROM app_retention UNION SELECT app_key FROM group_retention ORDER BY 1');
    return rows.map((r) => r.app_key);
  }

  async facesCreatedBefore(appKey: string, groupId: string, before: Date, limit: number): Promise<string[]> {
    const { rows } = await this.db.query<{ face_id: string }>(
      'SELECT face_id FROM faces WHERE app_key = $1 AND group_id = $2 AND create_time < $3 ORDER BY create_time, seq LIMIT $4', [appKey, groupId, before.getTime(), limit]);
    return rows.map((r) => r.face_id);
  }

  async recordConsent(faceIds: string[], consent: Consent): Promise<void> {
    if (faceIds.length === 0) return;
    // INSERT … SELECT: a face deleted meanwhile gets no row (and no foreign-key failure).
    await this.db.query(
      'INSERT INTO face_consent (face_id, consent_ref, purpose) SELECT face_id, $2, $3 FROM faces WHERE face_id = ANY($1::text[]) ' +
      'ON CONFLICT (face_id) DO UPDATE SET consent_ref = excluded.consent_ref, purpose = excluded.purpose',
      [faceIds, consent.consentRef ?? null, consent.purpose ?? null]);
  }

  async consentOf(faceIds: string[]): Promise<Map<string, Consent>> {
    const out = new Map<string, Consent>();
    if (faceIds.length === 0) return out;
    const { rows } = await this.db.query<{ face_id: string; consent_ref: string | null; purpose: string | null }>(
      'SELECT face_id, consent_ref, purpose FROM face_consent WHERE face_id = ANY($1::text[])', [faceIds]);
    for (const r of rows) out.set(r.face_id, { ...(r.consent_ref !== null ? { consentRef: r.consent_ref } : {}), ...(r.purpose !== null ? { purpose: r.purpose } : {}) });
    return out;
  }

  /**
   * Audit entries copied from another store (`facerec migrate`), verbatim: seq, hashes and all,
   * so the chain goes on where it was. `anchor` is the hash the source's first kept entry follows;
   * it is recorded when this log is still empty. Entries already here are skipped; one at the same
   * seq with another hash means this log has a history of its own, and the copy is refused.
   */
  async importAuditEntries(entries: AuditEntry[], anchor: string): Promise<number> {
    if (entries.length === 0) return 0;
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
      const { rows: any } = await tx.query('SELECT 1 FROM audit_log LIMIT 1');
      const first = entries[0];
      if (any.length === 0 && (first.seq > 1 || anchor !== GENESIS_HASH)) {
        await tx.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
          [AUDIT_ANCHOR, JSON.stringify({ seq: first.seq - 1, hash: anchor })]);
      }
      const { rowCount } = await tx.query(
        'INSERT INTO audit_log (seq, time, app_key, action, group_id, subject_ref, face_refs, count, request_id, prev_hash, hash) ' +
        'SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::text[], $11::text[]) ' +
        'ON CONFLICT (seq) DO NOTHING',
        [entries.map((e) => e.seq), entries.map((e) => e.time.getTime()), entries.map((e) => e.appKey), entries.map((e) => e.action),
          entries.map((e) => e.groupId ?? null), entries.map((e) => e.subjectRef ?? null), entries.map((e) => JSON.stringify(e.faceRefs)),
          entries.map((e) => e.count), entries.map((e) => e.requestId ?? null), entries.map((e) => e.prevHash), entries.map((e) => e.hash)]);
      const { rows: clash } = await tx.query<{ seq: number }>(
        'SELECT a.seq FROM audit_log a JOIN unnest($1::bigint[], $2::text[]) AS e (seq, hash) ON a.seq = e.seq WHERE a.hash <> e.hash LIMIT 1',
        [entries.map((e) => e.seq), entries.map((e) => e.hash)]);
      if (clash.length > 0) throw new Error(`the database's audit log already has another entry ${clash[0].seq}: it has a history of its own`);
      return rowCount ?? 0;
    });
  }

  async #anchor(db: Pick<PgConnection, 'query'> | { query: PgConnection['pool']['query'] }): Promise<{ seq: number; hash: string }> {
    const { rows } = await (db as PgConnection).query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [AUDIT_ANCHOR]);
    return rows[0] ? (JSON.parse(rows[0].value) as { seq: number; hash: string }) : { seq: 0, hash: GENESIS_HASH };
  }
}
