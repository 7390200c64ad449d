/**
 * A process that keeps a group's search graph busy until it is killed: it opens (or builds) the
 * graph, then registers and deletes faces without pause while snapshots are written every 50 ms,
 * printing each acknowledged write as a JSON line. test/ann-kill.test.ts kills it with SIGKILL.
 */
import { AnnFaceSearch, DEFAULT_ANN_SETTINGS } from '../../src/index/ann/ann-face-search.js';
import { SnapshotFiles } from '../../src/index/ann/snapshot-files.js';
import { ExactFaceSearch } from '../../src/index/exact-face-search.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { faceOf, groupOf, untilIndexReady } from './ann-fixtures.js';
import { ClusteredVectors } from './clustered-vectors.js';
import { join } from 'node:path';

const [dir, seed] = [process.argv[2], Number(process.argv[3])];
const store = SqliteStore.open(dir, { masterKey: 'b'.repeat(64) });
const ann = new AnnFaceSearch(store, new ExactFaceSearch(store, 512), new SnapshotFiles(join(dir, 'index'), store.indexSecret()),
  { ...DEFAULT_ANN_SETTINGS, exactBelow: 100, buildBatch: 50, snapshotIntervalMs: 50, snapshotQuietMs: 0 });
const g = () => groupOf(store, 'g');
const gen = new ClusteredVectors(512, seed);
await untilIndexReady(ann, g, gen.face(0));
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
for (let i = 0; ; i++) {
  const face = { ...faceOf(gen.face(10_000 + i)), faceId: `s${seed}-${i}` };
  const { keys } = (await store.addFaces('app', 'g', [face], 1e9))!;
  ann.added(await g(), [{ key: keys[0], faceId: face.faceId, vector: face.vector }]);
  process.stdout.write(JSON.stringify({ added: face.faceId }) + '\n');
  if (i % 3 === 2) {
    const victim = `s${seed}-${i - 1}`;
    const key = await store.deleteFace('app', 'g', victim);
    if (key !== undefined) ann.removed(await g(), { key, faceId: victim });
    process.stdout.write(JSON.stringify({ deleted: victim }) + '\n');
  }
  await new Promise((r) => setImmediate(r));
}
