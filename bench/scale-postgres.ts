/**
 * bench:scale on PostgreSQL (`--store postgres`): the same synthetic data set as the SQLite run
 * (bench/scale-data.ts), inserted through PgStore's multi-row INSERT (what `facerec migrate`
 * uses) into a database of its own per size, then searched top-10 by faceId through the domain
 * API of a PostgreSQL-mode runtime (pgvector HNSW, candidates re-ranked exactly), against the
 * exact top 10. Starts its own PostgreSQL with scripts/pg-local.sh under <--data>/pg unless
 * FACEREC_DATABASE_URL names one. Data sets stay in their databases and are reused.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createRuntime, type Runtime } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { LazyEngine } from '../src/engine/lazy-engine.js';
import { MODEL_VERSION } from '../src/engine/models.js';
import { EMBEDDING_SIZE } from '../src/engine/vectors.js';
import { ExactIndex } from '../src/index/exact-index.js';
import { DEFAULT_PG_SEARCH, EXACT_SEARCH_SQL, GRAPH_SEARCH_SQL } from '../src/index/pg-face-search.js';
import { FACE_GRAPH_KEY, parseVector, type PgStore } from '../src/store/pg-store.js';
import { ClusteredVectors } from '../test/support/clustered-vectors.js';
import { createDatabaseIfMissing } from '../test/support/test-database.js';
import { progress, quantile } from './common.js';
import { dataSetFaces, personOf } from './scale-data.js';

export interface PgBenchOptions {
  sizes: number[];
  queries: number;
  dataRoot: string;
  /** Other groups in the same database (the graph is one over every group): count and faces each. */
  otherGroups: number;
  otherGroupFaces: number;
  /** Also compare the graph (over halfvec(512) copies since migration 5) with one over the vector(512) column, by raw SQL (compareGraphs). */
  vectorGraph: boolean;
  /** Also time the exact path's query on the same group, by raw SQL (compareGraphs): where the graph starts to pay. */
  exactLine: boolean;
  /** hnsw.ef_search values the raw comparison also tries (recall against time). */
  efSearch: number[];
  /**
   * The graph's HNSW parameters for this run (migration 5's are m 16, ef_construction 64): a
   * database whose graph differs has it rebuilt with these before the searches are measured.
   */
  graphM: number;
  graphEfConstruction: number;
}

/** The store's graph (migration 5's index, same name and expression) with other HNSW parameters. */
const graphDdl = (m: number, efConstruction: number) =>
  `CREATE INDEX faces_embedding_hnsw ON faces USING hnsw ((${FACE_GRAPH_KEY}) halfvec_cosine_ops) WITH (m = ${m}, ef_construction = ${efConstruction})`;

const APP = 'bench';
const GROUP = 'g';
const BATCH = 1000;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

export async function benchPostgres(o: PgBenchOptions): Promise<void> {
  const ownServer = !process.env.FACEREC_DATABASE_URL;
  const serverUrl = process.env.FACEREC_DATABASE_URL || startLocalPostgres(o.dataRoot);
  try {
    await benchSizes(serverUrl, o);
  } finally {
    // The data stays under <--data>/pg for the next run; the server does not outlive the bench.
    if (ownServer) spawnSync('bash', [join(ROOT, 'scripts', 'pg-local.sh'), 'stop', join(o.dataRoot, 'pg')], { stdio: 'ignore' });
  }
}

