import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import sharp from 'sharp';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { queryDatabase } from './support/test-database.js';
import { startApi, b64, engine, multipart, ok, type TestApi } from './support/api-helpers.js';
import { createRuntime } from '../src/app.js';
import { fixture } from './support/fixtures.js';
import { loadConfig } from '../src/config.js';
import { EnginePool } from '../src/engine/pool.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const code = (r: any) => r.header.resultCode;

let api: TestApi;
let sample1: Uint8Array; // 3 faces
let sample5: Uint8Array; // 5 faces
let sample1Mirrored: Uint8Array;
/** The largest face of sample1, cropped with margin: a new photo of a registered person. */
let sample1FaceCrop: Uint8Array;

before(async () => {
  api = await startApi({ limits: { maxFacesPerGroup: 12, maxGroupsPerApp: 40 } as never });
  sample1 = fixture('sample1.jpg');
  sample5 = fixture('sample5.jpg');
  sample1Mirrored = new Uint8Array(await sharp(sample1).flop().jpeg().toBuffer());
  const d = await api.v2('POST', '/faces/detect', { image: { bytes: b64(sample1) } });
  const { x0, y0, x1, y1 } = d.data.faceDetails[0].bbox;
  const meta = await sharp(sample1).metadata();
  const w = meta.width!, h = meta.height!;
  const left = Math.max(0, Math.round((x0 - (x1 - x0) * 0.5) * w));
  const top = Math.max(0, Math.round((y0 - (y1 - y0) * 0.5) * h));
  sample1FaceCrop = new Uint8Array(
    await sharp(sample1)
      .extract({ left, top, width: Math.min(w - left, Math.round((x1 - x0) * 2 * w)), height: Math.min(h - top, Math.round((y1 - y0) * 2 * h)) })
      .jpeg()
      .toBuffer(),
  );
});
after(() => api.dispose());

describe('envelope and auth', () => {
  test('every NHN answer is HTTP 200 with the header envelope', async () => {
    const r = await api.v2('GET', '/groups?limit=10');
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.header).sort(), ['isSuccessful', 'resultCode', 'resultMessage']);
    assert.equal(r.header.resultMessage, 'Success');
    assert.ok(r.headers['x-request-id']);
  });

  test('v1 refuses an unknown appKey with -41000', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/nhn-face-reco/v1.0/appkeys/nope/groups?limit=1' });
    assert.equal(res.statusCode, 200);
    assert.equal(JSON.parse(res.body).header.resultCode, -41000);
  });

  test('v2 needs the right secret key: -41005 otherwise', async () => {
    assert.equal(code(await api.v2('GET', '/groups?limit=1', undefined, { authorization: 'wrong' })), -41005);
    const res = await api.app.inject({ method: 'GET', url: `/v2.0/appkeys/${api.appKey}/groups?limit=1` });
    assert.equal(JSON.parse(res.body).header.resultCode, -41005);
    const other = await api.app.inject({ method: 'GET', url: `/v2.0/appkeys/other/groups?limit=1`, headers: { authorization: api.secretKey } });
    assert.equal(JSON.parse(other.body).header.resultCode, -41005);
  });

  test('bad JSON is -40000, not a crash', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: `/v2.0/appkeys/${api.appKey}/groups`,
      headers: { authorization: api.secretKey, 'content-type': 'application/json' },
      payload: '{"groupId": ',
    });
    assert.equal(res.statusCode, 200);
    assert.equal(JSON.parse(res.body).header.resultCode, -40000);
  });
});

