import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { startApi, type TestApi } from './support/api-helpers.js';
import { fixture } from './support/fixtures.js';
import { FacerecApiError, FacerecClient, FacerecProtocolError, ResultCodes } from '../src/client/index.js';

/** The client always talks real HTTP: the test API listens on an ephemeral loopback port. */
async function listen(api: TestApi): Promise<string> {
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
}

const rejectsWith = (p: Promise<unknown>, resultCode: number) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof FacerecApiError, `expected FacerecApiError, got ${String(e)}`);
    assert.equal(e.resultCode, resultCode);
    assert.equal(typeof e.resultMessage, 'string');
    return true;
  });

const collect = async <T>(it: AsyncIterable<T>) => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

let api: TestApi;
let client: FacerecClient;
let baseUrl: string;
const sample1 = fixture('sample1.jpg'); // 3 faces
const sample5 = fixture('sample5.jpg'); // 5 faces

before(async () => {
  // Private URLs allowed so that `{url}` images can be served from this test process.
  api = await startApi({ allowPrivateUrls: true });
  baseUrl = await listen(api);
  client = new FacerecClient({ baseUrl: baseUrl + '/', appKey: api.appKey, secretKey: api.secretKey });
});
after(() => api.dispose());

describe('FacerecClient: groups', () => {
  test('create, get, duplicate, delete, not found', async () => {
    await client.createGroup('staff');
    const g = await client.getGroup('staff');
    assert.equal(g.groupId, 'staff');
    assert.equal(g.faceCount, 0);
    assert.match(g.createTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    await rejectsWith(client.createGroup('staff'), ResultCodes.DuplicatedGroupId);
    await rejectsWith(client.createGroup('Bad Id'), ResultCodes.InvalidGroupId);
    await client.deleteGroup('staff');
    await rejectsWith(client.getGroup('staff'), ResultCodes.NotFoundGroup);
    await rejectsWith(client.deleteGroup('staff'), ResultCodes.NotFoundGroup);
  });

  test('listGroupsPage pages with tokens; listGroups iterates over every page', async () => {
    const ids = ['g-a', 'g-b', 'g-c', 'g-d', 'g-e'];
    for (const id of ids) await client.createGroup(id);
    const first = await client.listGroupsPage({ limit: 2 });
    assert.equal(first.groupCount, 2);
    assert.ok(first.nextToken);
    const second = await client.listGroupsPage({ limit: 2, nextToken: first.nextToken });
    assert.deepEqual(second.groups.map((g) => g.groupId), ['g-c', 'g-d']);
    const all = await collect(client.listGroups({ pageSize: 2 }));
    assert.deepEqual(all.map((g) => g.groupId), ids);
    await rejectsWith(client.listGroupsPage({ limit: 2, nextToken: 'forged' }), ResultCodes.InvalidToken);
    for (const id of ids) await client.deleteGroup(id);
  });
});

describe('FacerecClient: images', () => {
  test('detect returns typed face details and honours the flags', async () => {
    const r = await client.detect(sample1);
    assert.equal(r.faceDetailCount, 3);
    const f = r.faceDetails[0];
    assert.ok(f.bbox.x1 > f.bbox.x0 && f.confidence > 0.5);
    assert.equal(f.landmarks.length, 5);
    assert.equal(typeof f.orientation?.x, 'number');
    assert.equal(typeof f.mask, 'boolean');
    assert.equal(f.spoofing, undefined);
    const flagged = await client.detect(sample1, { orientation: false, mask: false, spoofing: true, spoofingCondition: 'strict' });
    assert.equal(flagged.faceDetails[0].orientation, undefined);
    assert.equal(typeof flagged.faceDetails[0].spoofing, 'boolean');
  });

  test('image errors arrive as FacerecApiError with NHN codes', async () => {
    await rejectsWith(client.detect(new TextEncoder().encode('GIF89a not really')), ResultCodes.InvalidImageFormat);
    await rejectsWith(client.detect(sample1.subarray(0, 2000)), ResultCodes.InvalidImageFile);
    await rejectsWith(client.detect(new Uint8Array(0)), ResultCodes.InvalidImageBytes);
  });

  test('{url} images are downloaded by the server', async () => {
    // facerec only fetches from ports 80, 443 and 10000–12000: find a free one in that range.
    const server = createServer((_req, res) => res.end(Buffer.from(sample1)));
    const port = await listenInRange(server, 10000, 12000);
    try {
      const r = await client.detect({ url: `http://127.0.0.1:${port}/group.jpg` });
      assert.equal(r.faceDetailCount, 3);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    await rejectsWith(client.detect({ url: 'ftp://example.com/a.jpg' }), ResultCodes.InvalidImageUrl);
  });

  test('compare splits target faces at the threshold', async () => {
    const r = await client.compare(sample1, sample1, { threshold: 90, orientation: false });
    assert.equal(r.matchedFaceDetailCount, 1, 'only the same face matches itself');
    assert.ok(r.matchedFaceDetails[0].similarity >= 90);
    assert.equal(r.unmatchedFaceDetailCount, 2);
    assert.equal(r.sourceFace.orientation, undefined);
    await rejectsWith(client.compare(sample1, sample1, { threshold: 0 }), ResultCodes.InvalidParam);
  });

  test('spoofing judges every face; aligned crops must be 224×224', async () => {
    const r = await client.spoofing(sample5, { spoofingCondition: 'weak' });
    assert.equal(r.faceDetailCount, 5);
    assert.ok(r.faceDetails.every((f) => typeof f.spoofing === 'boolean'));
    const aligned = new Uint8Array(await sharp(sample1).resize(224, 224, { fit: 'fill' }).jpeg().toBuffer());
    const one = await client.spoofing(aligned, { aligned: true });
    assert.equal(one.faceDetailCount, 1);
    await rejectsWith(client.spoofing(sample1, { aligned: true }), ResultCodes.InvalidImageSize);
  });
});

describe('FacerecClient: faces in a group', () => {
  let faceIds: string[];
  before(async () => {
    await client.createGroup('people');
  });

  test('registerFaces adds the largest `limit` faces with an externalImageId', async () => {
    const r = await client.registerFaces('people', sample5, { limit: 4, externalImageId: 'stairs.jpg' });
    assert.equal(r.resultCode, 0);
    assert.equal(r.addedFaceCount, 4);
    assert.equal(r.notAddedFaceCount, 1);
    assert.ok(r.addedFaces.every((f) => f.externalImageId === 'stairs.jpg' && f.imageId === r.addedFaces[0].imageId));
    const again = await client.registerFaces('people', sample1, { limit: 1 });
    assert.equal(again.addedFaces[0].externalImageId, undefined);
    faceIds = [...r.addedFaces, ...again.addedFaces].map((f) => f.faceId);
    assert.equal((await client.getGroup('people')).faceCount, 5);
    await rejectsWith(client.registerFaces('nobody', sample1, { limit: 1 }), ResultCodes.NotFoundGroup);
    await rejectsWith(client.registerFaces('people', sample1, { limit: 1, externalImageId: 'bad id!' }), ResultCodes.InvalidParam);
  });

  test('listFacesPage filters; listFaces iterates over every page', async () => {
    const page = await client.listFacesPage('people', { limit: 10, externalImageId: 'stairs.jpg' });
    assert.equal(page.faceCount, 4);
    assert.equal(page.nextToken, '', 'the last page carries an empty nextToken, as NHN specifies');
    const byId = await client.listFacesPage('people', { limit: 10, faceId: faceIds[0] });
    assert.deepEqual(byId.faces.map((f) => f.faceId), [faceIds[0]]);
    const all = await collect(client.listFaces('people', { pageSize: 2 }));
    assert.deepEqual(new Set(all.map((f) => f.faceId)), new Set(faceIds));
    const filtered = await collect(client.listFaces('people', { pageSize: 3, externalImageId: 'stairs.jpg' }));
    assert.equal(filtered.length, 4);
  });

  test('searchByFaceId and searchByImage', async () => {
    const byId = await client.searchByFaceId('people', faceIds[0], { limit: 10, threshold: 1 });
    assert.ok(byId.matchFaces.every((m) => m.face.faceId !== faceIds[0]), 'the query face is not a result');
    assert.equal(byId.matchFaceCount, byId.matchFaces.length);
    const byImage = await client.searchByImage('people', sample1, { limit: 3, threshold: 90 });
    assert.equal(byImage.matchFaces[0].face.faceId, faceIds[4], 'the registered sample1 face comes first');
    assert.ok(byImage.sourceFace.bbox);
    await rejectsWith(client.searchByFaceId('people', '00000000-0000-0000-0000-000000000000', { limit: 1, threshold: 1 }), ResultCodes.NotFoundFaceId);
  });

  test('verify scores one stored face against an image', async () => {
    const same = await client.verify('people', faceIds[4], sample1);
    assert.ok(same.similarity >= 90);
    assert.equal(same.face.faceId, faceIds[4]);
    const other = await client.verify('people', faceIds[0], sample1, { spoofing: true });
    assert.ok(other.similarity < same.similarity);
    assert.equal(typeof other.sourceFace.spoofing, 'boolean');
  });

  test('deleteFace removes it; a second delete is -40050', async () => {
    await client.deleteFace('people', faceIds[4]);
    await rejectsWith(client.deleteFace('people', faceIds[4]), ResultCodes.NotFoundFaceId);
    assert.equal((await client.getGroup('people')).faceCount, 4);
  });
});

describe('FacerecClient: privacy extension', () => {
  test('register with consent, subject access as JSON and CSV, erasure', async () => {
    await client.createGroup('priv-1');
    await client.createGroup('priv-2');
    const a = await client.registerFacesWithConsent('priv-1', sample1, { limit: 2, externalImageId: 'client-subject', consentRef: 'form-3', purpose: 'entry, "front"' });
    assert.equal(a.resultCode, ResultCodes.Success);
    assert.equal(a.addedFaceCount, 2);
    await client.registerFaces('priv-2', sample1, { limit: 1, externalImageId: 'client-subject' });
    const access = await client.subjectAccess('client-subject');
    assert.equal(access.faceCount, 3);
    const consented = access.faces.filter((f) => f.groupId === 'priv-1');
    assert.deepEqual(consented.map((f) => [f.consentRef, f.purpose]), [['form-3', 'entry, "front"'], ['form-3', 'entry, "front"']]);
    assert.equal(access.faces.find((f) => f.groupId === 'priv-2')?.consentRef, undefined);
    const csv = await client.subjectAccessCsv('client-subject');
    assert.equal(csv.split('\r\n')[0], 'groupId,faceId,imageId,externalImageId,createTime,x0,y0,x1,y1,confidence,consentRef,purpose');
    assert.equal(csv.trim().split('\r\n').length, 4);
    assert.ok(csv.includes('form-3,"entry, ""front"""'));
    await rejectsWith(client.registerFacesWithConsent('priv-1', sample1, { limit: 1, purpose: '' }), ResultCodes.InvalidParam);
    await rejectsWith(client.subjectAccessCsv('bad id'), ResultCodes.InvalidParam);
    const erased = await client.eraseSubject('client-subject');
    assert.equal(erased.deletedFaceCount, 3);
    assert.deepEqual(erased.groups.map((g) => g.groupId).sort(), ['priv-1', 'priv-2']);
    assert.equal((await client.subjectAccess('client-subject')).faceCount, 0);
    assert.equal((await client.eraseSubject('client-subject')).deletedFaceCount, 0);
  });

  test('audit log: a page by subject and time, and every entry by iteration', async () => {
    const page = await client.auditLogPage({ externalImageId: 'client-subject', from: new Date(Date.now() - 3_600_000) });
    assert.deepEqual(page.entries.map((e) => e.action), ['register', 'register', 'export', 'export', 'erase', 'export', 'erase']);
    assert.equal(page.entryCount, page.entries.length);
    assert.equal((await client.auditLogPage({ to: '2000-01-01T00:00:00Z' })).entryCount, 0);
    const all = await collect(client.auditLog({ pageSize: 3 }));
    const seqs = all.map((e) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y));
    assert.equal(new Set(seqs).size, seqs.length, 'no entry twice across pages');
    assert.ok(all.length > 3);
    const afterFirst = await collect(client.auditLog({ afterSeq: seqs[0] }));
    assert.deepEqual(afterFirst.map((e) => e.seq), seqs.slice(1), 'reading the log is not itself logged');
    await rejectsWith(client.auditLogPage({ limit: 0 }), ResultCodes.InvalidParam);
  });

  test('retention: set, show and clear, for the app and a group', async () => {
    await client.setAppRetention(30);
    await client.setGroupRetention('priv-1', 7);
    assert.deepEqual(await client.getRetention(), { defaultRetentionDays: 30, groups: [{ groupId: 'priv-1', retentionDays: 7 }] });
    await rejectsWith(client.setGroupRetention('no-such-group', 7), ResultCodes.NotFoundGroup);
    await rejectsWith(client.setAppRetention(0), ResultCodes.InvalidParam);
    await client.clearGroupRetention('priv-1');
    await client.clearAppRetention();
    assert.deepEqual(await client.getRetention(), { groups: [] });
  });

  test('another app\'s credentials see nothing of this app, and a wrong secret is -41005', async () => {
    const keys = await api.runtime.apps.create({ secretKey: 'client-other' });
    const theirs = new FacerecClient({ baseUrl, appKey: keys.appKey, secretKey: 'client-other' });
    await client.registerFaces('priv-1', sample1, { limit: 1, externalImageId: 'kept' });
    assert.equal((await theirs.subjectAccess('kept')).faceCount, 0);
    assert.equal((await theirs.eraseSubject('kept')).deletedFaceCount, 0);
    await rejectsWith(theirs.registerFacesWithConsent('priv-1', sample1, { limit: 1, consentRef: 'x' }), ResultCodes.NotFoundGroup);
    assert.ok((await collect(theirs.auditLog())).every((e) => e.action === 'export' || e.action === 'erase'));
    assert.equal((await client.subjectAccess('kept')).faceCount, 1);
    const wrong = new FacerecClient({ baseUrl, appKey: api.appKey, secretKey: 'wrong' });
    await rejectsWith(wrong.subjectAccessCsv('kept'), ResultCodes.UnauthorizedAppKeyOrSecretKey);
    await rejectsWith(wrong.getRetention(), ResultCodes.UnauthorizedAppKeyOrSecretKey);
    await api.runtime.apps.delete(keys.appKey);
  });
});

describe('FacerecClient: envelopes', () => {
  test('a register that fills the group resolves with +40070; a full group throws -40070', async () => {
    const small = await startApi({ limits: { maxFacesPerGroup: 2 } as never });
    try {
      const c = new FacerecClient({ baseUrl: await listen(small), appKey: small.appKey, secretKey: small.secretKey });
      await c.createGroup('tiny');
      const r = await c.registerFaces('tiny', sample1, { limit: 3 });
      assert.equal(r.resultCode, ResultCodes.PartialSuccessQuotaExceeded);
      assert.equal(r.addedFaceCount, 2);
      assert.equal(r.notAddedFaceCount, 1);
      await rejectsWith(c.registerFaces('tiny', sample1, { limit: 1 }), ResultCodes.QuotaExceeded);
    } finally {
      await small.dispose();
    }
  });

  test('a wrong secret is -41005 and carries the request id', async () => {
    const bad = new FacerecClient({ baseUrl, appKey: api.appKey, secretKey: 'wrong' });
    await assert.rejects(bad.getGroup('people'), (e: unknown) => e instanceof FacerecApiError && e.resultCode === -41005 && typeof e.requestId === 'string');
  });

  test('a refusal carries the server\'s reason: detail, and in the message', async () => {
    await assert.rejects(client.listGroupsPage({ limit: 500 }), (e: unknown) => {
      assert.ok(e instanceof FacerecApiError);
      assert.equal(e.resultCode, ResultCodes.InvalidParam);
      assert.equal(e.resultMessage, 'InvalidParam');
      assert.equal(e.detail, 'limit must be an integer from 1 to 200; it is 500');
      assert.equal(e.message, 'InvalidParam (resultCode -40000): limit must be an integer from 1 to 200; it is 500');
      return true;
    });
    await assert.rejects(client.detect({ url: 'http://images.example.com:22/face.jpg' }), (e: unknown) => {
      assert.ok(e instanceof FacerecApiError && e.resultCode === ResultCodes.InvalidImageUrl);
      assert.match(e.detail ?? '', /port 22, which is not allowed; allowed ports are 80, 443 and 10000–12000/);
      return true;
    });
  });

  test('an NHN server sends no detail: the message is NHN\'s name and code', async () => {
    const nhn = new FacerecClient({
      baseUrl,
      appKey: 'k',
      secretKey: 's',
      fetch: async () => Response.json({ header: { isSuccessful: false, resultCode: -40030, resultMessage: 'NotFoundGroupError' } }),
    });
    await assert.rejects(nhn.getGroup('x'), (e: unknown) => e instanceof FacerecApiError && e.detail === undefined && e.message === 'NotFoundGroupError (resultCode -40030)');
  });

  test('an answer that is not an envelope is a FacerecProtocolError', async () => {
    const proxy = new FacerecClient({ baseUrl, appKey: 'k', secretKey: 's', fetch: async () => new Response('<html>Bad Gateway</html>', { status: 502 }) });
    await assert.rejects(proxy.getGroup('x'), (e: unknown) => e instanceof FacerecProtocolError && e.httpStatus === 502);
  });
});

async function listenInRange(server: Server, from: number, to: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = from + Math.floor(Math.random() * (to - from));
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) return port;
  }
  throw new Error(`no free port in ${from}-${to}`);
}
