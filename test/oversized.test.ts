import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DISCARD_CAP_BYTES } from '../src/http/server.js';
import { startApi, type TestApi } from './support/api-helpers.js';

// A body over the image limit must get its -45020 envelope, whoever sends it and however slowly,
// never a reset connection (issue 13); past DISCARD_CAP_BYTES the server stops listening.

let api: TestApi;
let port: number;
let dir: string;
const TOO_LARGE = -45020;

before(async () => {
  api = await startApi();
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  port = (api.app.server.address() as { port: number }).port;
  dir = mkdtempSync(join(tmpdir(), 'facerec-oversized-'));
});
after(async () => {
  await api.app.close();
  api.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const v1Detect = () => `/nhn-face-reco/v1.0/appkeys/${api.appKey}/detect`;
const v2Detect = () => `/v2.0/appkeys/${api.appKey}/faces/detect`;
/** A JSON body of about `bytes` whose base64 image is far over 3,000,000 bytes. */
const jsonOf = (bytes: number) => JSON.stringify({ image: { bytes: 'A'.repeat(bytes - 40 - ((bytes - 40) % 4)) } });

test("Node's fetch: an 8 MB v1 JSON body and a 10 MB v2 multipart file get -45020", async () => {
  const json = await fetch(`http://127.0.0.1:${port}${v1Detect()}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: jsonOf(8 * 1024 * 1024) });
  assert.equal((await json.json()).header.resultCode, TOO_LARGE);
  const form = new FormData();
  form.append('imageFile', new Blob([new Uint8Array(10 * 1024 * 1024)]), 'photo.jpg');
  const multi = await fetch(`http://127.0.0.1:${port}${v2Detect()}`, { method: 'POST', headers: { authorization: api.secretKey }, body: form });
  assert.equal((await multi.json()).header.resultCode, TOO_LARGE);
});

test('curl: the same two requests get -45020, with no transport error', async (t) => {
  const run = promisify(execFile);
  try {
    await run('curl', ['--version']);
  } catch {
    t.skip('curl is not installed');
    return;
  }
  const body = join(dir, 'big.json');
  writeFileSync(body, jsonOf(8 * 1024 * 1024));
  const file = join(dir, 'big.jpg');
  writeFileSync(file, new Uint8Array(10 * 1024 * 1024));
  const base = ['-sS', '--max-time', '60'];
  const json = await run('curl', [...base, '-H', 'content-type: application/json', '--data-binary', `@${body}`, `http://127.0.0.1:${port}${v1Detect()}`], { maxBuffer: 1 << 20 });
  assert.equal(JSON.parse(json.stdout).header.resultCode, TOO_LARGE);
  const multi = await run('curl', [...base, '-H', `authorization: ${api.secretKey}`, '-F', `imageFile=@${file}`, `http://127.0.0.1:${port}${v2Detect()}`], { maxBuffer: 1 << 20 });
  assert.equal(JSON.parse(multi.stdout).header.resultCode, TOO_LARGE);
});

/**
 * Sends a v1 JSON body of `total` bytes over a raw socket, `chunk` bytes at a time with `everyMs`
 * between writes and waiting for the socket to drain, so that what counts as sent is what the
 * kernel took (and the server could read), not what sits in this process's buffer.
 */
async function slowPost(total: number, chunk: number, everyMs: number): Promise<{ response: string; sent: number; error?: string; closedEarly: boolean }> {
  const body = Buffer.from(jsonOf(total));
  const socket = connect(port, '127.0.0.1');
  let response = '';
  let error: string | undefined;
  let closed = false;
  socket.on('data', (d) => (response += d.toString()));
  socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code));
  const whenClosed = new Promise<void>((resolve) => socket.on('close', () => ((closed = true), resolve())));
  await once(socket, 'connect');
  socket.write(`POST ${v1Detect()} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
  let sent = 0;
  while (sent < body.length && !closed) {
    const flushed = socket.write(body.subarray(sent, sent + chunk));
    sent = Math.min(body.length, sent + chunk);
    if (!flushed) await Promise.race([once(socket, 'drain').catch(() => undefined), whenClosed]);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  const closedEarly = sent < body.length;
  if (!closed) {
    await new Promise((r) => setTimeout(r, 200)); // let the answer arrive, then hang up as a client would
    socket.end();
    await whenClosed;
  }
  return { response, sent, error, closedEarly };
}

const resultCodeIn = (raw: string) => JSON.parse(raw.slice(raw.indexOf('{'))).header.resultCode as number;

test('a raw socket sending 20 MB slowly is answered -45020 and can send all of it', async () => {
  const r = await slowPost(20 * 1024 * 1024, 256 * 1024, 2);
  assert.equal(r.error, undefined, `transport error ${r.error}`);
  assert.equal(r.closedEarly, false, 'the server hung up while the client was still sending');
  assert.match(r.response, /^HTTP\/1\.1 200/);
  assert.equal(resultCodeIn(r.response), TOO_LARGE);
});

test('past the discard cap the answer still comes, then the server hangs up', async () => {
  const r = await slowPost(DISCARD_CAP_BYTES + 16 * 1024 * 1024, 1024 * 1024, 1);
  assert.match(r.response, /^HTTP\/1\.1 200/);
  assert.equal(resultCodeIn(r.response), TOO_LARGE);
  assert.equal(r.closedEarly, true, 'the server read the whole oversized body');
});
