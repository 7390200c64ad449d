/**
 * SSRF through the real endpoints: image URLs given to detect, register, search, verify, compare
 * and spoofing (v1 and v2) must never reach a forbidden address or port — not even one packet —
 * whether named directly, in another spelling, through DNS, or through a redirect; slow and
 * endless downloads stop at the time and size caps. test/image-fetch.test.ts covers the
 * downloader itself in depth; this file proves the API wires it in on every route.
 *
 * Servers live on 127.0.0.1 only. Every other forbidden address is only ever named in URLs that
 * must be refused before a socket opens; the tripwire records every connection attempt (and
 * blocks any off this host), so "refused" is checked by what was attempted, not only by the code.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { b64, startApi, type TestApi } from './support/api-helpers.js';
import { fixture } from './support/fixtures.js';
import { startLocalOrigin, type LocalOrigin } from './support/local-origin.js';
import { installTripwire, type Tripwire } from './support/net-tripwire.js';

const URL_TIMEOUT_MS = 800;
const photo = fixture('sample1.jpg');

let tripwire: Tripwire;
/** The server that must stay untouched: on an allowed port of this host. */
let target: LocalOrigin;
/** Same host, on a port outside 80/443/10000–12000. */
let offPort: LocalOrigin;
/** The allowed origin for on-premise tests: serves the photo, redirects, slow and endless bodies. */
let origin: LocalOrigin;
let endlessBytesWritten = 0;
let endlessClosed: Promise<void>;
/** Default policy: no private addresses. */
let api: TestApi;
/** On-premise policy (FACEREC_ALLOW_PRIVATE_URLS): loopback allowed, metadata/link-local still not. */
let onPrem: TestApi;

before(async () => {
  tripwire = installTripwire();
  target = await startLocalOrigin((_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo));
  offPort = await startLocalOrigin((_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo), { anyPort: true });
  assert.ok(offPort.port < 10000 || offPort.port > 12000, 'the off-port server must be outside the allowed range');
  let endlessDone!: () => void;
  endlessClosed = new Promise((r) => (endlessDone = r));
  origin = await startLocalOrigin((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/photo.jpg') return void res.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo);
    if (url.pathname === '/redirect') return void res.writeHead(302, { location: url.searchParams.get('to') ?? '' }).end();
    if (url.pathname === '/dribble') return dribble(res);
    if (url.pathname === '/silent') return; // never answers
    if (url.pathname === '/declares-huge') return void res.writeHead(200, { 'content-length': '50000000' }).write(photo.subarray(0, 1000));
    if (url.pathname === '/endless') {
      res.on('close', endlessDone);
      return endless(res);
    }
    res.writeHead(404).end();
  });
  api = await startApi();
  onPrem = await startApi({ allowPrivateUrls: true, urlTimeoutMs: URL_TIMEOUT_MS });
  for (const a of [api, onPrem]) assert.equal((await a.v2('POST', '/groups', { groupId: 'ssrf' })).header.resultCode, 0);
  // A stored face, so that verify and search reach the download.
  const reg = await onPrem.v2('POST', '/groups/ssrf/faces', { image: { bytes: b64(photo) }, limit: 1 });
  const reg2 = await api.v2('POST', '/groups/ssrf/faces', { image: { bytes: b64(photo) }, limit: 1 });
  faceIdOf.set(onPrem, reg.data.addedFaces[0].faceId);
  faceIdOf.set(api, reg2.data.addedFaces[0].faceId);
});
after(async () => {
  tripwire?.uninstall();
  await Promise.all([api?.dispose(), onPrem?.dispose(), target?.close(), offPort?.close(), origin?.close()]);
  assert.deepEqual(tripwire?.offHost ?? [], [], 'no connection may ever target an address off this host');
});

const faceIdOf = new Map<TestApi, string>();

function dribble(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'image/jpeg' });
  const timer = setInterval(() => res.write(Buffer.from([0xff])), 100);
  res.on('close', () => clearInterval(timer));
}

function endless(res: ServerResponse): void {
  const chunk = Buffer.alloc(64 * 1024, 0xab);
  res.writeHead(200, { 'content-type': 'image/jpeg' });
  const pump = () => {
    while (!res.destroyed && res.write(chunk)) endlessBytesWritten += chunk.length;
  };
  res.on('drain', pump);
  pump();
}

