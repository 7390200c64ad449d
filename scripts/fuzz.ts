/**
 * The long hostile-input run: the fixed corpus, then seeded random cases until a count or a time
 * limit, against a real server (worker pool, SQLite in a temp dir) over HTTP on 127.0.0.1.
 *
 *   npm run fuzz -- [--seed N] [--count N] [--seconds S] [--concurrency C] [--workers W]
 *                   [--time-limit-ms MS] [--max-heap-growth-mb MB] [--max-rss-growth-mb MB]
 *                   [--no-real-bombs]
 *
 * Passes (exit 0) when every answer is a documented result code in the NHN envelope, none is
 * -50000, none takes longer than the time limit, the server still answers a valid request
 * correctly afterwards, and heap and RSS after full collections are back within the given growth
 * of the baseline taken after warm-up. The server runs in this process so that `--expose-gc`
 * (set by the npm script) lets the memory be measured after real collections; a native crash
 * ends the run with a non-zero code, and FUZZ_TRACE=1 prints each case before it is sent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { createRuntime } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { EnginePool } from '../src/engine/pool.js';
import { buildServer } from '../src/http/server.js';
import { fixedCases, randomCases, randomPersonCases, type FuzzCase, type FuzzTarget, type HttpCall } from '../test/support/fuzz-corpus.js';
import { hostileImages } from '../test/support/hostile-images.js';
import { mb, runCases, settledMemory, type Answer, type FuzzReport, type Outcome } from '../test/support/fuzz-oracle.js';

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    count: { type: 'string', default: '3000' },
    seconds: { type: 'string', default: '600' },
    concurrency: { type: 'string', default: '4' },
    workers: { type: 'string', default: '1' },
    'time-limit-ms': { type: 'string', default: '15000' },
    'max-heap-growth-mb': { type: 'string', default: '32' },
    'max-rss-growth-mb': { type: 'string', default: '160' },
    'no-real-bombs': { type: 'boolean', default: false },
  },
});
const num = (name: keyof typeof args) => {
  const n = Number(args[name]);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number`);
  return n;
};
const seed = num('seed');
const count = num('count');
const timeLimitMs = num('time-limit-ms');
const trace = process.env.FUZZ_TRACE === '1';

// ── the server, in this process ──────────────────────────────────────────────

const dataDir = mkdtempSync(join(tmpdir(), 'facerec-fuzz-'));
const config = loadConfig({ FACEREC_DATA_DIR: dataDir, FACEREC_MASTER_KEY: '44'.repeat(32), FACEREC_WORKERS: String(num('workers')) });
const pool = new EnginePool({ threads: config.workers, maxQueue: config.queue });
await pool.warmup();
const runtime = await createRuntime(config, pool);
const keys = await runtime.apps.create();
/** Unexpected failures (what -50000 hides from the client) with their stacks, for the report. */
const serverErrors: string[] = [];
const errorLog = new Writable({
  write(chunk, _encoding, done) {
    const line = JSON.parse(String(chunk));
    serverErrors.push(`${line.err?.type ?? ''} ${line.err?.code ?? ''} ${line.err?.message ?? line.msg}\n${line.err?.stack ?? ''}`);
    done();
  },
});
const server = buildServer({ service: runtime.service, apps: runtime.apps, privacy: runtime.privacy, audit: runtime.audit, retention: runtime.retention, persons: runtime.persons, clusters: runtime.clusters, maxImageBytes: config.maxImageBytes }, { logger: { level: 'error', stream: errorLog } as never });
await server.listen({ port: 0, host: '127.0.0.1' });
const origin = `http://127.0.0.1:${(server.server.address() as { port: number }).port}`;

