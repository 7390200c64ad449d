// /openapi.json and /docs: the document is generated from the route schemas, covers every NHN
// route and result code, and describes what the server really answers (checked with ajv).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { createRuntime, type Runtime } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { RESULT_CODES } from '../src/domain/errors.js';
import { buildServer } from '../src/http/server.js';
import { b64, engine, multipart } from './support/api-helpers.js';
import { fixture } from './support/fixtures.js';
import { databaseEnv, dropDatabase } from './support/test-database.js';

type Doc = { openapi: string; paths: Record<string, Record<string, any>>; components: any; info: any };

let app: FastifyInstance;
let runtime: Runtime;
let dataDir: string;
let appKey: string;
let doc: Doc;
/** Every route the server registered, as `method path` in OpenAPI form. */
const registered: string[] = [];
const secretKey = 'openapi-secret';

const openapiPath = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}');

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'facerec-openapi-'));
  const config = loadConfig({ FACEREC_DATA_DIR: dataDir, FACEREC_MASTER_KEY: '22'.repeat(32), ...(await databaseEnv(dataDir)) });
  runtime = await createRuntime(config, await engine());
  ({ appKey } = await runtime.apps.create({ secretKey }));
  app = buildServer({ service: runtime.service, apps: runtime.apps, privacy: runtime.privacy, audit: runtime.audit, retention: runtime.retention, persons: runtime.persons, clusters: runtime.clusters, maxImageBytes: config.maxImageBytes });
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') registered.push(`${method.toLowerCase()} ${openapiPath(route.url)}`);
  });
  await app.ready();
  const res = await app.inject({ url: '/openapi.json' });
  assert.equal(res.statusCode, 200);
  doc = JSON.parse(res.body);
});
after(async () => {
  await app.close();
  await runtime.close();
  rmSync(dataDir, { recursive: true, force: true });
  await dropDatabase(dataDir);
});

describe('the OpenAPI document', () => {
  test('is OpenAPI 3 with both API versions as tags', () => {
    assert.match(doc.openapi, /^3\.\d+\.\d+$/);
    assert.ok(doc.info.title && doc.info.version);
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (path.startsWith('/nhn-face-reco/v1.0/')) assert.deepEqual(op.tags, ['v1.0'], `${method} ${path}`);
        if (path.startsWith('/v2.0/')) assert.deepEqual(op.tags, ['v2.0'], `${method} ${path}`);
        assert.ok(op.summary, `${method} ${path} has a summary`);
      }
    }
  });

  test('has every registered NHN and operations route with its method', () => {
    const nhn = registered.filter((r) => /^\w+ (\/nhn-face-reco\/v1\.0\/|\/v2\.0\/|\/health$|\/ready$|\/metrics$)/.test(r));
    assert.equal(nhn.filter((r) => r.includes('/v1.0/')).length, 13);
    assert.equal(nhn.filter((r) => r.includes('/v2.0/')).length, 13);
    for (const r of nhn) {
      const [method, path] = r.split(' ');
      assert.ok(doc.paths[path]?.[method], `${r} is documented`);
    }
  });

  test('every result code appears, and each operation lists its own', () => {
    const listed = new Set<number>();
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values(ops)) for (const c of op['x-nhn-result-codes'] ?? []) listed.add(c.resultCode);
    }
    for (const [name, code] of Object.entries(RESULT_CODES)) {
      assert.ok(listed.has(code), `${name} (${code}) is listed by some operation`);
      assert.ok(doc.info.description.includes(`| ${code} | ${name} |`), `${name} is in the overview table`);
    }
    const register = doc.paths['/v2.0/appkeys/{appKey}/groups/{groupId}/faces'].post['x-nhn-result-codes'].map((c: any) => c.resultCode);
    assert.ok(register.includes(40070) && register.includes(-40070) && register.includes(-41005) && register.includes(-45030));
    const v1Create = doc.paths['/nhn-face-reco/v1.0/appkeys/{appKey}/groups'].post['x-nhn-result-codes'].map((c: any) => c.resultCode);
    assert.ok(v1Create.includes(-40010) && v1Create.includes(-41000) && !v1Create.includes(-45030));
  });

  test('v2 image operations document both JSON and multipart bodies', () => {
    const detect = doc.paths['/v2.0/appkeys/{appKey}/faces/detect'].post.requestBody.content;
    assert.deepEqual(Object.keys(detect).sort(), ['application/json', 'multipart/form-data']);
    assert.equal(detect['multipart/form-data'].schema.properties.imageFile.format, 'binary');
    assert.equal(detect['application/json'].schema.properties.image.$ref, '#/components/schemas/ImageInput');
    const compare = doc.paths['/v2.0/appkeys/{appKey}/faces/compare'].post.requestBody.content['multipart/form-data'].schema.properties;
    assert.ok(compare.sourceImageFile && compare.targetImageUrl && compare.threshold);
    assert.deepEqual(doc.paths['/v2.0/appkeys/{appKey}/groups'].get.security, [{ secretKey: [] }]);
    assert.equal(doc.components.securitySchemes.secretKey.name, 'Authorization');
  });

  test('names the shared objects under components.schemas', () => {
    for (const name of ['FaceDetail', 'StoredFace', 'BBox', 'Landmark', 'ImageInput', 'SearchMatch', 'ComparedFace']) assert.ok(doc.components.schemas[name], name);
  });
});