async function benchSizes(serverUrl: string, o: PgBenchOptions): Promise<void> {
  const info = await one<{ version: string; vector: string; shared_buffers: string; work_mem: string }>(serverUrl,
    "SELECT current_setting('server_version') AS version, (SELECT default_version FROM pg_available_extensions WHERE name = 'vector') AS vector, " +
    "current_setting('shared_buffers') AS shared_buffers, current_setting('work_mem') AS work_mem");
  console.log(`postgres: PostgreSQL ${info.version}, pgvector ${info.vector}, shared_buffers ${info.shared_buffers}, work_mem ${info.work_mem}` +
    `${process.env.FACEREC_DATABASE_URL ? ' (FACEREC_DATABASE_URL)' : ` (scripts/pg-local.sh, ${join(o.dataRoot, 'pg')})`}; ` +
    `HNSW m=${o.graphM} ef_construction=${o.graphEfConstruction} over every group, on ${FACE_GRAPH_KEY} (halfvec_cosine_ops); search: exact scan below ${DEFAULT_PG_SEARCH.exactBelow} faces, else ` +
    `iterative scan (relaxed order) ef_search ${DEFAULT_PG_SEARCH.efSearch}, max(${DEFAULT_PG_SEARCH.minCandidates}, ${DEFAULT_PG_SEARCH.candidatesPerHit}×k) candidates re-ranked exactly`);
  for (const n of o.sizes) await benchSize(serverUrl, n, o);
}

async function benchSize(serverUrl: string, n: number, o: PgBenchOptions): Promise<void> {
  const name = `scale_n${n}${o.otherGroups ? `_o${o.otherGroups}x${o.otherGroupFaces}` : ''}`;
  const url = await ensureDatabase(serverUrl, name);
  const rt = await runtime(url);
  try {
    const store = rt.store as PgStore;
    const insertRate = await populate(store, n, o);
    await ensureGraph(url, n, o);
    const size = await one<{ bytes: number; faces: number; hnsw: number }>(url,
      "SELECT pg_total_relation_size('faces')::float8 AS bytes, (SELECT count(*) FROM faces)::float8 AS faces, pg_relation_size('faces_embedding_hnsw')::float8 AS hnsw");
    const bytesPerFace = size.bytes / size.faces;
    console.log(`insert: store=postgres faces=${n} faces_per_s=${insertRate.rate} (${insertRate.note}; multi-row INSERT of ${BATCH} faces a transaction${insertRate.bulk ? ' into the table without its graph, built after' : ' into the HNSW-indexed table'})`);
    console.log(`size: store=postgres database_faces=${size.faces} faces_table_bytes=${size.bytes} hnsw_bytes=${size.hnsw} bytes_per_face=${bytesPerFace.toFixed(0)} hnsw_bytes_per_face=${(size.hnsw / size.faces).toFixed(0)}`);

    const picks = Array.from({ length: o.queries }, (_, i) => `f${Math.floor(((i + 0.5) / o.queries) * n)}`);
    const truth = await exactTruth(store, n, picks, o.dataRoot, name);

    // Warm the table and graph pages with other queries than the measured ones.
    for (let i = 0; i < o.queries; i++) await rt.service.searchByFaceId(APP, GROUP, `f${Math.floor((i / o.queries) * n)}`, { limit: 10, threshold: 1 });
    const times: number[] = [];
    let same1 = 0;
    let samePerson1 = 0;
    let overlap10 = 0;
    for (let i = 0; i < picks.length; i++) {
      const t0 = performance.now();
      const hits = await rt.service.searchByFaceId(APP, GROUP, picks[i], { limit: 10, threshold: 1 });
      times.push(performance.now() - t0);
      if (hits[0]?.face.faceId === truth[i][0]) same1++;
      if (hits[0] && personOf(hits[0].face.faceId) === personOf(picks[i])) samePerson1++;
      const want = new Set(truth[i]);
      overlap10 += hits.filter((h) => want.has(h.face.faceId)).length / Math.max(1, want.size);
    }
    console.log(`detail: store=postgres faces=${n} same_person1=${(samePerson1 / picks.length).toFixed(3)} p90_ms=${quantile(times, 0.9).toFixed(2)} max_ms=${Math.max(...times).toFixed(2)}`);
    if (o.otherGroups > 0) await benchOtherGroups(rt, o);
    if (o.vectorGraph || o.exactLine || o.efSearch.length) await compareGraphs(url, store, n, picks, truth, o);
    console.log(`scale: store=postgres faces=${n} p50_ms=${quantile(times, 0.5).toFixed(2)} p99_ms=${quantile(times, 0.99).toFixed(2)} ` +
      `recall1=${(same1 / picks.length).toFixed(3)} recall10=${(overlap10 / picks.length).toFixed(3)} bytes_per_face=${bytesPerFace.toFixed(0)}`);
  } finally {
    await rt.close();
  }
}

