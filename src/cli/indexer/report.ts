import { renameSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';

export interface IndexTotals {
  /** Photos found in the folder. */
  files: number;
  /** Registered in this run. */
  added: number;
  facesAdded: number;
  /** Done in an earlier run (state file), or found already registered under their externalImageId. */
  skipped: number;
  noFace: number;
  errors: number;
  /** Left untouched because the run stopped early (interrupted, group full, server gone). */
  notAttempted: number;
}

export interface IndexReport {
  groupId: string;
  folder: string;
  target: string;
  finishedAt: string;
  /** Why the run stopped before the end, if it did. */
  stoppedEarly?: string;
  totals: IndexTotals;
  /** Photos where nothing was registered: no face, or faces too small or turned away (from every run). */
  noFace: { file: string; reason: string }[];
  /** Photos that failed in this run; `resultCode` is the API's, null when the request itself failed. */
  errors: { file: string; resultCode: number | null; resultMessage: string; detail?: string }[];
}

/** Writes the report as JSON, or as CSV when the file name ends in .csv; atomically (temp + rename). */
export function writeReport(path: string, report: IndexReport): void {
  const text = extname(path).toLowerCase() === '.csv' ? toCsv(report) : JSON.stringify(report, null, 2) + '\n';
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

function toCsv(r: IndexReport): string {
  const rows = [
    ['file', 'status', 'resultCode', 'message', 'detail'],
    ...r.noFace.map((n) => [n.file, 'no-face', '', n.reason, '']),
    ...r.errors.map((e) => [e.file, 'error', e.resultCode === null ? '' : String(e.resultCode), e.resultMessage, e.detail ?? '']),
  ];
  // Only the free-text columns (file, message, detail) get the formula guard; codes stay numbers.
  return rows.map((row) => row.map((v, i) => csvCell(v, i === 0 || i >= 3)).join(',')).join('\r\n') + '\r\n';
}

/** RFC 4180 quoting; a leading = + - @ is prefixed with ' so spreadsheets do not run file names as formulas. */
function csvCell(v: string, text: boolean): string {
  const safe = text && /^[=+\-@]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