describe('groups (v2)', () => {
  test('create, duplicate, invalid id, details, delete', async () => {
    assert.ok(ok(await api.v2('POST', '/groups', { groupId: 'g-basic' })));
    assert.equal(code(await api.v2('POST', '/groups', { groupId: 'g-basic' })), -40020);
    assert.equal(code(await api.v2('POST', '/groups', { groupId: 'Bad_ID' })), -40010);
    assert.equal(code(await api.v2('POST', '/groups', {})), -40010);
    const d = await api.v2('GET', '/groups/g-basic');
    assert.equal(d.data.groupId, 'g-basic');
    assert.equal(d.data.faceCount, 0);
    assert.match(d.data.createTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    assert.equal(d.data.modelVersion, undefined, 'v2 carries no modelVersion');
    assert.ok(ok(await api.v2('DELETE', '/groups/g-basic')));
    assert.equal(code(await api.v2('GET', '/groups/g-basic')), -40030);
    assert.equal(code(await api.v2('DELETE', '/groups/g-basic')), -40030);
  });

  test('list pages with tokens that pin the limit; bad tokens are -40040', async () => {
    for (const id of ['p-a', 'p-b', 'p-c', 'p-d', 'p-e']) assert.ok(ok(await api.v2('POST', '/groups', { groupId: id })));
    const seen: string[] = [];
    let r = await api.v2('GET', '/groups?limit=2');
    assert.equal(r.data.groupCount, r.data.groups.length);
    seen.push(...r.data.groups.map((g: any) => g.groupId));
    while (r.data.nextToken) {
      // A different limit next to a token is ignored: the token fixed it at 2.
      r = await api.v2('GET', `/groups?limit=200&next-token=${encodeURIComponent(r.data.nextToken)}`);
      assert.ok(r.data.groups.length <= 2);
      seen.push(...r.data.groups.map((g: any) => g.groupId));
    }
    for (const id of ['p-a', 'p-b', 'p-c', 'p-d', 'p-e']) assert.ok(seen.includes(id));
    assert.equal(new Set(seen).size, seen.length, 'no group twice');
    assert.equal(code(await api.v2('GET', '/groups?limit=2&next-token=garbage')), -40040);
    assert.equal(code(await api.v2('GET', '/groups?limit=0')), -40000);
    assert.equal(code(await api.v2('GET', '/groups?limit=201')), -40000);
    assert.equal(code(await api.v2('GET', '/groups')), -40000);
  });
});

describe('detect (v2)', () => {
  test('finds every face with box, landmarks, orientation and mask as fractions', async () => {
    const r = await api.v2('POST', '/faces/detect', { image: { bytes: b64(sample1) } });
    assert.ok(ok(r));
    assert.equal(r.data.faceDetailCount, 3);
    for (const f of r.data.faceDetails) {
      for (const v of [f.bbox.x0, f.bbox.y0, f.bbox.x1, f.bbox.y1]) assert.ok(v >= 0 && v <= 1);
      assert.ok(f.bbox.x0 < f.bbox.x1 && f.bbox.y0 < f.bbox.y1);
      assert.deepEqual(f.landmarks.map((l: any) => l.type), ['leftEye', 'rightEye', 'nose', 'leftLip', 'rightLip']);
      assert.equal(typeof f.orientation.x, 'number');
      assert.equal(typeof f.mask, 'boolean');
      assert.ok(f.confidence > 0 && f.confidence <= 1);
      assert.equal(f.spoofing, undefined, 'spoofing only when asked');
    }
  });

  test('flags turn parts off and spoofing on', async () => {
    const r = await api.v2('POST', '/faces/detect', { image: { bytes: b64(sample1) }, orientation: false, mask: false, spoofing: true, spoofingCondition: 'strict' });
    for (const f of r.data.faceDetails) {
      assert.equal(f.orientation, undefined);
      assert.equal(f.mask, undefined);
      assert.equal(typeof f.spoofing, 'boolean');
    }
    assert.equal(code(await api.v2('POST', '/faces/detect', { image: { bytes: b64(sample1) }, spoofingCondition: 'paranoid' })), -40000);
  });

  test('a field sent as null counts as not sent (serialisers that write every field), a required one as missing', async () => {
    const plain = await api.v2('POST', '/faces/detect', { image: { bytes: b64(sample1) } });
    const nulls = await api.v2('POST', '/faces/detect', { image: { bytes: b64(sample1), url: null }, orientation: null, mask: null, spoofing: null, spoofingCondition: null, aligned: null });
    assert.ok(ok(nulls), JSON.stringify(nulls.header));
    assert.deepEqual(nulls.data, plain.data);
    const missing = await api.v2('POST', '/faces/detect', { image: null });
    assert.equal(code(missing), -40000);
    assert.match(missing.header.detail ?? missing.header.resultMessage, /image/);
  });

  test('multipart and JSON give the same answer', async () => {
    const json = await api.v2('POST', '/faces/detect', { image: { bytes: b64(sample1) } });
    const mp = multipart([{ name: 'imageFile', file: sample1 }, { name: 'orientation', value: 'true' }]);
    const form = await api.v2('POST', '/faces/detect', mp.payload, mp.headers);
    assert.deepEqual(form.data, json.data);
  });

  test('image errors map to their codes', async () => {
    const detect = (image: unknown) => api.v2('POST', '/faces/detect', { image });
    assert.equal(code(await detect({ bytes: '@@not base64@@' })), -45030);
    assert.equal(code(await detect({ bytes: b64(sample1), url: 'http://example.com/a.jpg' })), -40000);
    assert.equal(code(await detect({})), -40000);
    assert.equal(code(await detect(undefined)), -40000);
    const gif = await sharp(sample1).gif().toBuffer();
    assert.equal(code(await detect({ bytes: b64(gif) })), -45040);
    const fakeJpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('this is text pretending to be a JPEG'.repeat(20))]);
    assert.equal(code(await detect({ bytes: b64(fakeJpeg) })), -45080);
    const tiny = await sharp(sample1).resize(60, 60, { fit: 'fill' }).png().toBuffer();
    assert.equal(code(await detect({ bytes: b64(tiny) })), -45070);
    const huge = Buffer.concat([Buffer.from(sample1), Buffer.alloc(3_000_001 - sample1.length)]);
    assert.equal(code(await detect({ bytes: b64(huge) })), -45020);
    const mpHuge = multipart([{ name: 'imageFile', file: huge }]);
    assert.equal(code(await api.v2('POST', '/faces/detect', mpHuge.payload, mpHuge.headers)), -45020);
  });

  test('base64 with line breaks and the URL-safe alphabet is accepted', async () => {
    const wrapped = b64(sample1).replace(/.{76}/g, '$&\n');
    assert.equal((await api.v2('POST', '/faces/detect', { image: { bytes: wrapped } })).data.faceDetailCount, 3);
    const urlSafe = Buffer.from(sample1).toString('base64url');
    assert.equal((await api.v2('POST', '/faces/detect', { image: { bytes: urlSafe } })).data.faceDetailCount, 3);
  });

  test('a multipart text field longer than 16 KB is refused, not cut', async () => {
    const long = multipart([{ name: 'sourceImageUrl', value: 'https://example.com/a.jpg?sig=' + 'x'.repeat(17_000) }, { name: 'targetImageFile', file: sample1 }, { name: 'threshold', value: '70' }]);
    assert.equal(code(await api.v2('POST', '/faces/compare', long.payload, long.headers)), -40000);
  });

  test('a single-image file part may be called image as well as imageFile, not both', async () => {
    const long = multipart([{ name: 'imageFile', file: sample1 }]);
    const reference = await api.v2('POST', '/faces/detect', long.payload, long.headers);
    assert.ok(ok(reference), JSON.stringify(reference.header));
    const short = multipart([{ name: 'image', file: sample1 }]);
    assert.deepEqual((await api.v2('POST', '/faces/detect', short.payload, short.headers)).data, reference.data);
    const both = multipart([{ name: 'image', file: sample1 }, { name: 'imageFile', file: sample1 }]);
    assert.equal(code(await api.v2('POST', '/faces/detect', both.payload, both.headers)), -40000);
  });

  test('multipart with the file missing or doubled is -40000', async () => {
    const none = multipart([{ name: 'orientation', value: 'true' }]);
    assert.equal(code(await api.v2('POST', '/faces/detect', none.payload, none.headers)), -40000);
    const twice = multipart([{ name: 'imageFile', file: sample1 }, { name: 'imageFile', file: sample1 }]);
    assert.equal(code(await api.v2('POST', '/faces/detect', twice.payload, twice.headers)), -40000);
  });
});

