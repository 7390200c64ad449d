import type Database from 'better-sqlite3';
import { join } from 'node:path';
import { chainHash, GENESIS_HASH, type AuditEntry, type AuditFields } from './audit-chain.js';
import { DATABASE_FILE, openDatabase } from './sqlite-connection.js';
import type { AuditLog, AuditQuery, Consent, ConsentRecords, RetentionPolicies, StorageResidue } from './privacy-store.js';

/** meta key: the hash the oldest kept audit entry follows, once older ones were pruned. */
const AUDIT_ANCHOR = 'audit_anchor';

interface AuditRow {
  seq: number;
  time: number;
  appKey: string;
  action: string;
  groupId: string | null;
  subjectRef: string | null;
  faceRefs: string;
  count: number;
  requestId: string | null;
  prevHash: string;
  hash: string;
}

const toEntry = (r: AuditRow): AuditEntry => ({
  seq: r.seq,
  time: new Date(r.time),
  appKey: r.appKey,
  action: r.action as AuditEntry['action'],
  ...(r.groupId !== null ? { groupId: r.groupId } : {}),
  ...(r.subjectRef !== null ? { subjectRef: r.subjectRef } : {}),
  faceRefs: JSON.parse(r.faceRefs) as string[],
  count: r.count,
  ...(r.requestId !== null ? { requestId: r.requestId } : {}),
  prevHash: r.prevHash,
  hash: r.hash,
});

/**
 * The privacy ports on the SQLite file. A connection of its own to the same file (WAL mode lets
 * it share the database with the Store's connection), so the Store's class stays as it is.
 * The schema is the Store's to migrate: open this after `SqliteStore.open`.
 */
export class SqlitePrivacy implements StorageResidue, AuditLog, RetentionPolicies, ConsentRecords {
  readonly #db: Database.Database;
  /**
   * Prepared once: an entry is appended with every search, and a statement prepared per call
   * is compiled again and is a native object whose clean-up the event loop's minor GCs pay for.
   */
  readonly #append: (fields: AuditFields) => AuditEntry;

  static open(dataDir: string, options: { busyTimeoutMs?: number } = {}): SqlitePrivacy {
    return new SqlitePrivacy(openDatabase(join(dataDir, DATABASE_FILE), options.busyTimeoutMs ?? 5000));
  }