const send = async (call: HttpCall, signal: AbortSignal): Promise<Answer> => {
  const res = await request(origin + call.url, { method: call.method as 'POST', headers: call.headers, body: call.payload, signal });
  return { status: res.statusCode, body: await res.body.text() };
};
const json = async (method: string, path: string, body?: unknown, api: 'v2.0' | 'x/v1' = 'v2.0') => {
  const r = await send({ method, url: `/${api}/appkeys/${keys.appKey}${path}`, headers: { authorization: keys.secretKey, ...(body ? { 'content-type': 'application/json' } : {}) }, payload: body ? Buffer.from(JSON.stringify(body)) : undefined }, AbortSignal.timeout(30_000));
  return JSON.parse(r.body);
};

// ── corpus and target ────────────────────────────────────────────────────────

const started = performance.now();
const deadline = started + num('seconds') * 1000;
const images = await hostileImages({ realBombs: !args['no-real-bombs'] });
const valid = images.jpeg.bytes;
const validB64 = Buffer.from(valid).toString('base64');
await json('POST', '/groups', { groupId: 'fuzz' });
const reg = await json('POST', '/groups/fuzz/faces', { image: { bytes: validB64 }, limit: 1 });
if (reg.header.resultCode !== 0) throw new Error(`could not register the target face: ${JSON.stringify(reg.header)}`);
const faceId = reg.data.addedFaces[0].faceId;
// The person layer's target: a person holding the face, and a clustering job that has run.
const person = await json('POST', '/groups/fuzz/persons', { name: 'fuzz target' }, 'x/v1');
const associated = await json('POST', `/groups/fuzz/persons/${person.data.personId}/associate`, { faceIds: [faceId] }, 'x/v1');
if (associated.header.resultCode !== 0) throw new Error(`could not make the target person: ${JSON.stringify(associated.header)}`);
const job = await json('POST', '/groups/fuzz/cluster-jobs', {}, 'x/v1');
while ((await json('GET', `/groups/fuzz/cluster-jobs/${job.data.jobId}`, undefined, 'x/v1')).data.state !== 'succeeded') await new Promise((r) => setTimeout(r, 100));
const target: FuzzTarget = { appKey: keys.appKey, secretKey: keys.secretKey, groupId: 'fuzz', faceId, personId: person.data.personId, jobId: job.data.jobId };

const fixed = fixedCases(images, valid);
// One random case in ten is a person-layer body (/x/v1 persons, clustering, album search).
// Spread through the run, so that both halves (the memory check below) have some.
const personRandom = randomPersonCases(seed, Math.floor(count / 10));
const random = randomCases(images, valid, seed, count - personRandom.length).flatMap((c, i) => (i % 9 === 8 && personRandom.length ? [c, personRandom.pop()!] : [c]));
random.push(...personRandom);
console.log(`facerec fuzz: seed ${seed}, ${fixed.length} fixed + up to ${random.length} random cases, ${config.workers} worker(s), concurrency ${num('concurrency')}, time limit ${timeLimitMs} ms per request`);

// Warm-up: every hostile image once, so that allocators reach the high-water mark of the
// biggest decodes before the baseline is taken; growth after that is what a leak looks like.
await runCases(fixed.filter((c) => c.category === 'image' || c.category === 'base64'), send, target, { timeLimitMs, concurrency: num('concurrency') });
const baseline = await settledMemory();
console.log(`baseline after warm-up: heap ${mb(baseline.heapUsed)} MB, rss ${mb(baseline.rss)} MB`);

const rssSamples: number[] = [];
const onOutcome = (o: Outcome, done: number) => {
  if (trace) console.error(`${done} ${o.name} → ${o.code ?? 'none'} ${o.ms.toFixed(0)} ms`);
  if (o.problems.length) console.error(`FAIL ${o.name}: ${o.problems.join('; ')}`);
  if (done % 250 === 0) {
    rssSamples.push(process.memoryUsage().rss);
    console.error(`… ${done} sent, ${((performance.now() - started) / 1000).toFixed(0)} s, rss ${mb(process.memoryUsage().rss)} MB`);
  }
};
const run = async (cases: FuzzCase[]): Promise<FuzzReport> => runCases(cases, send, target, { timeLimitMs, concurrency: num('concurrency'), deadline, onOutcome });
const fixedReport = await run(fixed);
// Two halves with a measurement between them: steady growth from one to the next is a leak.
const half = Math.ceil(random.length / 2);
const firstHalf = await run(random.slice(0, half));
const midMemory = await settledMemory();
const secondHalf = await run(random.slice(half));
firstHalf.merge(secondHalf);
const reports = [fixedReport, firstHalf];