/**
 * Every API operation that downloads an image, as (label, call with this URL, time budget).
 * Compare analyses its inline source before it downloads the target, so that one may take an
 * inference longer; every other refusal comes before any work.
 */
function imageRoutes(a: TestApi): [string, (url: string) => Promise<any>, { maxMs?: number }?][] {
  const faceId = faceIdOf.get(a)!;
  const img = (url: string) => ({ url });
  const inline = { bytes: b64(photo) };
  return [
    ['v2 detect', (url) => a.v2('POST', '/faces/detect', { image: img(url) })],
    ['v2 register', (url) => a.v2('POST', '/groups/ssrf/faces', { image: img(url), limit: 1 })],
    ['v2 search by image', (url) => a.v2('POST', '/groups/ssrf/faces/search', { image: img(url), limit: 5, threshold: 1 })],
    ['v2 verify', (url) => a.v2('POST', `/groups/ssrf/faces/${faceId}/verify`, { compareImage: img(url) })],
    ['v2 compare (source)', (url) => a.v2('POST', '/faces/compare', { sourceImage: img(url), targetImage: inline, threshold: 70 })],
    ['v2 compare (target)', (url) => a.v2('POST', '/faces/compare', { sourceImage: inline, targetImage: img(url), threshold: 70 }), { maxMs: 4000 }],
    ['v2 spoofing', (url) => a.v2('POST', '/spoofing', { image: img(url) })],
    ['v1 detect', (url) => a.v1('POST', '/detect', { image: img(url) })],
    ['v1 register', (url) => a.v1('POST', '/groups/ssrf', { image: img(url), limit: 1 })],
    ['v1 search by image', (url) => a.v1('POST', '/groups/ssrf/search?limit=5&threshold=1', { image: img(url) })],
    ['v1 verify', (url) => a.v1('POST', `/verify/groups/ssrf/faces/${faceId}`, { compareImage: img(url) })],
    ['v1 compare', (url) => a.v1('POST', '/compare?threshold=70', { sourceImage: img(url), targetImage: inline })],
    ['v1 spoofing', (url) => a.v1('POST', '/spoofing', { image: img(url) })],
  ];
}

/** Calls `work`, and checks the answer code, that it was quick, and which addresses were attempted. */
async function expectCode(work: () => Promise<any>, code: number, what: string, options: { maxMs?: number; allowedAttempts?: number } = {}) {
  const attemptsBefore = tripwire.attempts.length;
  const t0 = performance.now();
  const r = await work();
  const ms = performance.now() - t0;
  assert.equal(r.header?.resultCode, code, `${what}: got ${JSON.stringify(r.header)}`);
  assert.equal(r.data, undefined, `${what}: no data`);
  assert.ok(ms < (options.maxMs ?? 1000), `${what} took ${ms.toFixed(0)} ms`);
  const attempted = tripwire.attempts.slice(attemptsBefore);
  assert.ok(attempted.length <= (options.allowedAttempts ?? 0), `${what}: connection attempts ${JSON.stringify(attempted)}`);
  return { ms, attempted };
}

