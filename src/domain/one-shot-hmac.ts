import { hash } from 'node:crypto';

const BLOCK = 64;

/**
 * HMAC-SHA256 (RFC 2104: H(K ^ opad || H(K ^ ipad || m))) over Node's one-shot `crypto.hash`,
 * the same bytes as `createHmac('sha256', key)` (test/one-shot-hmac.test.ts). Written out because
 * `createHmac` makes a native object per call, freed by a weak callback at the next minor GC: a
 * search's audit entry takes about ten pseudonyms, and those callbacks were about 3 ms of each
 * of the event loop's scavenges, one every few hundred searches (docs/scale.md, stop 29). No
 * maintained library offers HMAC without a per-call object but a pure-JavaScript SHA-256,
 * which allocates more than this does.
 */
export class OneShotHmac {
  private readonly innerPad = Buffer.alloc(BLOCK, 0x36);
  private readonly outer = Buffer.alloc(BLOCK + 32, 0x5c);
  /** The inner pad followed by the message; grown when a message does not fit. */
  private inner = Buffer.alloc(BLOCK + 256);

  constructor(key: Buffer) {
    const k = key.length > BLOCK ? hash('sha256', key, 'buffer') : key;
    for (let i = 0; i < k.length; i++) {
      this.innerPad[i] ^= k[i];
      this.outer[i] ^= k[i];
    }
    this.innerPad.copy(this.inner);
  }

  digest(message: string): Buffer {
    const length = Buffer.byteLength(message, 'utf8');
    if (BLOCK + length > this.inner.length) {
      this.inner = Buffer.alloc(BLOCK + length);
      this.innerPad.copy(this.inner);
    }
    this.inner.write(message, BLOCK, 'utf8');
    hash('sha256', this.inner.subarray(0, BLOCK + length), 'buffer').copy(this.outer, BLOCK);
    return hash('sha256', this.outer, 'buffer');
  }
}
