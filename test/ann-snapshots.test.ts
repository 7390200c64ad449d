import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createRuntime } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { Apps } from '../src/domain/apps.js';
import { LazyEngine } from '../src/engine/lazy-engine.js';
import { signCode } from '../src/index/ann/binary-codes.js';
import { AnnFaceSearch, DEFAULT_ANN_SETTINGS, CODES_BYTES_PER_FACE, groupName, type AnnSettings } from '../src/index/ann/ann-face-search.js';
import { SnapshotFiles } from '../src/index/ann/snapshot-files.js';
import { ExactFaceSearch } from '../src/index/exact-face-search.js';
import { clusteredGroup, faceOf, groupOf, openedSnapshot, untilIndexReady } from './support/ann-fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'facerec-ann-snap-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Warnings are failures here: every path these tests take is meant to work. */
const log = { info: () => {}, warn: (fields: object, message: string) => console.error('WARN', message, fields) };

const SMALL: AnnSettings = { ...DEFAULT_ANN_SETTINGS, exactBelow: 100, buildBatch: 250, snapshotIntervalMs: 3_600_000 };


/** A group of 300 clustered faces in a fresh store. */
async function fixture(dir: string) {
  const { store, gen, faces } = await clusteredGroup(dir, 5, 100, 3);
  return { store, gen, faces, snapshots: new SnapshotFiles(join(dir, 'index'), store.indexSecret()) };
}

/** The decrypted contents of a group's snapshot. */
async function plaintext(snapshots: SnapshotFiles, group: string): Promise<Buffer> {
  assert.ok(snapshots.exists(group), 'the group has a snapshot');
  return openedSnapshot(snapshots.sealingKey, group, snapshots.pathOf(group));
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(condition(), 'condition not reached in 5 s');
}

/** How a snapshot holds a face: its 512-bit sign code. */
const codeBytes = (v: Float32Array) => Buffer.from(signCode(v));