describe('default policy: forbidden addresses give -45050 on every route, with no connection', () => {
  test('a URL at this host (127.0.0.1, allowed port) is refused by every operation that downloads', async () => {
    for (const [label, send, budget] of imageRoutes(api)) await expectCode(() => send(`${target.origin}/photo.jpg`), -45050, label, budget);
    assert.equal(target.connections, 0, 'the target server saw a connection');
  });

  test('every spelling of this host is refused; the server bound there sees zero connections', async () => {
    const p = target.port;
    const spellings = [
      `http://127.0.0.1:${p}/`,
      `http://localhost:${p}/`, // through DNS (/etc/hosts)
      `http://LOCALHOST:${p}/`,
      `http://127.1:${p}/`,
      `http://2130706433:${p}/`, // decimal
      `http://0x7f000001:${p}/`, // hex
      `http://0177.0.0.1:${p}/`, // octal
      `http://127.0.0.2:${p}/`,
      `http://0.0.0.0:${p}/`, // Linux routes it to this host
      `http://0:${p}/`,
      `http://[::]:${p}/`,
      `http://[::1]:${p}/`,
      `http://[::ffff:127.0.0.1]:${p}/`, // IPv4-mapped IPv6
      `http://[::ffff:7f00:1]:${p}/`,
      `http://[0:0:0:0:0:ffff:127.0.0.1]:${p}/`,
      `http://[64:ff9b::7f00:1]:${p}/`, // NAT64
      `http://[::ffff:0:127.0.0.1]:${p}/`, // SIIT
      `https://127.0.0.1:${p}/`,
      `http://127.0.0.1./`,
      `http://127.0.0.1:${p}@127.0.0.1:${p}/`, // user info
    ];
    for (const url of spellings) await expectCode(() => api.v2('POST', '/faces/detect', { image: { url } }), -45050, url);
    assert.equal(target.connections, 0);
    assert.equal(target.requests, 0);
  });

  test('private, link-local (metadata), CGNAT, multicast, reserved and IPv6 equivalents are refused before any socket opens', async () => {
    const p = target.port; // an allowed port, so the address rule is what refuses
    const hosts = [
      '10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.254', '192.168.0.1', '192.168.255.255',
      '169.254.169.254', '169.254.0.1', '169.254.170.2', '100.64.0.1', '100.127.255.254', '100.100.100.200',
      '224.0.0.1', '239.255.255.250', '255.255.255.255', '192.0.2.1', '198.18.0.1', '240.0.0.1',
      '[fe80::1]', '[fc00::1]', '[fd00::1]', '[fd00:ec2::254]', '[ff02::1]', '[ff05::1:3]', '[2001:db8::1]',
      '[::ffff:10.0.0.1]', '[::ffff:169.254.169.254]', '[::ffff:a9fe:a9fe]', '[::ffff:192.168.1.1]', '[::ffff:100.64.0.1]',
      '[64:ff9b::a9fe:a9fe]', '[64:ff9b::a00:1]', '[2002:a9fe:a9fe::1]', '[2001:0:4136:e378:8000:63bf:3fff:fdd2]',
    ];
    for (const host of hosts) {
      for (const url of [`http://${host}:${p}/`, `http://${host}/latest/meta-data/`]) {
        await expectCode(() => api.v2('POST', '/faces/detect', { image: { url } }), -45050, url);
      }
    }
    // The metadata address in every operation, v1 and v2.
    for (const [label, send, budget] of imageRoutes(api)) await expectCode(() => send('http://169.254.169.254/latest/meta-data/iam/'), -45050, `${label} → metadata`, budget);
  });

  test('schemes other than http(s) are refused', async () => {
    for (const url of ['file:///etc/passwd', 'ftp://127.0.0.1/x.jpg', 'gopher://127.0.0.1:70/', 'data:image/jpeg;base64,AAAA', 'javascript:alert(1)', 'not a url']) {
      await expectCode(() => api.v2('POST', '/faces/detect', { image: { url } }), -45050, url);
    }
  });
});

