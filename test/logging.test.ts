/**
 * What the logs may hold. The real server (`npm start` as a child process, logging at `trace`,
 * the most verbose level) serves register, list, search, verify, detect, compare and spoofing in
 * both API versions, plus refused requests; then its whole output is searched for what must
 * never be there: the secret key (right or wrong), the appKey, image bytes, image-URL secrets,
 * and feature vectors. Every request's id must be there, so a client's report can be traced.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { b64, multipart } from './support/api-helpers.js';
import { startChildServer, type ChildServer } from './support/child-server.js';
import { fixture } from './support/fixtures.js';
import { startLocalOrigin, type LocalOrigin } from './support/local-origin.js';

// Distinctive values, so that a match in the logs can only be a leak.
const APP_KEY = 'LogAppKey7Q3ZxW';
const SECRET_KEY = 'LogSecretKey-9fK2mP4vR8tY';
const WRONG_SECRET = 'LogWrongSecret-2hN6bV1cX5';
const URL_TOKEN = 'LogUrlToken8d7s6a';
const URL_PASSWORD = 'LogUrlPassword3e4r';
// Short: V8 quotes a JSON syntax error's whole input only up to a few dozen characters.
const BODY_MARKER = 'LogBodyMark5t6y';

let server: ChildServer;
let images: LocalOrigin;
const photo = fixture('sample1.jpg');
const photoB64 = b64(photo);
const requestIds: string[] = [];
let output = '';

async function call(version: 'v1' | 'v2', method: string, path: string, body?: unknown, init: { secret?: string; raw?: { payload: Buffer | string; headers: Record<string, string> } } = {}) {
  const base = version === 'v1' ? `/nhn-face-reco/v1.0/appkeys/${APP_KEY}` : `/v2.0/appkeys/${APP_KEY}`;
  const headers: Record<string, string> = { ...(version === 'v2' ? { authorization: init.secret ?? SECRET_KEY } : {}) };
  let payload: Blob | string | undefined;
  if (init.raw) {
    Object.assign(headers, init.raw.headers);
    payload = typeof init.raw.payload === 'string' ? init.raw.payload : new Blob([new Uint8Array(init.raw.payload)]);
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(`${server.origin}${base}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const id = res.headers.get('x-request-id');
  if (id) requestIds.push(id);
  return (await res.json()) as { header: { resultCode: number }; data?: any };
}

before(async () => {
  images = await startLocalOrigin((req, res) => {
    if (req.url?.startsWith('/photo.jpg')) res.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo);
    else res.writeHead(404).end();
  });
  server = await startChildServer({
    appKey: APP_KEY,
    secretKey: SECRET_KEY,
    // Private URLs allowed so that a download can succeed from the local image server above.
    env: { FACEREC_WORKERS: '1', FACEREC_LOG_LEVEL: 'trace', FACEREC_ALLOW_PRIVATE_URLS: 'true' },
  });
  const image = { bytes: photoB64 };

  // The operations that carry images and vectors, in both versions.
  assert.equal((await call('v2', 'POST', '/groups', { groupId: 'logs' })).header.resultCode, 0);
  const reg = await call('v2', 'POST', '/groups/logs/faces', { image, limit: 3, externalImageId: 'log-photo.jpg' });
  assert.equal(reg.header.resultCode, 0);
  const faceId = reg.data.addedFaces[0].faceId as string;
  const form = multipart([{ name: 'imageFile', file: photo }, { name: 'limit', value: '1' }]);
  assert.equal((await call('v2', 'POST', '/groups/logs/faces', undefined, { raw: form })).header.resultCode, 0);
  assert.equal((await call('v2', 'GET', '/groups/logs/faces?limit=10')).header.resultCode, 0);
  assert.equal((await call('v2', 'GET', `/groups/logs/faces/${faceId}/search?limit=10&threshold=1`)).header.resultCode, 0);
  assert.equal((await call('v2', 'POST', '/groups/logs/faces/search', { image, limit: 10, threshold: 1 })).header.resultCode, 0);
  assert.equal((await call('v2', 'POST', `/groups/logs/faces/${faceId}/verify`, { compareImage: image })).header.resultCode, 0);
  assert.equal((await call('v2', 'POST', '/faces/detect', { image, spoofing: true })).header.resultCode, 0);
  assert.equal((await call('v2', 'POST', '/faces/compare', { sourceImage: image, targetImage: image, threshold: 70 })).header.resultCode, 0);
  assert.equal((await call('v2', 'POST', '/spoofing', { image })).header.resultCode, 0);
  assert.equal((await call('v1', 'POST', '/groups/logs', { image, limit: 1 })).header.resultCode, 0);
  assert.equal((await call('v1', 'POST', '/groups/logs/search?limit=10&threshold=1', { image })).header.resultCode, 0);
  assert.equal((await call('v1', 'POST', `/verify/groups/logs/faces/${faceId}`, { compareImage: image })).header.resultCode, 0);
  assert.equal((await call('v1', 'POST', '/detect', { image })).header.resultCode, 0);

  // Image URLs whose query or user info carry secrets (signed URLs are common): served, refused, missing.
  assert.equal((await call('v2', 'POST', '/faces/detect', { image: { url: `${images.origin}/photo.jpg?token=${URL_TOKEN}` } })).header.resultCode, 0);
  assert.equal((await call('v2', 'POST', '/faces/detect', { image: { url: `http://169.254.169.254/latest?token=${URL_TOKEN}` } })).header.resultCode, -45050);
  assert.equal((await call('v2', 'POST', '/faces/detect', { image: { url: `${images.origin}/missing.jpg?token=${URL_TOKEN}` } })).header.resultCode, -45050);
  assert.equal((await call('v2', 'POST', '/faces/detect', { image: { url: `http://user:${URL_PASSWORD}@127.0.0.1:${images.port}/photo.jpg` } })).header.resultCode, -45050);

  // Refusals: a wrong secret, an unknown v1 key, bad base64, and a body that is not JSON.
  assert.equal((await call('v2', 'GET', '/groups?limit=1', undefined, { secret: WRONG_SECRET })).header.resultCode, -41005);
  assert.equal((await call('v2', 'POST', '/faces/detect', { image: { bytes: `${BODY_MARKER}!!!` } })).header.resultCode, -45030);
  const notJson = { payload: BODY_MARKER, headers: { 'content-type': 'application/json' } };
  assert.equal((await call('v2', 'POST', '/faces/detect', undefined, { raw: notJson })).header.resultCode, -40000);
  assert.equal((await call('v1', 'POST', '/detect', undefined, { raw: notJson })).header.resultCode, -40000);

  // Give pino a moment to flush, then stop the server so its shutdown lines are included too.
  await new Promise((r) => setTimeout(r, 200));
  await server.close();
  output = server.output();
});
after(async () => {
  await server?.close();
  await images?.close();
});

/** The first log line containing `text`, shown when a test fails so the leak is easy to find. */
const lineWith = (text: string) => output.split('\n').find((l) => l.includes(text));

