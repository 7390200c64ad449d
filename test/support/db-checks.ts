// Structural checks on a facerec SQLite file, read-only: what "no group is corrupt" means.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { DATABASE_FILE } from '../../src/store/sqlite-connection.js';
import { queryDatabase } from './test-database.js';

export interface DatabaseFacts {
  groups: number;
  faces: number;
  problems: string[];
}

/**
 * SQLite's own integrity and foreign-key checks, no face without its group, and every group's
 * maintained faceCount equal to the faces it really holds.
 */
export function checkDatabase(dataDir: string): DatabaseFacts {
  const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    const problems: string[] = [];
    const integrity = db.pragma('integrity_check', { simple: false }) as { integrity_check: string }[];
    if (integrity.length !== 1 || integrity[0].integrity_check !== 'ok') problems.push(`integrity_check: ${integrity.map((r) => r.integrity_check).join('; ')}`);
    const fk = db.pragma('foreign_key_check') as unknown[];
    if (fk.length > 0) problems.push(`foreign_key_check: ${JSON.stringify(fk.slice(0, 5))}`);
    const orphans = db.prepare('SELECT count(*) FROM faces f WHERE NOT EXISTS (SELECT 1 FROM groups g WHERE g.appKey = f.appKey AND g.groupId = f.groupId)').pluck().get() as number;
    if (orphans > 0) problems.push(`${orphans} faces belong to no group`);
    const miscounted = db
      .prepare('SELECT g.groupId, g.faceCount, (SELECT count(*) FROM faces f WHERE f.appKey = g.appKey AND f.groupId = g.groupId) AS actual FROM groups g')
      .all()
      .filter((r: any) => r.faceCount !== r.actual) as { groupId: string; faceCount: number; actual: number }[];
    for (const m of miscounted) problems.push(`group ${m.groupId}: faceCount ${m.faceCount}, holds ${m.actual}`);
    return {
      groups: db.prepare('SELECT count(*) FROM groups').pluck().get() as number,
      faces: db.prepare('SELECT count(*) FROM faces').pluck().get() as number,
      problems,
    };
  } finally {
    db.close();
  }
}

/** The same facts on PostgreSQL (its constraints already refuse a dangling foreign key). */
export async function checkPgDatabase(url: string): Promise<DatabaseFacts> {
  const problems: string[] = [];
  const [orphans] = await queryDatabase<{ n: number }>(url,
    'SELECT count(*)::int AS n FROM faces f WHERE NOT EXISTS (SELECT 1 FROM groups g WHERE g.app_key = f.app_key AND g.group_id = f.group_id)');
  if (orphans.n > 0) problems.push(`${orphans.n} faces belong to no group`);
  const miscounted = await queryDatabase<{ group_id: string; face_count: number; actual: number }>(url,
    'SELECT g.group_id, g.face_count, (SELECT count(*)::int FROM faces f WHERE f.app_key = g.app_key AND f.group_id = g.group_id) AS actual FROM groups g');
  for (const m of miscounted.filter((r) => r.face_count !== r.actual)) problems.push(`group ${m.group_id}: faceCount ${m.face_count}, holds ${m.actual}`);
  const [counts] = await queryDatabase<{ groups: number; faces: number }>(url, 'SELECT (SELECT count(*)::int FROM groups) AS groups, (SELECT count(*)::int FROM faces) AS faces');
  return { ...counts, problems };
}

/** checkDatabase on whichever store the test API runs on. */
export async function checkStoreOf(api: { dataDir: string; config: { database?: { url: string } } }): Promise<DatabaseFacts> {
  return api.config.database ? checkPgDatabase(api.config.database.url) : checkDatabase(api.dataDir);
}
