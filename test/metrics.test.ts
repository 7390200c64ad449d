// Operations: /metrics (Prometheus), /health, /ready, and request ids in logs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createRuntime, type Runtime } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { withInferenceMetrics } from '../src/engine/timed-analyzer.js';
import { ServerMetrics } from '../src/http/metrics.js';
import { buildServer } from '../src/http/server.js';
import { b64, engine, multipart } from './support/api-helpers.js';
import { fixture } from './support/fixtures.js';
import { databaseEnv, dropDatabase } from './support/test-database.js';

const APP_KEY = 'metrics-app-key-4f2a';
const SECRET = 'metrics-secret';

interface Harness {
  app: FastifyInstance;
  runtime: Runtime;
  metrics: ServerMetrics;
  logs: Record<string, unknown>[];
  dispose(): Promise<void>;
}

async function start(options: { ready?: () => boolean; metrics?: false } = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'facerec-metrics-'));
  const config = loadConfig({ FACEREC_DATA_DIR: dataDir, FACEREC_MASTER_KEY: '33'.repeat(32), FACEREC_MAX_FACES_PER_GROUP: '10', ...(await databaseEnv(dataDir)) });
  let runtime: Runtime;
  const metrics = new ServerMetrics({ queueDepth: () => 3, groupSizes: () => runtime.store.groupFaceCounts(), maxFacesPerGroup: 10 });
  runtime = await createRuntime(config, withInferenceMetrics(await engine(), metrics));
  await runtime.apps.create({ appKey: APP_KEY, secretKey: SECRET });
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  const app = buildServer(
    { service: runtime.service, apps: runtime.apps, maxImageBytes: config.maxImageBytes },
    // debug: a request's lines below info (incoming request) must carry its id too.
    { logger: { level: 'debug', stream }, ready: options.ready, metrics: options.metrics ?? metrics },
  );
  await app.ready();
  return {
    app,
    runtime,
    metrics,
    logs,
    dispose: async () => {
      await app.close();
      await runtime.close();
      rmSync(dataDir, { recursive: true, force: true });
      await dropDatabase(dataDir);
    },
  };
}

