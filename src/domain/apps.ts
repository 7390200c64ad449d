import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AppRecord, Store } from '../store/store.js';

export const hashSecret = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

export interface NewAppKeys {
  appKey: string;
  secretKey: string;
}

/** Every group id of an app, all pages. */
export async function groupIdsOf(store: Pick<Store, 'listGroups'>, appKey: string): Promise<string[]> {
  const ids: string[] = [];
  for (let page = await store.listGroups(appKey, 1000); ; page = await store.listGroups(appKey, 1000, page.next)) {
    for (const g of page.items) ids.push(g.groupId);
    if (!page.next) return ids;
  }
}

/** Apps are tenants: an appKey names one, and the v2 secret key proves the caller holds it. */
export class Apps {
  constructor(
    private readonly store: Store,
    /** Told of every group a deleted app took with it, so search indexes forget it too. */
    private readonly groupGone: (group: { appKey: string; groupId: string }) => Promise<void> | void = () => {},
  ) {}

  /** Creates an app with random keys, or with the given ones (operator-provided via env). */
  async create(keys?: Partial<NewAppKeys>): Promise<NewAppKeys> {
    const appKey = keys?.appKey ?? randomBytes(12).toString('base64url');
    const secretKey = keys?.secretKey ?? randomBytes(24).toString('base64url');
    await this.store.createApp(appKey, hashSecret(secretKey));
    return { appKey, secretKey };
  }

  /** Replaces an app's secret key (operator rotation through FACEREC_SECRETKEY). */
  async setSecret(appKey: string, secretKey: string): Promise<void> {
    await this.store.setAppSecret(appKey, hashSecret(secretKey));
  }

  list(): Promise<AppRecord[]> {
    return this.store.listApps();
  }

  async delete(appKey: string): Promise<boolean> {
    const groupIds = await groupIdsOf(this.store, appKey);
    const deleted = await this.store.deleteApp(appKey);
    for (const groupId of groupIds) await this.groupGone({ appKey, groupId });
    return deleted;
  }

  /** v1 credential: the appKey alone. */
  async knows(appKey: string): Promise<boolean> {
    return (await this.store.getApp(appKey)) !== undefined;
  }

  /** v2 credential: appKey plus secret key, compared in constant time over fixed-length hashes. */
  async verifySecret(appKey: string, secretKey: string | undefined): Promise<boolean> {
    const app = await this.store.getApp(appKey);
    const expected = Buffer.from(app?.secretKeyHash ?? hashSecret(randomBytes(16).toString('hex')), 'hex');
    const given = Buffer.from(hashSecret(secretKey ?? ''), 'hex');
    return timingSafeEqual(expected, given) && app !== undefined && secretKey !== undefined;
  }
}
