// Graceful shutdown of `npm start`: SIGTERM while requests are in flight lets them finish with
// success, then the process closes the pool and the store and exits 0.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { fixture } from './support/fixtures.js';
import { ServerProcess } from './support/server-process.js';

const APP_KEY = 'shutdown-app';
const SECRET = 'shutdown-secret';
/** Detects on image bytes, queued on the single worker alongside the held URL request. */
const BYTE_REQUESTS = 3;

const dataDir = mkdtempSync(join(tmpdir(), 'facerec-shutdown-'));
let server: ServerProcess | undefined;
let imageServer: Server | undefined;
after(() => {
  if (server?.running) server.child.kill('SIGKILL');
  imageServer?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Listens on the first port `pick` offers that is free. */
async function listenOnFreePort(server: NetServer, pick: () => number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = pick();
    server.listen(port, '127.0.0.1');
    const ok = await new Promise<boolean>((resolve) => {
      server.once('listening', () => resolve(true));
      server.once('error', () => resolve(false));
    });
    if (ok) return (server.address() as { port: number }).port;
  }
  throw new Error('no free port');
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await Promise.resolve().then(check).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('SIGTERM finishes in-flight requests, then exits 0', { timeout: 120_000 }, async () => {
  const photo = await sharp(fixture('sample1.jpg')).resize({ width: 2000 }).jpeg({ quality: 90 }).toBuffer();

  // An image server that holds its answer until released: a request stays in flight for as long as the test wants.
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let downloadStarted = false;
  imageServer = createHttpServer(async (_req, res) => {
    downloadStarted = true;
    await released;
    res.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo);
  });
  // NHN allows image URLs on ports 80, 443 and 10000–12000 only.
  const imagePort = await listenOnFreePort(imageServer, () => 10000 + Math.floor(Math.random() * 2000));
  server = await ServerProcess.spawn({
    dataDir,
    appKey: APP_KEY,
    secretKey: SECRET,
    env: {
      FACEREC_WORKERS: '1',
      FACEREC_MASTER_KEY: '44'.repeat(32),
      FACEREC_ALLOW_PRIVATE_URLS: 'true',
      FACEREC_URL_TIMEOUT_MS: '20000',
      // 'incoming request' (how this test sees that a request arrived) is logged at debug.
      FACEREC_LOG_LEVEL: 'debug',
    },
    keepAllOutput: true,
  });
  const base = server.origin;
  const logs = () => server!.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
  await server.waitReady(90_000);

  const detect = (image: object) =>
    fetch(`${base}/v2.0/appkeys/${APP_KEY}/faces/detect`, { method: 'POST', headers: { authorization: SECRET, 'content-type': 'application/json' }, body: JSON.stringify({ image }) }).then(
      async (r) => ({ status: r.status, body: (await r.json()) as any }),
    );
  const held = detect({ url: `http://127.0.0.1:${imagePort}/photo.jpg` });
  const byBytes = Array.from({ length: BYTE_REQUESTS }, () => detect({ bytes: photo.toString('base64') }));
  const incoming = () => logs().filter((l) => l.msg === 'incoming request' && String(l.req?.url).endsWith('/faces/detect')).length;
  await waitUntil(() => downloadStarted && incoming() === BYTE_REQUESTS + 1, 10_000, 'the requests to reach the server');

  server.child.kill('SIGTERM');
  await waitUntil(() => logs().some((l) => l.msg === 'shutting down: finishing in-flight requests'), 10_000, 'the shutdown to begin');
  // No new work is taken once shutting down: a new request is refused (connection refused, or 503 on a kept-alive connection).
  const late = await fetch(`${base}/health`).then((r) => r.status, () => 'refused');
  assert.ok(late === 'refused' || late === 503, `a request after SIGTERM got ${late}`);
  assert.ok(server.running, 'still running while a request is in flight');
  release();

  for (const answer of [await held, ...(await Promise.all(byBytes))]) {
    assert.equal(answer.status, 200);
    assert.equal(answer.body.header.resultCode, 0, JSON.stringify(answer.body.header));
    assert.ok(answer.body.data.faceDetailCount >= 1);
  }
  const { code, signal } = await Promise.race([server.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no exit within 20 s')), 20_000).unref())]);
  assert.equal(signal, null);
  assert.equal(code, 0, server.output());
  assert.equal(logs().at(-1)?.msg, 'shut down');
});
