import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditAction, AuditEntry } from '../store/audit-chain.js';
import type { AuditLog } from '../store/privacy-store.js';
import { invalidParam } from './errors.js';
import { OneShotHmac } from './one-shot-hmac.js';
import { checkExternalImageId, checkIntRange } from './validation.js';

/** What a transport knows about the call in progress; the audit trail reads it, nothing else does. */
export interface RequestContext {
  requestId?: string;
  /** The app the request names (compare takes no app of its own). */
  appKey?: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

export interface AuditEvent {
  action: AuditAction;
  /** Defaults to the request's app. */
  appKey?: string;
  groupId?: string;
  externalImageId?: string;
  faceIds?: string[];
  /** Defaults to the number of faceIds. */
  count?: number;
}

export interface AuditFilter {
  from?: Date;
  to?: Date;
  externalImageId?: string;
  limit: number;
  afterSeq?: number;
}

/**
 * Who (app) did what to which record, and when: the domain's side of the audit log. Subjects
 * and faces are recorded as keyed pseudonyms (HMAC under a key derived from the master key), so
 * the log can be searched by subject yet holds no name or faceId after an erasure.
 */
export class AuditTrail {
  private readonly pseudonymHmac: OneShotHmac;

  constructor(
    private readonly log: AuditLog,
    pseudonymKey: Buffer,
    private readonly clock: () => Date = () => new Date(),
    /**
     * Given: an entry that cannot be written (a full disk) is reported here and the operation
     * stands, so that reads keep working and a register is not answered -50000 after its face
     * was stored. Absent: the failure propagates.
     */
    private readonly onWriteFailure?: (err: unknown, event: AuditEvent) => void,
  ) {
    this.pseudonymHmac = new OneShotHmac(pseudonymKey);
  }

  pseudonym(value: string): string {
    return this.pseudonymHmac.digest(value).toString('base64url').slice(0, 22);
  }

  async record(event: AuditEvent): Promise<void> {
    const ctx = requestContext.getStore();
    const appKey = event.appKey ?? ctx?.appKey;
    if (appKey === undefined) return; // no app to account it to (an in-process tool outside any request)
    const faceRefs = (event.faceIds ?? []).map((id) => this.pseudonym(id));
    try {
      await this.log.append({
        time: this.clock(),
        appKey,
        action: event.action,
        ...(event.groupId !== undefined ? { groupId: event.groupId } : {}),
        ...(event.externalImageId !== undefined ? { subjectRef: this.pseudonym(event.externalImageId) } : {}),
        faceRefs,
        count: event.count ?? faceRefs.length,
        ...(ctx?.requestId !== undefined ? { requestId: ctx.requestId } : {}),
      });
    } catch (err) {
      if (!this.onWriteFailure) throw err;
      this.onWriteFailure(err, event);
    }
  }

  async query(appKey: string, filter: AuditFilter): Promise<AuditEntry[]> {
    const limit = checkIntRange('limit', filter.limit, 1, 1000);
    if (filter.from && filter.to && filter.from >= filter.to) throw invalidParam('from must be before to');
    const subject = filter.externalImageId !== undefined ? checkExternalImageId(filter.externalImageId) : undefined;
    if (filter.afterSeq !== undefined) checkIntRange('after-seq', filter.afterSeq, 0, Number.MAX_SAFE_INTEGER);
    return this.log.query({
      appKey,
      limit,
      ...(filter.from ? { from: filter.from } : {}),
      ...(filter.to ? { to: filter.to } : {}),
      ...(subject !== undefined ? { subjectRef: this.pseudonym(subject) } : {}),
      ...(filter.afterSeq !== undefined ? { afterSeq: filter.afterSeq } : {}),
    });
  }

  /** Deletes entries older than the retention period; returns how many went. */
  prune(retentionMs: number): Promise<number> {
    return this.log.prune(new Date(this.clock().getTime() - retentionMs));
  }
}