// ── afterwards: alive, correct, memory back ──────────────────────────────────

const problems: string[] = [];
const health = await send({ method: 'GET', url: '/health', headers: {} }, AbortSignal.timeout(5000)).catch((e: Error) => ({ status: 0, body: e.message }));
if (health.status !== 200) problems.push(`/health answered ${health.status}`);
const detect = await json('POST', '/faces/detect', { image: { bytes: validB64 } });
if (detect.header.resultCode !== 0 || detect.data.faceDetailCount !== 3) problems.push(`a valid detect afterwards answered ${JSON.stringify(detect.header)} with ${detect.data?.faceDetailCount} faces`);
const group = await json('GET', '/groups/fuzz');
const listed = await json('GET', '/groups/fuzz/faces?limit=200');
if (group.data?.faceCount !== listed.data?.faceCount && !listed.data?.nextToken) problems.push(`group faceCount ${group.data?.faceCount} but ${listed.data?.faceCount} listed`);
const targetPerson = await json('GET', `/groups/fuzz/persons/${target.personId}`, undefined, 'x/v1');
if (JSON.stringify(targetPerson.data?.faceIds) !== JSON.stringify([faceId])) problems.push(`the target person holds ${JSON.stringify(targetPerson.data?.faceIds)} instead of the target face`);

const finalMemory = await settledMemory();
const heapGrowth = finalMemory.heapUsed - baseline.heapUsed;
const rssGrowth = finalMemory.rss - baseline.rss;
if (mb(heapGrowth) > num('max-heap-growth-mb')) problems.push(`heap grew ${mb(heapGrowth)} MB (limit ${num('max-heap-growth-mb')})`);
if (mb(rssGrowth) > num('max-rss-growth-mb')) problems.push(`rss grew ${mb(rssGrowth)} MB (limit ${num('max-rss-growth-mb')})`);
// The second half of the random run may not add more than half the allowed growth on its own.
if (mb(finalMemory.heapUsed - midMemory.heapUsed) > num('max-heap-growth-mb') / 2) problems.push(`heap kept growing: ${mb(finalMemory.heapUsed - midMemory.heapUsed)} MB in the second half`);
if (mb(finalMemory.rss - midMemory.rss) > num('max-rss-growth-mb') / 2) problems.push(`rss kept growing: ${mb(finalMemory.rss - midMemory.rss)} MB in the second half`);

for (const [title, r] of [['fixed corpus', reports[0]], [`random corpus (seed ${seed})`, reports[1]]] as const) {
  console.log(`\n── ${title} ──\n${r.summary()}`);
}
const total = reports.reduce((n, r) => n + r.total, 0);
const failed = reports.reduce((n, r) => n + r.failures.length, 0);
console.log(`\n${total} requests in ${((performance.now() - started) / 1000).toFixed(1)} s, ${failed} failed`);
console.log(
  `memory after full GC (baseline → middle of the random run → end): heap ${mb(baseline.heapUsed)} → ${mb(midMemory.heapUsed)} → ${mb(finalMemory.heapUsed)} MB, ` +
    `rss ${mb(baseline.rss)} → ${mb(midMemory.rss)} → ${mb(finalMemory.rss)} MB (peak sampled rss ${mb(Math.max(0, ...rssSamples))} MB)`,
);
if (serverErrors.length) console.log(`\nserver errors behind -50000 (${serverErrors.length}; first 3):\n${serverErrors.slice(0, 3).join('\n')}`);
for (const p of problems) console.log(`FAIL ${p}`);

await server.close();
await pool.close();
await runtime.close();
rmSync(dataDir, { recursive: true, force: true });
process.exit(failed === 0 && problems.length === 0 ? 0 : 1);
