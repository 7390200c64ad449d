import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startApi, b64, ok, type TestApi } from './support/api-helpers.js';
import { faceCrops } from './support/face-crops.js';

const code = (r: any) => r.header.resultCode;
type Keys = { appKey: string; secretKey: string };

let api: TestApi;
let other: Keys;
let crops: Uint8Array[];
/** Variants of one face photo: the same person as far as recognition goes. */
let aliceVariants: Uint8Array[];

async function x(method: string, path: string, body?: unknown, keys: Keys = api): Promise<any> {
  const res = await api.app.inject({ method: method as 'GET', url: `/x/v1/appkeys/${keys.appKey}${path}`, headers: { authorization: keys.secretKey }, ...(body !== undefined ? { payload: body as object } : {}) });
  return JSON.parse(res.body);
}

async function register(groupId: string, image: Uint8Array, externalImageId: string): Promise<string> {
  const r = await api.v2('POST', `/groups/${groupId}/faces`, { image: { bytes: b64(image) }, limit: 1, externalImageId });
  assert.ok(ok(r), JSON.stringify(r.header));
  return r.data.addedFaces[0].faceId;
}

before(async () => {
  api = await startApi();
  other = await api.runtime.apps.create({ secretKey: 'other-secret' });
  crops = await faceCrops(4);
  assert.ok(crops.length >= 3, 'the fixtures give at least three single-face crops');
  const a = crops[0];
  aliceVariants = [
    a,
    new Uint8Array(await sharp(a).flop().jpeg({ quality: 90 }).toBuffer()),
    new Uint8Array(await sharp(a).resize(260).modulate({ brightness: 1.1 }).jpeg({ quality: 80 }).toBuffer()),
  ];
});
after(() => api.dispose());

describe('persons: create, list, update, delete', () => {
  const G = 'people';
  before(async () => assert.ok(ok(await api.v2('POST', '/groups', { groupId: G }))));

  test('a person is created with name and metadata, read back, listed page by page, updated and deleted', async () => {
    const created = await x('POST', `/groups/${G}/persons`, { name: 'Alice', metadata: { team: 'blue', n: 1 } });
    assert.equal(code(created), 0, JSON.stringify(created.header));
    const p = created.data;
    assert.match(p.personId, /^[0-9a-f-]{36}$/);
    assert.equal(p.name, 'Alice');
    assert.deepEqual(p.metadata, { team: 'blue', n: 1 });
    assert.equal(p.faceCount, 0);
    const got = await x('GET', `/groups/${G}/persons/${p.personId}`);
    assert.deepEqual(got.data.faceIds, []);
    for (let i = 0; i < 3; i++) assert.equal(code(await x('POST', `/groups/${G}/persons`, { name: `P${i}` })), 0);
    const first = await x('GET', `/groups/${G}/persons?limit=3`);
    assert.equal(first.data.personCount, 3);
    assert.ok(first.data.nextToken);
    const second = await x('GET', `/groups/${G}/persons?next-token=${encodeURIComponent(first.data.nextToken)}`);
    assert.equal(second.data.personCount, 1);
    assert.equal(second.data.nextToken, '');
    assert.equal(first.data.persons[0].personId, p.personId, 'oldest first');
    const updated = await x('PATCH', `/groups/${G}/persons/${p.personId}`, { name: 'Alice B.', metadata: {} });
    assert.equal(updated.data.name, 'Alice B.');
    assert.equal(updated.data.metadata, undefined, '{} clears the metadata');
    assert.equal(code(await x('DELETE', `/groups/${G}/persons/${p.personId}`)), 0);
    assert.equal(code(await x('GET', `/groups/${G}/persons/${p.personId}`)), -40080);
    assert.equal(code(await x('DELETE', `/groups/${G}/persons/${p.personId}`)), -40080);
  });

  test('bad input is refused with NHN-style codes', async () => {
    assert.equal(code(await x('POST', `/groups/${G}/persons`, { name: 'x'.repeat(256) })), -40000);
    assert.equal(code(await x('POST', `/groups/${G}/persons`, { name: 'a\u0000b' })), -40000);
    assert.equal(code(await x('POST', `/groups/${G}/persons`, { metadata: 'text' })), -40000);
    assert.equal(code(await x('POST', `/groups/${G}/persons`, { metadata: { blob: 'x'.repeat(4100) } })), -40000);
    assert.equal(code(await x('POST', '/groups/no-such-group/persons', { name: 'A' })), -40030);
    assert.equal(code(await x('GET', `/groups/${G}/persons/not-a-uuid`)), -40080);
    assert.equal(code(await x('GET', `/groups/${G}/persons?next-token=forged.token`)), -40040);
  });

  test('every route wants the app\'s secret, and an app never sees another app\'s persons', async () => {
    const p = (await x('POST', `/groups/${G}/persons`, { name: 'Mine' })).data;
    const wrong = await api.app.inject({ method: 'GET', url: `/x/v1/appkeys/${api.appKey}/groups/${G}/persons`, headers: { authorization: 'nope' } });
    assert.equal(JSON.parse(wrong.body).header.resultCode, -41005);
    assert.equal(code(await x('GET', `/groups/${G}/persons/${p.personId}`, undefined, other)), -40030, 'the other app has no such group');
    assert.ok(ok(await api.app.inject({ method: 'POST', url: `/v2.0/appkeys/${other.appKey}/groups`, headers: { authorization: other.secretKey }, payload: { groupId: G } }).then((r) => JSON.parse(r.body))));
    assert.equal(code(await x('GET', `/groups/${G}/persons/${p.personId}`, undefined, other)), -40080);
    assert.equal((await x('GET', `/groups/${G}/persons`, undefined, other)).data.personCount, 0);
  });
});

