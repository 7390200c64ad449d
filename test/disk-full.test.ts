// A full disk: writes answer -50000 (never a crash, never a half-written face), reads keep
// working, the store closes and opens again, and nothing acknowledged is lost. Three ways to fill
// it: a real size-limited tmpfs (root only; skipped elsewhere), a real file-size limit on the
// server process (any Linux or macOS), and an injected SQLITE_FULL from the store.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE } from '../src/store/sqlite-connection.js';
import { startApi, type TestApi } from './support/api-helpers.js';
import { checkDatabase } from './support/db-checks.js';
import { faceCrops } from './support/face-crops.js';
import { NhnV2Client, registerBody } from './support/nhn-http.js';
import { ServerProcess } from './support/server-process.js';

const INTERNAL = -50000;
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

let crops: Uint8Array[];
before(async () => {
  crops = await faceCrops(4);
});

/** Registers one crop after another until the store refuses; returns the faces acknowledged. */
async function registerUntilRefused(register: (image: Uint8Array, tag: string) => Promise<any>, maxTries = 60): Promise<{ acked: string[]; refusedAt: number; codes: number[] }> {
  const acked: string[] = [];
  const codes: number[] = [];
  for (let i = 0; i < maxTries; i++) {
    const r = await register(crops[i % crops.length], `fill-${i}`);
    codes.push(r.header.resultCode);
    if (r.header.resultCode === 0) acked.push(...r.data.addedFaces.map((f: { faceId: string }) => f.faceId));
    else if (r.header.resultCode === INTERNAL) return { acked, refusedAt: i, codes };
    else assert.fail(`unexpected resultCode ${r.header.resultCode} while filling the disk`);
  }
  assert.fail(`the store never refused a write in ${maxTries} registers`);
}

/** Reads that must keep working while writes fail: listing, details and search agree with `acked`. */
async function assertReadable(v2: (method: string, path: string, body?: object) => Promise<any>, groupId: string, acked: string[]): Promise<void> {
  const listed = await v2('GET', `/groups/${groupId}/faces?limit=200`);
  assert.equal(listed.header.resultCode, 0);
  const ids = new Set(listed.data.faces.map((f: { faceId: string }) => f.faceId));
  assert.deepEqual(acked.filter((id) => !ids.has(id)), [], 'acknowledged faces missing');
  assert.equal(ids.size, acked.length, 'a refused register left a face behind');
  const details = await v2('GET', `/groups/${groupId}`);
  assert.equal(details.data.faceCount, acked.length);
  const search = await v2('GET', `/groups/${groupId}/faces/${acked[0]}/search?limit=10&threshold=1`);
  assert.equal(search.header.resultCode, 0);
  for (const m of search.data.matchFaces) assert.ok(ids.has(m.face.faceId), 'search returned a face that is not stored');
}

describe('a real full file system (tmpfs)', () => {
  let mountPoint: string | undefined;
  let skipReason: string | undefined;
  let api: TestApi | undefined;

  before(() => {
    const dir = mkdtempSync(join(tmpdir(), 'facerec-tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', dir], { stdio: 'pipe' });
      mountPoint = dir;
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      skipReason = `cannot mount a tmpfs here (${((e as { stderr?: Buffer }).stderr?.toString() || (e as Error).message).trim()}); run as root to include this check`;
    }
  });
  after(async () => {
    await api?.close().catch(() => {});
    if (!mountPoint) return;
    try {
      execFileSync('umount', [mountPoint], { stdio: 'pipe' });
    } catch {
      // A store left open by a failing test keeps the mount busy: detach it instead.
      execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' });
    }
    rmSync(mountPoint, { recursive: true, force: true });
  });

  test('ENOSPC: -50000, reads still work, the store closes and reopens, nothing acknowledged is lost', async (t) => {
    if (!mountPoint) return t.skip(skipReason);
    const dir = mountPoint;
    api = await startApi({}, dir);
    assert.equal((await api.v2('POST', '/groups', { groupId: 'full' })).header.resultCode, 0);
    const first = await api.v2('POST', '/groups/full/faces', { image: { bytes: b64(crops[0]) }, limit: 1 });
    assert.equal(first.header.resultCode, 0);

    // Leave a few pages free, so the next registers run out of space inside SQLite's writes.
    const fs = statfsSync(dir);
    writeFileSync(join(dir, 'filler'), Buffer.alloc(Math.max(0, fs.bavail * fs.bsize - 48 * 1024)));
    const fill = await registerUntilRefused((image, tag) => api!.v2('POST', '/groups/full/faces', { image: { bytes: b64(image) }, limit: 1, externalImageId: tag }));
    const acked = [first.data.addedFaces[0].faceId, ...fill.acked];
    console.log(`tmpfs: ${fill.acked.length} registers fitted, then -50000 (codes ${fill.codes.join(',')})`);

    await assertReadable(api.v2, 'full', acked);
    // Still full: a clean shutdown must not fail (the WAL keeps every commit for the next open).
    await api.close();
    api = await startApi({}, dir);
    await assertReadable(api.v2, 'full', acked);

    // Space is back: writes work again without a restart.
    rmSync(join(dir, 'filler'));
    const again = await api.v2('POST', '/groups/full/faces', { image: { bytes: b64(crops[1]) }, limit: 1 });
    assert.equal(again.header.resultCode, 0);
    await api.close();
    api = undefined;
    assert.deepEqual(checkDatabase(dir).problems, []);
  });
});

