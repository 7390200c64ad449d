/**
 * What a new user meets first (issue 16): `npm start` says where the console, the docs and the
 * API are (and, on the first start, the keys), and a browser pointed at the server lands on the
 * console. The real server (`npm start` as a child process) on a data dir kept across two starts:
 * the first with the pretty log format a terminal gets, the second with the default JSON lines.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readyBanner, serviceUrls } from '../src/startup-banner.js';
import { ServerProcess } from './support/server-process.js';

let dataDir: string;
let first: { origin: string; output: string };
let second: { origin: string; output: string };

/** Starts the server on `dataDir` with no FACEREC_APPKEY, waits until ready, runs `visit`, stops it. */
async function startOnce(env: Record<string, string>, visit: (origin: string) => Promise<void>): Promise<{ origin: string; output: string }> {
  const server = await ServerProcess.spawn({ dataDir, appKey: '', secretKey: '', env: { FACEREC_WORKERS: '1', FACEREC_MASTER_KEY: '55'.repeat(32), FACEREC_LOG_LEVEL: 'info', ...env }, keepAllOutput: true });
  try {
    await server.waitReady(60_000);
    // The banner is written right after the ready state flips; wait for it rather than race it.
    for (let i = 0; i < 200 && !server.output().includes('facerec is ready.'); i++) await new Promise((r) => setTimeout(r, 25));
    await visit(server.origin);
  } finally {
    await server.stop('SIGTERM');
  }
  return { origin: server.origin, output: server.output() };
}

const count = (text: string, part: string) => text.split(part).length - 1;

let appKey = '';
let apiCallId = '';
let redirect: Response;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'facerec-front-door-'));
  first = await startOnce({ FACEREC_LOG_FORMAT: 'pretty' }, async (origin) => {
    redirect = await fetch(`${origin}/`, { redirect: 'manual' });
    await redirect.arrayBuffer();
  });
  appKey = /appKey: +(\S+)/.exec(first.output)?.[1] ?? '';
  const secretKey = /secretKey: +(\S+)/.exec(first.output)?.[1] ?? '';
  second = await startOnce({}, async (origin) => {
    for (const probe of ['/health', '/ready', '/metrics', '/console/']) await (await fetch(`${origin}${probe}`)).arrayBuffer();
    const res = await fetch(`${origin}/v2.0/appkeys/${appKey}/groups?limit=1`, { headers: { authorization: secretKey } });
    assert.equal(((await res.json()) as { header: { resultCode: number } }).header.resultCode, 0, 'the printed keys work');
    apiCallId = res.headers.get('x-request-id') ?? '';
  });
});
after(() => rmSync(dataDir, { recursive: true, force: true }));

describe('front door', () => {
  test('GET / redirects to the console', () => {
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get('location'), '/console/');
  });

  test('first start: the keys, then one banner with the console, docs and API URLs', () => {
    const port = new URL(first.origin).port;
    assert.equal(count(first.output, 'created the first app'), 1);
    assert.ok(appKey, 'the appKey is printed');
    assert.equal(count(first.output, 'facerec is ready.'), 1, 'the banner is printed once');
    for (const url of [`http://127.0.0.1:${port}/console/`, `http://127.0.0.1:${port}/docs`, `http://127.0.0.1:${port}/v2.0/appkeys/{appKey}/`, `http://127.0.0.1:${port}/nhn-face-reco/v1.0/appkeys/{appKey}/`]) {
      assert.equal(count(first.output, url), 1, `${url} once in:\n${first.output}`);
    }
  });

  test('a later start on the same data: the banner again, no keys', () => {
    assert.equal(count(second.output, 'created the first app'), 0);
    assert.ok(!second.output.includes('secretKey:'), 'no secret on a later start');
    assert.equal(count(second.output, 'facerec is ready.'), 1);
    assert.equal(count(second.output, `${second.origin}/console/`), 1);
  });

  test('FACEREC_LOG_FORMAT=pretty: human-readable lines, not JSON', () => {
    const logLines = first.output.split('\n').filter((l) => /\b(INFO|WARN|ERROR)\b/.test(l));
    assert.ok(logLines.some((l) => l.includes('facerec ready')), `no pretty "facerec ready" line in:\n${first.output}`);
    assert.ok(!first.output.split('\n').some((l) => l.startsWith('{')), 'no JSON line in the pretty output');
  });

  test('default format: JSON lines; probes and the console are not logged at info, an API call once', () => {
    const json = second.output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; reqId?: string; req?: { url: string } });
    assert.ok(json.some((l) => l.msg === 'facerec ready'));
    const requestLines = json.filter((l) => l.reqId && l.level >= 30);
    assert.deepEqual(requestLines.filter((l) => l.req && !l.req.url.startsWith('/v2.0/')), [], 'probes and console files at info');
    assert.equal(requestLines.filter((l) => l.reqId === apiCallId).length, 1, 'the API call: exactly one info line');
  });
});

describe('banner text', () => {
  test('a wildcard listen address is shown as localhost; IPv6 in brackets', () => {
    assert.equal(serviceUrls({ address: '0.0.0.0', family: 'IPv4', port: 8080 }).console, 'http://localhost:8080/console/');
    assert.equal(serviceUrls({ address: '::', family: 'IPv6', port: 8080 }).docs, 'http://localhost:8080/docs');
    assert.equal(serviceUrls({ address: '::1', family: 'IPv6', port: 9000 }).console, 'http://[::1]:9000/console/');
    const text = readyBanner(serviceUrls({ address: '0.0.0.0', family: 'IPv4', port: 8080 }));
    assert.match(text, /console +http:\/\/localhost:8080\/console\//);
    assert.match(text, /API docs +http:\/\/localhost:8080\/docs/);
  });
});