describe('persons: faces', () => {
  const G = 'faces-of-people';
  let aliceFaces: string[];
  let bobFace: string;
  before(async () => {
    assert.ok(ok(await api.v2('POST', '/groups', { groupId: G })));
    aliceFaces = [await register(G, aliceVariants[0], 'a0.jpg'), await register(G, aliceVariants[1], 'a1.jpg')];
    bobFace = await register(G, crops[1], 'b0.jpg');
  });

  test('a face belongs to at most one person; association is all or nothing', async () => {
    const alice = (await x('POST', `/groups/${G}/persons`, { name: 'Alice' })).data.personId;
    const bob = (await x('POST', `/groups/${G}/persons`, { name: 'Bob' })).data.personId;
    const r = await x('POST', `/groups/${G}/persons/${alice}/associate`, { faceIds: aliceFaces });
    assert.equal(code(r), 0);
    assert.equal(r.data.faceCount, 2);
    assert.equal(code(await x('POST', `/groups/${G}/persons/${alice}/associate`, { faceIds: aliceFaces })), 0, 'again: idempotent');
    const taken = await x('POST', `/groups/${G}/persons/${bob}/associate`, { faceIds: [bobFace, aliceFaces[0]] });
    assert.equal(code(taken), -40090);
    assert.equal((await x('GET', `/groups/${G}/persons/${bob}`)).data.faceCount, 0, 'nothing was associated');
    assert.equal(code(await x('POST', `/groups/${G}/persons/${bob}/associate`, { faceIds: ['00000000-0000-4000-8000-000000000000'] })), -40050);
    assert.equal(code(await x('POST', `/groups/${G}/persons/${bob}/associate`, { faceIds: [] })), -40000);
    assert.equal(code(await x('POST', '/groups/' + G + '/persons/00000000-0000-4000-8000-000000000000/associate', { faceIds: [bobFace] })), -40080);
    const moved = await x('POST', `/groups/${G}/persons/${alice}/disassociate`, { faceIds: [aliceFaces[1], bobFace] });
    assert.deepEqual(moved.data.disassociatedFaceIds, [aliceFaces[1]]);
    assert.equal(code(await x('POST', `/groups/${G}/persons/${bob}/associate`, { faceIds: [bobFace, aliceFaces[1]] })), 0);
    assert.equal(code(await x('POST', `/groups/${G}/persons/${bob}/disassociate`, { faceIds: [aliceFaces[1]] })), 0);
    assert.equal(code(await x('POST', `/groups/${G}/persons/${alice}/associate`, { faceIds: [aliceFaces[1]] })), 0);
  });

  test('deleting a face, or erasing its subject, also ends its association; deleting a person keeps its faces unless asked', async () => {
    const extra = await register(G, aliceVariants[2], 'a2.jpg');
    const p = (await x('POST', `/groups/${G}/persons`, { name: 'Temp' })).data.personId;
    assert.equal(code(await x('POST', `/groups/${G}/persons/${p}/associate`, { faceIds: [extra] })), 0);
    assert.ok(ok(await api.v2('DELETE', `/groups/${G}/faces/${extra}`)));
    assert.equal((await x('GET', `/groups/${G}/persons/${p}`)).data.faceCount, 0);

    const again = await register(G, aliceVariants[2], 'erase-me');
    assert.equal(code(await x('POST', `/groups/${G}/persons/${p}/associate`, { faceIds: [again] })), 0);
    assert.equal(code(await x('DELETE', '/subjects/erase-me')), 0);
    assert.deepEqual((await x('GET', `/groups/${G}/persons/${p}`)).data.faceIds, []);

    const kept = await register(G, aliceVariants[2], 'kept');
    assert.equal(code(await x('POST', `/groups/${G}/persons/${p}/associate`, { faceIds: [kept] })), 0);
    assert.equal((await x('DELETE', `/groups/${G}/persons/${p}`)).data.deletedFaceCount, 0);
    const list = await api.v2('GET', `/groups/${G}/faces?limit=200`);
    assert.ok(list.data.faces.some((f: any) => f.faceId === kept), 'the face stays in the group');
    const p2 = (await x('POST', `/groups/${G}/persons`, {})).data.personId;
    assert.equal(code(await x('POST', `/groups/${G}/persons/${p2}/associate`, { faceIds: [kept] })), 0);
    assert.equal((await x('DELETE', `/groups/${G}/persons/${p2}?delete-faces=true`)).data.deletedFaceCount, 1);
    const after = await api.v2('GET', `/groups/${G}/faces?limit=200`);
    assert.ok(!after.data.faces.some((f: any) => f.faceId === kept));
  });

  test('deleting the group deletes its persons', async () => {
    const g = 'short-lived';
    assert.ok(ok(await api.v2('POST', '/groups', { groupId: g })));
    const p = (await x('POST', `/groups/${g}/persons`, { name: 'X' })).data.personId;
    assert.ok(ok(await api.v2('DELETE', `/groups/${g}`)));
    assert.ok(ok(await api.v2('POST', '/groups', { groupId: g })));
    assert.equal(code(await x('GET', `/groups/${g}/persons/${p}`)), -40080);
    assert.equal((await x('GET', `/groups/${g}/persons`)).data.personCount, 0);
  });
});