/** Searches in the other groups (one query in each of up to `queries` of them): what a tenant of a small group sees beside the large one. */
async function benchOtherGroups(rt: Runtime, o: PgBenchOptions): Promise<void> {
  const times: number[] = [];
  const groups = Math.min(o.otherGroups, o.queries);
  for (let i = 0; i < groups; i++) {
    const g = `o${i}`;
    const t0 = performance.now();
    await rt.service.searchByFaceId(APP, g, `${g}-f${Math.floor(o.otherGroupFaces / 2)}`, { limit: 10, threshold: 1 });
    times.push(performance.now() - t0);
  }
  console.log(`others: store=postgres groups=${o.otherGroups} faces_each=${o.otherGroupFaces} searched=${groups} p50_ms=${quantile(times, 0.5).toFixed(2)} p99_ms=${quantile(times, 0.99).toFixed(2)}`);
}

/**
 * halfvec(512) against vector(512) graphs, both through the same raw SQL as PgFaceSearch's graph
 * path (iterative scan, the candidates re-ranked exactly with the full vectors), so the lines
 * differ only in the graph: the halfvec one is the store's own (migration 5), the vector one an
 * index on the column built for this comparison (CREATE INDEX on the filled table, timed) and
 * dropped afterwards.
 */
async function compareGraphs(url: string, store: PgStore, n: number, picks: string[], truth: string[][], o: PgBenchOptions): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const queries = await Promise.all(picks.map(async (id) => (await store.getFace(APP, GROUP, id))!.vector));
    const literal = (v: Float32Array) => `[${Array.prototype.join.call(v, ',')}]`;
    await client.query("SET maintenance_work_mem = '1GB'");
    const t0 = performance.now();
    if (o.vectorGraph) await client.query('CREATE INDEX IF NOT EXISTS bench_embedding_vector ON faces USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)');
    const buildS = (performance.now() - t0) / 1000;
    const sizes = (await client.query<{ v: number; h: number }>(
      `SELECT pg_relation_size('faces_embedding_hnsw')::float8 AS h, ${o.vectorGraph ? "pg_relation_size('bench_embedding_vector')::float8" : '0::float8'} AS v`)).rows[0];
    const candidates = Math.max(DEFAULT_PG_SEARCH.minCandidates, 10 * DEFAULT_PG_SEARCH.candidatesPerHit);
    // The store's own queries; the vector graph's differs from the halfvec one in its ORDER BY only.
    const kinds = [
      ['halfvec', GRAPH_SEARCH_SQL],
      ['vector', GRAPH_SEARCH_SQL.replace(`${FACE_GRAPH_KEY} <=> $3::halfvec(512)`, 'embedding <=> $3::vector')],
      ['exact', EXACT_SEARCH_SQL],
    ] as const;
    const efs = [DEFAULT_PG_SEARCH.efSearch, ...o.efSearch.filter((e) => e !== DEFAULT_PG_SEARCH.efSearch)];
    const wanted = kinds.filter(([k]) => k === 'halfvec' || (k === 'vector' && o.vectorGraph) || (k === 'exact' && o.exactLine));
    for (const [kind, sql] of wanted) for (const ef of kind === 'exact' ? [0] : efs) {
      const run = async (i: number) => {
        await client.query('BEGIN');
        await client.query('SET LOCAL hnsw.iterative_scan = relaxed_order');
        await client.query(`SET LOCAL hnsw.ef_search = ${Math.max(ef, candidates)}`);
        // The exact path keeps 2k + 8 rows (PgFaceSearch), the graph path its candidates.
        const { rows } = await client.query<{ face_id: string; embedding: Buffer }>(sql, [APP, GROUP, literal(queries[i]), picks[i], kind === 'exact' ? 2 * 10 + 8 : candidates]);
        await client.query('COMMIT');
        const exact = new ExactIndex(EMBEDDING_SIZE);
        for (const r of rows) exact.add(r.face_id, parseVector(r.embedding));
        return exact.search(queries[i], 10, -Infinity, picks[i]).map((h) => h.id);
      };
      for (let i = 0; i < picks.length; i++) await run((i + 1) % picks.length); // warm
      const times: number[] = [];
      let same1 = 0;
      let overlap10 = 0;
      for (let i = 0; i < picks.length; i++) {
        const t = performance.now();
        const ids = await run(i);
        times.push(performance.now() - t);
        if (ids[0] === truth[i][0]) same1++;
        const want = new Set(truth[i]);
        overlap10 += ids.filter((id) => want.has(id)).length / Math.max(1, want.size);
      }
      console.log(`variant: store=postgres faces=${n} index=${kind}${kind === 'exact' ? '' : ` ef_search=${ef}`} raw_p50_ms=${quantile(times, 0.5).toFixed(2)} raw_p99_ms=${quantile(times, 0.99).toFixed(2)} ` +
        `recall1=${(same1 / picks.length).toFixed(3)} recall10=${(overlap10 / picks.length).toFixed(3)}${kind === 'exact' ? '' : ` index_bytes_per_face=${((kind === 'vector' ? sizes.v : sizes.h) / n).toFixed(0)}`}` +
        (kind === 'vector' && ef === efs[0] ? ` create_index_s=${buildS.toFixed(1)} (built on the filled table, maintenance_work_mem 1GB)` : ''));
    }
  } finally {
    await client.query('DROP INDEX IF EXISTS bench_embedding_vector').catch(() => {});
    await client.end();
  }
}

