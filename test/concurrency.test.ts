// Races between requests: the group quota holds under parallel registers, the group count quota
// under parallel creates, create/delete storms on one group leave no orphan faces, and a search
// never returns a face whose deletion finished before the search began.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './support/api-helpers.js';
import { checkStoreOf } from './support/db-checks.js';
import { faceCrops, groupPhoto } from './support/face-crops.js';
import { seededRandom } from './support/nhn-http.js';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const code = (r: any): number => r.header.resultCode;

let crops: Uint8Array[];
let photo3: Uint8Array; // three recognisable faces
before(async () => {
  crops = await faceCrops(8);
  photo3 = await groupPhoto();
});

describe('quotas under parallel requests', () => {
  const QUOTA = 5;
  let api: TestApi;
  before(async () => {
    api = await startApi({ limits: { maxFacesPerGroup: QUOTA, maxGroupsPerApp: 4 } as never });
  });
  after(() => api.dispose());

  test(`parallel registers never push a group past its quota of ${QUOTA} faces`, async () => {
    for (const groupId of ['quota-a', 'quota-b', 'quota-c']) {
      assert.equal(code(await api.v2('POST', '/groups', { groupId })), 0);
      // 12 one-face and 4 three-face registers, v1 and v2 mixed: 24 faces offered for 5 places.
      const calls = [
        ...crops.map((c, i) => () => (i % 2 ? api.v1('POST', `/groups/${groupId}`, { image: { bytes: b64(c) }, limit: 1 }) : api.v2('POST', `/groups/${groupId}/faces`, { image: { bytes: b64(c) }, limit: 1 }))),
        ...crops.slice(0, 4).map((c) => () => api.v2('POST', `/groups/${groupId}/faces`, { image: { bytes: b64(c) }, limit: 1 })),
        ...Array.from({ length: 4 }, () => () => api.v2('POST', `/groups/${groupId}/faces`, { image: { bytes: b64(photo3) }, limit: 3 })),
      ];
      const answers = await Promise.all(calls.map((call) => call()));
      const codes = answers.map(code);
      assert.deepEqual(codes.filter((c) => ![0, 40070, -40070].includes(c)), [], `unexpected codes ${codes}`);
      const added = answers.filter((r) => r.header.isSuccessful).reduce((n, r) => n + r.data.addedFaceCount, 0);
      assert.equal(added, QUOTA, `answers acknowledged ${added} faces (codes ${codes})`);
      assert.ok(codes.filter((c) => c === 40070).length <= 1, 'only the register that crossed the quota is a partial success');
      const details = await api.v2('GET', `/groups/${groupId}`);
      const listed = await api.v2('GET', `/groups/${groupId}/faces?limit=50`);
      assert.equal(details.data.faceCount, QUOTA);
      assert.equal(listed.data.faceCount, QUOTA);
    }
    assert.deepEqual((await checkStoreOf(api)).problems, []);
  });

  test('parallel creates never exceed the groups-per-app quota, and a doubled id is created once', async () => {
    // Three groups exist from the test above; the quota is 4.
    const answers = await Promise.all(['extra-1', 'extra-2', 'extra-3', 'extra-1', 'extra-2'].map((groupId) => api.v2('POST', '/groups', { groupId })));
    const codes = answers.map(code);
    assert.equal(codes.filter((c) => c === 0).length, 1, `codes ${codes}`);
    assert.deepEqual(codes.filter((c) => ![0, -40070, -40020].includes(c)), []);
    const groups = await api.v2('GET', '/groups?limit=50');
    assert.equal(groups.data.groupCount, 4);
  });
});

