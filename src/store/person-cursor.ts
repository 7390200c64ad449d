import type { Cursor } from './store.js';

/** Persons are listed in creation order: the last seq of a page is where the next starts. */
export const encodePersonCursor = (seq: number): Cursor => Buffer.from(JSON.stringify({ p: seq })).toString('base64url');

export function decodePersonCursor(cursor: Cursor): number {
  try {
    const { p } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { p?: unknown };
    if (Number.isSafeInteger(p)) return p as number;
  } catch {
    // the error below
  }
  throw new Error('Malformed person cursor');
}
