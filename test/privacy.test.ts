import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApi, b64, ok, type TestApi } from './support/api-helpers.js';
import { fixture } from './support/fixtures.js';
import { PrivacyService } from '../src/domain/privacy.js';
import { toGroupRef } from '../src/index/face-search.js';
import type { AnnFaceSearch } from '../src/index/ann/ann-face-search.js';
import { INDEX_DIR } from '../src/app.js';
import type { Store } from '../src/store/store.js';
import { queryDatabase, sqliteOnly } from './support/test-database.js';

const GROUPS = ['priv-a', 'priv-b', 'priv-c'];
const code = (r: any) => r.header.resultCode;

let api: TestApi;
let other: { appKey: string; secretKey: string };
const x = (method: string, path: string, keys: { appKey: string; secretKey: string } = api) =>
  api.app.inject({ method: method as 'GET', url: `/x/v1/appkeys/${keys.appKey}${path}`, headers: { authorization: keys.secretKey } });
const xJson = async (method: string, path: string, keys?: { appKey: string; secretKey: string }) => JSON.parse((await x(method, path, keys)).body);

/** Every file under the data directory that could hold a face: the database, its WAL, index snapshots. */
function dataFiles(): Buffer[] {
  // PostgreSQL mode has no such files here; its heap is the operator's storage layer (docs/security.md).
  if (api.config.database) return [];
  const files = readdirSync(api.dataDir).filter((f) => f.startsWith('facerec.db')).map((f) => join(api.dataDir, f));
  const index = join(api.dataDir, INDEX_DIR);
  if (existsSync(index)) files.push(...readdirSync(index).map((f) => join(index, f)));
  return files.map((f) => readFileSync(f));
}

async function register(groupId: string, image: string, externalImageId: string, limit = 3): Promise<string[]> {
  const r = await api.v2('POST', `/groups/${groupId}/faces`, { image: { bytes: b64(fixture(image)) }, limit, externalImageId });
  assert.ok(ok(r), JSON.stringify(r.header));
  return r.data.addedFaces.map((f: any) => f.faceId);
}

before(async () => {
  // Indexes from the first face on, so erasure must also reach indexes and their snapshots.
  api = await startApi({ indexExactBelow: 1 });
  other = await api.runtime.apps.create({ secretKey: 'other-secret' });
  for (const g of GROUPS) assert.ok(ok(await api.v2('POST', '/groups', { groupId: g })));
});
after(() => api.dispose());

