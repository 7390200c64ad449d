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
