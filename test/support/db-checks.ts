// Structural checks on a facerec SQLite file, read-only: what "no group is corrupt" means.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { DATABASE_FILE } from '../../src/store/sqlite-connection.js';

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
