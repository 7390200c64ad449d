import { hash } from 'node:crypto';

/**
 * The audit log's hash chain, shared by every store that keeps the log and by its verifier.
 * Each entry's hash covers its own fields, its position and the previous entry's hash, so an
 * edited, removed or reordered entry breaks every hash after it.
 */

export const GENESIS_HASH = '0'.repeat(64);

export type AuditAction = 'register' | 'delete' | 'search' | 'verify' | 'compare' | 'erase' | 'export' | 'expire';

/** What is recorded: references only, never image bytes, vectors or secrets. */
export interface AuditFields {
  time: Date;
  appKey: string;
  action: AuditAction;
  groupId?: string;
  /** Keyed pseudonym of the externalImageId: searchable, yet no name stays behind after an erasure. */
  subjectRef?: string;
  /** Keyed pseudonyms of the faceIds concerned. */
  faceRefs: string[];
  /** Faces concerned (registered, deleted, matched, erased, exported). */
  count: number;
  requestId?: string;
}

export interface AuditEntry extends AuditFields {
  seq: number;
  prevHash: string;
  hash: string;
}

export function chainHash(seq: number, fields: AuditFields, prevHash: string): string {
  const canonical = JSON.stringify([
    seq, fields.time.getTime(), fields.appKey, fields.action, fields.groupId ?? null, fields.subjectRef ?? null,
    fields.faceRefs, fields.count, fields.requestId ?? null, prevHash,
  ]);
  // One-shot: a Hash object per entry (one per search) is a native object the event loop's minor GCs pay to clean up.
  return hash('sha256', canonical, 'hex');
}

export type ChainVerdict = { ok: true; entries: number } | { ok: false; entries: number; seq: number; reason: string };

/**
 * Checks entries in ascending seq order. `anchor` is the hash the first kept entry must follow:
 * GENESIS_HASH while nothing was pruned, else the one recorded when the log was last pruned.
 */
export function verifyChain(entries: Iterable<AuditEntry>, anchor: string = GENESIS_HASH): ChainVerdict {
  let prev = anchor;
  let n = 0;
  for (const e of entries) {
    n++;
    if (e.prevHash !== prev) return { ok: false, entries: n, seq: e.seq, reason: 'does not follow the entry before it (an entry was removed, reordered or edited)' };
    if (chainHash(e.seq, e, e.prevHash) !== e.hash) return { ok: false, entries: n, seq: e.seq, reason: 'its content does not match its hash (the entry was edited)' };
    prev = e.hash;
  }
  return { ok: true, entries: n };
}