describe('/docs', () => {
  test('serves the Swagger UI page', async () => {
    const res = await app.inject({ url: '/docs' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /text\/html/);
    assert.match(res.body, /swagger/i);
    const init = await app.inject({ url: '/docs/json' });
    assert.equal(JSON.parse(init.body).openapi, doc.openapi);
  });
});

describe('schemas document without validating (NHN codes unchanged)', () => {
  test('a wrongly typed field still gets the handler’s own code, not a schema error', async () => {
    const v2 = (url: string, payload: object) => app.inject({ method: 'POST', url: `/v2.0/appkeys/${appKey}${url}`, headers: { authorization: secretKey }, payload });
    const groupIdNumber = JSON.parse((await v2('/groups', { groupId: 5 })).body);
    assert.equal(groupIdNumber.header.resultCode, -40010);
    const badBase64 = JSON.parse((await v2('/faces/detect', { image: { bytes: '***' } })).body);
    assert.equal(badBase64.header.resultCode, -45030);
    // "1" as a boolean would be coerced to true by a validating schema; the handler refuses it.
    const flag = JSON.parse((await v2('/faces/detect', { image: { bytes: b64(fixture('sample1.jpg')) }, orientation: 1 })).body);
    assert.equal(flag.header.resultCode, -40000);
  });
});

describe('answers match the documented schemas', () => {
  /** Fastify's own ajv, with coercion and property removal off, so that any difference fails. */
  let checker: FastifyInstance;
  const routeOf = new Map<string, string>();

  before(async () => {
    checker = Fastify({ ajv: { customOptions: { strict: false, coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: true } } });
    let i = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const schema = op.responses?.['200']?.content?.['application/json']?.schema;
        if (!schema) continue;
        const url = `/check/${i++}`;
        routeOf.set(`${method} ${path}`, url);
        // The document's $refs point at #/components/schemas/…: carry the components along.
        checker.post(url, { schema: { body: { ...schema, components: doc.components } } }, async () => ({ ok: true }));
      }
    }
    await checker.ready();
  });
  after(() => checker.close());

  const seen = new Set<string>();
  /** Sends a request and checks the answer against the 200 schema of `method path` in the document. */
  async function call(method: string, docPath: string, url: string, body?: object | { payload: Buffer; headers: Record<string, string> }) {
    const v2 = docPath.startsWith('/v2.0/') || docPath.startsWith('/x/v1/');
    const isForm = body && 'payload' in body && Buffer.isBuffer(body.payload);
    const res = await app.inject({
      method: method.toUpperCase() as 'GET',
      url,
      headers: { ...(v2 ? { authorization: secretKey } : {}), ...(isForm ? (body as { headers: Record<string, string> }).headers : {}) },
      ...(body ? { payload: isForm ? (body as { payload: Buffer }).payload : (body as object) } : {}),
    });
    const answer = JSON.parse(res.body);
    const check = routeOf.get(`${method} ${docPath}`);
    assert.ok(check, `${method} ${docPath} has a documented 200 schema`);
    const verdict = await checker.inject({ method: 'POST', url: check, payload: answer });
    assert.equal(verdict.statusCode, 200, `${method} ${docPath}: ${verdict.body}\n${res.body.slice(0, 400)}`);
    seen.add(`${method} ${docPath}`);
    return answer;
  }

  test('v2.0, every operation, JSON and multipart, successes and failures', async () => {
    const base = `/v2.0/appkeys/${appKey}`;
    const d = '/v2.0/appkeys/{appKey}';
    const sample1 = fixture('sample1.jpg');
    const image = { bytes: b64(sample1) };
    assert.equal((await call('post', `${d}/groups`, `${base}/groups`, { groupId: 'doc-v2' })).header.resultCode, 0);
    await call('post', `${d}/groups`, `${base}/groups`, { groupId: 'doc-v2-b' });
    assert.ok((await call('get', `${d}/groups`, `${base}/groups?limit=1`)).data.nextToken);
    await call('get', `${d}/groups/{groupId}`, `${base}/groups/doc-v2`);
    assert.equal((await call('get', `${d}/groups/{groupId}`, `${base}/groups/missing`)).header.resultCode, -40030);
    await call('post', `${d}/faces/detect`, `${base}/faces/detect`, { image, spoofing: true });
    await call('post', `${d}/faces/detect`, `${base}/faces/detect`, multipart([{ name: 'imageFile', file: sample1 }, { name: 'orientation', value: 'false' }]));
    assert.equal((await call('post', `${d}/faces/detect`, `${base}/faces/detect`, { image: { bytes: '***' } })).header.resultCode, -45030);
    const reg = await call('post', `${d}/groups/{groupId}/faces`, `${base}/groups/doc-v2/faces`, multipart([
      { name: 'imageFile', file: sample1 }, { name: 'limit', value: '2' }, { name: 'externalImageId', value: 'sample1.jpg' },
    ]));
    assert.equal(reg.data.addedFaceCount, 2);
    assert.ok(reg.data.notAddedFaceCount >= 1);
    const faceId = reg.data.addedFaces[0].faceId;
    assert.ok((await call('get', `${d}/groups/{groupId}/faces`, `${base}/groups/doc-v2/faces?limit=1`)).data.nextToken);
    await call('get', `${d}/groups/{groupId}/faces/{faceId}/search`, `${base}/groups/doc-v2/faces/${faceId}/search?limit=10&threshold=1`);
    await call('post', `${d}/groups/{groupId}/faces/search`, `${base}/groups/doc-v2/faces/search`, { image, limit: 10, threshold: 1 });
    await call('post', `${d}/faces/compare`, `${base}/faces/compare`, multipart([
      { name: 'sourceImageFile', file: sample1 }, { name: 'targetImageFile', file: sample1 }, { name: 'threshold', value: '90' },
    ]));
    await call('post', `${d}/groups/{groupId}/faces/{faceId}/verify`, `${base}/groups/doc-v2/faces/${faceId}/verify`, { compareImage: image });
    await call('post', `${d}/spoofing`, `${base}/spoofing`, multipart([{ name: 'imageFile', file: sample1 }, { name: 'spoofingCondition', value: 'strict' }]));
    await call('delete', `${d}/groups/{groupId}/faces/{faceId}`, `${base}/groups/doc-v2/faces/${faceId}`);
    await call('delete', `${d}/groups/{groupId}`, `${base}/groups/doc-v2`);
  });

  test('v1.0, every operation', async () => {
    const base = `/nhn-face-reco/v1.0/appkeys/${appKey}`;
    const d = '/nhn-face-reco/v1.0/appkeys/{appKey}';
    const image = { bytes: b64(fixture('sample1.jpg')) };
    await call('post', `${d}/groups`, `${base}/groups`, { groupId: 'doc-v1' });
    await call('get', `${d}/groups`, `${base}/groups?limit=5`);
    await call('get', `${d}/groups/{groupId}`, `${base}/groups/doc-v1`);
    await call('post', `${d}/detect`, `${base}/detect`, { image, mask: false });
    const reg = await call('post', `${d}/groups/{groupId}`, `${base}/groups/doc-v1`, { image, limit: 3, externalImageId: 'a.jpg' });
    const faceId = reg.data.addedFaces[0].faceId;
    await call('get', `${d}/groups/{groupId}/faces`, `${base}/groups/doc-v1/faces?limit=10`);
    await call('get', `${d}/groups/{groupId}/faces/{faceId}`, `${base}/groups/doc-v1/faces/${faceId}?limit=10&threshold=1`);
    await call('post', `${d}/groups/{groupId}/search`, `${base}/groups/doc-v1/search?limit=10&threshold=1`, { image });
    await call('post', `${d}/compare`, `${base}/compare?threshold=90`, { sourceImage: image, targetImage: image, spoofing: true });
    await call('post', `${d}/verify/groups/{groupId}/faces/{faceId}`, `${base}/verify/groups/doc-v1/faces/${faceId}`, { compareImage: image });
    await call('post', `${d}/spoofing`, `${base}/spoofing`, { image });
    assert.equal((await call('delete', `${d}/groups/{groupId}/faces/{faceId}`, `${base}/groups/doc-v1/faces/not-a-face`)).header.resultCode, -40050);
    await call('delete', `${d}/groups/{groupId}/faces/{faceId}`, `${base}/groups/doc-v1/faces/${faceId}`);
    await call('delete', `${d}/groups/{groupId}`, `${base}/groups/doc-v1`);
    assert.equal((await call('get', `${d}/groups`, `/nhn-face-reco/v1.0/appkeys/nope/groups?limit=1`)).header.resultCode, -41000);
  });

  test('x/v1 privacy extension, every operation', async () => {
    const base = `/x/v1/appkeys/${appKey}`;
    const d = '/x/v1/appkeys/{appKey}';
    await app.inject({ method: 'POST', url: `/v2.0/appkeys/${appKey}/groups`, headers: { authorization: secretKey }, payload: { groupId: 'doc-x' } });
    await app.inject({ method: 'POST', url: `/v2.0/appkeys/${appKey}/groups/doc-x/faces`, headers: { authorization: secretKey }, payload: { image: { bytes: b64(fixture('sample1.jpg')) }, limit: 2, externalImageId: 'doc-subject' } });
    const withConsent = await call('post', `${d}/groups/{groupId}/faces`, `${base}/groups/doc-x/faces`, { image: { bytes: b64(fixture('sample1.jpg')) }, limit: 1, externalImageId: 'doc-consent', consentRef: 'form-1', purpose: 'documentation' });
    assert.equal(withConsent.data.addedFaceCount, 1);
    await call('post', `${d}/groups/{groupId}/faces`, `${base}/groups/doc-x/faces`, multipart([
      { name: 'imageFile', file: fixture('sample1.jpg') }, { name: 'limit', value: '1' }, { name: 'externalImageId', value: 'doc-consent' }, { name: 'purpose', value: 'documentation' },
    ]));
    assert.equal((await call('post', `${d}/groups/{groupId}/faces`, `${base}/groups/doc-x/faces`, { image: { bytes: b64(fixture('sample1.jpg')) }, limit: 1, consentRef: '' })).header.resultCode, -40000);
    const consented = await call('get', `${d}/subjects/{externalImageId}`, `${base}/subjects/doc-consent`);
    assert.deepEqual(consented.data.faces.map((f: any) => f.purpose), ['documentation', 'documentation']);
    await call('delete', `${d}/subjects/{externalImageId}`, `${base}/subjects/doc-consent`);
    const access = await call('get', `${d}/subjects/{externalImageId}`, `${base}/subjects/doc-subject`);
    assert.equal(access.data.faceCount, 2);
    assert.equal((await call('get', `${d}/subjects/{externalImageId}`, `${base}/subjects/bad%20id`)).header.resultCode, -40000);
    const erased = await call('delete', `${d}/subjects/{externalImageId}`, `${base}/subjects/doc-subject`);
    assert.equal(erased.data.deletedFaceCount, 2);
    assert.equal((await call('delete', `${d}/subjects/{externalImageId}`, `/x/v1/appkeys/nope/subjects/doc-subject`)).header.resultCode, -41005);
    assert.ok(doc.paths[`${d}/subjects/{externalImageId}/faces.csv`]?.get, 'the CSV export is documented');
    const audit = await call('get', `${d}/audit`, `${base}/audit?externalImageId=doc-subject&limit=10`);
    assert.deepEqual(audit.data.entries.map((e: any) => e.action), ['register', 'export', 'erase']);
    assert.equal((await call('get', `${d}/audit`, `${base}/audit?from=nonsense`)).header.resultCode, -40000);
    assert.equal((await call('put', `${d}/retention`, `${base}/retention`, { retentionDays: 30 })).header.resultCode, 0);
    assert.equal((await call('put', `${d}/groups/{groupId}/retention`, `${base}/groups/doc-x/retention`, { retentionDays: 7 })).header.resultCode, 0);
    assert.equal((await call('put', `${d}/groups/{groupId}/retention`, `${base}/groups/missing/retention`, { retentionDays: 7 })).header.resultCode, -40030);
    assert.deepEqual((await call('get', `${d}/retention`, `${base}/retention`)).data, { defaultRetentionDays: 30, groups: [{ groupId: 'doc-x', retentionDays: 7 }] });
    await call('delete', `${d}/groups/{groupId}/retention`, `${base}/groups/doc-x/retention`);
    await call('delete', `${d}/retention`, `${base}/retention`);
    assert.deepEqual((await call('get', `${d}/retention`, `${base}/retention`)).data, { groups: [] });
  });

  test('x/v1 persons, clustering and album search, every operation', async () => {
    const base = `/x/v1/appkeys/${appKey}`;
    const d = '/x/v1/appkeys/{appKey}';
    const g = `${d}/groups/{groupId}`;
    const image = { bytes: b64(fixture('sample1.jpg')) };
    await app.inject({ method: 'POST', url: `/v2.0/appkeys/${appKey}/groups`, headers: { authorization: secretKey }, payload: { groupId: 'doc-persons' } });
    const gb = `${base}/groups/doc-persons`;
    const created = await call('post', `${g}/persons`, `${gb}/persons`, { name: 'Doc', metadata: { k: 'v' } });
    const personId = created.data.personId;
    assert.equal((await call('post', `${g}/persons`, `${base}/groups/missing/persons`, {})).header.resultCode, -40030);
    await call('get', `${g}/persons`, `${gb}/persons?limit=1`);
    await call('patch', `${g}/persons/{personId}`, `${gb}/persons/${personId}`, { name: 'Doc 2' });
    const reg = await call('post', `${g}/persons/register`, `${gb}/persons/register`, { name: 'Reg', images: [image, { bytes: '***' }] });
    assert.equal(reg.data.person.faceCount, 1);
    const faceId = reg.data.images[0].faceId;
    const regPerson = reg.data.person.personId;
    assert.equal((await call('post', `${g}/persons/{personId}/associate`, `${gb}/persons/${personId}/associate`, { faceIds: [faceId] })).header.resultCode, -40090);
    await call('post', `${g}/persons/{personId}/disassociate`, `${gb}/persons/${regPerson}/disassociate`, { faceIds: [faceId] });
    await call('post', `${g}/persons/{personId}/associate`, `${gb}/persons/${personId}/associate`, { faceIds: [faceId] });
    const got = await call('get', `${g}/persons/{personId}`, `${gb}/persons/${personId}`);
    assert.deepEqual(got.data.faceIds, [faceId]);
    assert.equal((await call('get', `${g}/persons/{personId}`, `${gb}/persons/${regPerson}x`)).header.resultCode, -40080);
    const found = await call('post', `${g}/persons/search`, `${gb}/persons/search`, multipart([{ name: 'imageFile', file: fixture('sample1.jpg') }, { name: 'threshold', value: '80' }]));
    assert.equal(found.data?.persons[0]?.person.personId, personId, JSON.stringify(found).slice(0, 600));
    await call('post', `${g}/persons/{personId}/verify`, `${gb}/persons/${personId}/verify`, { image });
    const photos = await call('post', `${g}/photos/search`, `${gb}/photos/search`, { personId });
    assert.equal(photos.data.photoCount, 1);
    await call('post', `${g}/photos/search`, `${gb}/photos/search`, { image, threshold: 90 });
    const job = await call('post', `${g}/cluster-jobs`, `${gb}/cluster-jobs`, {});
    await runtime.clusters!.idle();
    const done = await call('get', `${g}/cluster-jobs/{jobId}`, `${gb}/cluster-jobs/${job.data.jobId}`);
    assert.equal(done.data.state, 'succeeded');
    assert.equal((await call('get', `${g}/cluster-jobs/{jobId}`, `${gb}/cluster-jobs/${regPerson}`)).header.resultCode, -40100);
    assert.equal((await call('post', `${g}/cluster-jobs/{jobId}/clusters/{clusterId}/person`, `${gb}/cluster-jobs/${job.data.jobId}/clusters/0/person`, {})).header.resultCode, -40000, 'one face makes no cluster');
    await call('delete', `${g}/persons/{personId}`, `${gb}/persons/${personId}?delete-faces=true`);
  });

  test('the check itself refuses an undocumented field, also inside a referenced object', async () => {
    const url = routeOf.get('post /v2.0/appkeys/{appKey}/faces/detect')!;
    const face = { bbox: { x0: 0, y0: 0, x1: 1, y1: 1 }, landmarks: [], confidence: 0.9 };
    const send = (payload: object) => checker.inject({ method: 'POST', url, payload });
    const envelope = (f: object) => ({ header: { isSuccessful: true, resultCode: 0, resultMessage: 'Success' }, data: { faceDetailCount: 1, faceDetails: [f] } });
    assert.equal((await send(envelope(face))).statusCode, 200);
    assert.equal((await send(envelope({ ...face, age: 30 }))).statusCode, 400);
    assert.equal((await send(envelope({ ...face, bbox: { ...face.bbox, x2: 1 } }))).statusCode, 400);
    assert.equal((await send({ header: { isSuccessful: false, resultCode: -40010, resultMessage: 'InvalidGroupID' } })).statusCode, 400, 'detect cannot answer -40010');
  });

  test('the scenarios above reached every documented NHN operation', () => {
    const documented = [...routeOf.keys()].filter((k) => k.includes('/appkeys/'));
    assert.deepEqual(documented.filter((k) => !seen.has(k)), []);
  });
});
