// Hostile input on the image endpoints and the /x/v1 routes (the quick, fixed-seed part; `npm run fuzz` is the long
// run): every answer is a documented result code in the NHN envelope, never -50000, within a time
// bound; the server still works afterwards and its memory is back near where it started.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './support/api-helpers.js';
import { fixedCases, randomCases, randomPersonCases, type FuzzTarget, type HttpCall } from './support/fuzz-corpus.js';
import { hostileImages, type HostileImages } from './support/hostile-images.js';
import { mb, runCases, settledMemory, type Answer, type FuzzReport } from './support/fuzz-oracle.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20250601);
const RANDOM_CASES = Number(process.env.FUZZ_CASES ?? 160);
/** Generous for a shared 2-core CI machine; a decoder stuck in a loop takes far longer. */
const TIME_LIMIT_MS = 10_000;

let api: TestApi;
let images: HostileImages;
let target: FuzzTarget;
let baseline: NodeJS.MemoryUsage;
const reports: FuzzReport[] = [];

const send = async (call: HttpCall): Promise<Answer> => {
  const res = await api.app.inject({ method: call.method as 'POST', url: call.url, headers: call.headers, ...(call.payload ? { payload: call.payload } : {}) });
  return { status: res.statusCode, body: res.body };
};

before(async () => {
  api = await startApi();
  images = await hostileImages();
  const created = await api.v2('POST', '/groups', { groupId: 'fuzz' });
  assert.equal(created.header.resultCode, 0);
  const reg = await api.v2('POST', '/groups/fuzz/faces', { image: { bytes: Buffer.from(images.jpeg.bytes).toString('base64') }, limit: 1 });
  assert.equal(reg.header.resultCode, 0);
  const faceId = reg.data.addedFaces[0].faceId;
  // The person layer's target: a person holding the face, and a clustering job that has run.
  const x = async (method: string, path: string, body: unknown) =>
    JSON.parse((await api.app.inject({ method: method as 'POST', url: `/x/v1/appkeys/${api.appKey}/groups/fuzz${path}`, headers: { authorization: api.secretKey }, payload: body as object })).body);
  const person = await x('POST', '/persons', { name: 'fuzz target' });
  assert.equal((await x('POST', `/persons/${person.data.personId}/associate`, { faceIds: [faceId] })).header.resultCode, 0);
  const job = await x('POST', '/cluster-jobs', {});
  await api.runtime.clusters!.idle();
  target = { appKey: api.appKey, secretKey: api.secretKey, groupId: 'fuzz', faceId, personId: person.data.personId, jobId: job.data.jobId };
  // Warm every code path once so the baseline includes the models' working memory.
  await runCases(fixedCases(images, images.jpeg.bytes).filter((c) => c.category === 'base64'), send, target, { timeLimitMs: TIME_LIMIT_MS });
  baseline = await settledMemory();
});
after(() => api.dispose());

function assertClean(report: FuzzReport) {
  reports.push(report);
  console.log(report.summary());
  assert.deepEqual(report.failures.map((f) => `${f.name}: ${f.problems.join('; ')}`), []);
}

test('fixed corpus: every hostile image, encoding, JSON and multipart shape gets its documented code', async () => {
  const cases = fixedCases(images, images.jpeg.bytes);
  assertClean(await runCases(cases, send, target, { timeLimitMs: TIME_LIMIT_MS }));
});

test(`random corpus (seed ${SEED}, ${RANDOM_CASES} cases): mutated images and field noise never give -50000`, async () => {
  const cases = randomCases(images, images.jpeg.bytes, SEED, RANDOM_CASES);
  assertClean(await runCases(cases, send, target, { timeLimitMs: TIME_LIMIT_MS, concurrency: 2 }));
});

test(`random person-layer bodies (seed ${SEED}, ${RANDOM_CASES / 2} cases) on every /x/v1 person, clustering and album route`, async () => {
  assertClean(await runCases(randomPersonCases(SEED, RANDOM_CASES / 2), send, target, { timeLimitMs: TIME_LIMIT_MS, concurrency: 2 }));
});

test('afterwards the server still answers correctly and memory is back near the baseline', async () => {
  const health = await api.app.inject({ method: 'GET', url: '/health' });
  assert.equal(health.statusCode, 200);
  const detect = await api.v2('POST', '/faces/detect', { image: { bytes: Buffer.from(images.jpeg.bytes).toString('base64') } });
  assert.equal(detect.header.resultCode, 0);
  assert.equal(detect.data.faceDetailCount, 3);
  // The group is intact: its count agrees with its listing.
  const group = await api.v2('GET', '/groups/fuzz');
  const listed = await api.v2('GET', '/groups/fuzz/faces?limit=200');
  assert.equal(group.data.faceCount, listed.data.faceCount);
  // The target person still holds the target face.
  const person = await api.app.inject({ method: 'GET', url: `/x/v1/appkeys/${api.appKey}/groups/fuzz/persons/${target.personId}`, headers: { authorization: api.secretKey } });
  assert.deepEqual(JSON.parse(person.body).data.faceIds, [target.faceId]);

  const now = await settledMemory();
  const sent = reports.reduce((n, r) => n + r.total, 0);
  console.log(`memory after ${sent} hostile requests: heap ${mb(baseline.heapUsed)} → ${mb(now.heapUsed)} MB, rss ${mb(baseline.rss)} → ${mb(now.rss)} MB`);
  // Loose bounds: this checks for gross leaks (a retained decode buffer per request would be
  // hundreds of MB); `npm run fuzz` measures tightly over thousands of requests.
  assert.ok(now.heapUsed - baseline.heapUsed < 64 * 1048576, `heap grew by ${mb(now.heapUsed - baseline.heapUsed)} MB`);
  assert.ok(now.rss - baseline.rss < 384 * 1048576, `rss grew by ${mb(now.rss - baseline.rss)} MB`);
});