describe('persons: register, search, verify, album search', () => {
  const G = 'album';
  let alice: string;
  before(async () => {
    assert.ok(ok(await api.v2('POST', '/groups', { groupId: G })));
  });

  test('registerPerson registers the largest face of each image as one person and reports each image', async () => {
    const r = await x('POST', `/groups/${G}/persons/register`, {
      name: 'Alice',
      externalImageId: 'alice-enrol',
      images: [{ bytes: b64(aliceVariants[0]) }, { bytes: b64(aliceVariants[1]) }, { bytes: 'bm90IGFuIGltYWdl' }],
    });
    assert.equal(code(r), 0, JSON.stringify(r.header));
    alice = r.data.person.personId;
    assert.equal(r.data.person.faceCount, 2);
    assert.equal(r.data.images.length, 3);
    assert.ok(r.data.images[0].faceId && r.data.images[1].faceId);
    assert.ok(r.data.images[2].error.resultCode < 0, 'the bad image is reported, the others registered');
    const bob = await x('POST', `/groups/${G}/persons/register`, { name: 'Bob', images: [{ bytes: b64(crops[1]) }] });
    assert.equal(code(bob), 0);
    // Photos of the album: one more of Alice, and one of someone else, not persons.
    await register(G, aliceVariants[2], 'holiday-1.jpg');
    await register(G, crops[2], 'holiday-2.jpg');
    const none = await x('POST', `/groups/${G}/persons/register`, { name: 'Nobody', images: [{ bytes: 'bm90IGFuIGltYWdl' }] });
    assert.ok(code(none) < 0);
    assert.equal((await x('GET', `/groups/${G}/persons`)).data.personCount, 2, 'no person without a face');
  });

  test('search by image finds the person, scored by the best of its faces; verify agrees', async () => {
    const r = await x('POST', `/groups/${G}/persons/search`, { image: { bytes: b64(aliceVariants[2]) }, threshold: 60, limit: 5 });
    assert.equal(code(r), 0, JSON.stringify(r.header));
    assert.equal(r.data.persons[0].person.personId, alice);
    assert.ok(r.data.persons[0].similarity >= 80);
    assert.ok(r.data.persons.every((m: any, i: number, all: any[]) => i === 0 || all[i - 1].similarity >= m.similarity));
    const v = await x('POST', `/groups/${G}/persons/${alice}/verify`, { image: { bytes: b64(aliceVariants[2]) } });
    assert.equal(code(v), 0);
    assert.equal(v.data.similarity, r.data.persons[0].similarity);
    const stranger = await x('POST', `/groups/${G}/persons/${alice}/verify`, { image: { bytes: b64(crops[2]) } });
    assert.ok(stranger.data.similarity < v.data.similarity);
    assert.ok(stranger.data.similarity < 80);
  });

  test('album search returns every photo of the person, by person or by probe image, with the face boxes', async () => {
    const byPerson = await x('POST', `/groups/${G}/photos/search`, { personId: alice, threshold: 80 });
    assert.equal(code(byPerson), 0, JSON.stringify(byPerson.header));
    const names = byPerson.data.photos.map((p: any) => p.externalImageId).sort();
    assert.deepEqual(names, ['alice-enrol', 'alice-enrol', 'holiday-1.jpg']);
    for (const p of byPerson.data.photos) {
      assert.ok(p.imageId && p.faces.length >= 1);
      const b = p.faces[0].bbox;
      assert.ok(b.x0 < b.x1 && b.y0 < b.y1);
    }
    const byImage = await x('POST', `/groups/${G}/photos/search`, { image: { bytes: b64(aliceVariants[0]) }, threshold: 80 });
    assert.equal(code(byImage), 0);
    assert.deepEqual(byImage.data.photos.map((p: any) => p.externalImageId).sort(), names);
    assert.ok(byImage.data.sourceFace);
    assert.equal(code(await x('POST', `/groups/${G}/photos/search`, {})), -40000);
  });
});

