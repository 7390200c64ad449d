import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApi, type TestApi } from './support/api-helpers.js';
import { fixture } from './support/fixtures.js';
import { queryDatabase } from './support/test-database.js';
import { migrateSqliteToPg } from '../src/store/sqlite-to-pg.js';

/**
 * `facerec migrate`: a SQLite data dir filled through the API with real faces, copied into a
 * PostgreSQL of the test's own (scripts/pg-local.sh), interrupted half-way and resumed, then
 * served from PostgreSQL: the same faces, the same search answers, the same keys.
 *
 * Skipped when the machine has no PostgreSQL 15 server binaries, unless FACEREC_REQUIRE_POSTGRES=1.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/facerec.mjs', import.meta.url));
const PG_LOCAL = join(ROOT, 'scripts', 'pg-local.sh');
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const MASTER_KEY = '11'.repeat(32); // startApi's
const required = process.env.FACEREC_REQUIRE_POSTGRES === '1';
const havePostgres = existsSync(join(PG_BIN, 'postgres'));
if (!havePostgres && required) throw new Error(`FACEREC_REQUIRE_POSTGRES=1 but there is no PostgreSQL 15 server at ${PG_BIN}`);
const skip = havePostgres ? false : `no PostgreSQL 15 server binaries at ${PG_BIN} (set FACEREC_REQUIRE_POSTGRES=1 to fail instead)`;

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const ok = (r: any) => r?.header?.isSuccessful === true;

interface Run { code: number | null; stdout: string; stderr: string }
function cli(args: string[], env: Record<string, string>): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FACEREC_')));
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function allFaces(api: TestApi, groupId: string): Promise<any[]> {
  const out: any[] = [];
  let r = await api.v2('GET', `/groups/${groupId}/faces?limit=200`);
  out.push(...r.data.faces);
  while (r.data.nextToken) {
    r = await api.v2('GET', `/groups/${groupId}/faces?limit=200&next-token=${encodeURIComponent(r.data.nextToken)}`);
    out.push(...r.data.faces);
  }
  return out;
}

describe('facerec migrate: SQLite data dir → PostgreSQL', { skip }, () => {
  let work: string;
  let pgDir: string;
  let url: string;
  let source: TestApi;
  let dataDir: string;
  let staffFaces: any[];
  let guestFaces: any[];
  let staffSearch: any;
  let staffPerson: any;
  let total = 0;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'facerec-migrate-'));
    // Traversable by the server's user (nobody, when the tests run as root); the data dir inside stays 0700.
    chmodSync(work, 0o755);
    pgDir = join(work, 'pg');
    const started = spawnSync('bash', [PG_LOCAL, 'start', pgDir], { encoding: 'utf8' });
    assert.equal(started.status, 0, `pg-local.sh start failed: ${started.stderr}`);
    url = started.stdout.trim().split('\n').pop()!;

    // The source: a SQLite data dir (even in the suite's PostgreSQL pass), filled through the API.
    dataDir = join(work, 'data');
    source = await startApi({ database: undefined }, dataDir);
    assert.ok(ok(await source.v2('POST', '/groups', { groupId: 'staff' })));
    assert.ok(ok(await source.v2('POST', '/groups', { groupId: 'guests' })));
    assert.ok(ok(await source.v2('POST', '/groups', { groupId: 'empty' })));
    for (const [i, name] of ['sample1.jpg', 'sample2.jpg', 'sample3.jpg', 'sample4.jpg', 'sample5.jpg', 'sample6.jpg'].entries()) {
      const body = { image: { bytes: b64(fixture(name)) }, limit: 3, ...(i % 2 === 0 ? { externalImageId: `photo-${i}` } : {}) };
      const r = await source.v2('POST', '/groups/staff/faces', body);
      assert.ok(ok(r), JSON.stringify(r.header));
    }
    // Through the privacy extension: consent recorded with the faces.
    const x = await source.app.inject({
      method: 'POST', url: `/x/v1/appkeys/${source.appKey}/groups/guests/faces`, headers: { authorization: source.secretKey },
      payload: { image: { bytes: b64(fixture('sample2.jpg')) }, limit: 2, externalImageId: 'guest', consentRef: 'form-7', purpose: 'door' },
    }).then((r) => r.json());
    assert.ok(ok(x), JSON.stringify(x.header));
    const put = await source.app.inject({ method: 'PUT', url: `/x/v1/appkeys/${source.appKey}/groups/staff/retention`, headers: { authorization: source.secretKey }, payload: { retentionDays: 3650 } });
    assert.equal(put.json().header.resultCode, 0);

    staffFaces = await allFaces(source, 'staff');
    guestFaces = await allFaces(source, 'guests');
    total = staffFaces.length + guestFaces.length;
    assert.ok(staffFaces.length >= 8, `only ${staffFaces.length} faces registered`);
    staffSearch = (await source.v2('GET', `/groups/staff/faces/${staffFaces[0].faceId}/search?limit=5&threshold=1`)).data;
    // A person with two of the staff faces (the person layer, docs/persons.md).
    const x1 = (method: 'GET' | 'POST', path: string, payload?: object) =>
      source.app.inject({ method, url: `/x/v1/appkeys/${source.appKey}${path}`, headers: { authorization: source.secretKey }, ...(payload ? { payload } : {}) }).then((r) => r.json());
    const person = await x1('POST', '/groups/staff/persons', { name: 'Ada', metadata: { desk: 7 } });
    assert.ok(ok(person), JSON.stringify(person.header));
    const linked = await x1('POST', `/groups/staff/persons/${person.data.personId}/associate`, { faceIds: staffFaces.slice(0, 2).map((f) => f.faceId) });
    assert.ok(ok(linked), JSON.stringify(linked.header));
    staffPerson = (await x1('GET', `/groups/staff/persons/${person.data.personId}`)).data;
    await source.close();
  });

  after(async () => {
    if (!work) return;
    spawnSync('bash', [PG_LOCAL, 'destroy', pgDir], { encoding: 'utf8' });
    rmSync(work, { recursive: true, force: true });
  });

  test('an interrupted run leaves whole batches; the command resumes, copies the rest once and verifies', async () => {
    let batches = 0;
    let committed = 0;
    await assert.rejects(migrateSqliteToPg({
      dataDir, masterKey: MASTER_KEY, database: { url, poolSize: 2, statementTimeoutMs: 5000 }, batchSize: 3,
      onBatch: ({ faces }) => {
        committed += faces;
        // Two batches in (all of `guests`, the first three of `staff`), the run dies.
        if (++batches === 2) throw new Error('killed');
      },
    }), /killed/);
    const [{ n: half }] = await queryDatabase<{ n: number }>(url, 'SELECT count(*)::int AS n FROM faces');
    assert.equal(half, committed, 'the batches reported durable are in the database');
    assert.ok(half > 0 && half < total, `${half} of ${total}`);

    const run = await cli(['migrate', '--from', dataDir, '--to', url, '--batch', '3', '--json'], { FACEREC_MASTER_KEY: MASTER_KEY });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const report = JSON.parse(run.stdout);
    assert.match(run.stderr, new RegExp(`resuming: ${half} of ${total} faces`));
    assert.match(run.stderr, /migrate \[/, 'a progress bar on stderr');
    assert.equal(report.faces, total);
    assert.equal(report.facesInserted, total - half);
    assert.equal(report.groups, 3);
    // Into an empty database the search graph is built once, after the copy; it exists at the end.
    assert.match(run.stderr, /building the search graph/);
    const graph = await queryDatabase<{ n: number }>(url, "SELECT count(*)::int AS n FROM pg_indexes WHERE indexname = 'faces_embedding_hnsw'");
    assert.equal(graph[0].n, 1);
    // Consent goes with its faces' batch (here: copied before the interruption).
    const [{ n: consents }] = await queryDatabase<{ n: number }>(url, 'SELECT count(*)::int AS n FROM face_consent');
    assert.equal(consents, guestFaces.length);
    assert.ok(report.auditEntries >= 7, `audit entries copied: ${report.auditEntries}`);
    assert.equal(report.ok, true);
    assert.deepEqual(report.verification.counts, []);
    assert.deepEqual(report.verification.persons, []);
    assert.ok(report.verification.searches >= 5);
    assert.deepEqual(report.verification.searchMismatches, []);

    const [{ n, distinct }] = await queryDatabase<{ n: number; distinct: number }>(url, 'SELECT count(*)::int AS n, count(DISTINCT face_id)::int AS distinct FROM faces');
    assert.equal(n, total);
    assert.equal(distinct, total);

    // Once more: nothing left to copy, still verified.
    const again = await cli(['migrate', '--from', dataDir, '--to', url, '--json', '--verify-sample', '3'], { FACEREC_MASTER_KEY: MASTER_KEY });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).facesInserted, 0);
    assert.match(again.stdout, /"searches": 3/);
  });

  test('a server on the database answers with the same faces, search results, keys and privacy settings', async () => {
    const pgApi = await startApi({ database: { url, poolSize: 4, statementTimeoutMs: 5000 } }, join(work, 'pg-node'));
    try {
      assert.equal(pgApi.appKey, source.appKey);
      // The same secret key authenticates: the app's key hash came along.
      const groups = await pgApi.v2('GET', '/groups?limit=10');
      assert.ok(ok(groups), JSON.stringify(groups.header));
      assert.deepEqual(groups.data.groups.map((g: any) => g.groupId), ['empty', 'guests', 'staff']);
      for (const [groupId, n] of [['empty', 0], ['guests', guestFaces.length], ['staff', staffFaces.length]] as const) {
        assert.equal((await pgApi.v2('GET', `/groups/${groupId}`)).data.faceCount, n, groupId);
      }
      // Same ids, image ids, external ids, boxes and times, in the same (newest first) order.
      assert.deepEqual(await allFaces(pgApi, 'staff'), staffFaces);
      assert.deepEqual(await allFaces(pgApi, 'guests'), guestFaces);
      const search = (await pgApi.v2('GET', `/groups/staff/faces/${staffFaces[0].faceId}/search?limit=5&threshold=1`)).data;
      assert.deepEqual(search, staffSearch);
      const retention = await pgApi.app.inject({ method: 'GET', url: `/x/v1/appkeys/${pgApi.appKey}/retention`, headers: { authorization: pgApi.secretKey } }).then((r) => r.json());
      assert.deepEqual(retention.data.groups, [{ groupId: 'staff', retentionDays: 3650 }]);
      const consent = await queryDatabase<{ consent_ref: string; purpose: string }>(url, 'SELECT consent_ref, purpose FROM face_consent');
      assert.equal(consent.length, guestFaces.length);
      assert.deepEqual(consent[0], { consent_ref: 'form-7', purpose: 'door' });
      // The person came along with its name, metadata, times and faces.
      const person = await pgApi.app.inject({ method: 'GET', url: `/x/v1/appkeys/${pgApi.appKey}/groups/staff/persons/${staffPerson.personId}`, headers: { authorization: pgApi.secretKey } }).then((r) => r.json());
      assert.ok(ok(person), JSON.stringify(person.header));
      assert.deepEqual(person.data, staffPerson);
    } finally {
      await pgApi.close();
    }
  });

  test('a difference between the data dir and the database fails the verification with exit 1', async () => {
    const s = await startApi({ database: undefined }, dataDir);
    try {
      assert.ok(ok(await s.v2('DELETE', `/groups/staff/faces/${staffFaces[1].faceId}`)));
    } finally {
      await s.close();
    }
    const run = await cli(['migrate', '--from', dataDir, '--to', url], { FACEREC_MASTER_KEY: MASTER_KEY });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout + run.stderr, new RegExp(`group staff \\(app ${source.appKey}\\): ${staffFaces.length - 1} faces in the data dir, ${staffFaces.length} in the database`));
    assert.match(run.stderr, /verification failed/);
  });

  test('usage errors exit 2', async () => {
    assert.equal((await cli(['migrate', '--from', dataDir], {})).code, 2, 'no --to');
    assert.equal((await cli(['migrate', '--from', dataDir, '--to', 'mysql://x'], {})).code, 2);
    assert.equal((await cli(['migrate', '--from', join(work, 'nothing'), '--to', url], {})).code, 2);
  });
});
