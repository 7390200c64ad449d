import Database from 'better-sqlite3';
import { runAsBackground } from '../background-thread.js';

/** One checkpoint of a SQLite file's WAL, run by WalCheckpointer's thread. */
export interface CheckpointTask {
  path: string;
  busyTimeoutMs: number;
}

/** SQLite's answer: frames in the WAL and how many of them are now in the database file. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

runAsBackground();

const connections = new Map<string, Database.Database>();

export default function checkpoint(task: CheckpointTask): CheckpointResult {
  let db = connections.get(task.path);
  if (!db) {
    db = new Database(task.path, { fileMustExist: true, timeout: task.busyTimeoutMs });
    connections.set(task.path, db);
  }
  // PASSIVE: copies what it can without waiting for readers or blocking writers. Its syncs
  // (synchronous = FULL, the default) make the copied pages durable before the WAL is reused.
  const [result] = db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
  return result;
}