describe('privacy extension: subject access and erasure', () => {
  const alice: string[] = [];
  let bob: string[] = [];

  test('subject access lists the subject\'s faces in every group, as JSON and CSV, without vectors', async () => {
    for (const g of GROUPS) alice.push(...(await register(g, 'sample1.jpg', 'alice')));
    bob = await register('priv-a', 'sample5.jpg', 'bob', 2);
    const r = await xJson('GET', '/subjects/alice');
    assert.equal(code(r), 0);
    assert.equal(r.data.faceCount, alice.length);
    assert.deepEqual(r.data.faces.map((f: any) => f.faceId).sort(), [...alice].sort());
    assert.deepEqual(new Set(r.data.faces.map((f: any) => f.groupId)), new Set(GROUPS));
    for (const f of r.data.faces) {
      assert.deepEqual(Object.keys(f).sort(), ['bbox', 'confidence', 'createTime', 'externalImageId', 'faceId', 'groupId', 'imageId']);
      assert.equal(f.externalImageId, 'alice');
    }
    const csv = await x('GET', '/subjects/alice/faces.csv');
    assert.match(String(csv.headers['content-type']), /^text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    assert.equal(lines[0], 'groupId,faceId,imageId,externalImageId,createTime,x0,y0,x1,y1,confidence,consentRef,purpose');
    assert.equal(lines.length, alice.length + 1);
    for (const id of alice) assert.ok(csv.body.includes(id));
    assert.equal((await xJson('GET', '/subjects/nobody')).data.faceCount, 0);
  });

  test('another app sees none of them, and cannot use this app\'s path', async () => {
    assert.equal((await xJson('GET', '/subjects/alice', other)).data.faceCount, 0);
    assert.equal((await xJson('DELETE', '/subjects/alice', other)).data.deletedFaceCount, 0);
    assert.equal(code(await xJson('GET', '/subjects/alice', { appKey: api.appKey, secretKey: other.secretKey })), -41005);
    assert.equal(code(await xJson('DELETE', '/subjects/alice', { appKey: api.appKey, secretKey: 'wrong' })), -41005);
    assert.equal((await x('GET', '/subjects/alice/faces.csv', { appKey: api.appKey, secretKey: 'wrong' })).json().header.resultCode, -41005);
    assert.equal((await xJson('GET', '/subjects/alice')).data.faceCount, alice.length);
  });

  test('a malformed subject is -40000', async () => {
    assert.equal(code(await xJson('GET', '/subjects/a%20b')), -40000);
    assert.equal(code(await xJson('DELETE', '/subjects/a%2Fb')), -40000);
  });

  test('erasure deletes the subject everywhere: store files, indexes, their snapshots, search results', async () => {
    if (api.config.database) {
      // PostgreSQL mode: the database is the store and the index; its rows are what must go.
      const url = api.config.database.url;
      const r = await xJson('DELETE', '/subjects/alice');
      assert.equal(code(r), 0);
      assert.equal(r.data.deletedFaceCount, alice.length);
      assert.deepEqual(r.data.groups.map((g: any) => g.groupId).sort(), GROUPS);
      assert.equal((await xJson('GET', '/subjects/alice')).data.faceCount, 0);
      for (const g of GROUPS) {
        const s = await api.v2('POST', `/groups/${g}/faces/search`, { image: { bytes: b64(fixture('sample1.jpg')) }, limit: 100, threshold: 1 });
        assert.ok(s.data.matchFaces.every((m: any) => !alice.includes(m.face.faceId)), g);
      }
      const [left] = await queryDatabase<{ n: number }>(url, "SELECT count(*)::int AS n FROM faces WHERE face_id = ANY($1::text[]) OR external_image_id = 'alice'", [alice]);
      assert.equal(left.n, 0);
      assert.equal((await xJson('GET', '/subjects/bob')).data.faceCount, bob.length);
      return;
    }
    // Build the indexes and write their snapshots, so there is something on disk to erase from.
    const search = api.runtime.faceSearch as AnnFaceSearch;
    for (const g of GROUPS) {
      await api.v2('POST', `/groups/${g}/faces/search`, { image: { bytes: b64(fixture('sample1.jpg')) }, limit: 10, threshold: 1 });
      const ref = toGroupRef((await api.runtime.store.getGroup(api.appKey, g))!);
      for (let i = 0; !search.isIndexReady(ref); i++) {
        assert.ok(i < 1000, `the index of ${g} was built`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    await search.saveChanged();
    const snapshotsBefore = readdirSync(join(api.dataDir, INDEX_DIR)).filter((f) => f.endsWith('.codes'));
    assert.equal(snapshotsBefore.length, GROUPS.length);
    const before = new Map(snapshotsBefore.map((f) => [f, readFileSync(join(api.dataDir, INDEX_DIR, f))]));
    assert.ok(dataFiles().some((b) => b.includes(alice[0])), 'the faceId is on disk before erasure (the check can see it)');

    const r = await xJson('DELETE', '/subjects/alice');
    assert.equal(code(r), 0);
    assert.equal(r.data.deletedFaceCount, alice.length);
    assert.deepEqual(r.data.groups.map((g: any) => g.groupId).sort(), GROUPS);
    assert.equal(r.data.groups.reduce((n: number, g: any) => n + g.deletedFaceCount, 0), alice.length);

    assert.equal((await xJson('GET', '/subjects/alice')).data.faceCount, 0);
    for (const g of GROUPS) {
      const s = await api.v2('POST', `/groups/${g}/faces/search`, { image: { bytes: b64(fixture('sample1.jpg')) }, limit: 100, threshold: 1 });
      assert.ok(s.data.matchFaces.every((m: any) => !alice.includes(m.face.faceId)), g);
    }
    // Raw bytes: no erased faceId nor the label in the database file, its WAL or any snapshot.
    for (const bytes of dataFiles()) {
      for (const id of alice) assert.equal(bytes.includes(id), false, `faceId ${id} still on disk`);
      assert.equal(bytes.includes('alice'), false, 'the erased externalImageId is still on disk');
    }
    // Each snapshot was written again after the erasure, not left as it was.
    for (const [f, bytes] of before) {
      const path = join(api.dataDir, INDEX_DIR, f);
      assert.ok(!existsSync(path) || !readFileSync(path).equals(bytes), `snapshot ${f} was rewritten`);
    }
    // The other subject is untouched.
    assert.equal((await xJson('GET', '/subjects/bob')).data.faceCount, bob.length);
    assert.deepEqual((await xJson('DELETE', '/subjects/alice')).data, { externalImageId: 'alice', deletedFaceCount: 0, groups: [] });
  });

  test('an erasure that fails halfway is retried without counting a face twice', async () => {
    const ids = [...(await register('priv-b', 'sample1.jpg', 'carol')), ...(await register('priv-c', 'sample1.jpg', 'carol'))];
    assert.ok(ids.length >= 2);
    const store = api.runtime.store;
    let deletes = 0;
    const failing = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'deleteFace') {
          return async (...args: Parameters<Store['deleteFace']>) => {
            if (++deletes === 2) throw new Error('disk went away');
            return target.deleteFace(...args);
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const flaky = new PrivacyService(failing, { faceSearch: api.runtime.faceSearch });
    await assert.rejects(flaky.eraseSubject(api.appKey, 'carol'), /disk went away/);
    const retry = await xJson('DELETE', '/subjects/carol');
    assert.equal(retry.data.deletedFaceCount, ids.length - 1);
    assert.equal((await xJson('GET', '/subjects/carol')).data.faceCount, 0);
  });

  test('NHN routes are unaffected: the other subject is still listed and searchable', async () => {
    const list = await api.v2('GET', '/groups/priv-a/faces?limit=100&external-image-id=bob');
    assert.equal(list.data.faces.length, bob.length);
  });
});

describe('consent metadata', () => {
  const image = { bytes: b64(fixture('sample1.jpg')) };
  const registerX = (groupId: string, body: object, keys: { appKey: string; secretKey: string } = api) =>
    api.app.inject({ method: 'POST', url: `/x/v1/appkeys/${keys.appKey}/groups/${groupId}/faces`, headers: { authorization: keys.secretKey }, payload: body }).then((r) => r.json());
  const faceCount = async (groupId: string) => (await api.v2('GET', `/groups/${groupId}`)).data.faceCount as number;
  const consentRows = async (faceIds: string[]) => {
    if (api.config.database) {
      const [row] = await queryDatabase<{ n: number }>(api.config.database.url, 'SELECT count(*)::int AS n FROM face_consent WHERE face_id = ANY($1::text[])', [faceIds]);
      return row.n;
    }
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(join(api.dataDir, 'facerec.db'), { readonly: true });
    try {
      return db.prepare('SELECT count(*) FROM face_consent WHERE faceId IN (SELECT value FROM json_each(?))').pluck().get(JSON.stringify(faceIds)) as number;
    } finally {
      db.close();
    }
  };
  const erin: string[] = [];
  const PURPOSE = '=door access, "lobby" only';

  test('register through the extension answers as v2 register and stores the consent with each face', async () => {
    const v2 = await api.v2('POST', '/groups/priv-a/faces', { image, limit: 2, externalImageId: 'erin-v2' });
    const r = await registerX('priv-a', { image, limit: 2, externalImageId: 'erin', consentRef: 'form-7/v2', purpose: PURPOSE });
    assert.ok(ok(r), JSON.stringify(r.header));
    assert.deepEqual(Object.keys(r.data).sort(), Object.keys(v2.data).sort());
    assert.equal(r.data.addedFaceCount, 2);
    erin.push(...r.data.addedFaces.map((f: any) => f.faceId));
    const { multipart } = await import('./support/api-helpers.js');
    const form = multipart([{ name: 'imageFile', file: fixture('sample1.jpg') }, { name: 'limit', value: '1' }, { name: 'externalImageId', value: 'erin' }, { name: 'consentRef', value: 'form-8' }]);
    const m = (await api.app.inject({ method: 'POST', url: `/x/v1/appkeys/${api.appKey}/groups/priv-b/faces`, headers: { authorization: api.secretKey, ...form.headers }, payload: form.payload })).json();
    assert.ok(ok(m), JSON.stringify(m.header));
    erin.push(m.data.addedFaces[0].faceId);

    const access = await xJson('GET', '/subjects/erin');
    assert.equal(access.data.faceCount, 3);
    for (const f of access.data.faces) {
      if (f.groupId === 'priv-a') assert.deepEqual([f.consentRef, f.purpose], ['form-7/v2', PURPOSE]);
      else assert.deepEqual([f.consentRef, 'purpose' in f], ['form-8', false]);
    }
    // CSV: quoted as RFC 4180 wants, a formula-looking cell defused with a leading apostrophe.
    const csv = (await x('GET', '/subjects/erin/faces.csv')).body;
    assert.ok(csv.includes(`,form-7/v2,"'=door access, ""lobby"" only"\r\n`), csv);
    assert.ok(csv.includes(',form-8,\r\n'), csv);
    // A face registered without consent through the extension is a plain face.
    const plain = await registerX('priv-c', { image, limit: 1, externalImageId: 'erin-plain' });
    assert.ok(ok(plain));
    assert.deepEqual(Object.keys((await xJson('GET', '/subjects/erin-plain')).data.faces[0]).sort(), ['bbox', 'confidence', 'createTime', 'externalImageId', 'faceId', 'groupId', 'imageId']);
  });

  test('a bad consent field is -40000 and nothing is stored', async () => {
    const before = await faceCount('priv-a');
    for (const bad of [{ consentRef: '' }, { purpose: 'x'.repeat(256) }, { consentRef: 'bell\u0007' }, { purpose: 'line\nbreak' }, { purpose: 'c1\u0085' }, { consentRef: 7 }, { purpose: ['a'] }, { consentRef: { a: 1 } }]) {
      const r = await registerX('priv-a', { image, limit: 2, externalImageId: 'frank', ...bad });
      assert.equal(code(r), -40000, JSON.stringify(bad));
      assert.match(r.header.detail, /consentRef|purpose/);
    }
    assert.equal(await faceCount('priv-a'), before);
    assert.equal((await xJson('GET', '/subjects/frank')).data.faceCount, 0);
    // 255 characters (code points, not UTF-16 units) are allowed.
    const long = await registerX('priv-a', { image, limit: 1, externalImageId: 'frank', purpose: '얼'.repeat(254) + '😀' });
    assert.ok(ok(long), JSON.stringify(long.header));
    assert.equal((await xJson('GET', '/subjects/frank')).data.faces[0].purpose, '얼'.repeat(254) + '😀');
    // The route answers the other register failures as v2 does.
    assert.equal(code(await registerX('no-such-group', { image, limit: 1, consentRef: 'c' })), -40030);
    assert.equal(code(await registerX('priv-a', { image: { bytes: '***' }, limit: 1, consentRef: 'c' })), -45030);
  });

  test('another app cannot register into this app\'s groups nor see the consent', async () => {
    const before = await faceCount('priv-a');
    assert.equal(code(await registerX('priv-a', { image, limit: 1, externalImageId: 'erin', consentRef: 'theirs' }, other)), -40030);
    assert.equal(code(await registerX('priv-a', { image, limit: 1, consentRef: 'c' }, { appKey: api.appKey, secretKey: other.secretKey })), -41005);
    assert.equal(await faceCount('priv-a'), before);
    assert.equal((await xJson('GET', '/subjects/erin', other)).data.faceCount, 0);
    assert.equal((await x('GET', '/subjects/erin/faces.csv', other)).body.includes('form-7'), false);
  });

  test('if the consent cannot be recorded, the faces just added are deleted and the call fails', async () => {
    const before = await faceCount('priv-c');
    const failing = { recordConsent: async () => { throw new Error('consent table locked'); }, consentOf: async () => new Map() };
    const flaky = new PrivacyService(api.runtime.store, { faceSearch: api.runtime.faceSearch }, undefined, failing);
    const { registerArgs } = await import('../src/http/nhn-v2.js');
    let added: string[] = [];
    await assert.rejects(flaky.registerWithConsent(api.appKey, 'priv-c', { consentRef: 'c' }, async () => {
      const r = await api.runtime.service.register(api.appKey, 'priv-c', ...registerArgs({ fields: { image, limit: 2, externalImageId: 'gina' }, files: {}, multipart: false }));
      added = r.added.map((a) => a.face.faceId);
      return r;
    }), /consent table locked/);
    assert.ok(added.length > 0);
    assert.equal(await faceCount('priv-c'), before);
    assert.equal((await xJson('GET', '/subjects/gina')).data.faceCount, 0);
  });

  test('erasure removes the consent rows: none left in the database, nor their text in its files', async () => {
    assert.equal(await consentRows(erin), erin.length);
    const r = await xJson('DELETE', '/subjects/erin');
    assert.equal(r.data.deletedFaceCount, erin.length);
    assert.equal(await consentRows(erin), 0);
    for (const bytes of dataFiles()) {
      assert.equal(bytes.includes('form-7/v2'), false, 'the consent reference is still on disk');
      assert.equal(bytes.includes('door access'), false, 'the purpose is still on disk');
    }
  });
});

describe('audit log', () => {
  const audit = async (query = '', keys?: { appKey: string; secretKey: string }) => xJson('GET', `/audit${query}`, keys);

  test('records who did what, with the request id, as pseudonyms only', async () => {
    const reg = await api.app.inject({
      method: 'POST', url: `/v2.0/appkeys/${api.appKey}/groups/priv-a/faces`, headers: { authorization: api.secretKey },
      payload: { image: { bytes: b64(fixture('sample1.jpg')) }, limit: 1, externalImageId: 'dave' },
    });
    const faceId = reg.json().data.addedFaces[0].faceId;
    await api.v2('POST', '/groups/priv-a/faces/search', { image: { bytes: b64(fixture('sample1.jpg')) }, limit: 5, threshold: 1 });
    await api.v2('POST', `/groups/priv-a/faces/${faceId}/verify`, { compareImage: { bytes: b64(fixture('sample1.jpg')) } });
    await api.v2('POST', '/faces/compare', { sourceImage: { bytes: b64(fixture('sample1.jpg')) }, targetImage: { bytes: b64(fixture('sample1.jpg')) }, threshold: 90 });
    await xJson('GET', '/subjects/dave');
    const erase = await x('DELETE', '/subjects/dave');

    const all = await audit('?limit=1000');
    assert.equal(code(all), 0);
    const actions = new Set(all.data.entries.map((e: any) => e.action));
    for (const a of ['register', 'delete', 'search', 'verify', 'compare', 'erase', 'export']) {
      if (a !== 'delete') assert.ok(actions.has(a), `${a} is recorded`);
    }
    const text = JSON.stringify(all);
    assert.equal(text.includes(faceId), false, 'no faceId in the log');
    assert.equal(text.includes('dave'), false, 'no externalImageId in the log');
    const dave = await audit('?externalImageId=dave');
    assert.deepEqual(dave.data.entries.map((e: any) => e.action), ['register', 'export', 'erase']);
    assert.equal(dave.data.entries[2].requestId, erase.headers['x-request-id']);
    assert.equal(dave.data.entries[2].count, 1);
    // Each entry follows the one before it (entries of other apps may sit between this app's).
    for (let i = 1; i < all.data.entries.length; i++) {
      const [a, b] = [all.data.entries[i - 1], all.data.entries[i]];
      if (b.seq === a.seq + 1) assert.equal(b.prevHash, a.hash);
    }
  });

  test('queries by time range and pages by seq; another app sees only its own entries', async () => {
    const all = (await audit('?limit=1000')).data.entries;
    const t = all[2].time;
    assert.ok((await audit(`?to=${encodeURIComponent(t)}&limit=1000`)).data.entries.every((e: any) => e.time < t));
    assert.ok((await audit(`?from=${encodeURIComponent(t)}&limit=1000`)).data.entries.every((e: any) => e.time >= t));
    assert.equal((await audit('?to=2000-01-01T00:00:00Z')).data.entryCount, 0);
    const page = await audit(`?limit=2&after-seq=${all[0].seq}`);
    assert.deepEqual(page.data.entries.map((e: any) => e.seq), [all[1].seq, all[2].seq]);
    assert.equal(code(await audit('?from=yesterday')), -40000);
    assert.equal(code(await audit('?limit=0')), -40000);
    const theirs = (await audit('?limit=1000', other)).data.entries;
    assert.ok(theirs.length > 0, 'the other app\'s own subject access and erasure were recorded');
    assert.ok(theirs.every((e: any) => ['export', 'erase'].includes(e.action)));
    assert.equal(code(await audit('', { appKey: api.appKey, secretKey: other.secretKey })), -41005);
  });

  test('audit verify passes on the intact log and finds an edited entry', { skip: sqliteOnly('facerec audit verify reads the SQLite file') }, async () => {
    const { spawnSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const { default: Database } = await import('better-sqlite3');
    const bin = fileURLToPath(new URL('../bin/facerec.mjs', import.meta.url));
    const env = { ...process.env, FACEREC_DATA_DIR: api.dataDir, FACEREC_MASTER_KEY: '11'.repeat(32) };
    const run = () => spawnSync(process.execPath, [bin, 'audit', 'verify', '--json'], { env, encoding: 'utf8' });
    const good = run();
    assert.equal(good.status, 0, good.stderr);
    assert.ok(JSON.parse(good.stdout).entries > 5);

    const db = new Database(join(api.dataDir, 'facerec.db'));
    assert.throws(() => db.prepare("UPDATE audit_log SET count = 99 WHERE seq = 3").run(), /append-only/);
    assert.throws(() => db.prepare('DELETE FROM audit_log WHERE seq = 3').run(), /oldest/);
    // Someone with the file in hand can drop the trigger: the chain still tells.
    db.exec('DROP TRIGGER audit_log_no_update');
    db.prepare('UPDATE audit_log SET count = 99 WHERE seq = 3').run();
    db.close();
    const bad = run();
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /entry 3/);
  });
});

describe('audit write failures', () => {
  test('with a failure handler the operation stands and the handler hears of it; without one the failure propagates', async () => {
    const { AuditTrail } = await import('../src/domain/audit.js');
    const full = { append: async () => { throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }); } } as never;
    const heard: string[] = [];
    const lenient = new AuditTrail(full, Buffer.alloc(32, 1), undefined, (err, event) => heard.push(`${event.action}: ${(err as Error).message}`));
    await lenient.record({ action: 'search', appKey: 'app', faceIds: ['f'] });
    assert.deepEqual(heard, ['search: database or disk is full']);
    const strict = new AuditTrail(full, Buffer.alloc(32, 1));
    await assert.rejects(strict.record({ action: 'search', appKey: 'app' }), /disk is full/);
  });
});

describe('audit retention', () => {
  test('pruning drops the oldest entries, keeps the chain verifiable and the numbering going', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { SqliteStore } = await import('../src/store/sqlite-store.js');
    const { SqlitePrivacy } = await import('../src/store/sqlite-privacy.js');
    const { AuditTrail } = await import('../src/domain/audit.js');
    const { verifyChain } = await import('../src/store/audit-chain.js');
    const dir = mkdtempSync(join(tmpdir(), 'facerec-audit-'));
    const store = SqliteStore.open(dir, { masterKey: '22'.repeat(32) });
    const log = SqlitePrivacy.open(dir);
    let now = Date.parse('2026-01-01T00:00:00Z');
    const trail = new AuditTrail(log, Buffer.alloc(32, 7), () => new Date(now));
    try {
      for (let day = 0; day < 10; day++, now += 86_400_000) await trail.record({ action: 'search', appKey: 'app', groupId: 'g', faceIds: [] });
      // Now is day 10: a 3-day retention keeps days 7, 8, 9.
      assert.equal(await trail.prune(3 * 86_400_000), 7);
      const { anchor, entries } = log.chain();
      const kept = [...entries];
      assert.deepEqual(kept.map((e) => e.seq), [8, 9, 10]);
      assert.equal(verifyChain(kept, anchor).ok, true);
      await trail.record({ action: 'erase', appKey: 'app', externalImageId: 'x' });
      assert.equal(await trail.prune(30 * 86_400_000), 0);
      now += 1;
      assert.equal(await trail.prune(0), 4);
      await trail.record({ action: 'export', appKey: 'app', externalImageId: 'x' });
      const after = log.chain();
      const rest = [...after.entries];
      assert.deepEqual(rest.map((e) => e.seq), [12]);
      assert.equal(verifyChain(rest, after.anchor).ok, true);
      assert.equal(verifyChain(rest).ok, false, 'without its anchor a pruned log does not pass as complete');
    } finally {
      log.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('retention', () => {
  const DAY = 86_400_000;
  let r: TestApi;
  let now = Date.now();
  const clock = () => new Date(now);
  const put = (t: { appKey: string; secretKey: string }, path: string, body: object) =>
    r.app.inject({ method: 'PUT', url: `/x/v1/appkeys/${t.appKey}${path}`, headers: { authorization: t.secretKey }, payload: body }).then((res) => res.json());
  const faceCount = async (t: TestApi, g: string) => (await t.v2('GET', `/groups/${g}`)).data.faceCount as number;
  const counts: Record<string, number> = {};

  before(async () => {
    r = await startApi({}, undefined, { clock });
    for (const g of ['r-a', 'r-b', 'r-c']) {
      assert.ok(ok(await r.v2('POST', '/groups', { groupId: g })));
      const reg = await r.v2('POST', `/groups/${g}/faces`, { image: { bytes: b64(fixture('sample1.jpg')) }, limit: 3, externalImageId: 'ret' });
      counts[g] = reg.data.addedFaces.length;
    }
  });
  after(() => r.dispose());

  test('periods are set per app and per group, checked, and shown; another app cannot touch them', async () => {
    assert.equal(code(await put(r, '/retention', { retentionDays: 3 })), 0);
    assert.equal(code(await put(r, '/groups/r-a/retention', { retentionDays: 1 })), 0);
    assert.equal(code(await put(r, '/groups/r-c/retention', { retentionDays: 10 })), 0);
    assert.equal(code(await put(r, '/groups/missing/retention', { retentionDays: 1 })), -40030);
    for (const bad of [0, -1, 1.5, '3', 36_501, null]) assert.equal(code(await put(r, '/retention', { retentionDays: bad })), -40000, String(bad));
    const view = JSON.parse((await r.app.inject({ method: 'GET', url: `/x/v1/appkeys/${r.appKey}/retention`, headers: { authorization: r.secretKey } })).body);
    assert.deepEqual(view.data, { defaultRetentionDays: 3, groups: [{ groupId: 'r-a', retentionDays: 1 }, { groupId: 'r-c', retentionDays: 10 }] });
    const stranger = await r.runtime.apps.create({ secretKey: 'stranger' });
    assert.equal(code(await put(stranger, '/groups/r-a/retention', { retentionDays: 1 })), -40030, 'another app\'s group is not found');
    assert.equal(code(await put({ appKey: r.appKey, secretKey: 'stranger' }, '/retention', { retentionDays: 1 })), -41005);
    // The restart below takes the data dir's first app as its own: this one must not be it.
    await r.runtime.apps.delete(stranger.appKey);
    // NHN routes are unaffected by a period that has not run out.
    assert.equal((await r.v2('GET', '/groups/r-a/faces?limit=10')).data.faces.length, counts['r-a']);
  });

  test('a sweep deletes exactly the faces past their period (clock injected)', async () => {
    now += 2 * DAY;
    assert.equal(await r.runtime.retention.sweep(), counts['r-a']);
    assert.equal(await faceCount(r, 'r-a'), 0);
    assert.equal(await faceCount(r, 'r-b'), counts['r-b']);
    assert.equal(await faceCount(r, 'r-c'), counts['r-c']);
    assert.equal(await r.runtime.retention.sweep(), 0, 'nothing left to expire');
  });

  test('the periods survive a restart, whose first sweep applies them', async () => {
    await r.close();
    now += 2 * DAY; // day 4: past the app default (3 days), not r-c's own 10
    r = await startApi({}, r.dataDir, { clock });
    await r.runtime.retention.sweep(); // joins the start-up sweep if it still runs
    assert.equal(await faceCount(r, 'r-b'), 0);
    assert.equal(await faceCount(r, 'r-c'), counts['r-c']);
  });

  test('two processes sweeping the same store delete each face once', async () => {
    now += 7 * DAY; // day 11: r-c expires
    const { createRuntime } = await import('../src/app.js');
    const { engine } = await import('./support/api-helpers.js');
    const second = await createRuntime(r.config, await engine(), { clock });
    try {
      const [a, b] = await Promise.all([r.runtime.retention.sweep(), second.retention.sweep()]);
      assert.equal(a + b, counts['r-c']);
      assert.equal(await faceCount(r, 'r-c'), 0);
    } finally {
      await second.close();
    }
    const audit = JSON.parse((await r.app.inject({ method: 'GET', url: `/x/v1/appkeys/${r.appKey}/audit?limit=1000`, headers: { authorization: r.secretKey } })).body);
    const expired = audit.data.entries.filter((e: any) => e.action === 'expire');
    assert.equal(expired.reduce((n: number, e: any) => n + e.count, 0), counts['r-a'] + counts['r-b'] + counts['r-c']);
  });
});

describe('cross-app isolation on every /x/v1 route', () => {
  let t: TestApi;
  let stranger: { appKey: string; secretKey: string };
  const call = (keys: { appKey: string; secretKey?: string }, method: string, path: string, payload?: object) =>
    t.app.inject({ method: method as 'GET', url: `/x/v1/appkeys/${keys.appKey}${path}`, headers: keys.secretKey === undefined ? {} : { authorization: keys.secretKey }, ...(payload ? { payload } : {}) }).then((r) => r.json());
  const image = { bytes: b64(fixture('sample1.jpg')) };

  before(async () => {
    t = await startApi();
    stranger = await t.runtime.apps.create({ secretKey: 'stranger-secret' });
    assert.ok(ok(await t.v2('POST', '/groups', { groupId: 'mine' })));
    assert.ok(ok(await call(t, 'POST', '/groups/mine/faces', { image, limit: 1, externalImageId: 'owned', consentRef: 'mine-ref' })));
    assert.equal(code(await call(t, 'PUT', '/retention', { retentionDays: 30 })), 0);
    assert.equal(code(await call(t, 'PUT', '/groups/mine/retention', { retentionDays: 7 })), 0);
  });
  after(() => t.dispose());

  test('every documented /x/v1 operation refuses another app\'s secret and a missing one with -41005', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json();
    const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .filter(([path]) => path.startsWith('/x/v1/'))
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => [m.toUpperCase(), path.replace('/x/v1/appkeys/{appKey}', '').replace('{externalImageId}', 'owned').replace('{groupId}', 'mine')] as const));
    assert.ok(ops.length >= 10, `${ops.length} operations`);
    for (const [method, path] of ops) {
      const body = method === 'PUT' ? { retentionDays: 1 } : method === 'POST' ? { image, limit: 1 } : undefined;
      assert.equal(code(await call({ appKey: t.appKey, secretKey: stranger.secretKey }, method, path, body)), -41005, `${method} ${path} with another app's secret`);
      assert.equal(code(await call({ appKey: t.appKey }, method, path, body)), -41005, `${method} ${path} without a secret`);
    }
    // Nothing changed.
    assert.equal((await call(t, 'GET', '/subjects/owned')).data.faceCount, 1);
    assert.deepEqual((await call(t, 'GET', '/retention')).data, { defaultRetentionDays: 30, groups: [{ groupId: 'mine', retentionDays: 7 }] });
  });

  test('another app with its own keys sees and changes nothing of this app', async () => {
    const access = await call(stranger, 'GET', '/subjects/owned');
    assert.equal(access.data.faceCount, 0);
    assert.equal((await t.app.inject({ url: `/x/v1/appkeys/${stranger.appKey}/subjects/owned/faces.csv`, headers: { authorization: stranger.secretKey } })).body.includes('mine-ref'), false);
    assert.equal((await call(stranger, 'DELETE', '/subjects/owned')).data.deletedFaceCount, 0);
    assert.equal(code(await call(stranger, 'POST', '/groups/mine/faces', { image, limit: 1, consentRef: 'theirs' })), -40030);
    assert.deepEqual((await call(stranger, 'GET', '/retention')).data, { groups: [] });
    assert.equal(code(await call(stranger, 'PUT', '/groups/mine/retention', { retentionDays: 1 })), -40030);
    assert.equal(code(await call(stranger, 'DELETE', '/groups/mine/retention')), -40030);
    assert.equal(code(await call(stranger, 'DELETE', '/retention')), 0, 'clears its own default, which it does not have');
    const theirs = (await call(stranger, 'GET', '/audit?limit=1000')).data.entries;
    assert.ok(theirs.every((e: any) => e.groupId !== 'mine' && ['export', 'erase'].includes(e.action)), JSON.stringify(theirs));
    assert.equal((await call(stranger, 'GET', '/audit?externalImageId=owned')).data.entries.some((e: any) => e.action === 'register'), false);
    // This app's records are as they were.
    const mine = await call(t, 'GET', '/subjects/owned');
    assert.deepEqual([mine.data.faceCount, mine.data.faces[0].consentRef], [1, 'mine-ref']);
    assert.deepEqual((await call(t, 'GET', '/retention')).data, { defaultRetentionDays: 30, groups: [{ groupId: 'mine', retentionDays: 7 }] });
    assert.ok((await call(t, 'GET', '/audit?externalImageId=owned')).data.entries.some((e: any) => e.action === 'register'));
  });
});
