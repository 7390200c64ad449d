import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { FacerecApiError, FacerecClient } from '../src/client/index.js';
import { startApi, type TestApi } from './support/api-helpers.js';
import { faceCrops } from './support/face-crops.js';

const BIN = fileURLToPath(new URL('../bin/facerec.mjs', import.meta.url));

let api: TestApi;
let baseUrl: string;
let fr: FacerecClient;

before(async () => {
  api = await startApi();
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(api.app.server.address() as { port: number }).port}`;
  fr = new FacerecClient({ baseUrl, appKey: api.appKey, secretKey: api.secretKey });
});
after(() => api.dispose());

test('the TypeScript client and the CLI drive persons, clustering and album search over HTTP', async () => {
  const [a, b] = await faceCrops(2);
  const a2 = new Uint8Array(await sharp(a).flop().jpeg({ quality: 90 }).toBuffer());
  await fr.createGroup('family');
  const reg = await fr.registerPerson('family', [a, a2], { name: 'Alice', externalImageId: 'alice.jpg' });
  assert.equal(reg.person.faceCount, 2);
  await fr.registerFaces('family', b, { limit: 1, externalImageId: 'bob.jpg' });
  const found = await fr.searchPersons('family', a2, { threshold: 80 });
  assert.equal(found.persons[0].person.personId, reg.person.personId);
  const photos = await fr.findPhotos('family', { personId: reg.person.personId });
  assert.deepEqual(photos.photos.map((p) => p.externalImageId), ['alice.jpg', 'alice.jpg']);
  const listed: string[] = [];
  for await (const p of fr.listPersons('family', { pageSize: 1 })) listed.push(p.personId);
  assert.deepEqual(listed, [reg.person.personId]);
  const job = await fr.waitForClustering('family', (await fr.startClustering('family')).jobId, { intervalMs: 50 });
  assert.equal(job.state, 'succeeded');
  assert.equal(job.clusterCount, 1);
  await assert.rejects(fr.clusterToPerson('family', job.jobId, '0'), (e: unknown) => e instanceof FacerecApiError && e.resultCode === -40090);
  await assert.rejects(fr.getPerson('family', '00000000-0000-4000-8000-000000000000'), (e: unknown) => e instanceof FacerecApiError && e.resultCode === -40080);

  const out = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, '--json', 'photos', 'family', '--person', reg.person.personId], {
      env: { ...process.env, FACEREC_URL: baseUrl, FACEREC_APPKEY: api.appKey, FACEREC_SECRETKEY: api.secretKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.on('close', (code) => resolve({ code, stdout }));
  });
  assert.equal(out.code, 0);
  assert.equal(JSON.parse(out.stdout).photoCount, 2);
});
