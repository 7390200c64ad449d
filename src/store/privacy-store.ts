/**
 * Persistence ports of the privacy operations (docs/privacy.md), kept apart from `Store` so that
 * each store implementation adds them without touching the face store's contract.
 */

/**
 * What a deletion can leave behind in the storage engine's own files (a write-ahead log holding
 * older copies of deleted rows). `purge` resolves once those copies are gone from disk, as far as
 * the engine allows while other connections read.
 */
export interface StorageResidue {
  purge(): Promise<void>;
}

import type { AuditEntry, AuditFields } from './audit-chain.js';

export interface AuditQuery {
  appKey: string;
  from?: Date;
  /** Exclusive. */
  to?: Date;
  subjectRef?: string;
  limit: number;
  /** Entries with seq above this (paging). */
  afterSeq?: number;
}

/**
 * Append-only and hash-chained (audit-chain.ts). `append` reads the last hash and writes the
 * entry in one transaction, so concurrent writers (several processes on one store) still chain.
 */
export interface AuditLog {
  append(fields: AuditFields): Promise<AuditEntry>;
  query(q: AuditQuery): Promise<AuditEntry[]>;
  /** Every entry in seq order, with the hash the first must follow: what `audit verify` walks. */
  chain(): { anchor: string; entries: Iterable<AuditEntry> };
  /** Deletes entries older than `before`, from the oldest on, and records the new anchor. */
  prune(before: Date): Promise<number>;
}

/** Retention periods in milliseconds; a group's own period wins over its app's default. */
export interface RetentionPolicies {
  /** undefined clears it. */
  setAppRetention(appKey: string, periodMs: number | undefined): Promise<void>;
  /** undefined clears it. False if the group does not exist. */
  setGroupRetention(appKey: string, groupId: string, periodMs: number | undefined): Promise<boolean>;
  retentionOf(appKey: string): Promise<{ appDefaultMs?: number; groups: { groupId: string; periodMs: number }[] }>;
  /** Apps with a default or any group with a period: what a sweep visits. */
  appsWithRetention(): Promise<string[]>;
  /** Up to `limit` faces of the group created before `before`, oldest first. */
  facesCreatedBefore(appKey: string, groupId: string, before: Date, limit: number): Promise<string[]>;
}

/** What the data subject agreed to, as the operator records it: a reference to the consent and its purpose. */
export interface Consent {
  consentRef?: string;
  purpose?: string;
}

export interface ConsentRecords {
  /** Records the consent of faces just registered; faces already gone are skipped. */
  recordConsent(faceIds: string[], consent: Consent): Promise<void>;
  /** The consent recorded for each of the faces that has one. */
  consentOf(faceIds: string[]): Promise<Map<string, Consent>>;
}