/** Prometheus text → value of the sample with exactly this name and these labels. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (.+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[2] ? m[2].split(/,(?=\w+=")/) : [];
    if (have.length === want.length && want.every((w) => have.includes(w))) return Number(m[3]);
  }
  return undefined;
}

let h: Harness;
before(async () => {
  h = await start();
});
after(() => h.dispose());

const v2 = (method: 'GET' | 'POST', path: string, body?: object | { payload: Buffer; headers: Record<string, string> }) => {
  const form = body && 'payload' in body && Buffer.isBuffer(body.payload) ? (body as { payload: Buffer; headers: Record<string, string> }) : undefined;
  return h.app.inject({ method, url: `/v2.0/appkeys/${APP_KEY}${path}`, headers: { authorization: SECRET, ...(form?.headers ?? {}) }, ...(body ? { payload: form ? form.payload : (body as object) } : {}) });
};
const scrape = async () => {
  const res = await h.app.inject({ url: '/metrics' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain/);
  return res.body;
};

describe('/metrics', () => {
  test('counts requests by route pattern, method and resultCode, never by URL', async () => {
    const sample1 = fixture('sample1.jpg');
    await v2('POST', '/faces/detect', { image: { bytes: b64(sample1) } });
    await v2('POST', '/faces/detect', multipart([{ name: 'imageFile', file: sample1 }]));
    await v2('GET', '/groups?limit=0');
    await h.app.inject({ url: `/nhn-face-reco/v1.0/appkeys/${APP_KEY}/nothing-here` });
    const text = await scrape();
    const detect = { route: '/v2.0/appkeys/:appKey/faces/detect', method: 'POST' };
    assert.equal(sample(text, 'facerec_http_requests_total', { ...detect, result_code: '0' }), 2);
    assert.equal(sample(text, 'facerec_http_requests_total', { route: '/v2.0/appkeys/:appKey/groups', method: 'GET', result_code: '-40000' }), 1);
    assert.equal(sample(text, 'facerec_http_requests_total', { route: 'unmatched', method: 'GET', result_code: '-40000' }), 1);
    assert.equal(sample(text, 'facerec_http_request_duration_seconds_count', detect), 2);
    assert.ok(sample(text, 'facerec_http_request_duration_seconds_sum', detect)! > 0);
    assert.equal(sample(text, 'facerec_http_request_duration_seconds_bucket', { ...detect, le: '+Inf' }), 2);
    assert.ok(!text.includes(APP_KEY), 'no appKey in any label');
  });

  test('records inference time by engine stage', async () => {
    const text = await scrape();
    for (const stage of ['decode', 'detect', 'landmarks', 'queue']) {
      assert.ok(sample(text, 'facerec_inference_stage_seconds_count', { stage })! >= 2, stage);
    }
    assert.ok(sample(text, 'facerec_inference_stage_seconds_sum', { stage: 'detect' })! > 0);
  });

  test('reports the engine queue depth', async () => {
    assert.equal(sample(await scrape(), 'facerec_engine_queue_depth'), 3);
  });

  test('reports faces per group as a distribution, without group ids', async () => {
    const empty = await scrape();
    assert.equal(sample(empty, 'facerec_group_faces_count'), 0, 'zero series before any group exists');
    assert.equal(sample(empty, 'facerec_group_fill_ratio_max'), 0);
    const sample1 = fixture('sample1.jpg'); // 3 faces
    for (const groupId of ['metrics-a', 'metrics-b', 'metrics-c']) await v2('POST', '/groups', { groupId });
    await v2('POST', '/groups/metrics-a/faces', { image: { bytes: b64(sample1) }, limit: 3 });
    await v2('POST', '/groups/metrics-b/faces', { image: { bytes: b64(sample1) }, limit: 1 });
    await new Promise((r) => setTimeout(r, 1100)); // past the one-second sharing of a scrape's read
    const text = await scrape();
    const added = sample(text, 'facerec_group_faces_sum')!;
    assert.equal(sample(text, 'facerec_group_faces_count'), 3);
    assert.ok(added >= 2 && added <= 4, `faces in all groups: ${added}`);
    assert.equal(sample(text, 'facerec_group_faces_bucket', { le: '0' }), 1, 'one empty group');
    assert.equal(sample(text, 'facerec_group_faces_bucket', { le: '1' }), 2);
    assert.equal(sample(text, 'facerec_group_faces_bucket', { le: '10' }), 3);
    assert.ok(sample(text, 'facerec_group_fill_ratio_max')! > 0.1, 'fullest group holds 2–3 of 10');
    assert.ok(!text.includes('metrics-a'));
  });

  test('needs no NHN credentials, and each server has its own registry', async () => {
    const other = new ServerMetrics();
    other.observeRequest('/x', 'GET', 0, 0.01);
    const mine = await scrape();
    assert.equal(sample(mine, 'facerec_http_requests_total', { route: '/x', method: 'GET', result_code: '0' }), undefined);
    const theirs = (await other.render()).body;
    assert.equal(sample(theirs, 'facerec_http_requests_total', { route: '/x', method: 'GET', result_code: '0' }), 1);
  });

  test('can be switched off', async () => {
    const off = await start({ metrics: false });
    try {
      const res = await off.app.inject({ url: '/metrics' });
      assert.equal(res.statusCode, 404);
    } finally {
      await off.dispose();
    }
  });
});

describe('/health and /ready', () => {
  test('health answers while the process is up; ready follows the probe', async () => {
    let ready = false;
    const probe = await start({ ready: () => ready });
    try {
      assert.deepEqual(JSON.parse((await probe.app.inject({ url: '/health' })).body), { status: 'ok' });
      const starting = await probe.app.inject({ url: '/ready' });
      assert.equal(starting.statusCode, 503);
      assert.deepEqual(JSON.parse(starting.body), { status: 'starting' });
      ready = true;
      assert.equal((await probe.app.inject({ url: '/ready' })).statusCode, 200);
    } finally {
      await probe.dispose();
    }
  });
});

describe('structured logs', () => {
  test('every log line of a request carries its id, which the client gets as x-request-id', async () => {
    const before = h.logs.length;
    const res = await h.app.inject({ url: `/v2.0/appkeys/${APP_KEY}/groups/nope`, headers: { authorization: 'wrong' } });
    assert.equal(JSON.parse(res.body).header.resultCode, -41005);
    const id = res.headers['x-request-id'];
    assert.match(String(id), /^[0-9a-f-]{36}$/);
    const lines = h.logs.slice(before);
    // Since issue 16 a request has one line at info (refused, with its reason) plus 'incoming request' at debug.
    assert.ok(lines.length >= 2, `incoming, refused: ${JSON.stringify(lines)}`);
    for (const line of lines) assert.equal(line.reqId, id, JSON.stringify(line));
    assert.ok(lines.some((l) => l.msg === 'request refused' && l.resultCode === -41005));
    assert.ok(!JSON.stringify(lines).includes(APP_KEY), 'the appKey is redacted');
  });

  test('a client-sent x-request-id is not trusted as the id', async () => {
    const res = await h.app.inject({ url: '/health', headers: { 'x-request-id': 'forged' } });
    assert.notEqual(res.headers['x-request-id'], 'forged');
  });
});
