import type { Cursor, Page } from './store.js';

/**
 * Keyset pagination shared by every Store implementation: how a page is cut from rows fetched
 * with one extra, and how a position is written into the opaque Cursor. The cursor text travels
 * inside signed page tokens that outlive a restart, so its encoding must not change.
 */

/** Where a page of faces ended, in their order (newest first). */
export interface FaceCursor {
  /** createTime, epoch ms */
  t: number;
  /** insertion sequence */
  s: number;
}

interface GroupCursor {
  g: string;
}

export function assertPageLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`Page limit must be a positive integer, got ${limit}`);
}

/** Rows were fetched with limit + 1: the extra row only tells whether another page exists. */
export function toPage<Row, Item>(rows: Row[], limit: number, toItem: (row: Row) => Item, cursorAfter: (row: Row) => Cursor): Page<Item> {
  const pageRows = rows.slice(0, limit);
  const page: Page<Item> = { items: pageRows.map(toItem) };
  if (rows.length > limit) page.next = cursorAfter(pageRows[pageRows.length - 1]);
  return page;
}

/** Groups are ordered by groupId: the last groupId of a page is where the next one starts. */
export const encodeGroupCursor = (groupId: string): Cursor => encodeCursor({ g: groupId });

export const encodeFaceCursor = (position: FaceCursor): Cursor => encodeCursor(position);

export function decodeGroupCursor(cursor: Cursor): string {
  const { g } = decodeCursor(cursor);
  if (typeof g !== 'string') throw new Error('Malformed group cursor');
  return g;
}

export function decodeFaceCursor(cursor: Cursor): FaceCursor {
  const { t, s } = decodeCursor(cursor);
  if (!Number.isSafeInteger(t) || !Number.isSafeInteger(s)) throw new Error('Malformed face cursor');
  return { t: t as number, s: s as number };
}

function encodeCursor(position: GroupCursor | FaceCursor): Cursor {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

function decodeCursor(cursor: Cursor): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
  } catch {
    // fall through to the error below
  }
  throw new Error('Malformed store cursor');
}