  private constructor(db: Database.Database) {
    this.#db = db;
    // An audit entry is written with every search: syncing each one (FULL) would cost every
    // search an fsync. In WAL mode NORMAL stays consistent; a power cut may lose the last few
    // entries, never break the chain.
    db.pragma('synchronous = NORMAL');
    const lastEntry = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
    const insert = db.prepare(`INSERT INTO audit_log (seq, time, appKey, action, groupId, subjectRef, faceRefs, count, requestId, prevHash, hash)
                               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#append = db.transaction((fields: AuditFields): AuditEntry => {
      const last = lastEntry.get() as { seq: number; hash: string } | undefined;
      const seq = last ? last.seq + 1 : this.#firstSeqAfterPrune();
      const prevHash = last?.hash ?? this.#anchor().hash;
      const hash = chainHash(seq, fields, prevHash);
      insert.run(seq, fields.time.getTime(), fields.appKey, fields.action, fields.groupId ?? null, fields.subjectRef ?? null, JSON.stringify(fields.faceRefs), fields.count, fields.requestId ?? null, prevHash, hash);
      return { ...fields, seq, prevHash, hash };
    }).immediate;
  }

  /**
   * secure_delete zeroes deleted rows in the database file, but the WAL still holds the pages as
   * they were before the delete until a checkpoint; TRUNCATE copies the WAL back and empties it.
   */
  async purge(): Promise<void> {
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async append(fields: AuditFields): Promise<AuditEntry> {
    return this.#append(fields);
  }

  async query(q: AuditQuery): Promise<AuditEntry[]> {
    const where = ['appKey = ?', 'seq > ?'];
    const args: (string | number)[] = [q.appKey, q.afterSeq ?? 0];
    if (q.from) { where.push('time >= ?'); args.push(q.from.getTime()); }
    if (q.to) { where.push('time < ?'); args.push(q.to.getTime()); }
    if (q.subjectRef) { where.push('subjectRef = ?'); args.push(q.subjectRef); }
    const rows = this.#db.prepare(`SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`).all(...args, q.limit) as AuditRow[];
    return rows.map(toEntry);
  }

  chain(): { anchor: string; entries: Iterable<AuditEntry> } {
    const rows = this.#db.prepare('SELECT * FROM audit_log ORDER BY seq').iterate() as IterableIterator<AuditRow>;
    return { anchor: this.#anchor().hash, entries: (function* () { for (const r of rows) yield toEntry(r); })() };
  }

  async prune(before: Date): Promise<number> {
    return this.#db.transaction((): number => {
      const last = this.#db.prepare('SELECT seq, hash FROM audit_log WHERE time < ? ORDER BY seq DESC LIMIT 1').get(before.getTime()) as { seq: number; hash: string } | undefined;
      if (!last) return 0;
      // Oldest first: the head-only trigger allows exactly this order.
      const removed = this.#db.prepare('DELETE FROM audit_log WHERE seq <= ?').run(last.seq).changes;
      this.#db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
        .run(AUDIT_ANCHOR, JSON.stringify({ seq: last.seq, hash: last.hash }));
      return removed;
    }).immediate();
  }

  async setAppRetention(appKey: string, periodMs: number | undefined): Promise<void> {
    if (periodMs === undefined) this.#db.prepare('DELETE FROM app_retention WHERE appKey = ?').run(appKey);
    else this.#db.prepare('INSERT INTO app_retention (appKey, periodMs) VALUES (?, ?) ON CONFLICT (appKey) DO UPDATE SET periodMs = excluded.periodMs').run(appKey, periodMs);
  }

  async setGroupRetention(appKey: string, groupId: string, periodMs: number | undefined): Promise<boolean> {
    return this.#db.transaction((): boolean => {
      if (!this.#db.prepare('SELECT 1 FROM groups WHERE appKey = ? AND groupId = ?').get(appKey, groupId)) return false;
      if (periodMs === undefined) this.#db.prepare('DELETE FROM group_retention WHERE appKey = ? AND groupId = ?').run(appKey, groupId);
      else this.#db.prepare('INSERT INTO group_retention (appKey, groupId, periodMs) VALUES (?, ?, ?) ON CONFLICT (appKey, groupId) DO UPDATE SET periodMs = excluded.periodMs').run(appKey, groupId, periodMs);
      return true;
    }).immediate();
  }

  async retentionOf(appKey: string): Promise<{ appDefaultMs?: number; groups: { groupId: string; periodMs: number }[] }> {
    const appDefaultMs = this.#db.prepare('SELECT periodMs FROM app_retention WHERE appKey = ?').pluck().get(appKey) as number | undefined;
    const groups = this.#db.prepare('SELECT groupId, periodMs FROM group_retention WHERE appKey = ? ORDER BY groupId').all(appKey) as { groupId: string; periodMs: number }[];
    return { ...(appDefaultMs !== undefined ? { appDefaultMs } : {}), groups };
  }

  async appsWithRetention(): Promise<string[]> {
    return this.#db.prepare('SELECT appKey FROM app_retention UNION SELECT appKey FROM group_retention ORDER BY 1').pluck().all() as string[];
  }

  async facesCreatedBefore(appKey: string, groupId: string, before: Date, limit: number): Promise<string[]> {
    // faces_by_group_newest (appKey, groupId, createTime DESC, seq DESC) serves the range.
    return this.#db.prepare('SELECT faceId FROM faces WHERE appKey = ? AND groupId = ? AND createTime < ? ORDER BY createTime, seq LIMIT ?')
      .pluck().all(appKey, groupId, before.getTime(), limit) as string[];
  }

  async recordConsent(faceIds: string[], consent: Consent): Promise<void> {
    // INSERT … SELECT: a face deleted meanwhile gets no row (and no foreign-key failure).
    const insert = this.#db.prepare(`INSERT INTO face_consent (faceId, consentRef, purpose)
                                     SELECT faceId, ?, ? FROM faces WHERE faceId = ?
                                     ON CONFLICT (faceId) DO UPDATE SET consentRef = excluded.consentRef, purpose = excluded.purpose`);
    this.#db.transaction(() => {
      for (const id of faceIds) insert.run(consent.consentRef ?? null, consent.purpose ?? null, id);
    }).immediate();
  }

  async consentOf(faceIds: string[]): Promise<Map<string, Consent>> {
    const out = new Map<string, Consent>();
    const get = this.#db.prepare('SELECT consentRef, purpose FROM face_consent WHERE faceId = ?');
    for (const id of faceIds) {
      const row = get.get(id) as { consentRef: string | null; purpose: string | null } | undefined;
      if (row) out.set(id, { ...(row.consentRef !== null ? { consentRef: row.consentRef } : {}), ...(row.purpose !== null ? { purpose: row.purpose } : {}) });
    }
    return out;
  }

  close(): void {
    this.#db.close();
  }

  #anchor(): { seq: number; hash: string } {
    const v = this.#db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(AUDIT_ANCHOR) as string | undefined;
    return v ? (JSON.parse(v) as { seq: number; hash: string }) : { seq: 0, hash: GENESIS_HASH };
  }

  /** After everything was pruned, numbering continues from the anchor, so seq never repeats. */
  #firstSeqAfterPrune(): number {
    return this.#anchor().seq + 1;
  }
}