async function runtime(url: string): Promise<Runtime> {
  const config = loadConfig({
    FACEREC_DATABASE_URL: url,
    FACEREC_MAX_FACES_PER_GROUP: String(10_000_000),
    // Inserting a batch into a large graph may take longer than a request may.
    FACEREC_DATABASE_STATEMENT_TIMEOUT_MS: String(600_000),
  }, false);
  return createRuntime(config, new LazyEngine());
}

/**
 * Makes what is missing of the data set; the insert rate is measured when faces of the large
 * group are made. Into a database without faces the rows go in without the graph, which
 * `ensureGraph` builds afterwards (what `facerec migrate` does: 5–10× faster than growing it).
 */
async function populate(store: PgStore, n: number, o: PgBenchOptions): Promise<{ rate: string; note: string; bulk: boolean }> {
  if (!(await store.getApp(APP))) await store.createApp(APP, 'bench');
  const bulk = await store.hasNoFaces();
  if (bulk) await store.dropFaceGraph();
  const fill = async (groupId: string, count: number, seed: number, prefix: string, label: string) => {
    if (!(await store.getGroup(APP, groupId))) await store.importGroup({ appKey: APP, groupId, modelVersion: MODEL_VERSION, createTime: new Date() });
    const have = (await store.getGroup(APP, groupId))!.faceCount;
    if (have >= count) return undefined;
    const gen = new ClusteredVectors(EMBEDDING_SIZE, seed);
    // Faces are drawn in order: skip what a previous run inserted.
    dataSetFaces(gen, 0, have, prefix);
    const bar = progress(Math.ceil((count - have) / BATCH), label);
    let ms = 0;
    for (let i = have; i < count; i += BATCH) {
      const faces = dataSetFaces(gen, i, Math.min(count, i + BATCH), prefix);
      const t0 = performance.now();
      await store.importFaces(APP, groupId, faces);
      ms += performance.now() - t0;
      bar.tick();
    }
    bar.stop();
    await store.analyzeFaces(); // what `facerec migrate` does after a bulk load
    return (count - have) / (ms / 1000);
  };
  for (let g = 0; g < o.otherGroups; g++) await fill(`o${g}`, o.otherGroupFaces, 1_000 + g, `o${g}-f`, `making group o${g} (${o.otherGroupFaces} faces)`);
  const key = `bench:insert_faces_per_s:${n}`;
  const rate = await fill(GROUP, n, n, 'f', `making ${n} faces`);
  if (rate !== undefined) {
    await store.setMetaValue(key, rate.toFixed(0));
    return { rate: rate.toFixed(0), note: 'measured now', bulk };
  }
  return { rate: (await store.metaValue(key)) ?? 'n/a', note: 'measured when the data set was made', bulk };
}