describe('image URLs', () => {
  let server: Server;
  let hits = 0;
  before(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.end(Buffer.from(sample1));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  test('loopback, metadata and forbidden ports are refused with -45050 without a request', async () => {
    const port = (server.address() as { port: number }).port;
    for (const url of [`http://127.0.0.1:${port}/a.jpg`, `http://localhost:${port}/a.jpg`, 'http://169.254.169.254/latest/meta-data', 'http://[::1]/a.jpg', 'ftp://example.com/a.jpg']) {
      assert.equal(code(await api.v2('POST', '/faces/detect', { image: { url } })), -45050, url);
    }
    assert.equal(hits, 0, 'no request reached the local server');
  });
});

describe('faces: register, list, search, verify, delete (v2)', () => {
  let faceIds: string[] = [];
  let imageId = '';

  before(async () => {
    assert.ok(ok(await api.v2('POST', '/groups', { groupId: 'people' })));
  });

  test('register keeps the largest `limit` faces and lists the rest as not added', async () => {
    const r = await api.v2('POST', '/groups/people/faces', { image: { bytes: b64(sample5) }, limit: 3, externalImageId: 'stairs.jpg' });
    assert.ok(ok(r), JSON.stringify(r.header));
    assert.equal(r.data.addedFaceCount, 3);
    assert.equal(r.data.addedFaces.length, 3);
    assert.equal(r.data.addedFaceDetails.length, 3);
    assert.equal(r.data.notAddedFaceCount, 2);
    for (const f of r.data.addedFaces) {
      assert.match(f.faceId, UUID);
      assert.match(f.imageId, UUID);
      assert.equal(f.externalImageId, 'stairs.jpg');
    }
    assert.equal(new Set(r.data.addedFaces.map((f: any) => f.imageId)).size, 1, 'one imageId per image');
    imageId = r.data.addedFaces[0].imageId;
    faceIds = r.data.addedFaces.map((f: any) => f.faceId);
    assert.equal(r.data.modelVersion, undefined);
  });

  test('register validates its input', async () => {
    assert.equal(code(await api.v2('POST', '/groups/people/faces', { image: { bytes: b64(sample1) } })), -40000, 'limit is required');
    assert.equal(code(await api.v2('POST', '/groups/people/faces', { image: { bytes: b64(sample1) }, limit: 21 })), -40000);
    assert.equal(code(await api.v2('POST', '/groups/people/faces', { image: { bytes: b64(sample1) }, limit: 1, externalImageId: 'bad id!' })), -40000);
    assert.equal(code(await api.v2('POST', '/groups/nobody/faces', { image: { bytes: b64(sample1) }, limit: 1 })), -40030);
  });

  test('register by multipart', async () => {
    const mp = multipart([{ name: 'imageFile', file: sample1 }, { name: 'limit', value: '1' }, { name: 'externalImageId', value: 'party' }]);
    const r = await api.v2('POST', '/groups/people/faces', mp.payload, mp.headers);
    assert.ok(ok(r));
    assert.equal(r.data.addedFaceCount, 1);
    faceIds.push(r.data.addedFaces[0].faceId);
  });

  test('every list page carries nextToken, "" on the last; an empty next-token is the first page (v1 and v2)', async () => {
    for (const [name, call] of [['v1', api.v1], ['v2', api.v2]] as const) {
      for (const path of ['/groups', '/groups/people/faces']) {
        const first = await call('GET', `${path}?limit=2`);
        assert.ok(ok(first), `${name} ${path}: ${JSON.stringify(first.header)}`);
        assert.equal(typeof first.data.nextToken, 'string', `${name} ${path}: nextToken on a middle page`);
        assert.notEqual(first.data.nextToken, '');
        let page = first;
        while (page.data.nextToken !== '') page = await call('GET', `${path}?limit=2&next-token=${encodeURIComponent(page.data.nextToken)}`);
        assert.equal(page.data.nextToken, '', `${name} ${path}: the last page says "" rather than leaving it out`);
        const empty = await call('GET', `${path}?limit=2&next-token=`);
        // Tokens carry their expiry time, so two first pages differ only there.
        const withoutToken = (d: any) => ({ ...d, nextToken: typeof d.nextToken === 'string' && d.nextToken !== '' });
        assert.deepEqual(withoutToken(empty.data), withoutToken(first.data), `${name} ${path}: next-token= is no token`);
      }
    }
  });

  test('group details count the faces', async () => {
    assert.equal((await api.v2('GET', '/groups/people')).data.faceCount, 4);
  });

  test('list faces newest first, paged, filtered', async () => {
    const all: any[] = [];
    let r = await api.v2('GET', '/groups/people/faces?limit=3');
    all.push(...r.data.faces);
    while (r.data.nextToken) {
      r = await api.v2('GET', `/groups/people/faces?limit=3&next-token=${encodeURIComponent(r.data.nextToken)}`);
      all.push(...r.data.faces);
    }
    assert.equal(all.length, 4);
    assert.equal(all[0].externalImageId, 'party', 'newest first');
    const byImage = await api.v2('GET', `/groups/people/faces?limit=10&image-id=${imageId}`);
    assert.equal(byImage.data.faceCount, 3);
    const byExternal = await api.v2('GET', '/groups/people/faces?limit=10&external-image-id=party');
    assert.equal(byExternal.data.faces.length, 1);
    const byFace = await api.v2('GET', `/groups/people/faces?limit=10&face-id=${faceIds[0]}`);
    assert.deepEqual(byFace.data.faces.map((f: any) => f.faceId), [faceIds[0]]);
    assert.equal(code(await api.v2('GET', '/groups/nobody/faces?limit=10')), -40030);
  });

  test('search by faceId never returns the query face', async () => {
    const r = await api.v2('GET', `/groups/people/faces/${faceIds[0]}/search?limit=10&threshold=1`);
    assert.ok(ok(r));
    assert.ok(r.data.matchFaces.every((m: any) => m.face.faceId !== faceIds[0]));
    const sims = r.data.matchFaces.map((m: any) => m.similarity);
    assert.deepEqual(sims, [...sims].sort((a: number, b: number) => b - a));
    assert.equal(code(await api.v2('GET', `/groups/people/faces/00000000-0000-0000-0000-000000000000/search?limit=10&threshold=50`)), -40050);
    assert.equal(code(await api.v2('GET', `/groups/people/faces/${faceIds[0]}/search?limit=10`)), -40000, 'threshold is required');
  });

  test('search by image finds the registered person first', async () => {
    const r = await api.v2('POST', '/groups/people/faces/search', { image: { bytes: b64(sample1FaceCrop) }, limit: 5, threshold: 50 });
    assert.ok(ok(r), JSON.stringify(r.header));
    assert.equal(r.data.matchFaces[0].face.faceId, faceIds[3]);
    assert.ok(r.data.matchFaces[0].similarity >= 50);
    assert.ok(r.data.sourceFace.bbox);
    const mp = multipart([{ name: 'imageFile', file: sample1FaceCrop }, { name: 'limit', value: '5' }, { name: 'threshold', value: '50' }]);
    const form = await api.v2('POST', '/groups/people/faces/search', mp.payload, mp.headers);
    assert.deepEqual(form.data, r.data);
  });

  test('search by an image without a face is -40000', async () => {
    const plain = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#88aacc' } }).jpeg().toBuffer();
    assert.equal(code(await api.v2('POST', '/groups/people/faces/search', { image: { bytes: b64(plain) }, limit: 5, threshold: 50 })), -40000);
  });

  test('verify scores the same person high and another low', async () => {
    const same = await api.v2('POST', `/groups/people/faces/${faceIds[3]}/verify`, { compareImage: { bytes: b64(sample1FaceCrop) } });
    assert.ok(ok(same), JSON.stringify(same.header));
    assert.ok(same.data.similarity >= 70, `same ${same.data.similarity}`);
    assert.equal(same.data.face.faceId, faceIds[3]);
    const other = await api.v2('POST', `/groups/people/faces/${faceIds[0]}/verify`, { compareImage: { bytes: b64(sample1FaceCrop) } });
    assert.ok(other.data.similarity < 50, `other ${other.data.similarity}`);
    const mp = multipart([{ name: 'imageFile', file: sample1FaceCrop }]);
    assert.equal((await api.v2('POST', `/groups/people/faces/${faceIds[3]}/verify`, mp.payload, mp.headers)).data.similarity, same.data.similarity);
  });

  test('deleting a face is real: gone from lists, searches and the database', async () => {
    assert.ok(ok(await api.v2('DELETE', `/groups/people/faces/${faceIds[3]}`)));
    assert.equal(code(await api.v2('DELETE', `/groups/people/faces/${faceIds[3]}`)), -40050);
    const r = await api.v2('POST', '/groups/people/faces/search', { image: { bytes: b64(sample1FaceCrop) }, limit: 10, threshold: 1 });
    assert.ok(r.data.matchFaces.every((m: any) => m.face.faceId !== faceIds[3]));
    if (api.config.database) {
      const rows = await queryDatabase<{ n: number }>(api.config.database.url, 'SELECT count(*)::int AS n FROM faces WHERE face_id = $1', [faceIds[3]]);
      assert.equal(rows[0].n, 0);
      return;
    }
    const db = new Database(join(api.dataDir, 'facerec.db'), { readonly: true });
    try {
      const row = db.prepare('SELECT count(*) AS n FROM faces WHERE faceId = ?').get(faceIds[3]) as { n: number };
      assert.equal(row.n, 0);
    } finally {
      db.close();
    }
  });
});

describe('search index generations', () => {
  test('a group deleted and created again behind the service is searched afresh', async () => {
    assert.ok(ok(await api.v2('POST', '/groups', { groupId: 'regen' })));
    const first = await api.v2('POST', '/groups/regen/faces', { image: { bytes: b64(sample1) }, limit: 3 });
    const oldIds = first.data.addedFaces.map((f: any) => f.faceId);
    assert.equal((await api.v2('GET', `/groups/regen/faces/${oldIds[0]}/search?limit=5&threshold=1`)).data.matchFaceCount, 2);

    // Another process (the CLI, another node) replaces the group in the store.
    const store = api.runtime.store;
    assert.ok(await store.deleteGroup(api.appKey, 'regen'));
    await new Promise((r) => setTimeout(r, 5));
    await store.createGroup(api.appKey, 'regen', api.runtime.service.modelVersion, 1000);

    const second = await api.v2('POST', '/groups/regen/faces', { image: { bytes: b64(sample1) }, limit: 3 });
    const newIds: string[] = second.data.addedFaces.map((f: any) => f.faceId);
    // The old faces have the same vectors; a stale index would rank them first and lose them.
    const r = await api.v2('GET', `/groups/regen/faces/${newIds[0]}/search?limit=1&threshold=1`);
    assert.equal(r.data.matchFaceCount, 1);
    assert.ok(newIds.includes(r.data.matchFaces[0].face.faceId));
  });
});

describe('quota', () => {
  test('a register that fills the group is a partial success (+40070), the next one -40070', async () => {
    assert.ok(ok(await api.v2('POST', '/groups', { groupId: 'small' })));
    // The group holds 12 faces at most (set for this suite).
    for (let i = 0; i < 2; i++) assert.equal((await api.v2('POST', '/groups/small/faces', { image: { bytes: b64(sample5) }, limit: 5 })).data.addedFaceCount, 5);
    const r = await api.v2('POST', '/groups/small/faces', { image: { bytes: b64(sample5) }, limit: 5 });
    assert.equal(r.header.resultCode, 40070);
    assert.equal(r.header.isSuccessful, true);
    assert.equal(r.data.addedFaceCount, 2);
    assert.equal(r.data.notAddedFaceCount, 3);
    assert.equal(code(await api.v2('POST', '/groups/small/faces', { image: { bytes: b64(sample5) }, limit: 1 })), -40070);
    assert.equal((await api.v2('GET', '/groups/small')).data.faceCount, 12);
  });
});

describe('group quota', () => {
  test('creating a group past the per-app limit is -40070', async () => {
    const small = await startApi({ limits: { maxGroupsPerApp: 2 } as never });
    try {
      assert.ok(ok(await small.v2('POST', '/groups', { groupId: 'one' })));
      assert.ok(ok(await small.v2('POST', '/groups', { groupId: 'two' })));
      assert.equal(code(await small.v2('POST', '/groups', { groupId: 'three' })), -40070);
      assert.equal(code(await small.v2('POST', '/groups', { groupId: 'one' })), -40020);
    } finally {
      await small.dispose();
    }
  });
});

describe('compare (v2)', () => {
  test('largest source face against every target face, split at the threshold', async () => {
    const r = await api.v2('POST', '/faces/compare', { sourceImage: { bytes: b64(sample1) }, targetImage: { bytes: b64(sample1Mirrored) }, threshold: 70 });
    assert.ok(ok(r), JSON.stringify(r.header));
    assert.equal(r.data.matchedFaceDetailCount, 1);
    assert.equal(r.data.unmatchedFaceDetailCount, 2);
    assert.ok(r.data.matchedFaceDetails[0].similarity >= 70);
    assert.ok(r.data.unmatchedFaceDetails.every((u: any) => u.similarity < 70));
    assert.ok(r.data.sourceFace.bbox);
    const mp = multipart([{ name: 'sourceImageFile', file: sample1 }, { name: 'targetImageFile', file: sample1Mirrored }, { name: 'threshold', value: '70' }]);
    assert.deepEqual((await api.v2('POST', '/faces/compare', mp.payload, mp.headers)).data, r.data);
  });

  test("NHN's curl example spells the file parts sourceImage and targetImage: taken as well; both spellings at once are -40000", async () => {
    const reference = multipart([{ name: 'sourceImageFile', file: sample1 }, { name: 'targetImageFile', file: sample1Mirrored }, { name: 'threshold', value: '70' }]);
    const curlExample = multipart([{ name: 'sourceImage', file: sample1 }, { name: 'targetImage', file: sample1Mirrored }, { name: 'threshold', value: '70' }]);
    const expected = await api.v2('POST', '/faces/compare', reference.payload, reference.headers);
    assert.ok(ok(expected), JSON.stringify(expected.header));
    assert.deepEqual((await api.v2('POST', '/faces/compare', curlExample.payload, curlExample.headers)).data, expected.data);
    const mixed = multipart([{ name: 'sourceImage', file: sample1 }, { name: 'targetImageFile', file: sample1Mirrored }, { name: 'threshold', value: '70' }]);
    assert.deepEqual((await api.v2('POST', '/faces/compare', mixed.payload, mixed.headers)).data, expected.data);
    const doubled = multipart([{ name: 'sourceImage', file: sample1 }, { name: 'sourceImageFile', file: sample1 }, { name: 'targetImageUrl', value: 'https://example.com/a.jpg' }, { name: 'threshold', value: '70' }]);
    assert.equal(code(await api.v2('POST', '/faces/compare', doubled.payload, doubled.headers)), -40000);
  });

  test('threshold is required and bounded', async () => {
    const body = { sourceImage: { bytes: b64(sample1) }, targetImage: { bytes: b64(sample1) } };
    assert.equal(code(await api.v2('POST', '/faces/compare', body)), -40000);
    assert.equal(code(await api.v2('POST', '/faces/compare', { ...body, threshold: 101 })), -40000);
  });
});

describe('spoofing endpoint', () => {
  test('judges every face; aligned crops must be 224x224', async () => {
    const r = await api.v2('POST', '/spoofing', { image: { bytes: b64(sample1) }, spoofingCondition: 'weak' });
    assert.ok(ok(r));
    assert.equal(r.data.faceDetailCount, 3);
    for (const f of r.data.faceDetails) assert.equal(typeof f.spoofing, 'boolean');
    const crop = await sharp(sample1FaceCrop).resize(224, 224, { fit: 'fill' }).jpeg().toBuffer();
    const a = await api.v2('POST', '/spoofing', { image: { bytes: b64(crop) }, aligned: true });
    assert.ok(ok(a));
    assert.deepEqual(a.data.faceDetails[0].bbox, { x0: 0, y0: 0, x1: 0, y1: 0 });
    assert.deepEqual(a.data.faceDetails[0].landmarks, []);
    assert.equal(code(await api.v2('POST', '/spoofing', { image: { bytes: b64(sample1) }, aligned: true })), -45070);
    const v1 = await api.v1('POST', '/spoofing', { image: { bytes: b64(sample1) } });
    assert.equal(v1.data.faceDetailCount, 3);
  });

  test('aligned: true through v1.0 as through v2.0: one judgement of the whole crop, the same score', async () => {
    const crop = await sharp(sample1FaceCrop).resize(224, 224, { fit: 'fill' }).jpeg().toBuffer();
    for (const condition of ['weak', 'balanced', 'strict']) {
      const v1 = await api.v1('POST', '/spoofing', { image: { bytes: b64(crop) }, aligned: true, spoofingCondition: condition });
      const v2 = await api.v2('POST', '/spoofing', { image: { bytes: b64(crop) }, aligned: true, spoofingCondition: condition });
      assert.ok(ok(v1) && ok(v2));
      assert.equal(v1.data.faceDetailCount, 1);
      assert.equal(typeof v1.data.faceDetails[0].spoofing, 'boolean');
      assert.equal(v1.data.faceDetails[0].spoofing, v2.data.faceDetails[0].spoofing);
      assert.equal(v1.data.faceDetails[0].confidence, v2.data.faceDetails[0].confidence);
    }
    assert.equal(code(await api.v1('POST', '/spoofing', { image: { bytes: b64(sample1) }, aligned: true })), -45070);
  });
});

describe('face order: the largest face leads, as NHN documents (v1 and v2)', () => {
  /** Two copies of one face: the larger at the left edge, one 15 % smaller in the centre. */
  let twoPeople: Uint8Array;
  const area = (b: any) => (b.x1 - b.x0) * (b.y1 - b.y0);
  const centreOffset = (b: any) => Math.abs((b.x0 + b.x1) / 2 - 0.5);

  before(async () => {
    const d = await api.v2('POST', '/faces/detect', { image: { bytes: b64(sample1) } });
    const { x0, y0, x1, y1 } = d.data.faceDetails[0].bbox;
    const meta = await sharp(sample1).metadata();
    const [w, h] = [(x1 - x0) * meta.width!, (y1 - y0) * meta.height!];
    const region = { left: Math.max(0, Math.round(x0 * meta.width! - 0.4 * w)), top: Math.max(0, Math.round(y0 * meta.height! - 0.4 * h)), width: Math.round(1.8 * w), height: Math.round(1.8 * h) };
    const crop = await sharp(sample1).extract(region).toBuffer();
    const big = await sharp(crop).resize(300).toBuffer();
    const small = await sharp(crop).resize(285).toBuffer();
    const smallWidth = (await sharp(small).metadata()).width!;
    const canvas = sharp({ create: { width: 1000, height: 420, channels: 3, background: { r: 128, g: 128, b: 128 } } });
    twoPeople = new Uint8Array(await canvas.composite([{ input: big, left: 0, top: 10 }, { input: small, left: 500 - Math.round(smallWidth / 2), top: 20 }]).jpeg().toBuffer());
  });

  test('detect is largest first; register limit=1 stores the largest; compare, search and verify take it as the source face', async () => {
    const image = { bytes: b64(twoPeople) };
    for (const version of ['v1', 'v2'] as const) {
      const call = version === 'v1' ? api.v1 : api.v2;
      const detected = await call('POST', version === 'v1' ? '/detect' : '/faces/detect', { image });
      const boxes = detected.data.faceDetails.map((f: any) => f.bbox);
      assert.equal(boxes.length, 2, `${version} detect`);
      assert.ok(area(boxes[0]) > area(boxes[1]), `${version}: detect answers largest first`);
      // The case the old "most central of the near-largest" rule got wrong: the smaller face is central.
      assert.ok(area(boxes[1]) >= 0.8 * area(boxes[0]) && centreOffset(boxes[1]) < centreOffset(boxes[0]), 'fixture: a central face nearly as large');

      const group = `order-${version}`;
      assert.ok(ok(await call('POST', '/groups', { groupId: group })));
      const reg = version === 'v1' ? await api.v1('POST', `/groups/${group}`, { image, limit: 1 }) : await api.v2('POST', `/groups/${group}/faces`, { image, limit: 1 });
      assert.ok(ok(reg), JSON.stringify(reg.header));
      assert.deepEqual(reg.data.addedFaces[0].bbox, boxes[0], `${version}: register limit=1 stores the largest face`);
      assert.deepEqual(reg.data.notAddedFaces.map((f: any) => f.bbox), [boxes[1]]);
      const faceId = reg.data.addedFaces[0].faceId;

      const compare =
        version === 'v1'
          ? await api.v1('POST', '/compare?threshold=70', { sourceImage: image, targetImage: { bytes: b64(sample1) } })
          : await api.v2('POST', '/faces/compare', { sourceImage: image, targetImage: { bytes: b64(sample1) }, threshold: 70 });
      assert.deepEqual(compare.data.sourceFace.bbox, boxes[0], `${version}: compare's source face`);
      const search =
        version === 'v1'
          ? await api.v1('POST', `/groups/${group}/search?limit=10&threshold=1`, { image })
          : await api.v2('POST', `/groups/${group}/faces/search`, { image, limit: 10, threshold: 1 });
      assert.deepEqual(search.data.sourceFace.bbox, boxes[0], `${version}: search by image's source face`);
      const verify =
        version === 'v1'
          ? await api.v1('POST', `/verify/groups/${group}/faces/${faceId}`, { compareImage: image })
          : await api.v2('POST', `/groups/${group}/faces/${faceId}/verify`, { compareImage: image });
      assert.deepEqual(verify.data.sourceFace.bbox, boxes[0], `${version}: verify's source face`);
      assert.ok(ok(await api.v2('DELETE', `/groups/${group}`)));
    }
  });
  test("FACEREC_LEAD_FACE=central (opt-in) reaches the workers: the central face leads; other values are refused", async () => {
    assert.equal(loadConfig({}).leadFace, 'largest');
    assert.equal(loadConfig({ FACEREC_LEAD_FACE: 'central' }).leadFace, 'central');
    assert.throws(() => loadConfig({ FACEREC_LEAD_FACE: 'middle' }), /FACEREC_LEAD_FACE/);
    const pool = new EnginePool({ threads: 1, maxQueue: 2, leadFace: loadConfig({ FACEREC_LEAD_FACE: 'central' }).leadFace });
    try {
      const r = await pool.analyze(twoPeople);
      const centre = (f: (typeof r.faces)[number]) => Math.abs(f.box.x + f.box.width / 2 - r.width / 2);
      assert.equal(r.faces.length, 2);
      assert.ok(centre(r.faces[0]) < centre(r.faces[1]), 'the central face leads');
    } finally {
      await pool.close();
    }
  });
});

describe("what an NHN client's habits meet", () => {
  test('DELETE with NHN\'s "Content-Type: application/json" and no body deletes (v1 and v2, group and face)', async () => {
    const json = { 'content-type': 'application/json;charset=UTF-8' };
    const del = async (version: 'v1' | 'v2', path: string) => {
      const prefix = version === 'v1' ? `/nhn-face-reco/v1.0/appkeys/${api.appKey}` : `/v2.0/appkeys/${api.appKey}`;
      const res = await api.app.inject({ method: 'DELETE', url: prefix + path, headers: version === 'v2' ? { ...json, authorization: api.secretKey } : json });
      return JSON.parse(res.body);
    };
    for (const version of ['v1', 'v2'] as const) {
      const group = `del-json-${version}`;
      assert.ok(ok(await api.v2('POST', '/groups', { groupId: group })));
      const reg = await api.v2('POST', `/groups/${group}/faces`, { image: { bytes: b64(sample1) }, limit: 1 });
      const faceId = reg.data.addedFaces[0].faceId;
      const face = await del(version, `/groups/${group}/faces/${faceId}`);
      assert.ok(ok(face), `${version} delete face: ${JSON.stringify(face.header)}`);
      const gone = await del(version, `/groups/${group}`);
      assert.ok(ok(gone), `${version} delete group: ${JSON.stringify(gone.header)}`);
    }
  });

  test('a next-token fixes the limit: a limit beside it is not even parsed (v1 and v2)', async () => {
    for (const id of ['tok-a', 'tok-b', 'tok-c']) assert.ok(ok(await api.v2('POST', '/groups', { groupId: id })));
    for (const call of [api.v1, api.v2]) {
      const first = await call('GET', '/groups?limit=1');
      assert.notEqual(first.data.nextToken, '');
      const next = await call('GET', `/groups?limit=abc&next-token=${encodeURIComponent(first.data.nextToken)}`);
      assert.ok(ok(next), JSON.stringify(next.header));
      assert.equal(next.data.groups.length, 1, 'the token\'s limit of 1 holds');
    }
    for (const id of ['tok-a', 'tok-b', 'tok-c']) assert.ok(ok(await api.v2('DELETE', `/groups/${id}`)));
  });

  test('a group left from an older model can be listed and emptied, not registered into or searched', async () => {
    // The same data dir served by a runtime that reports another model version, as before an upgrade.
    const real = await engine();
    const older = await createRuntime(api.config, { modelVersion: 'facerec-older-model', analyze: (bytes, options) => real.analyze(bytes, options) });
    const app = (await older.apps.list())[0].appKey;
    await older.service.createGroup(app, 'old-model');
    const reg = await older.service.register(app, 'old-model', { bytes: sample1 }, { limit: 2 }, { orientation: true, mask: true, spoofing: false, spoofingCondition: 'balanced' });
    await older.close();
    assert.equal(reg.added.length, 2);

    for (const call of [api.v1, api.v2]) {
      const listed = await call('GET', '/groups/old-model/faces?limit=10');
      assert.ok(ok(listed), JSON.stringify(listed.header));
      assert.equal(listed.data.faces.length, 2);
    }
    assert.equal(code(await api.v2('POST', '/groups/old-model/faces', { image: { bytes: b64(sample1) }, limit: 1 })), -40000);
    assert.equal(code(await api.v2('POST', '/groups/old-model/faces/search', { image: { bytes: b64(sample1) }, limit: 10, threshold: 1 })), -40000);
    assert.ok(ok(await api.v2('DELETE', `/groups/old-model/faces/${reg.added[0].face.faceId}`)));
    assert.ok(ok(await api.v1('DELETE', `/groups/old-model/faces/${reg.added[1].face.faceId}`)));
    assert.equal((await api.v2('GET', '/groups/old-model')).data.faceCount, 0);
    assert.ok(ok(await api.v2('DELETE', '/groups/old-model')));
  });
});

describe('modelVersion: exactly where NHN documents it', () => {
  // docs/api-compatibility.md, "Where modelVersion appears": v1 answers carry it on the
  // operations whose reference table or example shows it; v2 answers carry it nowhere.
  const hasVersion = (d: unknown): boolean => JSON.stringify(d ?? {}).includes('"modelVersion"');

  test('every operation of both versions, checked one by one', async () => {
    const image = { bytes: b64(sample1) };
    const probe = { bytes: b64(sample1FaceCrop) };
    const v1 = async (method: string, path: string, body?: unknown) => {
      const r = await api.v1(method, path, body);
      assert.ok(ok(r) || code(r) === 40070, `v1 ${method} ${path}: ${JSON.stringify(r.header)}`);
      return r.data;
    };
    const v2 = async (method: string, path: string, body?: unknown) => {
      const r = await api.v2(method, path, body);
      assert.ok(ok(r) || code(r) === 40070, `v2 ${method} ${path}: ${JSON.stringify(r.header)}`);
      return r.data;
    };

    await v1('POST', '/groups', { groupId: 'mv-one' });
    const reg1 = await v1('POST', '/groups/mv-one', { image, limit: 2 });
    const face1 = reg1.addedFaces[0].faceId as string;
    const v1Answers: [string, unknown, boolean][] = [
      ['list groups', (await v1('GET', '/groups?limit=200')).groups.find((g: any) => g.groupId === 'mv-one'), true],
      ['group details', (await v1('GET', '/groups/mv-one')).groups[0], true],
      ['register', reg1, true],
      ['list faces', await v1('GET', '/groups/mv-one/faces?limit=10'), true],
      ['search by image', await v1('POST', '/groups/mv-one/search?limit=10&threshold=1', { image: probe }), true],
      ['compare', await v1('POST', '/compare?threshold=70', { sourceImage: image, targetImage: image }), true],
      ['detect', await v1('POST', '/detect', { image }), false],
      ['search by faceId', await v1('GET', `/groups/mv-one/faces/${face1}?limit=10&threshold=1`), false],
      ['verify', await v1('POST', `/verify/groups/mv-one/faces/${face1}`, { compareImage: probe }), false],
      ['spoofing', await v1('POST', '/spoofing', { image }), false],
    ];
    for (const [operation, data, expected] of v1Answers) assert.equal(hasVersion(data), expected, `v1 ${operation}`);

    await v2('POST', '/groups', { groupId: 'mv-two' });
    const reg2 = await v2('POST', '/groups/mv-two/faces', { image, limit: 2 });
    const face2 = reg2.addedFaces[0].faceId as string;
    const v2Answers: [string, unknown][] = [
      ['list groups', await v2('GET', '/groups?limit=200')],
      ['group details', await v2('GET', '/groups/mv-two')],
      ['register', reg2],
      ['list faces', await v2('GET', '/groups/mv-two/faces?limit=10')],
      ['search by image', await v2('POST', '/groups/mv-two/faces/search', { image: probe, limit: 10, threshold: 1 })],
      ['compare', await v2('POST', '/faces/compare', { sourceImage: image, targetImage: image, threshold: 70 })],
      ['detect', await v2('POST', '/faces/detect', { image })],
      ['search by faceId', await v2('GET', `/groups/mv-two/faces/${face2}/search?limit=10&threshold=1`)],
      ['verify', await v2('POST', `/groups/mv-two/faces/${face2}/verify`, { compareImage: probe })],
      ['spoofing', await v2('POST', '/spoofing', { image })],
    ];
    for (const [operation, data] of v2Answers) assert.equal(hasVersion(data), false, `v2 ${operation}`);

    for (const path of ['/groups/mv-one', '/groups/mv-two']) assert.ok(ok(await api.v2('DELETE', path)));
  });

  test('the version the docs and the OpenAPI document quote is the one the server reports', async () => {
    assert.ok(ok(await api.v1('POST', '/groups', { groupId: 'mv-docs' })));
    const reported = (await api.v1('GET', '/groups/mv-docs')).data.groups[0].modelVersion as string;
    const docs = readFileSync(new URL('../docs/api-compatibility.md', import.meta.url), 'utf8');
    const quoted = [...docs.matchAll(/`(facerec-[a-z0-9.-]+)`/g)].map((m) => m[1]);
    assert.ok(quoted.length > 0, 'docs quote no modelVersion');
    for (const q of quoted) assert.equal(q, reported);
    const openapi = (await api.app.inject({ method: 'GET', url: '/openapi.json' })).body;
    const examples = [...openapi.matchAll(/"(facerec-[a-z0-9.-]+)"/g)].map((m) => m[1]);
    assert.ok(examples.length > 0, 'the OpenAPI document shows no modelVersion example');
    for (const e of examples) assert.equal(e, reported, 'OpenAPI example');
    assert.ok(ok(await api.v2('DELETE', '/groups/mv-docs')));
  });
});

describe('API v1.0', () => {
  test('every operation under its v1 path and shape', async () => {
    assert.ok(ok(await api.v1('POST', '/groups', { groupId: 'v1-group' })));
    const list = await api.v1('GET', '/groups?limit=200');
    assert.ok(list.data.groups.some((g: any) => g.groupId === 'v1-group' && typeof g.modelVersion === 'string'));
    const details = await api.v1('GET', '/groups/v1-group');
    assert.equal(details.data.groupCount, 1);
    assert.equal(details.data.groups[0].groupId, 'v1-group');
    assert.equal(typeof details.data.groups[0].modelVersion, 'string');

    const det = await api.v1('POST', '/detect', { image: { bytes: b64(sample1) } });
    assert.equal(det.data.faceDetailCount, 3);

    const reg = await api.v1('POST', '/groups/v1-group', { image: { bytes: b64(sample1) }, limit: 3 });
    assert.ok(ok(reg));
    assert.equal(typeof reg.data.modelVersion, 'string');
    const ids = reg.data.addedFaces.map((f: any) => f.faceId);

    const faces = await api.v1('GET', '/groups/v1-group/faces?limit=10');
    assert.equal(faces.data.faceCount, 3);
    assert.equal(typeof faces.data.modelVersion, 'string');

    const byId = await api.v1('GET', `/groups/v1-group/faces/${ids[0]}?limit=10&threshold=1`);
    assert.ok(ok(byId));
    assert.ok(byId.data.matchFaces.every((m: any) => m.face.faceId !== ids[0]));

    const byImage = await api.v1('POST', '/groups/v1-group/search?limit=3&threshold=50', { image: { bytes: b64(sample1FaceCrop) } });
    assert.equal(byImage.data.matchFaces[0].face.faceId, ids[0]);
    assert.equal(typeof byImage.data.modelVersion, 'string');

    const cmp = await api.v1('POST', '/compare?threshold=70', { sourceImage: { bytes: b64(sample1) }, targetImage: { bytes: b64(sample1Mirrored) } });
    assert.equal(cmp.data.matchedFaceDetailCount, 1);
    assert.equal(typeof cmp.data.modelVersion, 'string');

    const ver = await api.v1('POST', `/verify/groups/v1-group/faces/${ids[0]}`, { compareImage: { bytes: b64(sample1FaceCrop) } });
    assert.ok(ver.data.similarity >= 70);

    assert.ok(ok(await api.v1('DELETE', `/groups/v1-group/faces/${ids[1]}`)));
    assert.equal(code(await api.v1('DELETE', `/groups/v1-group/faces/${ids[1]}`)), -40050);
    assert.ok(ok(await api.v1('DELETE', '/groups/v1-group')));
    assert.equal(code(await api.v1('GET', '/groups/v1-group')), -40030);
  });

  test('v1 takes JSON only', async () => {
    const mp = multipart([{ name: 'image', file: sample1 }]);
    const res = await api.app.inject({ method: 'POST', url: `/nhn-face-reco/v1.0/appkeys/${api.appKey}/detect`, payload: mp.payload, headers: mp.headers });
    assert.equal(JSON.parse(res.body).header.resultCode, -40000);
  });
});

describe('persistence', () => {
  test('faces survive a restart and stay searchable', async () => {
    const restartDir = (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'facerec-restart-'));
    const first = await startApi({}, restartDir);
    assert.ok(ok(await first.v2('POST', '/groups', { groupId: 'keep' })));
    const reg = await first.v2('POST', '/groups/keep/faces', { image: { bytes: b64(sample1) }, limit: 1 });
    const faceId = reg.data.addedFaces[0].faceId;
    await first.close();

    const second = await startApi({}, restartDir);
    try {
      const faces = await second.v2('GET', '/groups/keep/faces?limit=10');
      assert.deepEqual(faces.data.faces.map((f: any) => f.faceId), [faceId]);
      const s = await second.v2('POST', '/groups/keep/faces/search', { image: { bytes: b64(sample1FaceCrop) }, limit: 1, threshold: 50 });
      assert.equal(s.data.matchFaces[0].face.faceId, faceId);
    } finally {
      await second.dispose();
    }
  });
});
