/**
 * Search at NHN's quota and beyond: synthetic clustered 512-d faces (5 photos per identity) in
 * the embedded store, searched top-10 through the domain API (search by faceId), with the
 * vector index the server uses. Prints the exact scan beside it, start-up and event-loop lines,
 * and ends each size with one line `scale: store=… faces=N p50_ms=… p99_ms=… recall1=… recall10=…
 * bytes_per_face=…`. Figures are for the machine printed first.
 *
 *   npm run bench:scale -- --faces 10000,100000 [--queries 200] [--data /tmp/facerec-scale]
 *   npm run bench:scale -- --store postgres --faces 10000,100000 [--other-groups 100x10000] [--vector-graph] [--exact-line] [--ef-search 200,400] [--graph-m 32 --graph-ef-construction 128]
 *
 * `--store postgres` (bench/scale-postgres.ts): the same data in PostgreSQL + pgvector, started
 * with scripts/pg-local.sh under <--data>/pg unless FACEREC_DATABASE_URL is given; `--other-groups`
 * puts that many groups of that many faces beside the measured one (issue 11: 1 M + 100 × 10 k).
 *
 * Data sets are kept under --data and reused (--prepare-only makes them and stops); the index's
 * snapshot too, unless --rebuild.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createRuntime, groupRef, INDEX_DIR, type Runtime } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { LazyEngine } from '../src/engine/lazy-engine.js';
import { AnnFaceSearch, DEFAULT_ANN_SETTINGS, CODES_BYTES_PER_FACE } from '../src/index/ann/ann-face-search.js';
import { VECTOR_BYTES_PER_FACE } from '../src/index/ann/resident-group.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import { DATABASE_FILE } from '../src/store/sqlite-connection.js';
import Database from 'better-sqlite3';
import type { FaceWithVector } from '../src/store/store.js';
import { ClusteredVectors } from '../test/support/clustered-vectors.js';
import { buildServer } from '../src/http/server.js';
import { machineLine } from './machine.js';
import { printHeader, progress, quantile } from './common.js';
import { dataSetFaces, makeFace, personOf } from './scale-data.js';

const { values } = parseArgs({
  options: {
    faces: { type: 'string', default: '10000,100000' },
    queries: { type: 'string', default: '200' },
    data: { type: 'string', default: '/tmp/facerec-scale' },
    rebuild: { type: 'boolean', default: false },
    'skip-exact': { type: 'boolean', default: false },
    'prepare-only': { type: 'boolean', default: false },
    'restart-child': { type: 'string' },
    /** Probe /health from this process, as runs before the external probe did (the client's own work then counts too). */
    'in-process-probe': { type: 'boolean', default: false },
    store: { type: 'string', default: 'sqlite' },
    'other-groups': { type: 'string', default: '0' },
    /** --store postgres: also compare the halfvec(512) graph with one over the vector(512) column. */
    'vector-graph': { type: 'boolean', default: false },
    /** --store postgres: also time the exact path's query on the same group. */
    'exact-line': { type: 'boolean', default: false },
    /** --store postgres: also search the graph(s) by raw SQL with these hnsw.ef_search values. */
    'ef-search': { type: 'string', default: '' },
    /** --store postgres: the graph's HNSW m and ef_construction for this run (the store's are 16 and 64). */
    'graph-m': { type: 'string', default: '16' },
    'graph-ef-construction': { type: 'string', default: '64' },
  },
});
if (values.store !== 'sqlite' && values.store !== 'postgres') {
  console.error(`--store must be sqlite or postgres, got "${values.store}"`);
  process.exit(2);
}

const sizes = values.faces.split(',').map(Number);
const queries = Number(values.queries);
const APP = 'bench';
const GROUP = 'g';
const MASTER_KEY = 'a'.repeat(64);

