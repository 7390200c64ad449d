/**
 * How much a request logs (issue 16): one line per API call at info, with the reason when it was
 * refused; probes, metrics, the console's and the docs' files at debug only. The server is the
 * real one (engine, store) with its log captured in memory.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createRuntime, type Runtime } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildServer } from '../src/http/server.js';
import { isQuietPath } from '../src/http/request-log.js';
import { loggerOptions } from '../src/log-format.js';
import { engine } from './support/api-helpers.js';

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  req?: { method: string; url: string };
  res?: { statusCode: number };
  resultCode?: number;
  reason?: string;
}
const INFO = 30;
const DEBUG = 20;

let app: FastifyInstance;
let runtime: Runtime;
let dataDir: string;
let keys: { appKey: string; secretKey: string };
const lines: LogLine[] = [];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'facerec-reqlog-'));
  const config = loadConfig({ FACEREC_DATA_DIR: dataDir, FACEREC_MASTER_KEY: '44'.repeat(32) });
  runtime = await createRuntime(config, await engine());
  keys = await runtime.apps.create({ secretKey: 'reqlog-secret' });
  const capture = new Writable({
    write(chunk, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      done();
    },
  });
  app = buildServer({ service: runtime.service, apps: runtime.apps, maxImageBytes: config.maxImageBytes }, { logger: { level: 'debug', stream: capture } });
  await app.ready();
});
after(async () => {
  await app?.close();
  await runtime?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Sends one request and returns the log lines that carry its request id. */
async function linesOf(url: string, init: { method?: 'GET' | 'POST'; secret?: boolean; payload?: object } = {}): Promise<LogLine[]> {
  const res = await app.inject({ method: init.method ?? 'GET', url, headers: init.secret ? { authorization: keys.secretKey } : {}, ...(init.payload ? { payload: init.payload } : {}) });
  const id = res.headers['x-request-id'] as string;
  assert.ok(id, `${url}: no x-request-id`);
  // A streamed file's answer can reach the test before its completion line is written.
  const mine = () => lines.filter((l) => l.reqId === id);
  for (let i = 0; i < 100 && !mine().some((l) => /^request (completed|refused)/.test(l.msg)); i++) await new Promise((r) => setTimeout(r, 10));
  return mine();
}

const atInfo = (ls: LogLine[]) => ls.filter((l) => l.level >= INFO);

describe('request log lines', () => {
  test('probes, metrics, the front door, the console and the docs log nothing at info, one line at debug', async () => {
    const quiet = ['/health', '/ready', '/metrics', '/', '/console', '/console/', '/console/settings.json', '/docs', '/docs/static/swagger-ui.css', '/docs/json', '/openapi.json'];
    for (const url of quiet) {
      const ls = await linesOf(url);
      assert.deepEqual(atInfo(ls), [], `${url} logged at info: ${JSON.stringify(atInfo(ls))}`);
      const completed = ls.filter((l) => l.msg === 'request completed');
      assert.equal(completed.length, 1, `${url}: one completion line`);
      assert.equal(completed[0].level, DEBUG);
    }
  });

  test('an API call logs exactly one line at info: method, URL without the appKey, status', async () => {
    const ls = atInfo(await linesOf(`/v2.0/appkeys/${keys.appKey}/groups?limit=5`, { secret: true }));
    assert.equal(ls.length, 1, JSON.stringify(ls));
    assert.equal(ls[0].msg, 'request completed');
    assert.deepEqual([ls[0].req?.method, ls[0].req?.url, ls[0].res?.statusCode], ['GET', '/v2.0/appkeys/***/groups?limit=5', 200]);
  });

  test('a refused API call logs exactly one line at info, with its resultCode and reason', async () => {
    const ls = atInfo(await linesOf(`/v2.0/appkeys/${keys.appKey}/groups`, { method: 'POST', secret: true, payload: { groupId: 'Not Valid' } }));
    assert.equal(ls.length, 1, JSON.stringify(ls));
    assert.equal(ls[0].msg, 'request refused');
    assert.equal(ls[0].resultCode, -40010);
    assert.ok(ls[0].reason, 'the refusal says why');
    const v1 = atInfo(await linesOf(`/nhn-face-reco/v1.0/appkeys/not-a-key/groups`));
    assert.equal(v1.length, 1, JSON.stringify(v1));
    assert.equal(v1[0].resultCode, -41000);
    assert.ok(!JSON.stringify(v1).includes('not-a-key'), 'the appKey is not logged');
  });

  test('an unknown path is a client mistake worth one info line', async () => {
    const ls = atInfo(await linesOf('/v3/whatever'));
    assert.equal(ls.length, 1, JSON.stringify(ls));
    assert.equal(ls[0].res?.statusCode, 404);
  });

  test('which paths are quiet', () => {
    for (const p of ['/health', '/ready?x=1', '/metrics', '/console/assets/app.js', '/docs/static/x.css', '/openapi.json', '/']) assert.ok(isQuietPath(p), p);
    for (const p of ['/v2.0/appkeys/k/groups', '/nhn-face-reco/v1.0/appkeys/k/detect', '/healthz', '/consoles', '/docsx']) assert.ok(!isQuietPath(p), p);
  });
});

describe('log format', () => {
  test('JSON lines unless asked otherwise; pretty when stdout is a terminal or FACEREC_LOG_FORMAT=pretty', () => {
    assert.equal(loadConfig({}, false).logFormat, 'json');
    assert.equal(loadConfig({}, true).logFormat, 'pretty');
    assert.equal(loadConfig({ FACEREC_LOG_FORMAT: 'pretty' }, false).logFormat, 'pretty');
    assert.equal(loadConfig({ FACEREC_LOG_FORMAT: 'json' }, true).logFormat, 'json');
    assert.throws(() => loadConfig({ FACEREC_LOG_FORMAT: 'xml' }), /FACEREC_LOG_FORMAT/);
  });

  test('the pretty format is a pino-pretty stream; JSON is pino as is', () => {
    const pretty = loggerOptions({ logLevel: 'debug', logFormat: 'pretty' }) as { level: string; stream?: NodeJS.WritableStream };
    assert.equal(pretty.level, 'debug');
    assert.equal(typeof pretty.stream?.write, 'function');
    assert.deepEqual(loggerOptions({ logLevel: 'info', logFormat: 'json' }), { level: 'info' });
  });
});
