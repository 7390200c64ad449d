import type { RetentionPolicies } from '../store/privacy-store.js';
import type { Store } from '../store/store.js';
import { groupIdsOf } from './apps.js';
import type { AuditTrail } from './audit.js';
import { FaceApiError, invalidParam } from './errors.js';
import { deleteFaces, type ErasureReach } from './privacy.js';
import { checkGroupId } from './validation.js';

const DAY_MS = 86_400_000;
/** A century: long enough for any legal retention period, short enough to stay a safe integer. */
const MAX_RETENTION_DAYS = 36_500;
/** Expired faces read per store call during a sweep. */
const SWEEP_BATCH = 500;

export interface RetentionView {
  /** The app's default period, in days; absent: faces of groups without their own period are kept. */
  defaultRetentionDays?: number;
  groups: { groupId: string; retentionDays: number }[];
}

/** A period in whole days (clearing one is its own call). */
function checkDays(value: unknown): number {
  if (value === undefined) throw invalidParam('retentionDays is required');
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_RETENTION_DAYS) {
    throw invalidParam(`retentionDays must be an integer from 1 to ${MAX_RETENTION_DAYS}, to clear it, DELETE the retention`);
  }
  return value * DAY_MS;
}

/**
 * Retention: faces older than their group's period (or their app's default) are deleted by a
 * sweep. Periods are stored, so a restart resumes them; a sweep deletes each face with the
 * store's conditional delete, so two processes sweeping the same store never count a face twice.
 * NHN routes are untouched: a face simply disappears once it is past its period.
 */
export class RetentionService {
  #sweeping: Promise<number> | undefined;

  constructor(
    private readonly store: Store,
    private readonly policies: RetentionPolicies,
    private readonly reach: ErasureReach,
    private readonly audit?: Pick<AuditTrail, 'record'>,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async setAppRetention(appKey: string, retentionDays: unknown): Promise<void> {
    await this.policies.setAppRetention(appKey, checkDays(retentionDays));
  }

  async clearAppRetention(appKey: string): Promise<void> {
    await this.policies.setAppRetention(appKey, undefined);
  }

  async clearGroupRetention(appKey: string, groupId: string): Promise<void> {
    if (!(await this.policies.setGroupRetention(appKey, checkGroupId(groupId), undefined))) {
      throw new FaceApiError('NotFoundGroupError', `group ${groupId} does not exist`);
    }
  }

  async setGroupRetention(appKey: string, groupId: string, retentionDays: unknown): Promise<void> {
    const periodMs = checkDays(retentionDays);
    if (!(await this.policies.setGroupRetention(appKey, checkGroupId(groupId), periodMs))) {
      throw new FaceApiError('NotFoundGroupError', `group ${groupId} does not exist`);
    }
  }

  async retentionOf(appKey: string): Promise<RetentionView> {
    const r = await this.policies.retentionOf(appKey);
    return {
      ...(r.appDefaultMs !== undefined ? { defaultRetentionDays: r.appDefaultMs / DAY_MS } : {}),
      groups: r.groups.map((g) => ({ groupId: g.groupId, retentionDays: g.periodMs / DAY_MS })),
    };
  }

  /** One pass over every app with a period; resolves with the faces it deleted. One at a time. */
  sweep(): Promise<number> {
    this.#sweeping ??= this.#sweep().finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  async #sweep(): Promise<number> {
    const now = this.clock().getTime();
    let total = 0;
    try {
      for (const appKey of await this.policies.appsWithRetention()) {
        const { appDefaultMs, groups } = await this.policies.retentionOf(appKey);
        const own = new Map(groups.map((g) => [g.groupId, g.periodMs]));
        for (const groupId of await groupIdsOf(this.store, appKey)) {
          const periodMs = own.get(groupId) ?? appDefaultMs;
          if (periodMs === undefined) continue;
          total += await this.#expire(appKey, groupId, new Date(now - periodMs));
        }
      }
    } finally {
      if (total > 0) {
        await this.reach.flushIndex?.();
        await this.reach.residue?.purge();
      }
    }
    return total;
  }

  async #expire(appKey: string, groupId: string, before: Date): Promise<number> {
    const group = await this.store.getGroup(appKey, groupId);
    if (!group) return 0;
    const expired: string[] = [];
    for (;;) {
      const batch = await this.policies.facesCreatedBefore(appKey, groupId, before, SWEEP_BATCH);
      if (batch.length === 0) break;
      // A face another process's sweep, or a client, deleted first is not counted here.
      const deleted = await deleteFaces(this.store, this.reach.faceSearch, group, batch);
      expired.push(...deleted);
      // Someone else deleted the whole batch: the next query will not see them, but should it
      // (a reader behind a writer), the next sweep finishes instead of this one spinning.
      if (deleted.length === 0) break;
    }
    if (expired.length > 0) await this.audit?.record({ action: 'expire', appKey, groupId, faceIds: expired });
    return expired.length;
  }
}
