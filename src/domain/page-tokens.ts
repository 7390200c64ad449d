import { createHmac, timingSafeEqual } from 'node:crypto';
import { FaceApiError } from './errors.js';
import type { FaceFilter } from '../store/store.js';

/**
 * What a `nextToken` pins down at issue time. NHN fixes `limit` (and, for faces, the filters)
 * once a token exists, so they travel inside the token and request values are ignored.
 */
export type PageState =
  | { kind: 'groups'; appKey: string; limit: number; cursor: string }
  | { kind: 'faces'; appKey: string; groupId: string; limit: number; filter: FaceFilter; cursor: string }
  | { kind: 'persons'; appKey: string; groupId: string; limit: number; cursor: string };

interface Sealed {
  s: PageState;
  /** Expiry, epoch ms. */
  e: number;
}

/**
 * Stateless page tokens: base64url(JSON) + HMAC-SHA256. Stateless so that they survive a restart
 * and need no table; signed so a client cannot forge a cursor into someone else's data.
 */
export class PageTokens {
  constructor(
    private readonly key: Uint8Array,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  issue(state: PageState): string {
    const body = Buffer.from(JSON.stringify({ s: state, e: this.now() + this.ttlMs } satisfies Sealed)).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  /** The state inside a token issued for this app and operation, or -40040. */
  open<K extends PageState['kind']>(token: string, kind: K, appKey: string, groupId?: string): Extract<PageState, { kind: K }> {
    const bad = () => new FaceApiError('InvalidTokenError', 'next-token is invalid or has expired');
    const [body, mac] = token.split('.');
    if (!body || !mac) throw bad();
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw bad();
    let sealed: Sealed;
    try {
      sealed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw bad();
    }
    const s = sealed.s;
    if (sealed.e < this.now() || s.kind !== kind || s.appKey !== appKey) throw bad();
    if ((s.kind === 'faces' || s.kind === 'persons') && s.groupId !== groupId) throw bad();
    return s as Extract<PageState, { kind: K }>;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
