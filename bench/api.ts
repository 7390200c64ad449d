// End-to-end run over HTTP: a real server (worker pool, SQLite in a temp dir) on loopback,
// 100 people registered from ../shared/eval/identities, then every operation timed.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { EnginePool } from '../src/engine/pool.js';
import { buildServer } from '../src/http/server.js';
import { evalDir, printHeader, progress, table } from './common.js';

const PEOPLE = 100;
const dir = evalDir();
printHeader(`End-to-end API run: register ${PEOPLE} faces, then search, verify, compare (HTTP on loopback, v2.0)`);

const dataDir = mkdtempSync(join(tmpdir(), 'facerec-bench-'));
const config = loadConfig({ FACEREC_DATA_DIR: dataDir, FACEREC_MASTER_KEY: '22'.repeat(32) });
const pool = new EnginePool({ threads: config.workers, maxQueue: 1000 });
await pool.warmup();
const runtime = await createRuntime(config, pool);
const keys = await runtime.apps.create();
const server = buildServer({ service: runtime.service, apps: runtime.apps, maxImageBytes: config.maxImageBytes });
await server.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${(server.server.address() as { port: number }).port}/v2.0/appkeys/${keys.appKey}`;

const times = new Map<string, number[]>();
async function call(op: string, method: string, path: string, body?: unknown): Promise<any> {
  const t0 = performance.now();
  const res = await fetch(base + path, {
    method,
    headers: { authorization: keys.secretKey, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = await res.json();
  const ms = performance.now() - t0;
  if (!times.has(op)) times.set(op, []);
  times.get(op)!.push(ms);
  return json;
}
const img = (file: string) => ({ bytes: readFileSync(join(dir, 'identities', file)).toString('base64') });

// People with at least two photos: the first is registered, the second is the probe.
const people = readdirSync(join(dir, 'identities'))
  .filter((p) => p.startsWith('lfw__'))
  .slice(0, PEOPLE)
  .map((p) => {
    const files = readdirSync(join(dir, 'identities', p)).sort((a, b) => parseInt(a) - parseInt(b));
    return { person: p, enrol: `${p}/${files[0]}`, probe: `${p}/${files[1]}` };
  });

await call('create group', 'POST', '/groups', { groupId: 'bench' });
const faceOf = new Map<string, string>();
const bar = progress(people.length, 'register');
for (const p of people) {
  const r = await call('register', 'POST', '/groups/bench/faces', { image: img(p.enrol), limit: 1, externalImageId: p.person.replace(/[^a-zA-Z0-9_.\-:]/g, '_').slice(0, 200) });
  if (r.data?.addedFaces?.[0]) faceOf.set(p.person, r.data.addedFaces[0].faceId);
  bar.tick();
}
bar.stop();

let rank1 = 0;
let probes = 0;
for (const p of people) {
  const id = faceOf.get(p.person);
  if (!id) continue;
  probes++;
  const s = await call('search by image', 'POST', '/groups/bench/faces/search', { image: img(p.probe), limit: 5, threshold: 1 });
  if (s.data?.matchFaces?.[0]?.face.faceId === id) rank1++;
  await call('search by faceId', 'GET', `/groups/bench/faces/${id}/search?limit=5&threshold=1`);
  await call('verify', 'POST', `/groups/bench/faces/${id}/verify`, { compareImage: img(p.probe) });
  await call('compare', 'POST', '/faces/compare', { sourceImage: img(p.enrol), targetImage: img(p.probe), threshold: 70 });
  await call('detect', 'POST', '/faces/detect', { image: img(p.probe) });
  await call('list faces', 'GET', '/groups/bench/faces?limit=100');
  await call('group details', 'GET', '/groups/bench');
}
for (const id of [...faceOf.values()].slice(0, 20)) await call('delete face', 'DELETE', `/groups/bench/faces/${id}`);
await call('delete group', 'DELETE', '/groups/bench');

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
console.log(`registered ${faceOf.size}/${people.length} people (one face each); search-by-image rank-1 hits: ${rank1}/${probes}`);
console.log(`workers: ${pool.threads}, store: SQLite (WAL, synchronous=FULL) in a temp dir\n`);
console.log(table(['operation', 'calls', 'p50 ms', 'p95 ms'], [...times].map(([op, xs]) => [op, xs.length, q(xs, 0.5).toFixed(1), q(xs, 0.95).toFixed(1)])));

await server.close();
await pool.close();
await runtime.close();
rmSync(dataDir, { recursive: true, force: true });