describe('AnnFaceSearch snapshots', () => {
  it('restarts from its snapshot, with the faces added and deleted while it was down', async () => {
    const dir = join(root, 'restart');
    const { store, gen, faces, snapshots } = await fixture(dir);
    const g = () => groupOf(store, 'g');
    const first = new AnnFaceSearch(store, new ExactFaceSearch(store, 512), snapshots, SMALL, log);
    await untilIndexReady(first, g, gen.face(0));
    await first.close(); // writes the snapshot
    assert.equal(readdirSync(join(dir, 'index')).filter((f) => f.endsWith('.codes')).length, 1);

    // While no search runs: one face deleted, one registered.
    const gone = faces[10];
    await store.deleteFace('app', 'g', gone.faceId);
    const late = faceOf(gen.face(700));
    await store.addFaces('app', 'g', [late], 1e9);

    const second = new AnnFaceSearch(store, new ExactFaceSearch(store, 512), snapshots, SMALL, log);
    try {
      // A snapshot exists, so the first search waits for it rather than scanning exactly.
      const hits = await second.search(await g(), late.vector, 1, 0);
      assert.ok(second.isIndexReady(await g()), 'the first search is answered by the loaded index');
      assert.equal(hits[0].faceId, late.faceId);
      assert.ok(!(await second.search(await g(), gone.vector, 10, -1)).some((h) => h.faceId === gone.faceId));
      assert.equal((await second.search(await g(), faces[20].vector, 1, 0))[0].faceId, faces[20].faceId);
    } finally {
      await second.close();
    }

    // Unchanged since the snapshot: loaded as it is. Then the newest face (the largest key)
    // deleted while down, which leaves every other key as it was.
    const third = new AnnFaceSearch(store, new ExactFaceSearch(store, 512), snapshots, SMALL, log);
    try {
      assert.equal((await third.search(await g(), late.vector, 1, 0))[0].faceId, late.faceId);
    } finally {
      await third.close();
    }
    await store.deleteFace('app', 'g', late.faceId);
    const fourth = new AnnFaceSearch(store, new ExactFaceSearch(store, 512), snapshots, SMALL, log);
    try {
      assert.ok(!(await fourth.search(await g(), late.vector, 10, -1)).some((h) => h.faceId === late.faceId));
      assert.equal((await fourth.search(await g(), faces[30].vector, 1, 0))[0].faceId, faces[30].faceId);
    } finally {
      await fourth.close();
      await store.close();
    }
  });

  it('keeps snapshots encrypted, bound to their group, and free of deleted faces', async () => {
    const dir = join(root, 'privacy');
    const { store, gen, faces, snapshots } = await fixture(dir);
    const g = () => groupOf(store, 'g');
    const ann = new AnnFaceSearch(store, new ExactFaceSearch(store, 512), snapshots, SMALL, log);
    const name = 'app\u0000g';
    try {
      await untilIndexReady(ann, g, gen.face(0));
      await ann.saveChanged();
      const file = readFileSync(snapshots.pathOf(name));
      const kept = faces[40];
      assert.ok(plaintext && (await plaintext(snapshots, name)).includes(codeBytes(kept.vector)), 'the snapshot holds the face\'s code');
      assert.ok(!file.includes(codeBytes(kept.vector)), 'but the file holds it only encrypted');
      assert.ok(!file.includes(Buffer.from('app\u0000g')), 'and names no group');

      const gone = faces[41];
      const key = (await store.deleteFace('app', 'g', gone.faceId))!;
      ann.removed(await g(), { key, faceId: gone.faceId });
      await ann.saveChanged();
      const after = await plaintext(snapshots, name);
      assert.ok(!after.includes(codeBytes(gone.vector)), 'a deleted face leaves no bytes in the next snapshot');
      assert.ok(after.includes(codeBytes(kept.vector)));

      // Another group's snapshot copied in place of this one is refused, as is an altered file.
      const other = new SnapshotFiles(join(dir, 'index'), store.indexSecret());
      assert.equal(other.exists('app\u0000h'), false, 'no snapshot yet');
      writeFileSync(other.pathOf('app\u0000h'), readFileSync(snapshots.pathOf(name)));
      assert.throws(() => openedSnapshot(other.sealingKey, 'app\u0000h', other.pathOf('app\u0000h')));
      const altered = Buffer.from(readFileSync(snapshots.pathOf(name)));
      altered[altered.length - 40] ^= 1;
      writeFileSync(snapshots.pathOf(name), altered);
      assert.throws(() => openedSnapshot(snapshots.sealingKey, name, snapshots.pathOf(name)));
      const wrongKey = new SnapshotFiles(join(dir, 'index'), randomBytes(32));
      writeFileSync(snapshots.pathOf(name), file);
      assert.throws(() => openedSnapshot(wrongKey.sealingKey, name, snapshots.pathOf(name)));
    } finally {
      await ann.close();
      await store.close();
    }
  });

  it('abandons a build in flight when closed, leaving no snapshot, and builds again on the next start', async () => {
    const dir = join(root, 'abandon');
    const { store, gen, faces, snapshots } = await fixture(dir);
    const g = () => groupOf(store, 'g');
    const slow: AnnSettings = { ...SMALL, buildBatch: 5 };
    const first = new AnnFaceSearch(store, new ExactFaceSearch(store, 512), snapshots, slow, log);
    // The first search starts the build and is answered exactly.
    assert.equal((await first.search(await g(), faces[3].vector, 1, 0))[0].faceId, faces[3].faceId);
    await first.close();
    assert.equal(first.isIndexReady(await g()), false);
    assert.equal(snapshots.exists('app\u0000g'), false, 'an abandoned build writes nothing');

    const second = new AnnFaceSearch(store, new ExactFaceSearch(store, 512), snapshots, SMALL, log);
    try {
      await untilIndexReady(second, g, gen.face(2));
      assert.equal((await second.search(await g(), faces[4].vector, 1, 0))[0].faceId, faces[4].faceId);
    } finally {
      await second.close();
      await store.close();
    }
  });

  it('deleting an app removes its groups\' snapshots; a start removes those of groups gone meanwhile', async () => {
    const dir = join(root, 'app-delete');
    const { store, gen, snapshots } = await fixture(dir);
    const g = () => groupOf(store, 'g');
    const build = async () => {
      const ann = new AnnFaceSearch(store, new ExactFaceSearch(store, 512), snapshots, SMALL, log);
      await untilIndexReady(ann, g, gen.face(0));
      await ann.close();
      assert.ok(snapshots.exists('app\u0000g'));
    };
    await build();
    // As the CLI's `apps delete` does it: the app's groups are told to the snapshot files.
    assert.equal(await new Apps(store, (group) => snapshots.remove(groupName(group))).delete('app'), true);
    assert.equal(snapshots.exists('app\u0000g'), false);

    // Deleted behind facerec's back: the next runtime's start sweeps the orphan away.
    await store.createApp('app', 'h');
    await store.createGroup('app', 'g', 'v', 10);
    await store.addFaces('app', 'g', Array.from({ length: 120 }, (_, i) => faceOf(gen.face(i))), 1e9);
    await build();
    await store.deleteApp('app');
    assert.ok(snapshots.exists('app\u0000g'));
    const runtime = await createRuntime(loadConfig({ FACEREC_DATA_DIR: dir }, false), new LazyEngine());
    await runtime.close();
    assert.equal(snapshots.exists('app\u0000g'), false);
    await store.close();
  });

  it('writes a changed index when searches pause, or when its oldest change has waited too long', async () => {
    const dir = join(root, 'quiet');
    const { store, gen, faces, snapshots } = await fixture(dir);
    const g = () => groupOf(store, 'g');
    const name = 'app\u0000g';
    const searchFor = async (ann: AnnFaceSearch, ms: number) => {
      for (const until = Date.now() + ms; Date.now() < until;) {
        await ann.search(await g(), faces[7].vector, 1, 0);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const patient = new AnnFaceSearch(store, new ExactFaceSearch(store, 512), snapshots,
      { ...SMALL, snapshotIntervalMs: 20, snapshotQuietMs: 400, snapshotMaxDelayMs: 3_600_000 }, log);
    try {
      await untilIndexReady(patient, g, gen.face(0));
      await searchFor(patient, 800);
      assert.equal(snapshots.exists(name), false, 'no snapshot is written while searches keep coming');
      await new Promise((r) => setTimeout(r, 1_000));
      assert.ok(snapshots.exists(name), 'written once they paused');
    } finally {
      await patient.close();
    }
    await snapshots.remove(name);

    const hurried = new AnnFaceSearch(store, new ExactFaceSearch(store, 512), snapshots,
      { ...SMALL, snapshotIntervalMs: 20, snapshotQuietMs: 3_600_000, snapshotMaxDelayMs: 300 }, log);
    try {
      await untilIndexReady(hurried, g, gen.face(0));
      await searchFor(hurried, 1_500);
      assert.ok(snapshots.exists(name), 'written while searches run, once the change had waited its longest');
    } finally {
      await hurried.close();
      await store.close();
    }
  });

  it('keeps resident indexes within the memory budget, evicting the least recently searched and loading it again when asked', async () => {
    const dir = join(root, 'evict');
    const { store, gen, faces, snapshots } = await fixture(dir);
    await store.createGroup('app', 'h', 'v', 10);
    const others = Array.from({ length: 300 }, (_, i) => faceOf(gen.face(1_000 + i)));
    await store.addFaces('app', 'h', others, 1e9);
    const [a, b] = [() => groupOf(store, 'g'), () => groupOf(store, 'h')];
    const evictions: object[] = [];
    const watching = { info: (fields: object, message: string) => void (message.includes('evicted') && evictions.push(fields)), warn: log.warn };
    // Room for one group of 300 faces, not two.
    const oneGraph = 300 * CODES_BYTES_PER_FACE;
    const ann = new AnnFaceSearch(store, new ExactFaceSearch(store, 512), snapshots, { ...SMALL, memoryBudgetBytes: oneGraph * 1.5 }, watching);
    try {
      await untilIndexReady(ann, a, gen.face(0));
      // A face registered into the first index before it is evicted must survive the round trip.
      const late = faceOf(gen.face(2_000));
      const { keys } = (await store.addFaces('app', 'g', [late], 1e9))!;
      ann.added(await a(), [{ key: keys[0], faceId: late.faceId, vector: late.vector }]);

      await untilIndexReady(ann, b, gen.face(1_000));
      // The new index is searched at once; the eviction (a snapshot write first) follows it.
      await until(() => evictions.length === 1);
      assert.equal(ann.isIndexReady(await a()), false, 'the least recently searched index left memory');
      assert.ok(snapshots.exists('app\u0000g'), 'after being written to its snapshot');

      // Asked again, it is loaded from that snapshot (the search waits for it) and evicts the other.
      const hits = await ann.search(await a(), late.vector, 1, 0);
      assert.equal(hits[0].faceId, late.faceId);
      assert.ok(ann.isIndexReady(await a()));
      await until(() => evictions.length === 2);
      assert.equal(ann.isIndexReady(await b()), false);
      assert.equal((await ann.search(await a(), faces[9].vector, 1, 0))[0].faceId, faces[9].faceId);
      assert.equal((await ann.search(await b(), others[9].vector, 1, 0))[0].faceId, others[9].faceId, 'the evicted group is still answered');
    } finally {
      await ann.close();
      await store.close();
    }
  });

  it('rebuilds from the store when the snapshot is damaged', async () => {
    const dir = join(root, 'damaged');
    const { store, gen, faces, snapshots } = await fixture(dir);
    const g = () => groupOf(store, 'g');
    const first = new AnnFaceSearch(store, new ExactFaceSearch(store, 512), snapshots, SMALL, log);
    await untilIndexReady(first, g, gen.face(0));
    await first.close();
    const path = snapshots.pathOf('app\u0000g');
    const bytes = readFileSync(path);
    bytes[100] ^= 0xff;
    writeFileSync(path, bytes);

    const second = new AnnFaceSearch(store, new ExactFaceSearch(store, 512), snapshots, SMALL, log);
    try {
      // Answered (exactly) even though the snapshot is refused; the index is rebuilt behind it.
      assert.equal((await second.search(await g(), faces[5].vector, 1, 0))[0].faceId, faces[5].faceId);
      await untilIndexReady(second, g, gen.face(1));
      assert.equal((await second.search(await g(), faces[6].vector, 1, 0))[0].faceId, faces[6].faceId);
    } finally {
      await second.close();
      await store.close();
    }
  });
});