describe('clustering jobs', () => {
  const G = 'to-cluster';
  const ids: Record<string, string> = {};
  before(async () => {
    assert.ok(ok(await api.v2('POST', '/groups', { groupId: G })));
    for (const [i, v] of aliceVariants.entries()) ids[`a${i}`] = await register(G, v, `a${i}`);
    ids.b = await register(G, crops[1], 'b');
    ids.c = await register(G, crops[2], 'c');
  });

  test('a job clusters the group\'s faces in the background, reports progress and the clusters, and a cluster becomes a person in one call', async () => {
    const started = await x('POST', `/groups/${G}/cluster-jobs`, {});
    assert.equal(code(started), 0, JSON.stringify(started.header));
    assert.ok(['queued', 'running'].includes(started.data.state));
    assert.equal(started.data.threshold, 80);
    await api.runtime.clusters!.idle();
    const done = await x('GET', `/groups/${G}/cluster-jobs/${started.data.jobId}`);
    assert.equal(done.data.state, 'succeeded', JSON.stringify(done.data));
    assert.equal(done.data.percent, 100);
    assert.equal(done.data.faceCount, 5);
    const aliceCluster = done.data.clusters.find((c: any) => c.faceIds.includes(ids.a0));
    assert.deepEqual([...aliceCluster.faceIds].sort(), [ids.a0, ids.a1, ids.a2].sort());
    assert.ok(aliceCluster.faceIds.includes(aliceCluster.representativeFaceId));
    assert.ok(done.data.unclusteredFaceIds.includes(ids.b) && done.data.unclusteredFaceIds.includes(ids.c));
    const person = await x('POST', `/groups/${G}/cluster-jobs/${started.data.jobId}/clusters/${aliceCluster.clusterId}/person`, { name: 'Alice' });
    assert.equal(code(person), 0);
    assert.equal(person.data.faceCount, 3);
    const twice = await x('POST', `/groups/${G}/cluster-jobs/${started.data.jobId}/clusters/${aliceCluster.clusterId}/person`, { name: 'Alice again' });
    assert.equal(code(twice), -40090, 'its faces already belong to a person');
    assert.equal((await x('GET', `/groups/${G}/persons`)).data.personCount, 1, 'the refused call left no person behind');
  });

  test('a listed subset is clustered; unknown jobs are -40100; jobs go with their group', async () => {
    const started = await x('POST', `/groups/${G}/cluster-jobs`, { faceIds: [ids.a0, ids.a1, ids.b] });
    await api.runtime.clusters!.idle();
    const done = await x('GET', `/groups/${G}/cluster-jobs/${started.data.jobId}`);
    assert.equal(done.data.faceCount, 3);
    assert.equal(done.data.clusterCount, 1);
    assert.equal(code(await x('GET', `/groups/${G}/cluster-jobs/00000000-0000-4000-8000-000000000000`)), -40100);
    assert.equal(code(await x('GET', `/groups/${G}/cluster-jobs/${started.data.jobId}`, undefined, other)), -40030);
    assert.equal(code(await x('POST', `/groups/${G}/cluster-jobs`, { threshold: 60, attachThreshold: 70 })), -40000);
    assert.ok(ok(await api.v2('DELETE', `/groups/${G}`)));
    assert.ok(ok(await api.v2('POST', '/groups', { groupId: G })));
    assert.equal(code(await x('GET', `/groups/${G}/cluster-jobs/${started.data.jobId}`)), -40100);
  });
});