/** Builds the graph with this run's parameters if it is missing or was built with others; prints the build's time. */
async function ensureGraph(url: string, n: number, o: PgBenchOptions): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ def: string }>("SELECT indexdef AS def FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'faces_embedding_hnsw'");
    const wanted = `m='${o.graphM}', ef_construction='${o.graphEfConstruction}'`;
    if (rows[0]?.def.includes(wanted)) return;
    await client.query('DROP INDEX IF EXISTS faces_embedding_hnsw');
    // Built in memory where it fits (PostgreSQL's default of 64 MB holds about 45,000 faces' graph).
    await client.query("SET maintenance_work_mem = '2GB'");
    const t0 = performance.now();
    await client.query(graphDdl(o.graphM, o.graphEfConstruction));
    await client.query('ANALYZE faces');
    console.log(`graph: store=postgres faces=${n} m=${o.graphM} ef_construction=${o.graphEfConstruction} create_index_s=${((performance.now() - t0) / 1000).toFixed(1)} (on the filled table, maintenance_work_mem 2GB)`);
  } finally {
    await client.end();
  }
}

/** The exact top 10 of each pick (itself excluded), by one pass over the group; kept beside the data. */
async function exactTruth(store: PgStore, n: number, picks: string[], dataRoot: string, name: string): Promise<string[][]> {
  const file = join(dataRoot, `pg-truth-${name}-q${picks.length}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as string[][];
  const queries = await Promise.all(picks.map(async (id) => (await store.getFace(APP, GROUP, id))!.vector));
  const best: { id: string; score: number }[][] = picks.map(() => []);
  const bar = progress(Math.ceil(n / 20_000), `exact top-10 of ${picks.length} queries`);
  for (let after = 0; ;) {
    const batch = await store.vectorBatch(APP, GROUP, after, 20_000);
    if (batch.length === 0) break;
    const index = new ExactIndex(EMBEDDING_SIZE);
    for (const f of batch) index.add(f.faceId, f.vector);
    picks.forEach((id, i) => {
      best[i] = [...best[i], ...index.search(queries[i], 10, -Infinity, id)].sort((a, b) => b.score - a.score).slice(0, 10);
    });
    after = batch[batch.length - 1].key;
    bar.tick();
  }
  bar.stop();
  const truth = best.map((b) => b.map((h) => h.id));
  writeFileSync(file, JSON.stringify(truth));
  return truth;
}

function startLocalPostgres(dataRoot: string): string {
  mkdirSync(dataRoot, { recursive: true });
  // The server runs as nobody when this runs as root: it must be able to reach its directory.
  chmodSync(dataRoot, 0o755);
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'pg-local.sh'), 'start', join(dataRoot, 'pg')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error('scripts/pg-local.sh start failed (PostgreSQL 15 binaries installed? see README "PostgreSQL mode")');
  return r.stdout.trim().split('\n').pop()!;
}

async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  await createDatabaseIfMissing(serverUrl, name);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function one<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows[0];
  } finally {
    await client.end();
  }
}