printHeader(`bench:scale — search top-10 through the domain API, synthetic clustered faces, store=${values.store}`);
console.log(machineLine());
if (values.store === 'sqlite') console.log(`index: 512-bit sign codes scanned by Hamming distance in a worker thread, ` +
  `candidates max(${DEFAULT_ANN_SETTINGS.minCandidates}, ${DEFAULT_ANN_SETTINGS.candidatesPerResult}×k) re-ranked on 8-bit vectors held in the thread, the closest to the best exactly; ` +
  `est. ${CODES_BYTES_PER_FACE + VECTOR_BYTES_PER_FACE} B/face`);


async function benchSize(n: number): Promise<void> {
  const dir = join(values.data, `n${n}`);
  // Only the ids searched are kept: a million id strings in this process made its collections,
  // and so the cold load measured below, slower than a server's.
  const { picks, warmPicks } = pickFaces(await populate(dir, n));
  if (values['prepare-only']) return;
  if (values.rebuild) rmSync(join(dir, INDEX_DIR), { recursive: true, force: true });

  // Ground truth: the exact scan over every vector (kept beside the data set: at 1 M it takes minutes).
  let truth: string[][] = [];
  let exactTimes: number[] = [];
  const truthFile = join(dir, `truth-q${queries}.json`);
  if (!values['skip-exact'] && existsSync(truthFile)) {
    ({ truth, exactTimes } = JSON.parse(readFileSync(truthFile, 'utf8')) as { truth: string[][]; exactTimes: number[] });
    console.log(`scale: store=sqlite mode=exact faces=${n} p50_ms=${quantile(exactTimes, 0.5).toFixed(2)} p99_ms=${quantile(exactTimes, 0.99).toFixed(2)} (measured when the data set was made: ${truthFile})`);
  } else if (!values['skip-exact']) {
    const rt = await runtime(dir, Number.MAX_SAFE_INTEGER);
    await rt.service.searchByFaceId(APP, GROUP, picks[0], { limit: 10, threshold: 1 }); // loads the vectors
    for (const id of picks) {
      const t0 = performance.now();
      const hits = await rt.service.searchByFaceId(APP, GROUP, id, { limit: 10, threshold: 1 });
      exactTimes.push(performance.now() - t0);
      truth.push(hits.map((h) => h.face.faceId));
    }
    await rt.close();
    writeFileSync(truthFile, JSON.stringify({ truth, exactTimes }));
    console.log(`scale: store=sqlite mode=exact faces=${n} p50_ms=${quantile(exactTimes, 0.5).toFixed(2)} p99_ms=${quantile(exactTimes, 0.99).toFixed(2)}`);
  }

  // The index: first search of a cold group (a build if there is no snapshot, else a load).
  const hadSnapshot = existsSync(join(dir, INDEX_DIR)) && readdirSync(join(dir, INDEX_DIR)).some((f) => f.endsWith('.codes'));
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const health = await HealthProbe.boot();
  let rt = await runtime(dir, 1);
  await health.attach(rt);
  loop.enable();
  let t0 = performance.now();
  await rt.service.searchByFaceId(APP, GROUP, picks[0], { limit: 10, threshold: 1 });
  const firstAnswer = performance.now() - t0;
  const ready = await untilIndexReady(rt);
  loop.disable();
  console.log(await health.line(n, hadSnapshot ? 'cold-load' : 'cold-build'));
  const opened = performance.now() - t0;
  console.log(`scale: store=sqlite faces=${n} cold=${hadSnapshot ? 'snapshot' : 'build'} first_answer_ms=${firstAnswer.toFixed(0)} index_ready_s=${(opened / 1000).toFixed(1)} ` +
    `eventloop_p99_ms=${(loop.percentile(99) / 1e6).toFixed(1)} eventloop_max_ms=${(loop.max / 1e6).toFixed(1)}${ready ? '' : ' (index not ready)'}`);
  // A group loaded from its snapshot has codes at once and fills in its 8-bit vectors from the
  // store afterwards; searches meanwhile read the candidates still missing one. Timed, and the
  // searches measured below start once it is done.
  health.reset();
  const filling = await untilFilled(rt);
  console.log(await health.line(n, 'vector-fill'));
  console.log(`fill: faces=${n} vectors_filled_s=${(filling.seconds).toFixed(1)} searches_meanwhile=${filling.searches} p50_ms=${quantile(filling.times, 0.5).toFixed(2)} p99_ms=${quantile(filling.times, 0.99).toFixed(2)}` +
    ' (after index_ready: 8-bit vectors read from the store; one search at a time runs meanwhile)');
  global.gc?.();
  const bytesPerFace = (process.memoryUsage().rss - rssBefore) / n;

  // Warm-up, as the PostgreSQL bench does: 200 searches of other faces (the thread's code is
  // compiled as it runs; its first searches take several times as long), timed and printed apart.
  const warmTimes: number[] = [];
  for (let i = 0; i < picks.length; i++) {
    t0 = performance.now();
    await rt.service.searchByFaceId(APP, GROUP, warmPicks[i], { limit: 10, threshold: 1 });
    warmTimes.push(performance.now() - t0);
  }
  console.log(`warmup: faces=${n} searches=${warmTimes.length} first_ms=${warmTimes[0].toFixed(2)} p50_ms=${quantile(warmTimes, 0.5).toFixed(2)} p99_ms=${quantile(warmTimes, 0.99).toFixed(2)} (other faces, before the measured searches)`);

  // Searches through the index.
  const times: number[] = [];
  let same1 = 0;
  let samePerson1 = 0;
  let overlap10 = 0;
  loop.reset();
  loop.enable();
  for (let i = 0; i < picks.length; i++) {
    t0 = performance.now();
    const hits = await rt.service.searchByFaceId(APP, GROUP, picks[i], { limit: 10, threshold: 1 });
    times.push(performance.now() - t0);
    if (truth.length) {
      if (hits[0]?.face.faceId === truth[i][0]) same1++;
      if (hits[0] && personOf(hits[0].face.faceId) === personOf(picks[i])) samePerson1++;
      const want = new Set(truth[i]);
      overlap10 += hits.filter((h) => want.has(h.face.faceId)).length / Math.max(1, want.size);
    }
  }
  // Full capacity: 8 searches in flight at once for 3 s, the event loop watched throughout.
  let done = 0;
  health.reset();
  const until = performance.now() + 3000;
  await Promise.all(Array.from({ length: 8 }, async (_, w) => {
    for (let i = w; performance.now() < until; i += 8) {
      await rt.service.searchByFaceId(APP, GROUP, picks[i % picks.length], { limit: 10, threshold: 1 });
      done++;
    }
  }));
  loop.disable();
  const recall = truth.length ? `recall1=${(same1 / picks.length).toFixed(3)} same_person1=${(samePerson1 / picks.length).toFixed(3)} recall10=${(overlap10 / picks.length).toFixed(3)}` : 'recall1=n/a recall10=n/a';
  console.log(`scale: store=sqlite faces=${n} p50_ms=${quantile(times, 0.5).toFixed(2)} p99_ms=${quantile(times, 0.99).toFixed(2)} ${recall} bytes_per_face=${bytesPerFace.toFixed(0)}`);
  console.log(`eventloop: faces=${n} searches_in_flight=8 searches_per_s=${(done / 3).toFixed(0)} p99_ms=${(loop.percentile(99) / 1e6).toFixed(1)} max_ms=${(loop.max / 1e6).toFixed(1)}`);
  console.log(await health.line(n, 'full-capacity'));
  await health.stop();

  // Restart: a new process over the same data dir; its first search is answered from the snapshot.
  await rt.close();
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--restart-child', dir, '--faces', picks[1], ...(values['in-process-probe'] ? ['--in-process-probe'] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const restart = JSON.parse(child.stdout.trim().split('\n').pop()!) as { firstSearchMs: number; rssBytes: number; filledSeconds: number; health: string };
  console.log(`startup: faces=${n} restart_to_first_search_ms=${restart.firstSearchMs.toFixed(0)} vectors_filled_s=${restart.filledSeconds.toFixed(1)} resident_bytes_per_face=${(restart.rssBytes / n).toFixed(0)} ` +
    '(a new process: runtime opened, the snapshot loaded and reconciled with the store, first search answered; resident = RSS growth over the process before it opened the store, once the 8-bit vectors are filled in)');
  console.log(restart.health.replace('faces=0', `faces=${n}`));
  rt = await runtime(dir, 1);

  // Registering into the large group versus an empty one: what register does after the engine
  // (store write, then the index told), timed; deleted again afterwards so the data set stays as made.
  const gen = new ClusteredVectors(512, 99);
  const emptyGroup = `empty-${Date.now()}`;
  await rt.store.createGroup(APP, emptyGroup, (await rt.store.getGroup(APP, GROUP))!.modelVersion, 1_000_000);
  const addP50 = async (groupId: string) => {
    const ts: number[] = [];
    for (let i = 0; i < 200; i++) {
      const face = makeFace(gen.face(1_000_000 + i), `late-${groupId}-${i}-${Date.now()}`);
      const s = performance.now();
      const ref = (await groupRef(rt.store, APP, groupId))!;
      const r = (await rt.store.addFaces(APP, groupId, [face], Number.MAX_SAFE_INTEGER))!;
      rt.faceSearch.added(ref, [{ key: r.keys[0], faceId: face.faceId, vector: face.vector }]);
      ts.push(performance.now() - s);
      const key = (await rt.store.deleteFace(APP, groupId, face.faceId))!;
      rt.faceSearch.removed((await groupRef(rt.store, APP, groupId))!, { key, faceId: face.faceId });
    }
    return quantile(ts, 0.5);
  };
  const intoEmpty = await addP50(emptyGroup);
  const intoLarge = await addP50(GROUP);
  await rt.store.deleteGroup(APP, emptyGroup);
  rt.faceSearch.dropped({ appKey: APP, groupId: emptyGroup });
  console.log(`register: faces=${n} store_and_index_p50_ms empty_group=${intoEmpty.toFixed(2)} this_group=${intoLarge.toFixed(2)}`);
  await rt.close();
  // The size's summary, in the one format every store ends with.
  const r = (x: number) => (truth.length ? (x / picks.length).toFixed(3) : 'n/a');
  console.log(`scale: store=sqlite faces=${n} p50_ms=${quantile(times, 0.5).toFixed(2)} p99_ms=${quantile(times, 0.99).toFixed(2)} recall1=${r(same1)} recall10=${r(overlap10)} bytes_per_face=${bytesPerFace.toFixed(0)}`);
}