describe('logs (real server, level trace)', () => {
  test('the logs are there: one structured line per request event, each with its request id', () => {
    const lines = output.split('\n').filter((l) => l.startsWith('{'));
    assert.ok(lines.length > 50, `expected many log lines, got ${lines.length}`);
    for (const id of requestIds) assert.ok(output.includes(`"reqId":"${id}"`), `request id ${id} not in the logs`);
  });

  test('start-up self-check: one line with the machine, every worker flushing denormals and a time per model stage', () => {
    const line = lineWith('engine self-check');
    assert.ok(line, 'no self-check line');
    const { selfCheck } = JSON.parse(line);
    assert.equal(selfCheck.workers.length, 1);
    assert.equal(selfCheck.workers[0].flushesDenormals, true);
    assert.equal(typeof selfCheck.loneRequestThreads, 'number');
    if (selfCheck.loneRequestThreads > 1) assert.equal(selfCheck.workers[0].soloFlushesDenormals, true);
    assert.deepEqual(Object.keys(selfCheck.workers[0].stageMs).sort(), ['align', 'detect', 'embed', 'landmarks', 'liveness']);
    assert.ok(selfCheck.cpu && selfCheck.onnxruntime, 'machine facts missing');
  });

  test('no secret key, right or wrong, and no appKey', () => {
    for (const secret of [SECRET_KEY, WRONG_SECRET, APP_KEY]) assert.equal(lineWith(secret), undefined, `${secret} appears in the logs`);
    assert.ok(output.includes('/appkeys/***'), 'URLs are logged with the appKey replaced');
  });

  test('no image bytes: not the base64 body, not any slice of it, no buffers', () => {
    for (const at of [0, 1000, 50_000, photoB64.length - 64]) {
      assert.ok(!output.includes(photoB64.slice(at, at + 32)), `a slice of the image's base64 (at ${at}) appears in the logs`);
    }
    const longRun = /[A-Za-z0-9+/=_-]{200,}/.exec(output);
    assert.equal(longRun, null, `a long base64-like run appears in the logs: ${longRun?.[0].slice(0, 60)}…`);
    assert.ok(!output.includes('"type":"Buffer"'), 'a Buffer was serialised into the logs');
  });

  test('no image-URL secrets (query strings, user info)', () => {
    assert.equal(lineWith(URL_TOKEN), undefined, 'an image URL query appears in the logs');
    assert.equal(lineWith(URL_PASSWORD), undefined, 'an image URL password appears in the logs');
  });

  test('no feature vectors: no run of numbers, no typed arrays', () => {
    const numberRun = /(?:-?\d+(?:\.\d+)?(?:e[+-]?\d+)?\s*,\s*){7}-?\d/i.exec(output);
    assert.equal(numberRun, null, `a run of numbers appears in the logs: ${numberRun?.[0]}`);
    assert.ok(!/Float32Array|Float64Array/.test(output), 'a typed array was serialised into the logs');
  });

  test('no request body content in refusal messages (a body that is not JSON is not quoted)', () => {
    assert.equal(lineWith(BODY_MARKER.slice(0, 10)), undefined, 'a fragment of the request body appears in the logs');
  });
});
