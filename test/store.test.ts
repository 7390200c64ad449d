import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { LATEST_SCHEMA_VERSION } from '../src/store/migrations.js';
import { DATABASE_FILE } from '../src/store/sqlite-connection.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import { WalCheckpointer } from '../src/store/wal-checkpointer.js';
import { BACKGROUND_NICE } from '../src/background-thread.js';
import { openWorkerVectorReader } from '../src/store/worker-vectors.js';
import { MASTER_KEY_FILE } from '../src/store/store-keys.js';
import { StoreConflictError, type FaceRecord, type FaceWithVector } from '../src/store/store.js';
import { generateMasterKey, MasterKeyFormatError, parseMasterKey, VectorCipher, VectorDecryptionError } from '../src/store/vector-crypto.js';

// ---- fixtures ----

const tempRoot = mkdtempSync(join(tmpdir(), 'facerec-store-test-'));
let dirCounter = 0;
after(() => rmSync(tempRoot, { recursive: true, force: true }));

function freshDataDir(): string {
  return join(tempRoot, `data-${++dirCounter}`);
}

/** Stores opened by a test, closed after it even when an assertion fails. */
const openStores: SqliteStore[] = [];
afterEach(async () => {
  while (openStores.length) await openStores.pop()!.close();
});

function openStore(dataDir = freshDataDir(), masterKey?: string): SqliteStore {
  const store = SqliteStore.open(dataDir, { masterKey });
  openStores.push(store);
  return store;
}

/** A store with app 'app' and group 'g' ready for faces. */
async function storeWithGroup(dataDir?: string): Promise<SqliteStore> {
  const store = openStore(dataDir);
  await store.createApp('app', 'hash');
  await store.createGroup('app', 'g', 'v1', 10);
  return store;
}

let seed = 1;
/** Deterministic pseudo-random unit-scale vector; each call gives a different one. */
function makeVector(): Float32Array {
  const v = new Float32Array(512);
  for (let i = 0; i < v.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    v[i] = seed / 2 ** 31 - 0.5;
  }
  return v;
}

let faceCounter = 0;
function makeFace(overrides: Partial<FaceWithVector> = {}): FaceWithVector {
  const n = ++faceCounter;
  return {
    faceId: `face-${n}`,
    imageId: `image-${n}`,
    bbox: { x0: 0.1, y0: 0.2, x1: 0.5, y1: 0.6 },
    landmarks: [{ type: 'LEFT_EYE', x: 0.2, y: 0.3 }, { type: 'RIGHT_EYE', x: 0.4, y: 0.3 }],
    confidence: 0.99,
    createTime: new Date(1_700_000_000_000 + n * 1000),
    vector: makeVector(),
    ...overrides,
  };
}