/** The restart, in a process of its own: time to the first search's answer, and what the index made resident. */
async function restartChild(dir: string, faceId: string): Promise<void> {
  const health = await HealthProbe.boot();
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const rt = await runtime(dir, 1);
  await health.attach(rt);
  await rt.service.searchByFaceId(APP, GROUP, faceId, { limit: 10, threshold: 1 });
  const firstSearchMs = performance.now() - t0;
  const healthLine = await health.line(0, 'restart-load');
  await health.stop();
  // Resident once the 8-bit vectors are filled in, as the server holds the group from then on.
  const filled = await untilFilled(rt);
  global.gc?.();
  const rssBytes = process.memoryUsage().rss - rssBefore;
  console.log(JSON.stringify({ firstSearchMs, rssBytes, filledSeconds: filled.seconds, health: healthLine }));
  await rt.close();
}

async function runtime(dir: string, exactBelow: number): Promise<Runtime> {
  const config = loadConfig({ FACEREC_DATA_DIR: dir, FACEREC_MASTER_KEY: MASTER_KEY, FACEREC_INDEX_EXACT_BELOW: String(exactBelow), FACEREC_MAX_FACES_PER_GROUP: String(10_000_000) }, false);
  // As a server makes it (serve.ts): the search thread starts with the runtime when snapshots exist.
  return await createRuntime(config, new LazyEngine(), { warmIndex: true });
}

