/**
 * The image cap is NHN's 3,000,000 bytes unless the operator sets FACEREC_MAX_IMAGE_BYTES, and
 * every way an image arrives (base64 in JSON, v1 and v2, a multipart file) is held to the
 * configured figure with -45020; the console learns it from /console/settings.json.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config.js';
import { DEFAULT_MAX_IMAGE_BYTES } from '../src/domain/limits.js';
import { b64, multipart, startApi, type TestApi } from './support/api-helpers.js';
import { fixture } from './support/fixtures.js';

const TOO_LARGE = -45020;
const CAP = 200_000;
const small = fixture('sample1.jpg'); // 144 KB
const large = fixture('sample6.jpg'); // 302 KB

describe('FACEREC_MAX_IMAGE_BYTES', () => {
  test("unset: NHN's 3,000,000 bytes; set: that figure; nonsense is refused at start-up", () => {
    assert.equal(DEFAULT_MAX_IMAGE_BYTES, 3_000_000);
    assert.equal(loadConfig({}).maxImageBytes, 3_000_000);
    assert.equal(loadConfig({ FACEREC_MAX_IMAGE_BYTES: '5000000' }).maxImageBytes, 5_000_000);
    for (const bad of ['0', '-1', '3e6x', '2.5']) assert.throws(() => loadConfig({ FACEREC_MAX_IMAGE_BYTES: bad }), /FACEREC_MAX_IMAGE_BYTES/, bad);
  });
});

describe(`a server with the cap at ${CAP} bytes`, () => {
  let api: TestApi;
  before(async () => {
    assert.ok(small.length < CAP && large.length > CAP, 'fixtures on both sides of the cap');
    api = await startApi({ maxImageBytes: loadConfig({ FACEREC_MAX_IMAGE_BYTES: String(CAP) }).maxImageBytes });
  });
  after(async () => api?.dispose());

  test('JSON bytes over the cap: -45020 in v1 and v2; under it: detected', async () => {
    assert.equal((await api.v1('POST', '/detect', { image: { bytes: b64(large) } })).header.resultCode, TOO_LARGE);
    assert.equal((await api.v2('POST', '/faces/detect', { image: { bytes: b64(large) } })).header.resultCode, TOO_LARGE);
    assert.equal((await api.v2('POST', '/faces/detect', { image: { bytes: b64(small) } })).header.resultCode, 0);
  });

  test('a multipart file over the cap: -45020; under it: detected', async () => {
    const big = multipart([{ name: 'imageFile', file: large }]);
    assert.equal((await api.v2('POST', '/faces/detect', big.payload, big.headers)).header.resultCode, TOO_LARGE);
    const fine = multipart([{ name: 'imageFile', file: small }]);
    assert.equal((await api.v2('POST', '/faces/detect', fine.payload, fine.headers)).header.resultCode, 0);
  });

  test('the console is told the cap', async () => {
    const r = await api.app.inject({ url: '/console/settings.json' });
    assert.deepEqual(r.json(), { maxImageBytes: CAP });
  });
});