describe('on-premise policy (private URLs allowed): redirects, ports, slow and endless bodies', () => {
  const redirect = (to: string) => `${origin.origin}/redirect?to=${encodeURIComponent(to)}`;

  test('the allowed origin works, so the refusals below are about the target', async () => {
    const attemptsBefore = tripwire.attempts.length;
    const r = await onPrem.v2('POST', '/faces/detect', { image: { url: `${origin.origin}/photo.jpg` } });
    // The tripwire sees the downloader's connections: its silence elsewhere means something.
    assert.deepEqual(tripwire.attempts.slice(attemptsBefore), ['127.0.0.1']);
    assert.equal(r.header.resultCode, 0);
    assert.ok(r.data.faceDetailCount >= 1);
    const viaRedirect = await onPrem.v2('POST', '/faces/detect', { image: { url: redirect(`${origin.origin}/photo.jpg`) } });
    assert.equal(viaRedirect.header.resultCode, 0);
  });

  test('a redirect to a forbidden address is refused with -45050, on every route, and nothing reaches it', async () => {
    const targets = [
      'http://169.254.169.254/latest/meta-data/',
      'http://[::ffff:169.254.169.254]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://[64:ff9b::a9fe:a9fe]/',
      'http://100.100.100.200/latest/meta-data/',
      'http://[fd00:ec2::254]/',
      'http://169.254.0.1/',
      'http://[fe80::1]/',
      'http://224.0.0.1/',
      `http://0.0.0.0:${target.port}/`, // would reach the target on Linux
      `http://[::]:${target.port}/`,
      `http://[::ffff:0.0.0.0]:${target.port}/`,
    ];
    // One connection each: the redirecting request to the allowed origin, nothing after it.
    for (const to of targets) await expectCode(() => onPrem.v2('POST', '/faces/detect', { image: { url: redirect(to) } }), -45050, `redirect → ${to}`, { allowedAttempts: 1 });
    for (const [label, send, budget] of imageRoutes(onPrem)) {
      await expectCode(() => send(redirect('http://169.254.169.254/latest/meta-data/')), -45050, `${label}: redirect → metadata`, { ...budget, allowedAttempts: 1 });
    }
    assert.equal(target.connections, 0);
  });

  test('the port rule: ports other than 80, 443 and 10000–12000 are refused, directly and after a redirect', async () => {
    await expectCode(() => onPrem.v2('POST', '/faces/detect', { image: { url: `${offPort.origin}/photo.jpg` } }), -45050, 'direct to an off-range port');
    await expectCode(() => onPrem.v2('POST', '/faces/detect', { image: { url: redirect(`${offPort.origin}/photo.jpg`) } }), -45050, 'redirect to an off-range port', { allowedAttempts: 1 });
    for (const port of [22, 25, 3306, 6379, 8080, 9999, 12001, 65535]) {
      await expectCode(() => onPrem.v2('POST', '/faces/detect', { image: { url: `http://127.0.0.1:${port}/` } }), -45050, `port ${port}`);
      await expectCode(() => onPrem.v1('POST', '/detect', { image: { url: redirect(`http://127.0.0.1:${port}/`) } }), -45050, `redirect to port ${port}`, { allowedAttempts: 1 });
    }
    assert.equal(offPort.connections, 0, 'the off-range server saw a connection');
  });

  test('a redirect to another scheme or to credentials is refused', async () => {
    for (const to of ['file:///etc/passwd', 'ftp://127.0.0.1/', `http://u:p@127.0.0.1:${target.port}/`]) {
      await expectCode(() => onPrem.v2('POST', '/faces/detect', { image: { url: redirect(to) } }), -45050, `redirect → ${to}`, { allowedAttempts: 1 });
    }
    assert.equal(target.connections, 0);
  });

  test(`a body dribbling one byte per 100 ms stops at the time cap (${URL_TIMEOUT_MS} ms) with -45060`, async () => {
    for (const send of [(u: string) => onPrem.v2('POST', '/faces/detect', { image: { url: u } }), (u: string) => onPrem.v1('POST', '/detect', { image: { url: u } })]) {
      const { ms } = await expectCode(() => send(`${origin.origin}/dribble`), -45060, 'dribble', { maxMs: URL_TIMEOUT_MS + 700, allowedAttempts: 1 });
      assert.ok(ms >= URL_TIMEOUT_MS - 50, `gave up after ${ms.toFixed(0)} ms, before the cap`);
    }
  });

  test('a server that never answers stops at the time cap with -45060', async () => {
    await expectCode(() => onPrem.v2('POST', '/faces/detect', { image: { url: `${origin.origin}/silent` } }), -45060, 'silent', { maxMs: URL_TIMEOUT_MS + 700, allowedAttempts: 1 });
  });

  test('an endless body stops at the size cap (3,000,000 bytes) with -45020, and the client hangs up', async () => {
    await expectCode(() => onPrem.v2('POST', '/faces/detect', { image: { url: `${origin.origin}/endless` } }), -45020, 'endless', { maxMs: 5000, allowedAttempts: 1 });
    await endlessClosed;
    assert.ok(endlessBytesWritten < 16_000_000, `the server managed to write ${endlessBytesWritten} bytes`);
  });

  test('a declared Content-Length over the cap is refused at once with -45020', async () => {
    await expectCode(() => onPrem.v2('POST', '/faces/detect', { image: { url: `${origin.origin}/declares-huge` } }), -45020, 'declares-huge', { maxMs: 500, allowedAttempts: 1 });
  });
});