test('a file-size limit on the server process: write errors are -50000, the server lives, a restart finds every acknowledged face', { timeout: 120_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'facerec-fsize-'));
  const options = { dataDir, appKey: 'fsize-app', secretKey: 'fsize-secret', env: { FACEREC_WORKERS: '1' } };
  let server = await ServerProcess.spawn(options);
  try {
    await server.waitReady();
    let api = new NhnV2Client(server.origin, options.appKey, options.secretKey);
    assert.equal((await api.call('POST', '/groups', { groupId: 'limited' })).header.resultCode, 0);
    const first = await api.call('POST', '/groups/limited/faces', registerBody(crops[0], { limit: 1, externalImageId: 'first' }, true));
    assert.equal(first.header.resultCode, 0);
    assert.equal((await server.stop('SIGTERM')).code, 0); // folds the WAL into the database file

    // The WAL starts empty; it may grow ~48 KB past the database file, then writes fail (EFBIG).
    const dbBytes = statSync(join(dataDir, DATABASE_FILE)).size;
    server = await ServerProcess.spawn({ ...options, fileSizeLimitKiB: Math.ceil(Math.max(dbBytes, 64 * 1024) / 1024) + 48 });
    await server.waitReady();
    api = new NhnV2Client(server.origin, options.appKey, options.secretKey);
    const fill = await registerUntilRefused((image, tag) => api.call('POST', '/groups/limited/faces', registerBody(image, { limit: 1, externalImageId: tag }, false)));
    const acked = [first.data.addedFaces[0].faceId, ...fill.acked];
    console.log(`file-size limit: ${fill.acked.length} registers fitted, then -50000`);
    assert.ok(server.running, 'the server died on a write error');
    // Other writes fail the same way, and reads keep working.
    const create = await api.call('POST', '/groups', { groupId: 'another' });
    assert.ok([0, INTERNAL].includes(create.header.resultCode), `create group answered ${create.header.resultCode}`);
    await assertReadable((m, p, b) => api.call(m, p, b), 'limited', acked);
    assert.match(server.output(), /"level":50/, 'the write error is logged at error level');

    // Pull the plug while the disk is still full, then start without the limit.
    await server.stop('SIGKILL');
    server = await ServerProcess.spawn(options);
    await server.waitReady();
    api = new NhnV2Client(server.origin, options.appKey, options.secretKey);
    await assertReadable((m, p, b) => api.call(m, p, b), 'limited', acked);
    const after = await api.call('POST', '/groups/limited/faces', registerBody(crops[1], { limit: 1, externalImageId: 'after' }, true));
    assert.equal(after.header.resultCode, 0);
    assert.equal((await server.stop('SIGTERM')).code, 0);
    assert.deepEqual(checkDatabase(dataDir).problems, []);
  } finally {
    await server.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('an injected SQLITE_FULL on every write: -50000, no phantom face in the index, the store reopens intact', async () => {
  let api = await startApi();
  const dataDir = api.dataDir;
  try {
    assert.equal((await api.v2('POST', '/groups', { groupId: 'inject' })).header.resultCode, 0);
    const kept = await api.v2('POST', '/groups/inject/faces', { image: { bytes: b64(crops[0]) }, limit: 1 });
    assert.equal(kept.header.resultCode, 0);
    const keptId: string = kept.data.addedFaces[0].faceId;
    // Warm the group's search index, so that a wrongly updated index would show.
    assert.equal((await api.v2('GET', `/groups/inject/faces/${keptId}/search?limit=10&threshold=1`)).header.resultCode, 0);

    const store = api.runtime.store as unknown as Record<string, unknown>;
    const writes = ['createGroup', 'deleteGroup', 'addFaces', 'deleteFace'];
    for (const method of writes) {
      store[method] = async () => {
        throw new Database.SqliteError('database or disk is full', 'SQLITE_FULL');
      };
    }
    const code = (r: any) => r.header.resultCode;
    assert.equal(code(await api.v2('POST', '/groups/inject/faces', { image: { bytes: b64(crops[1]) }, limit: 1 })), INTERNAL);
    assert.equal(code(await api.v1('POST', '/groups/inject', { image: { bytes: b64(crops[2]) }, limit: 1 })), INTERNAL);
    assert.equal(code(await api.v2('POST', '/groups', { groupId: 'new-one' })), INTERNAL);
    assert.equal(code(await api.v2('DELETE', `/groups/inject/faces/${keptId}`)), INTERNAL);
    assert.equal(code(await api.v2('DELETE', '/groups/inject')), INTERNAL);
    // The refused photo finds nothing of its own (a phantom would match it at ~100): the index
    // only changes after the store commits. The kept face is still found by its photo.
    for (const refused of [crops[1], crops[2]]) {
      const probe = await api.v2('POST', '/groups/inject/faces/search', { image: { bytes: b64(refused) }, limit: 10, threshold: 1 });
      assert.equal(code(probe), 0);
      assert.deepEqual(probe.data.matchFaces.map((m: any) => m.face.faceId).filter((id: string) => id !== keptId), []);
    }
    const own = await api.v2('POST', '/groups/inject/faces/search', { image: { bytes: b64(crops[0]) }, limit: 10, threshold: 90 });
    assert.deepEqual(own.data.matchFaces.map((m: any) => m.face.faceId), [keptId]);
    await assertReadable(api.v2, 'inject', [keptId]);

    for (const method of writes) delete store[method]; // the prototype's methods again
    const later = await api.v2('POST', '/groups/inject/faces', { image: { bytes: b64(crops[3]) }, limit: 1 });
    assert.equal(code(later), 0);
    await api.close();
    api = await startApi({}, dataDir);
    await assertReadable(api.v2, 'inject', [later.data.addedFaces[0].faceId, keptId]);
    assert.deepEqual(checkDatabase(dataDir).problems, []);
  } finally {
    await api.dispose();
  }
});