describe('every /x/v1 person-layer route: auth and cross-app isolation', () => {
  const G = 'isolated';
  let person: string;
  let faceIds: string[];
  let jobId: string;
  let clusterId: string;
  /** Every route, with a body that would succeed for the owner. */
  const routes = (): { method: string; path: string; body?: unknown }[] => [
    { method: 'POST', path: `/groups/${G}/persons`, body: { name: 'x' } },
    { method: 'GET', path: `/groups/${G}/persons` },
    { method: 'GET', path: `/groups/${G}/persons/${person}` },
    { method: 'PATCH', path: `/groups/${G}/persons/${person}`, body: { name: 'taken over' } },
    { method: 'DELETE', path: `/groups/${G}/persons/${person}?delete-faces=true` },
    { method: 'POST', path: `/groups/${G}/persons/${person}/associate`, body: { faceIds } },
    { method: 'POST', path: `/groups/${G}/persons/${person}/disassociate`, body: { faceIds } },
    { method: 'POST', path: `/groups/${G}/persons/register`, body: { personId: person, images: [{ bytes: b64(crops[1]) }] } },
    { method: 'POST', path: `/groups/${G}/persons/search`, body: { image: { bytes: b64(aliceVariants[0]) }, threshold: 50 } },
    { method: 'POST', path: `/groups/${G}/persons/${person}/verify`, body: { image: { bytes: b64(aliceVariants[0]) } } },
    { method: 'POST', path: `/groups/${G}/photos/search`, body: { personId: person } },
    { method: 'POST', path: `/groups/${G}/cluster-jobs`, body: {} },
    { method: 'GET', path: `/groups/${G}/cluster-jobs/${jobId}` },
    { method: 'POST', path: `/groups/${G}/cluster-jobs/${jobId}/clusters/${clusterId}/person`, body: { name: 'stolen' } },
  ];
  const raw = async (method: string, url: string, headers: Record<string, string>, body?: unknown) =>
    JSON.parse((await api.app.inject({ method: method as 'GET', url, headers, ...(body !== undefined ? { payload: body as object } : {}) })).body);

  before(async () => {
    assert.ok(ok(await api.v2('POST', '/groups', { groupId: G })));
    const r = await x('POST', `/groups/${G}/persons/register`, { name: 'Owner', images: aliceVariants.slice(0, 2).map((v) => ({ bytes: b64(v) })) });
    assert.equal(code(r), 0, JSON.stringify(r.header));
    person = r.data.person.personId;
    faceIds = r.data.images.map((i: any) => i.faceId);
    await register(G, aliceVariants[2], 'third');
    const job = await x('POST', `/groups/${G}/cluster-jobs`, {});
    await api.runtime.clusters!.idle();
    jobId = job.data.jobId;
    const done = await x('GET', `/groups/${G}/cluster-jobs/${jobId}`);
    assert.equal(done.data.state, 'succeeded');
    clusterId = done.data.clusters[0].clusterId;
    // The other app has a group of the same name, so its calls reach the person layer.
    assert.ok(ok(await raw('POST', `/v2.0/appkeys/${other.appKey}/groups`, { authorization: other.secretKey }, { groupId: G })));
  });

  test('no secret, a wrong one, a Bearer one or another app\'s secret: -41005 on every route, and nothing changes', async () => {
    for (const r of routes()) {
      const url = `/x/v1/appkeys/${api.appKey}${r.path}`;
      for (const headers of [{} as Record<string, string>, { authorization: 'wrong' }, { authorization: `Bearer ${api.secretKey}` }, { authorization: other.secretKey }]) {
        const a = await raw(r.method, url, headers, r.body);
        assert.equal(a.header.resultCode, -41005, `${r.method} ${r.path} with ${JSON.stringify(headers)}: ${JSON.stringify(a.header)}`);
      }
    }
    const p = await x('GET', `/groups/${G}/persons/${person}`);
    assert.equal(p.data.name, 'Owner');
    assert.deepEqual([...p.data.faceIds].sort(), [...faceIds].sort());
  });

  test('another app, with its own keys and a group of the same name, can neither read nor change this app\'s persons and jobs', async () => {
    const expected: Record<string, number[]> = {
      'POST /persons': [0], // its own person, in its own group
      'GET /persons': [0],
      'POST /persons/search': [0, -40000], // its group has no faces: no match, or no face to search
      'POST /cluster-jobs': [0],
    };
    for (const r of routes()) {
      const route = `${r.method} ${r.path.replace(`/groups/${G}`, '').replace(person, '{p}').replace(jobId, '{j}').replace(/\?.*/, '')}`;
      const a = await x(r.method, r.path, r.body, other);
      const allowed = expected[route] ?? [-40080, -40100, -40050, -40000];
      assert.ok(allowed.includes(code(a)), `${route} by the other app answered ${JSON.stringify(a.header)}`);
      if (route === 'GET /persons') assert.ok(a.data.persons.every((p: any) => p.personId !== person), 'the other app lists only its own persons');
    }
    await api.runtime.clusters!.idle();
    // This app's person, faces and job are as they were.
    const p = await x('GET', `/groups/${G}/persons/${person}`);
    assert.equal(p.data.name, 'Owner');
    assert.deepEqual([...p.data.faceIds].sort(), [...faceIds].sort());
    const faces = await api.v2('GET', `/groups/${G}/faces?limit=10`);
    assert.equal(faces.data.faceCount, 3);
    assert.equal((await x('GET', `/groups/${G}/persons`)).data.personCount, 1);
    assert.equal((await x('GET', `/groups/${G}/cluster-jobs/${jobId}`)).data.state, 'succeeded');
  });
});