/**
 * GET /health every 20 ms on the server the runtime would serve. From a process of its own
 * (bench/health-probe.mjs), as a load balancer would: a probe's time includes any stretch the
 * event loop was held. `--in-process-probe` probes from this process instead, as runs before
 * binary codes did; a client sharing the event loop then adds turns of its own to each probe.
 */
class HealthProbe {
  private local: number[] = [];
  private running = true;
  private looping?: Promise<void>;
  private final?: number[];
  private server?: ReturnType<typeof buildServer>;

  private constructor(private readonly child?: ChildProcess) {}

  /**
   * Starts the probe's process (unless probing in process) and waits until it has booted: a
   * load balancer's probe is running before the server starts, so the half second of CPU a new
   * Node process takes must not land on the load being measured (it did before stop 30, slowing
   * a cold load by 0.3-0.7 s and stalling the event loop 10-40 ms on 2 cores).
   */
  static async boot(): Promise<HealthProbe> {
    if (values['in-process-probe']) return new HealthProbe();
    const child = fork(fileURLToPath(new URL('./health-probe.mjs', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await untilMessage(child, 'booted');
    return new HealthProbe(child);
  }

  /** Serves `rt` and probes its /health every 20 ms from now on (once a first, uncounted answer came). */
  async attach(rt: Runtime): Promise<this> {
    this.server = buildServer({ service: rt.service, apps: rt.apps, maxImageBytes: 3_000_000, engineSaturated: () => false });
    const url = `${await this.server.listen({ host: '127.0.0.1', port: 0 })}/health`;
    if (this.child) {
      const probing = untilMessage(this.child, 'probing');
      this.child.send({ url });
      await probing;
      return this;
    }
    this.looping = (async () => {
      while (this.running) {
        const t0 = performance.now();
        await fetch(url).then((r) => r.arrayBuffer());
        this.local.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    return this;
  }

  reset(): void {
    if (this.child) this.child.send('reset');
    else this.local = [];
  }

  async line(n: number, phase: string): Promise<string> {
    const t = this.final ?? (this.child ? await ask(this.child, 'report') : this.local);
    return `health: faces=${n} phase=${phase} probes=${t.length} p99_ms=${t.length ? quantile(t, 0.99).toFixed(1) : 'n/a'} max_ms=${t.length ? Math.max(...t).toFixed(1) : 'n/a'}`;
  }

  async stop(): Promise<void> {
    if (this.child) {
      const exited = once(this.child, 'exit');
      this.final = await ask(this.child, 'stop');
      await exited;
    } else {
      this.running = false;
      await this.looping;
      this.final = this.local;
    }
    await this.server?.close();
  }
}

function untilMessage(child: ChildProcess, expected: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if (message !== expected) return;
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
    child.once('exit', () => reject(new Error(`the health probe exited before '${expected}'`)));
  });
}

/** Sends the probe a message and waits for the times it answers with. */
function ask(child: ChildProcess, message: 'report' | 'stop'): Promise<number[]> {
  return new Promise((resolve) => {
    child.once('message', (times) => resolve(times as number[]));
    child.send(message);
  });
}

/** Searches one at a time until every face's 8-bit vector is held; their times and the seconds it took. */
async function untilFilled(rt: Runtime): Promise<{ seconds: number; searches: number; times: number[] }> {
  const times: number[] = [];
  const t0 = performance.now();
  if (!(rt.faceSearch instanceof AnnFaceSearch)) return { seconds: 0, searches: 0, times: [0] };
  for (let i = 0; ; i++) {
    const ref = (await groupRef(rt.store, APP, GROUP))!;
    if (rt.faceSearch.isFilled(ref)) break;
    if (performance.now() - t0 > 600_000) throw new Error('vectors not filled in after 10 minutes');
    const s = performance.now();
    await rt.service.searchByFaceId(APP, GROUP, `f${(i * 7919) % 1000}`, { limit: 10, threshold: 1 }).catch(() => {});
    times.push(performance.now() - s);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { seconds: (performance.now() - t0) / 1000, searches: times.length, times: times.length ? times : [0] };
}

async function untilIndexReady(rt: Runtime): Promise<boolean> {
  if (!(rt.faceSearch instanceof AnnFaceSearch)) return false;
  for (let i = 0; i < 36_000; i++) {
    if (rt.faceSearch.isIndexReady((await groupRef(rt.store, APP, GROUP))!)) return true;
    // A search asks for the group's index; the build runs behind it.
    if (i % 50 === 0) await rt.service.searchByFaceId(APP, GROUP, 'f0', { limit: 1, threshold: 1 }).catch(() => {});
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}


/** The faces searched (spread evenly over the group) and, between them, the warm-up's. */
function pickFaces(faceIds: string[]): { picks: string[]; warmPicks: string[] } {
  const at = (x: number) => faceIds[Math.floor((x / queries) * faceIds.length)];
  return { picks: Array.from({ length: queries }, (_, i) => at(i + 0.5)), warmPicks: Array.from({ length: queries }, (_, i) => at(i)) };
}

/** The data set for `n` faces, made once (1,000 faces per transaction); returns every faceId, in key order. */
async function populate(dir: string, n: number): Promise<string[]> {
  const store = SqliteStore.open(dir, { masterKey: MASTER_KEY });
  try {
    if (!(await store.getApp(APP))) await store.createApp(APP, 'bench');
    const group = await store.getGroup(APP, GROUP);
    if (!group) await store.createGroup(APP, GROUP, (await import('../src/engine/models.js')).MODEL_VERSION, 1);
    const have = (await store.getGroup(APP, GROUP))!.faceCount;
    if (have < n) {
      const gen = new ClusteredVectors(512, n);
      const bar = progress(Math.ceil((n - have) / 1000), `making ${n} faces`);
      for (let i = have; i < n; i += 1000) {
        await store.addFaces(APP, GROUP, dataSetFaces(gen, i, Math.min(n, i + 1000)), Number.MAX_SAFE_INTEGER);
        bar.tick();
      }
      bar.stop();
    }
  } finally {
    await store.close();
  }
  // The ids straight from the table, in key order: reading them through vectorBatch decrypted
  // every vector in this process, which left its heap slower to collect (the searches after it
  // measured 8.8 ms p50 at 1 M against 6.0 ms in a process that had not).
  const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
  try {
    return db.prepare('SELECT faceId FROM faces WHERE appKey = ? AND groupId = ? ORDER BY seq').pluck().all(APP, GROUP) as string[];
  } finally {
    db.close();
  }
}

// Last, so that every class above is initialised before it runs.
if (values['restart-child']) {
  await restartChild(values['restart-child'], values.faces);
  process.exit(0);
}
if (values.store === 'postgres') {
  const [otherGroups, otherGroupFaces] = values['other-groups'] === '0' ? [0, 0] : values['other-groups'].split('x').map(Number);
  if (!Number.isInteger(otherGroups) || !Number.isInteger(otherGroupFaces)) {
    console.error(`--other-groups is <groups>x<faces each>, e.g. 100x10000, got "${values['other-groups']}"`);
    process.exit(2);
  }
  const { benchPostgres } = await import('./scale-postgres.js');
  await benchPostgres({ sizes, queries, dataRoot: values.data, otherGroups, otherGroupFaces, vectorGraph: values['vector-graph'], exactLine: values['exact-line'],
    efSearch: values['ef-search'].split(',').filter(Boolean).map(Number), graphM: Number(values['graph-m']), graphEfConstruction: Number(values['graph-ef-construction']) });
  process.exit(0);
}
for (const n of sizes) await benchSize(n);
