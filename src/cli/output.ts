import Table from 'cli-table3';
import type { BoundingBox, FaceDetail } from '../client/index.js';

/** `--json` prints the API data as it came; otherwise a human-readable rendering of it. */
export function emit<T>(json: boolean, data: T, human: (data: T) => string): void {
  process.stdout.write((json ? JSON.stringify(data ?? null, null, 2) : human(data)) + '\n');
}

/** A plain table: no colours, so output piped to files or `grep` stays clean. */
export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [], compact: true } });
  t.push(...rows.map((r) => r.map(String)));
  return t.toString();
}

export const num = (v: number | undefined, digits = 2) => (v === undefined ? '' : v.toFixed(digits));
export const yesNo = (v: boolean | undefined) => (v === undefined ? '' : v ? 'yes' : 'no');
export const box = (b: BoundingBox) => [b.x0, b.y0, b.x1, b.y1].map((v) => v.toFixed(3)).join(' ');
export const pose = (d: FaceDetail) => (d.orientation ? [d.orientation.x, d.orientation.y, d.orientation.z].map((v) => v.toFixed(0)).join('/') : '');

/** Columns shared by every command that prints face details (detect, spoofing, compare). */
export const DETAIL_HEAD = ['box x0 y0 x1 y1', 'confidence', 'yaw/pitch/roll', 'mask', 'spoof'];
export const detailCells = (d: FaceDetail) => [box(d.bbox), num(d.confidence, 3), pose(d), yesNo(d.mask), yesNo(d.spoofing)];

/** A usage or input problem found by the CLI itself, before or without asking the server. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
