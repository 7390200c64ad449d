import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import type { PhotoFile } from './photos.js';

/** Whom the state belongs to: a state file is only valid for the same server, app and group. */
export interface JournalHeader {
  kind: 'facerec-index-state';
  version: 1;
  target: string;
  appKey: string;
  groupId: string;
  /** The group's createTime: a group deleted and created again under the same id starts afresh. */
  groupCreateTime: string;
}

export type Outcome = 'added' | 'no-face' | 'already-registered';

export interface JournalEntry {
  file: string;
  size: number;
  mtimeMs: number;
  outcome: Outcome;
  faceIds: string[];
  externalImageId?: string;
  /** For `no-face`: why nothing was registered. */
  reason?: string;
}

/**
 * The resume state of `facerec index`: a JSON Lines file, a header line and then one line per
 * photo that is done. Each line is appended with one write() on an O_APPEND descriptor and
 * fdatasync'ed before the next photo counts as done, so an interruption at any moment leaves
 * every earlier line intact; a torn last line (power loss) is dropped on the next open. Appending
 * keeps the cost per photo constant, where rewriting a whole JSON file would grow with the folder.
 */
export class IndexJournal {
  private readonly done = new Map<string, JournalEntry>();
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    readonly header: JournalHeader,
  ) {}

  /**
   * Opens the state at `path`, or starts one. A state of another server, app or group is an
   * error (the caller names a different file); one of an earlier group with the same id is
   * replaced, and `restarted` says so.
   */
  static open(path: string, header: JournalHeader): { journal: IndexJournal; restarted: boolean } {
    const journal = new IndexJournal(path, header);
    let restarted = false;
    if (existsSync(path)) {
      const { header: found, entries, torn } = parse(readFileSync(path, 'utf8'), path);
      if (found.target !== header.target || found.appKey !== header.appKey || found.groupId !== header.groupId) {
        throw new JournalMismatchError(path, found);
      }
      if (found.groupCreateTime !== header.groupCreateTime) {
        restarted = true;
      } else {
        for (const e of entries) journal.done.set(e.file, e);
        if (torn) journal.rewrite();
      }
    }
    if (restarted || !existsSync(path)) journal.rewrite();
    journal.fd = openSync(path, 'a');
    return { journal, restarted };
  }

  /** True when `photo` was done in an earlier run and has not changed since (size and mtime). */
  isDone(photo: PhotoFile): boolean {
    const e = this.done.get(photo.rel);
    return e !== undefined && e.size === photo.size && e.mtimeMs === photo.mtimeMs;
  }

  entry(rel: string): JournalEntry | undefined {
    return this.done.get(rel);
  }

  record(entry: JournalEntry): void {
    if (this.fd === undefined) throw new Error('journal is closed');
    try {
      writeSync(this.fd, JSON.stringify(entry) + '\n');
      fdatasyncSync(this.fd);
    } catch (e) {
      throw new JournalWriteError(this.path, e as Error);
    }
    this.done.set(entry.file, entry);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Writes header + known entries to a temporary file and renames it over the state: all or nothing. */
  private rewrite(): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    const lines = [this.header, ...this.done.values()].map((x) => JSON.stringify(x) + '\n');
    writeFileSync(tmp, lines.join(''), { flush: true });
    renameSync(tmp, this.path);
  }
}

/** The state file could not be written (disk full, permissions): the run cannot keep track. */
export class JournalWriteError extends Error {
  constructor(path: string, cause: Error) {
    super(`cannot write the index state ${path}: ${cause.message}`, { cause });
    this.name = 'JournalWriteError';
  }
}

export class JournalMismatchError extends Error {
  constructor(path: string, found: JournalHeader) {
    super(`${path} is the index state of group ${found.groupId} of app ${found.appKey} at ${found.target}; pass --state <file> to keep a separate state, or delete it`);
    this.name = 'JournalMismatchError';
  }
}

function parse(text: string, path: string): { header: JournalHeader; entries: JournalEntry[]; torn: boolean } {
  const lines = text.split('\n');
  // Everything after the last newline is a line whose write did not complete.
  const torn = lines.pop() !== '';
  const header = JSON.parse(lines[0] ?? 'null') as JournalHeader | null;
  if (header?.kind !== 'facerec-index-state' || header.version !== 1) throw new Error(`${path} is not a facerec index state file`);
  const entries = lines.slice(1).flatMap((line) => {
    try {
      return [JSON.parse(line) as JournalEntry];
    } catch {
      return [];
    }
  });
  return { header, entries, torn };
}