function vectorBytes(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

async function collectAllFaceIds(store: SqliteStore, limit: number, filter = {}): Promise<string[]> {
  const ids: string[] = [];
  let after: string | undefined;
  do {
    const page = await store.listFaces('app', 'g', limit, filter, after);
    assert.ok(page.items.length <= limit);
    ids.push(...page.items.map((f) => f.faceId));
    after = page.next;
  } while (after);
  return ids;
}

function rejectsWithConflict(promise: Promise<unknown>, reason: 'exists' | 'quota') {
  return assert.rejects(promise, (e: unknown) => e instanceof StoreConflictError && e.reason === reason);
}

// ---- tests ----

describe('SqliteStore apps', () => {
  it('creates, reads, lists, re-keys and deletes apps', async () => {
    const store = openStore();
    const created = await store.createApp('a1', 'hash1');
    assert.equal(created.appKey, 'a1');
    assert.ok(created.createTime instanceof Date);
    await store.createApp('a0', 'hash0');

    const read = await store.getApp('a1');
    assert.deepEqual(read, created);
    assert.equal(await store.getApp('missing'), undefined);
    assert.deepEqual((await store.listApps()).map((a) => a.appKey), ['a0', 'a1']);

    await rejectsWithConflict(store.createApp('a1', 'other'), 'exists');

    assert.equal(await store.setAppSecret('a1', 'hash2'), true);
    assert.equal((await store.getApp('a1'))?.secretKeyHash, 'hash2');
    assert.equal(await store.setAppSecret('missing', 'x'), false);

    assert.equal(await store.deleteApp('a1'), true);
    assert.equal(await store.deleteApp('a1'), false);
    assert.equal(await store.getApp('a1'), undefined);
  });

  it('deleting an app removes its groups and faces', async () => {
    const store = await storeWithGroup();
    const face = makeFace();
    await store.addFaces('app', 'g', [face], 10);
    await store.deleteApp('app');
    await store.createApp('app', 'hash');
    assert.equal(await store.getGroup('app', 'g'), undefined);
    await store.createGroup('app', 'g', 'v1', 10);
    assert.equal(await store.getFace('app', 'g', face.faceId), undefined);
    assert.equal((await store.getGroup('app', 'g'))?.faceCount, 0);
  });
});

describe('SqliteStore groups', () => {
  it('creates a group and refuses a duplicate', async () => {
    const store = await storeWithGroup();
    const group = await store.getGroup('app', 'g');
    assert.equal(group?.modelVersion, 'v1');
    assert.equal(group?.faceCount, 0);
    assert.ok(group?.createTime instanceof Date);
    await rejectsWithConflict(store.createGroup('app', 'g', 'v1', 10), 'exists');
  });

  it('refuses a group beyond maxGroups with reason quota, and a duplicate at quota with reason exists', async () => {
    const store = openStore();
    await store.createApp('app', 'hash');
    await store.createGroup('app', 'g1', 'v1', 2);
    await store.createGroup('app', 'g2', 'v1', 2);
    await rejectsWithConflict(store.createGroup('app', 'g3', 'v1', 2), 'quota');
    await rejectsWithConflict(store.createGroup('app', 'g1', 'v1', 2), 'exists');
    // The quota is per app.
    await store.createApp('other', 'hash');
    await store.createGroup('other', 'g3', 'v1', 2);
  });

  it('refuses a group for an unknown app', async () => {
    const store = openStore();
    await assert.rejects(store.createGroup('nobody', 'g', 'v1', 10), /app nobody does not exist/);
  });

  it('lists groups by groupId across pages, per app', async () => {
    const store = openStore();
    await store.createApp('app', 'hash');
    await store.createApp('other', 'hash');
    for (const id of ['e', 'b', 'a', 'd', 'c']) await store.createGroup('app', id, 'v1', 100);
    await store.createGroup('other', 'aa', 'v1', 100);

    const first = await store.listGroups('app', 2);
    assert.deepEqual(first.items.map((g) => g.groupId), ['a', 'b']);
    assert.ok(first.next);
    const second = await store.listGroups('app', 2, first.next);
    assert.deepEqual(second.items.map((g) => g.groupId), ['c', 'd']);
    const third = await store.listGroups('app', 2, second.next);
    assert.deepEqual(third.items.map((g) => g.groupId), ['e']);
    assert.equal(third.next, undefined);

    const exact = await store.listGroups('app', 5);
    assert.equal(exact.items.length, 5);
    assert.equal(exact.next, undefined, 'no cursor when nothing follows');
    await assert.rejects(store.listGroups('app', 0), RangeError);
  });

  it('deleting a group removes its faces and vectors', async () => {
    const store = await storeWithGroup();
    const face = makeFace();
    await store.addFaces('app', 'g', [face], 10);
    assert.equal(await store.deleteGroup('app', 'g'), true);
    assert.equal(await store.deleteGroup('app', 'g'), false);
    assert.equal(await store.getGroup('app', 'g'), undefined);

    await store.createGroup('app', 'g', 'v1', 10);
    assert.equal(await store.getFace('app', 'g', face.faceId), undefined);
    assert.deepEqual(await store.vectorBatch('app', 'g', 0, 1000), []);
    assert.equal((await store.getGroup('app', 'g'))?.faceCount, 0);
  });
});

describe('SqliteStore faces', () => {
  it('adds faces up to the quota and refuses the rest', async () => {
    const store = await storeWithGroup();
    const faces = [makeFace(), makeFace(), makeFace(), makeFace(), makeFace()];
    const result = await store.addFaces('app', 'g', faces, 3);
    assert.deepEqual(result?.added.map((f) => f.faceId), faces.slice(0, 3).map((f) => f.faceId));
    assert.equal(result?.refusedForQuota, 2);
    assert.ok(result && !('vector' in result.added[0]), 'added records carry no vector');
    assert.equal((await store.getGroup('app', 'g'))?.faceCount, 3);

    const again = await store.addFaces('app', 'g', [makeFace(), makeFace()], 3);
    assert.deepEqual(again, { added: [], keys: [], refusedForQuota: 2 });
    assert.equal((await store.getGroup('app', 'g'))?.faceCount, 3);
  });

  it('keeps the quota under concurrent adds', async () => {
    const store = await storeWithGroup();
    const results = await Promise.all(
      Array.from({ length: 6 }, () => store.addFaces('app', 'g', [makeFace(), makeFace()], 7)));
    const added = results.reduce((sum, r) => sum + (r?.added.length ?? 0), 0);
    assert.equal(added, 7);
    assert.equal((await store.getGroup('app', 'g'))?.faceCount, 7);
  });

  it('resolves undefined when adding to a missing group', async () => {
    const store = await storeWithGroup();
    assert.equal(await store.addFaces('app', 'nope', [makeFace()], 10), undefined);
  });

  it('returns the identical vector and metadata from getFace', async () => {
    const store = await storeWithGroup();
    const face = makeFace({ externalImageId: 'ext-1' });
    await store.addFaces('app', 'g', [face], 10);
    const read = await store.getFace('app', 'g', face.faceId);
    assert.ok(read);
    assert.deepEqual(vectorBytes(read.vector), vectorBytes(face.vector));
    const { vector: _v, ...expected } = face;
    const { vector: _r, ...actual } = read;
    assert.deepEqual(actual, expected);

    const withoutExternal = makeFace();
    await store.addFaces('app', 'g', [withoutExternal], 10);
    assert.equal('externalImageId' in (await store.getFace('app', 'g', withoutExternal.faceId))!, false);

    assert.equal(await store.getFace('app', 'g', 'missing'), undefined);
    await store.createGroup('app', 'g2', 'v1', 10);
    assert.equal(await store.getFace('app', 'g2', face.faceId), undefined, 'a face is only found in its own group');
  });

  it('getFaces returns the existing faces among the ids', async () => {
    const store = await storeWithGroup();
    const [a, b] = [makeFace(), makeFace()];
    await store.addFaces('app', 'g', [a, b], 10);
    const records = await store.getFaces('app', 'g', [b.faceId, 'missing', a.faceId]);
    assert.deepEqual(records.map((r) => r.faceId).sort(), [a.faceId, b.faceId].sort());
    assert.deepEqual(await store.getFaces('app', 'g', []), []);
  });

  it('lists faces newest first across pages, faces of one call in a stable order', async () => {
    const store = await storeWithGroup();
    const sameTime = new Date(1_800_000_000_000);
    const old = makeFace({ createTime: new Date(1_600_000_000_000) });
    const batch = [makeFace({ createTime: sameTime }), makeFace({ createTime: sameTime }), makeFace({ createTime: sameTime })];
    const newest = makeFace({ createTime: new Date(1_900_000_000_000) });
    await store.addFaces('app', 'g', [old], 100);
    await store.addFaces('app', 'g', batch, 100);
    await store.addFaces('app', 'g', [newest], 100);

    // Within one call, the most recently inserted comes first.
    const expected = [newest, batch[2], batch[1], batch[0], old].map((f) => f.faceId);
    assert.deepEqual(await collectAllFaceIds(store, 2), expected);
    assert.deepEqual(await collectAllFaceIds(store, 1), expected);
    assert.deepEqual(await collectAllFaceIds(store, 5), expected);
  });

  it('does not repeat or skip faces when faces are added between pages', async () => {
    const store = await storeWithGroup();
    const initial = [makeFace(), makeFace(), makeFace(), makeFace()];
    await store.addFaces('app', 'g', initial, 100);
    const first = await store.listFaces('app', 'g', 2, {});
    await store.addFaces('app', 'g', [makeFace()], 100); // newer: belongs before the cursor
    const second = await store.listFaces('app', 'g', 2, {}, first.next);
    const seen = [...first.items, ...second.items].map((f) => f.faceId);
    assert.deepEqual(seen, [...initial].reverse().map((f) => f.faceId));
    assert.equal(second.next, undefined);
  });

  it('filters faces by faceId, imageId and externalImageId', async () => {
    const store = await storeWithGroup();
    const a = makeFace({ imageId: 'img-1', externalImageId: 'ext-A' });
    const b = makeFace({ imageId: 'img-1', externalImageId: 'ext-B' });
    const c = makeFace({ imageId: 'img-2', externalImageId: 'ext-A' });
    const d = makeFace({ imageId: 'img-3' });
    await store.addFaces('app', 'g', [a, b, c, d], 100);
    const ids = (page: { items: FaceRecord[] }) => page.items.map((f) => f.faceId);

    assert.deepEqual(ids(await store.listFaces('app', 'g', 10, { faceId: b.faceId })), [b.faceId]);
    assert.deepEqual(ids(await store.listFaces('app', 'g', 10, { imageId: 'img-1' })), [b.faceId, a.faceId]);
    assert.deepEqual(ids(await store.listFaces('app', 'g', 10, { externalImageId: 'ext-A' })), [c.faceId, a.faceId]);
    assert.deepEqual(ids(await store.listFaces('app', 'g', 10, { imageId: 'img-1', externalImageId: 'ext-A' })), [a.faceId]);
    assert.deepEqual(ids(await store.listFaces('app', 'g', 10, { faceId: d.faceId, imageId: 'img-1' })), []);
    assert.deepEqual(await collectAllFaceIds(store, 1, { externalImageId: 'ext-A' }), [c.faceId, a.faceId]);
  });

  it('loads every vector of a group and nothing from other groups', async () => {
    const store = await storeWithGroup();
    await store.createGroup('app', 'other', 'v1', 10);
    const faces = [makeFace(), makeFace(), makeFace()];
    await store.addFaces('app', 'g', faces, 10);
    await store.addFaces('app', 'other', [makeFace()], 10);
    const loaded = await store.vectorBatch('app', 'g', 0, 1000);
    assert.deepEqual(loaded.map((l) => l.faceId).sort(), faces.map((f) => f.faceId).sort());
    for (const face of faces) {
      const match = loaded.find((l) => l.faceId === face.faceId)!;
      assert.deepEqual(vectorBytes(match.vector), vectorBytes(face.vector));
    }
  });

  it('deletes a face only from its own group and updates the count', async () => {
    const store = await storeWithGroup();
    await store.createGroup('app', 'other', 'v1', 10);
    const [a, b] = [makeFace(), makeFace()];
    await store.addFaces('app', 'g', [a, b], 10);
    assert.equal(await store.deleteFace('app', 'other', a.faceId), undefined);
    assert.equal(typeof await store.deleteFace('app', 'g', a.faceId), 'number');
    assert.equal(await store.deleteFace('app', 'g', a.faceId), undefined);
    assert.equal(await store.getFace('app', 'g', a.faceId), undefined);
    assert.equal((await store.getGroup('app', 'g'))?.faceCount, 1);
    assert.deepEqual((await store.vectorBatch('app', 'g', 0, 1000)).map((l) => l.faceId), [b.faceId]);
  });

  it('names faces by keys that vector indexes can page through and look up', async () => {
    const store = await storeWithGroup();
    await store.createGroup('app', 'other', 'v1', 10);
    const faces = [makeFace(), makeFace(), makeFace(), makeFace()];
    const { keys } = (await store.addFaces('app', 'g', faces, 10))!;
    await store.addFaces('app', 'other', [makeFace()], 10);
    assert.equal(keys.length, 4);
    assert.deepEqual([...keys].sort((x, y) => x - y), keys, 'keys ascend in insertion order');
    assert.deepEqual(await store.faceKeys('app', 'g'), keys);

    const first = await store.vectorBatch('app', 'g', 0, 3);
    const rest = await store.vectorBatch('app', 'g', first[2].key, 3);
    assert.deepEqual([...first, ...rest].map((v) => v.faceId), faces.map((f) => f.faceId));
    assert.deepEqual(vectorBytes(rest[0].vector), vectorBytes(faces[3].vector));

    const picked = await store.vectorsByKeys('app', 'g', [keys[2], keys[0], 999_999]);
    assert.deepEqual(picked.map((v) => v.faceId).sort(), [faces[0].faceId, faces[2].faceId].sort());
    assert.deepEqual(await store.vectorsByKeys('other-app', 'g', keys), []);

    assert.equal(await store.deleteFace('app', 'g', faces[1].faceId), keys[1]);
    assert.deepEqual(await store.faceKeys('app', 'g'), [keys[0], keys[2], keys[3]]);
  });

  it('lists a group\'s keys whole when they span several pages of the read', async () => {
    const store = await storeWithGroup();
    const { keys } = (await store.addFaces('app', 'g', Array.from({ length: 20_001 }, () => makeFace()), 30_000))!;
    await store.deleteFace('app', 'g', 'face-' + (faceCounter - 20_000 + 19_999));
    const listed = await store.faceKeys('app', 'g');
    assert.equal(listed.length, 20_000);
    assert.deepEqual(listed, keys.filter((_, i) => i !== 19_999));
  });

  it('counts every add and delete in the group revision', async () => {
    const store = await storeWithGroup();
    assert.equal((await store.getGroup('app', 'g'))?.revision, 0);
    const [a, b] = [makeFace(), makeFace()];
    await store.addFaces('app', 'g', [a, b], 10);
    assert.equal((await store.getGroup('app', 'g'))?.revision, 2);
    await store.deleteFace('app', 'g', a.faceId);
    const g = await store.getGroup('app', 'g');
    assert.equal(g?.revision, 3);
    assert.equal(g?.faceCount, 1);
  });
});

describe('SqliteStore durability and encryption', () => {
  it('opens with WAL, synchronous FULL, foreign keys, secure_delete and the latest schema', () => {
    const settings = openStore().settings();
    assert.equal(settings.journalMode, 'wal');
    assert.equal(settings.synchronous, 2);
    assert.equal(settings.foreignKeys, true);
    assert.equal(settings.secureDelete, true);
    assert.ok(settings.busyTimeoutMs > 0);
    assert.equal(settings.schemaVersion, LATEST_SCHEMA_VERSION);
  });

  it('creates a private master.key and keeps data across close and reopen', async () => {
    const dataDir = freshDataDir();
    const store = await storeWithGroup(dataDir);
    const face = makeFace();
    await store.addFaces('app', 'g', [face], 10);
    await store.close();

    const keyFile = join(dataDir, MASTER_KEY_FILE);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.match(readFileSync(keyFile, 'utf8'), /^[0-9a-f]{64}\n$/);
    assert.equal(statSync(join(dataDir, DATABASE_FILE)).mode & 0o077, 0, 'database file is private too');

    const reopened = openStore(dataDir);
    const read = await reopened.getFace('app', 'g', face.faceId);
    assert.deepEqual(vectorBytes(read!.vector), vectorBytes(face.vector));
    assert.equal((await reopened.getGroup('app', 'g'))?.faceCount, 1);
  });

  it('accepts a configured key as hex or base64 and refuses a malformed one', async () => {
    const key = generateMasterKey();
    const dataDir = freshDataDir();
    const store = openStore(dataDir, key.toString('hex'));
    await store.createApp('app', 'hash');
    await store.close();
    assert.equal(existsSync(join(dataDir, MASTER_KEY_FILE)), false, 'no key file when a key is configured');
    assert.ok(await openStore(dataDir, key.toString('base64')).getApp('app'));
    assert.throws(() => SqliteStore.open(freshDataDir(), { masterKey: 'not-a-key' }), MasterKeyFormatError);
    assert.throws(() => parseMasterKey('ab'.repeat(31), 'test'), /Expected 64 hex characters/);
  });

  it('refuses to open with a different master key, clearly', async () => {
    const dataDir = freshDataDir();
    const store = await storeWithGroup(dataDir);
    await store.addFaces('app', 'g', [makeFace()], 10);
    await store.close();
    assert.throws(
      () => SqliteStore.open(dataDir, { masterKey: generateMasterKey().toString('hex') }),
      /not the key this database's face vectors were encrypted with/);
  });

  it('refuses to generate a new key when the key file of an encrypted database is missing', async () => {
    const dataDir = freshDataDir();
    await (await storeWithGroup(dataDir)).close();
    rmSync(join(dataDir, MASTER_KEY_FILE));
    assert.throws(() => SqliteStore.open(dataDir), /master\.key is missing/);
    assert.equal(existsSync(join(dataDir, MASTER_KEY_FILE)), false);
  });

  it('refuses a key file other users can read', async () => {
    const dataDir = freshDataDir();
    await openStore(dataDir).close();
    chmodSync(join(dataDir, MASTER_KEY_FILE), 0o644);
    assert.throws(() => SqliteStore.open(dataDir), /accessible by other users \(mode 0644\)/);
  });

  it('names the face when a stored vector fails to decrypt, e.g. moved to another row', async () => {
    const dataDir = freshDataDir();
    const store = await storeWithGroup(dataDir);
    const [a, b] = [makeFace(), makeFace()];
    await store.addFaces('app', 'g', [a, b], 10);
    await store.close();

    const raw = new Database(join(dataDir, DATABASE_FILE));
    raw.prepare('UPDATE faces SET vector = (SELECT vector FROM faces WHERE faceId = ?) WHERE faceId = ?').run(a.faceId, b.faceId);
    raw.close();

    const reopened = openStore(dataDir);
    await assert.rejects(reopened.getFace('app', 'g', b.faceId),
      (e: unknown) => e instanceof VectorDecryptionError && e.faceId === b.faceId && e.message.includes(b.faceId));
    await assert.rejects(reopened.vectorBatch('app', 'g', 0, 1000), VectorDecryptionError);
    assert.ok(await reopened.getFace('app', 'g', a.faceId), 'the untouched face still decrypts');
  });

  it('never writes plaintext vector bytes to the database files', async () => {
    const dataDir = freshDataDir();
    const store = await storeWithGroup(dataDir);
    const faces = [makeFace(), makeFace()];
    await store.addFaces('app', 'g', faces, 10);

    const files = () => [DATABASE_FILE, `${DATABASE_FILE}-wal`]
      .map((name) => join(dataDir, name)).filter(existsSync).map((path) => readFileSync(path));
    const assertNoPlaintext = () => {
      for (const file of files()) {
        for (const face of faces) {
          // Any 16-byte run of the vector would do; check the start and the middle.
          const bytes = vectorBytes(face.vector);
          assert.equal(file.indexOf(bytes.subarray(0, 16)), -1);
          assert.equal(file.indexOf(bytes.subarray(1024, 1040)), -1);
        }
      }
    };
    assertNoPlaintext(); // WAL still holds the commit
    await store.close();
    assertNoPlaintext(); // checkpointed into the main file
  });

  it('zeroes deleted rows instead of leaving them in free pages', async () => {
    const dataDir = freshDataDir();
    const store = await storeWithGroup(dataDir);
    const marker = 'deleted-marker-7f3a9c';
    const face = makeFace({ externalImageId: marker });
    await store.addFaces('app', 'g', [face, makeFace()], 10);
    await store.close();
    assert.notEqual(readFileSync(join(dataDir, DATABASE_FILE)).indexOf(marker), -1, 'marker is on disk before deletion');

    const reopened = openStore(dataDir);
    await reopened.deleteFace('app', 'g', face.faceId);
    await reopened.close();
    assert.equal(readFileSync(join(dataDir, DATABASE_FILE)).indexOf(marker), -1);
  });

  it('refuses a database from a newer facerec', async () => {
    const dataDir = freshDataDir();
    await openStore(dataDir).close();
    const raw = new Database(join(dataDir, DATABASE_FILE));
    raw.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    raw.close();
    assert.throws(() => SqliteStore.open(dataDir), /newer than this facerec supports/);
  });

  it('close is idempotent', async () => {
    const store = openStore();
    await store.close();
    await store.close();
  });
});

describe('VectorCipher', () => {
  it('round-trips and binds the ciphertext to its faceId', () => {
    const cipher = new VectorCipher(generateMasterKey());
    const vector = makeVector();
    const blob = cipher.encrypt('f1', vector);
    assert.equal(blob.length, 1 + 12 + 16 + 512 * 4);
    assert.equal(blob[0], 1, 'version byte');
    assert.deepEqual(vectorBytes(cipher.decrypt('f1', blob)), vectorBytes(vector));
    assert.notDeepEqual(cipher.encrypt('f1', vector).subarray(1, 13), blob.subarray(1, 13), 'fresh IV per vector');
    assert.throws(() => cipher.decrypt('f2', blob), /face f2: authentication failed/);
    assert.throws(() => new VectorCipher(generateMasterKey()).decrypt('f1', blob), VectorDecryptionError);
    assert.throws(() => cipher.decrypt('f1', blob.subarray(0, 10)), /truncated/);
    // Decrypts from an unaligned view too (Buffers from SQLite need not be 4-byte aligned).
    const unaligned = Buffer.concat([Buffer.of(0), blob]).subarray(1);
    assert.deepEqual(vectorBytes(cipher.decrypt('f1', unaligned)), vectorBytes(vector));
  });
});

describe('SqliteStore beside worker threads', () => {
  it("a worker's vector reader sees every commit: a face as soon as it is added, never after it is deleted", async () => {
    const store = await storeWithGroup();
    const reader = openWorkerVectorReader(store.workerVectorSource());
    try {
      const face = makeFace();
      const { keys } = (await store.addFaces('app', 'g', [face], 10))!;
      const [read] = reader.vectorsByKeys('app', 'g', keys);
      assert.equal(read.faceId, face.faceId);
      assert.deepEqual(vectorBytes(read.vector), vectorBytes(face.vector));
      assert.deepEqual(reader.vectorsByKeys('other-app', 'g', keys), [], 'another group\'s keys read nothing');
      // facesByKeys names every face and decrypts only the vectors asked for.
      const other = makeFace();
      const both = [...keys, ...(await store.addFaces('app', 'g', [other], 10))!.keys];
      const named = reader.facesByKeys('app', 'g', both, { keys: both, except: face.faceId });
      assert.deepEqual(named.map((f) => f.faceId).sort(), [face.faceId, other.faceId].sort());
      assert.equal(named.find((f) => f.faceId === face.faceId)!.vector, undefined);
      assert.deepEqual(vectorBytes(named.find((f) => f.faceId === other.faceId)!.vector!), vectorBytes(other.vector));
      await store.deleteFace('app', 'g', face.faceId);
      assert.deepEqual(reader.vectorsByKeys('app', 'g', keys), []);
      assert.deepEqual(reader.facesByKeys('app', 'g', keys, { keys }), []);
    } finally {
      reader.close();
    }
  });

  it('the checkpoint thread copies the WAL into the database file, so no request has to', async () => {
    const dataDir = freshDataDir();
    const store = await storeWithGroup(dataDir);
    await store.createGroup('app', 'big', 'v1', 1_000);
    for (let i = 0; i < 20; i++) await store.addFaces('app', 'big', Array.from({ length: 10 }, () => makeFace()), 1_000);
    const file = join(dataDir, DATABASE_FILE);
    const before = statSync(file).size;
    assert.ok(statSync(`${file}-wal`).size > 400_000, 'the faces wait in the WAL (wal_autocheckpoint is far off)');
    const checkpointer = new WalCheckpointer({ path: file, busyTimeoutMs: 5000 }, 60_000, (err) => assert.fail(String(err)));
    try {
      await checkpointer.checkpoint();
      assert.ok(statSync(file).size > before + 400_000, `the database file grew from ${before} to ${statSync(file).size} bytes`);
      // It is upkeep: its thread runs below the event loop's priority (Linux: nice is per thread).
      if (process.platform === 'linux') {
        const nice = (tid: string) => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
        const threads = readdirSync('/proc/self/task');
        assert.equal(nice(String(process.pid)), 0, 'the event loop keeps its priority');
        assert.ok(threads.some((tid) => nice(tid) === BACKGROUND_NICE), 'the checkpoint thread runs at the background nice value');
      }
    } finally {
      await checkpointer.close();
    }
  });
});