describe('create/delete storms on one group', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.dispose());

  test('parallel create, delete, register and search of the same group leave no orphan face and no ghost in the index', async () => {
    const rng = seededRandom(4242);
    const tally = new Map<string, number>();
    for (let round = 0; round < 25; round++) {
      const ops: (() => Promise<[string, any]>)[] = [
        ...Array.from({ length: 3 }, () => async () => ['create', await api.v2('POST', '/groups', { groupId: 'storm' })] as [string, any]),
        ...Array.from({ length: 3 }, () => async () => ['delete', await api.v2('DELETE', '/groups/storm')] as [string, any]),
        ...Array.from({ length: 4 }, (_, i) => async () => ['register', await api.v2('POST', '/groups/storm/faces', { image: { bytes: b64(crops[(round + i) % crops.length]) }, limit: 1 })] as [string, any]),
        async () => ['search', await api.v2('POST', '/groups/storm/faces/search', { image: { bytes: b64(crops[round % crops.length]) }, limit: 100, threshold: 1 })] as [string, any],
        async () => ['list', await api.v2('GET', '/groups/storm/faces?limit=100')] as [string, any],
      ];
      // Seeded shuffle: a different interleaving each round, the same on every run.
      for (let i = ops.length - 1; i > 0; i--) {
        const j = Math.floor(rng() * (i + 1));
        [ops[i], ops[j]] = [ops[j], ops[i]];
      }
      const answers = await Promise.all(ops.map((op) => op()));
      for (const [kind, r] of answers) {
        const allowed: Record<string, number[]> = { create: [0, -40020], delete: [0, -40030], register: [0, -40030], search: [0, -40030], list: [0, -40030] };
        assert.ok(allowed[kind].includes(code(r)), `${kind} answered ${code(r)}`);
        tally.set(`${kind} ${code(r)}`, (tally.get(`${kind} ${code(r)}`) ?? 0) + 1);
      }

      const db = await checkStoreOf(api);
      assert.deepEqual(db.problems, [], `round ${round}`);
      const details = await api.v2('GET', '/groups/storm');
      if (code(details) === -40030) {
        assert.equal(db.faces, 0, `round ${round}: the group is gone but ${db.faces} faces remain`);
        continue;
      }
      // The group exists: its index holds exactly its stored faces, nothing of a deleted incarnation.
      const listed = await api.v2('GET', '/groups/storm/faces?limit=100');
      const stored = new Set(listed.data.faces.map((f: { faceId: string }) => f.faceId));
      assert.equal(details.data.faceCount, stored.size);
      for (const c of crops) {
        const s = await api.v2('POST', '/groups/storm/faces/search', { image: { bytes: b64(c) }, limit: 100, threshold: 1 });
        for (const m of s.data.matchFaces) assert.ok(stored.has(m.face.faceId), `round ${round}: search returned ${m.face.faceId}, which is not stored`);
      }
    }
    console.log(`storm outcomes: ${[...tally].map(([k, n]) => `${k}: ${n}`).join(', ')}`);
    // The storm must have exercised both sides of the race.
    assert.ok((tally.get('register 0') ?? 0) > 0 && (tally.get('register -40030') ?? 0) > 0, 'registers both landed and missed the group');
  });
});

describe('searches racing deletes', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.dispose());

  test('a search never returns a face whose deletion was acknowledged before the search started', async () => {
    assert.equal(code(await api.v2('POST', '/groups', { groupId: 'race' })), 0);
    const faces: string[] = [];
    for (const bytes of [...crops, photo3]) {
      const r = await api.v2('POST', '/groups/race/faces', { image: { bytes: b64(bytes) }, limit: 3 });
      assert.equal(code(r), 0);
      faces.push(...r.data.addedFaces.map((f: { faceId: string }) => f.faceId));
    }
    const keeper = faces[0];
    const deletedAt = new Map<string, number>(); // faceId → when its delete was acknowledged
    let groupDeletedAt = Infinity;
    const violations: string[] = [];
    let searches = 0;
    let done = false;

    const check = (kind: string, startedAt: number, r: any) => {
      searches++;
      if (startedAt > groupDeletedAt && code(r) !== -40030) violations.push(`${kind} after the group delete answered ${code(r)}`);
      for (const m of r.data?.matchFaces ?? []) {
        const at = deletedAt.get(m.face.faceId);
        if (at !== undefined && at < startedAt) violations.push(`${kind} returned ${m.face.faceId}, deleted ${(startedAt - at).toFixed(1)} ms before the search began`);
      }
    };
    const searchers = Array.from({ length: 3 }, (_, i) => async () => {
      for (let n = 0; !done; n++) {
        const startedAt = performance.now();
        if ((n + i) % 3 === 0) {
          check('search by image', startedAt, await api.v2('POST', '/groups/race/faces/search', { image: { bytes: b64(crops[n % crops.length]) }, limit: 100, threshold: 1 }));
        } else if ((n + i) % 3 === 1) {
          check('v2 search by faceId', startedAt, await api.v2('GET', `/groups/race/faces/${keeper}/search?limit=100&threshold=1`));
        } else {
          check('v1 search by faceId', startedAt, await api.v1('GET', `/groups/race/faces/${keeper}?limit=100&threshold=1`));
        }
      }
    });
    const deleter = async () => {
      for (const faceId of faces.slice(1)) {
        const r = await api.v2('DELETE', `/groups/race/faces/${faceId}`);
        assert.equal(code(r), 0);
        deletedAt.set(faceId, performance.now());
        await new Promise((r) => setTimeout(r, 5));
      }
      const r = await api.v2('DELETE', '/groups/race');
      assert.equal(code(r), 0);
      groupDeletedAt = performance.now();
      await new Promise((r) => setTimeout(r, 100));
      done = true;
    };
    await Promise.all([deleter(), ...searchers.map((s) => s())]);
    console.log(`${searches} searches raced ${faces.length - 1} face deletes and a group delete`);
    assert.deepEqual(violations, []);
    assert.ok(searches > faces.length, 'searches ran throughout the deletes');
  });
});
