import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { OneShotHmac } from '../src/domain/one-shot-hmac.js';

test('OneShotHmac gives the bytes createHmac gives, for short, long, empty and non-ASCII messages and keys of any length', () => {
  for (const keyLength of [0, 16, 32, 64, 65, 200]) {
    const key = randomBytes(keyLength);
    const hmac = new OneShotHmac(key);
    for (const message of ['', 'face-123', 'é漢字👤', 'x'.repeat(300), 'a'.repeat(63), 'short again']) {
      assert.deepEqual(hmac.digest(message), createHmac('sha256', key).update(message, 'utf8').digest(), `key ${keyLength} bytes, message of ${message.length}`);
    }
  }
});

test('OneShotHmac matches RFC 4231 test case 2', () => {
  const hmac = new OneShotHmac(Buffer.from('Jefe'));
  assert.equal(hmac.digest('what do ya want for nothing?').toString('hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
});
