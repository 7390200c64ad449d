/**
 * Access control: every route of both API versions refuses missing or wrong credentials, and one
 * app can never see, search, change or delete another app's groups and faces.
 *
 * The route list is read from the server itself (`printRoutes`), so a route added later without
 * being covered here fails the "route table" test instead of silently escaping it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createRuntime, type Runtime } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildServer } from '../src/http/server.js';
import { b64, engine } from './support/api-helpers.js';
import { fixture } from './support/fixtures.js';
import { databaseEnv, dropDatabase } from './support/test-database.js';

const V1 = '/nhn-face-reco/v1.0/appkeys/:appKey';
const V2 = '/v2.0/appkeys/:appKey';
/**
 * Routes outside the two NHN prefixes, by first path segment. They take no appKey and serve no
 * tenant data; a new one must be added here on purpose (or moved behind a prefix).
 */
// '' is `GET /`, a redirect to the console (test/front-door.test.ts).
const PUBLIC_TOP_LEVEL = new Set(['', 'health', 'ready', 'metrics', 'docs', 'openapi.json', 'console']);

interface App {
  appKey: string;
  secretKey: string;
}
interface Route {
  method: string;
  path: string;
}
interface Answer {
  status: number;
  resultCode?: number;
  isSuccessful?: boolean;
  data?: any;
  hasData: boolean;
}

let dataDir: string;
let runtime: Runtime;
let server: FastifyInstance;
let appA: App;
let appB: App;
/** Calls into the domain, by method name: a refused request must not reach it at all. */
const serviceCalls = new Map<string, number>();
const totalServiceCalls = () => [...serviceCalls.values()].reduce((a, b) => a + b, 0);

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'facerec-access-'));
  const config = loadConfig({ FACEREC_DATA_DIR: dataDir, FACEREC_MASTER_KEY: '44'.repeat(32), ...(await databaseEnv(dataDir)) });
  runtime = await createRuntime(config, await engine());
  appA = await runtime.apps.create({ secretKey: 'secret-of-app-A' });
  appB = await runtime.apps.create({ secretKey: 'secret-of-app-B' });
  spyOnService(runtime.service as unknown as Record<string, unknown>);
  server = buildServer({ service: runtime.service, apps: runtime.apps, maxImageBytes: config.maxImageBytes });
  await server.ready();
});
after(async () => {
  await server?.close();
  await runtime?.close();
  rmSync(dataDir, { recursive: true, force: true });
  await dropDatabase(dataDir);
});

function spyOnService(service: Record<string, unknown>): void {
  const proto = Object.getPrototypeOf(service) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const original = proto[name];
    if (name === 'constructor' || typeof original !== 'function') continue;
    service[name] = function (this: unknown, ...args: unknown[]) {
      serviceCalls.set(name, (serviceCalls.get(name) ?? 0) + 1);
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
}

/**
 * Every route the server answers, from its own route tree. `printRoutes({ commonPrefix: false })`
 * prints one node per line, children indented by four columns; a node's path is its ancestors'
 * segments joined, and the methods it serves are in parentheses.
 */
function routeTable(app: FastifyInstance): Route[] {
  const routes: Route[] = [];
  const segments: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:│ {3}| {4})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/u.exec(line);
    if (!m) continue;
    segments.length = m[1].length / 4;
    segments.push(m[2]);
    for (const method of m[3]?.split(', ') ?? []) routes.push({ method, path: segments.join('') });
  }
  return routes;
}

async function call(method: string, url: string, options: { headers?: Record<string, string>; payload?: unknown } = {}): Promise<Answer> {
  const res = await server.inject({ method: method as 'GET', url, headers: options.headers, ...(options.payload === undefined ? {} : { payload: options.payload as string }) });
  const body = res.body ? JSON.parse(res.body) : {};
  return { status: res.statusCode, resultCode: body.header?.resultCode, isSuccessful: body.header?.isSuccessful, data: body.data, hasData: 'data' in body };
}

const v1 = (app: App, method: string, path: string, payload?: unknown) => call(method, `/nhn-face-reco/v1.0/appkeys/${app.appKey}${path}`, { payload });
const v2 = (app: App, method: string, path: string, payload?: unknown) => call(method, `/v2.0/appkeys/${app.appKey}${path}`, { headers: { authorization: app.secretKey }, payload });

// ── authentication on every route ───────────────────────────────────────────

/** Ways to get v1 wrong: the appKey in the path is the only credential. */
const V1_BAD_KEYS = (a: App): [string, string][] => [
  ['unknown appKey', 'no-such-app'],
  ['appKey in another letter case', a.appKey.toUpperCase() === a.appKey ? a.appKey.toLowerCase() : a.appKey.toUpperCase()],
  ['appKey with a character appended', `${a.appKey}x`],
  ['appKey truncated by one character', a.appKey.slice(0, -1)],
  ['the secret key in place of the appKey', a.secretKey],
];

/** Ways to get v2 wrong: appKey in the path plus the secret key in `Authorization`. */
const V2_BAD_CREDENTIALS = (a: App, other: App): [string, string, Record<string, string>][] => [
  ['no Authorization header', a.appKey, {}],
  ['empty secret', a.appKey, { authorization: '' }],
  ['wrong secret', a.appKey, { authorization: 'not-the-secret' }],
  ['secret in another letter case', a.appKey, { authorization: a.secretKey.toUpperCase() }],
  ['secret with a character appended', a.appKey, { authorization: `${a.secretKey}x` }],
  ['secret as a Bearer token', a.appKey, { authorization: `Bearer ${a.secretKey}` }],
  ["another app's secret", a.appKey, { authorization: other.secretKey }],
  ['right secret, unknown appKey', 'no-such-app', { authorization: a.secretKey }],
  ["right secret, another app's appKey", other.appKey, { authorization: a.secretKey }],
];

/** A concrete URL for a route pattern: real ids of app A, so only the credential is wrong. */
const fill = (pattern: string, appKey: string) =>
  pattern.replace(':appKey', encodeURIComponent(appKey)).replace(':groupId', 'auth-group').replace(':faceId', '00000000-0000-4000-8000-000000000000');

/** Bodies that would fail if they were read: auth must answer before the body is parsed. */
const UNREADABLE_JSON = { headers: { 'content-type': 'application/json' }, payload: '{"image": {"bytes": ' };

describe('authentication on every route', () => {
  let routes: Route[];
  before(() => {
    routes = routeTable(server);
  });

  test('the route table is what this file covers: NHN routes under the two prefixes, known public routes otherwise', () => {
    const v1Routes = routes.filter((r) => r.path.startsWith(`${V1}/`));
    const v2Routes = routes.filter((r) => r.path.startsWith(`${V2}/`));
    // NHN has thirteen operations in each version (each GET also answers HEAD): the parse found them.
    assert.ok(v1Routes.filter((r) => r.method !== 'HEAD').length >= 13, `v1 routes found: ${v1Routes.length}`);
    assert.ok(v2Routes.filter((r) => r.method !== 'HEAD').length >= 13, `v2 routes found: ${v2Routes.length}`);
    for (const r of routes) {
      if (r.path.startsWith(`${V1}/`) || r.path.startsWith(`${V2}/`)) continue;
      assert.ok(!r.path.includes(':appKey'), `${r.method} ${r.path} takes an appKey outside the NHN prefixes: cover it here`);
      const top = r.path.split('/')[1]?.replace(/\*$/, '');
      assert.ok(PUBLIC_TOP_LEVEL.has(top), `${r.method} ${r.path} is neither under an NHN prefix nor a known public route: add an auth test for it`);
    }
  });

  test('v1: every route answers -41000 to a wrong appKey, reads no body and calls nothing', async (t) => {
    let checked = 0;
    for (const r of routes.filter((x) => x.path.startsWith(`${V1}/`))) {
      for (const [label, key] of V1_BAD_KEYS(appA)) {
        const before = totalServiceCalls();
        const res = await call(r.method, fill(r.path, key), r.method === 'POST' ? UNREADABLE_JSON : {});
        const what = `${r.method} ${r.path} with ${label}`;
        assert.equal(res.status, 200, what);
        if (r.method !== 'HEAD') {
          assert.equal(res.resultCode, -41000, what);
          assert.equal(res.isSuccessful, false, what);
          assert.equal(res.hasData, false, `${what}: no data`);
        }
        assert.equal(totalServiceCalls(), before, `${what}: the domain must not be called`);
        checked++;
      }
    }
    t.diagnostic(`${checked} refused v1 requests checked`);
  });

  test('v2: every route answers -41005 to a missing or wrong secret key, reads no body and calls nothing', async (t) => {
    let checked = 0;
    for (const r of routes.filter((x) => x.path.startsWith(`${V2}/`))) {
      for (const [label, key, headers] of V2_BAD_CREDENTIALS(appA, appB)) {
        const before = totalServiceCalls();
        const post = r.method === 'POST';
        const res = await call(r.method, fill(r.path, key), { headers: { ...headers, ...(post ? UNREADABLE_JSON.headers : {}) }, ...(post ? { payload: UNREADABLE_JSON.payload } : {}) });
        const what = `${r.method} ${r.path} with ${label}`;
        assert.equal(res.status, 200, what);
        if (r.method !== 'HEAD') {
          assert.equal(res.resultCode, -41005, what);
          assert.equal(res.isSuccessful, false, what);
          assert.equal(res.hasData, false, `${what}: no data`);
        }
        assert.equal(totalServiceCalls(), before, `${what}: the domain must not be called`);
        checked++;
      }
    }
    t.diagnostic(`${checked} refused v2 requests checked`);
  });

  test('the right credentials pass every route (the refusals above are about the credential, not the path)', async () => {
    for (const r of routes.filter((x) => x.path.startsWith(`${V1}/`) || x.path.startsWith(`${V2}/`))) {
      const isV2 = r.path.startsWith(V2);
      const post = r.method === 'POST';
      // `{}` is refused by the handlers as a bad parameter: nothing is created, deleted or analysed.
      const res = await call(r.method, fill(r.path, appA.appKey), {
        headers: { ...(isV2 ? { authorization: appA.secretKey } : {}), ...(post ? { 'content-type': 'application/json' } : {}) },
        ...(post ? { payload: '{}' } : {}),
      });
      const what = `${r.method} ${r.path}`;
      assert.equal(res.status, 200, what);
      if (r.method !== 'HEAD') assert.ok(res.resultCode !== -41000 && res.resultCode !== -41005, `${what} refused valid credentials (${res.resultCode})`);
    }
  });

  test('v2 compares secret keys with crypto.timingSafeEqual over fixed-length digests, whatever the outcome', async () => {
    const compared: [number, number][] = [];
    const original = crypto.timingSafeEqual;
    crypto.timingSafeEqual = ((a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      compared.push([a.byteLength, b.byteLength]);
      return original(a, b);
    }) as typeof crypto.timingSafeEqual;
    syncBuiltinESMExports(); // so `import { timingSafeEqual } from 'node:crypto'` sees the spy
    try {
      const cases: [string, Record<string, string>, number][] = [
        [appA.appKey, { authorization: appA.secretKey }, 0],
        [appA.appKey, { authorization: 'x' }, -41005],
        [appA.appKey, { authorization: 'x'.repeat(4096) }, -41005],
        [appA.appKey, {}, -41005],
        ['no-such-app', { authorization: appA.secretKey }, -41005],
      ];
      for (const [appKey, headers, expected] of cases) {
        compared.length = 0;
        const res = await call('GET', `/v2.0/appkeys/${appKey}/groups?limit=1`, { headers });
        assert.equal(res.resultCode, expected);
        assert.deepEqual(compared, [[32, 32]], `one comparison of two SHA-256 digests for ${JSON.stringify(headers)} on ${appKey}`);
      }
    } finally {
      crypto.timingSafeEqual = original;
      syncBuiltinESMExports();
    }
  });
});

// ── tenant isolation ────────────────────────────────────────────────────────

describe('tenant isolation: app B against app A', () => {
  let sample1: string;
  let sample2: string;
  /** A's faces in its private group and in the group whose id B also uses. */
  let aPrivateFaces: string[];
  let aSharedFaces: string[];
  let bSharedFaces: string[];

  const faceIds = (r: Answer) => (r.data?.addedFaces ?? []).map((f: any) => f.faceId as string);
  const expectRefused = (r: Answer, code: number, what: string) => {
    assert.equal(r.resultCode, code, what);
    assert.equal(r.isSuccessful, false, what);
    assert.equal(r.hasData, false, `${what}: no data`);
  };

  before(async () => {
    sample1 = b64(fixture('sample1.jpg')); // three faces
    sample2 = b64(fixture('sample2.jpg'));
    for (const groupId of ['a-private', 'shared-name']) assert.equal((await v2(appA, 'POST', '/groups', { groupId })).resultCode, 0);
    assert.equal((await v2(appB, 'POST', '/groups', { groupId: 'shared-name' })).resultCode, 0);
    aPrivateFaces = faceIds(await v2(appA, 'POST', '/groups/a-private/faces', { image: { bytes: sample1 }, limit: 3 }));
    aSharedFaces = faceIds(await v2(appA, 'POST', '/groups/shared-name/faces', { image: { bytes: sample1 }, limit: 3 }));
    bSharedFaces = faceIds(await v2(appB, 'POST', '/groups/shared-name/faces', { image: { bytes: sample2 }, limit: 1 }));
    assert.ok(aPrivateFaces.length >= 2 && aSharedFaces.length >= 2 && bSharedFaces.length === 1, 'setup registered faces');
  });

  test('v2: B cannot reach A\'s group by id (-40030), whatever the operation', async () => {
    const aFace = aPrivateFaces[0];
    const image = { bytes: sample1 };
    const attempts: [string, string, unknown?][] = [
      ['GET', '/groups/a-private'],
      ['DELETE', '/groups/a-private'],
      ['GET', '/groups/a-private/faces?limit=100'],
      ['GET', `/groups/a-private/faces?limit=100&face-id=${aFace}`],
      ['POST', '/groups/a-private/faces', { image, limit: 1 }],
      ['DELETE', `/groups/a-private/faces/${aFace}`],
      ['GET', `/groups/a-private/faces/${aFace}/search?limit=10&threshold=1`],
      ['POST', '/groups/a-private/faces/search', { image, limit: 10, threshold: 1 }],
      ['POST', `/groups/a-private/faces/${aFace}/verify`, { compareImage: image }],
    ];
    for (const [method, path, body] of attempts) expectRefused(await v2(appB, method, path, body), -40030, `B: ${method} ${path}`);
  });

  test('v1: B cannot reach A\'s group by id (-40030), whatever the operation', async () => {
    const aFace = aPrivateFaces[0];
    const image = { bytes: sample1 };
    const attempts: [string, string, unknown?][] = [
      ['GET', '/groups/a-private'],
      ['DELETE', '/groups/a-private'],
      ['GET', '/groups/a-private/faces?limit=100'],
      ['POST', '/groups/a-private', { image, limit: 1 }],
      ['DELETE', `/groups/a-private/faces/${aFace}`],
      ['GET', `/groups/a-private/faces/${aFace}?limit=10&threshold=1`],
      ['POST', '/groups/a-private/search?limit=10&threshold=1', { image }],
      ['POST', `/verify/groups/a-private/faces/${aFace}`, { compareImage: image }],
    ];
    for (const [method, path, body] of attempts) expectRefused(await v1(appB, method, path, body), -40030, `B: ${method} ${path}`);
  });

  test("in a group id both apps use, B cannot name A's faces (-40050), in v1 and v2", async () => {
    const image = { bytes: sample1 };
    for (const aFace of aSharedFaces) {
      expectRefused(await v2(appB, 'DELETE', `/groups/shared-name/faces/${aFace}`), -40050, 'v2 delete');
      expectRefused(await v2(appB, 'GET', `/groups/shared-name/faces/${aFace}/search?limit=10&threshold=1`), -40050, 'v2 search by faceId');
      expectRefused(await v2(appB, 'POST', `/groups/shared-name/faces/${aFace}/verify`, { compareImage: image }), -40050, 'v2 verify');
      expectRefused(await v1(appB, 'DELETE', `/groups/shared-name/faces/${aFace}`), -40050, 'v1 delete');
      expectRefused(await v1(appB, 'GET', `/groups/shared-name/faces/${aFace}?limit=10&threshold=1`), -40050, 'v1 search by faceId');
      expectRefused(await v1(appB, 'POST', `/verify/groups/shared-name/faces/${aFace}`, { compareImage: image }), -40050, 'v1 verify');
    }
  });

  test("B's lists, details and searches show B's data only", async () => {
    const v2Groups = await v2(appB, 'GET', '/groups?limit=200');
    assert.deepEqual(v2Groups.data.groups.map((g: any) => g.groupId), ['shared-name']);
    const v1Groups = await v1(appB, 'GET', '/groups?limit=200');
    assert.deepEqual(v1Groups.data.groups.map((g: any) => g.groupId), ['shared-name']);

    assert.equal((await v2(appB, 'GET', '/groups/shared-name')).data.faceCount, bSharedFaces.length);
    assert.deepEqual((await v2(appB, 'GET', '/groups/shared-name/faces?limit=200')).data.faces.map((f: any) => f.faceId), bSharedFaces);
    assert.deepEqual((await v1(appB, 'GET', '/groups/shared-name/faces?limit=200')).data.faces.map((f: any) => f.faceId), bSharedFaces);
    assert.equal((await v2(appB, 'GET', `/groups/shared-name/faces?limit=200&face-id=${aSharedFaces[0]}`)).data.faceCount, 0);

    // A probe of A's people, searched with the lowest threshold in B's group of the same name.
    const image = { bytes: sample1 };
    const s2 = await v2(appB, 'POST', '/groups/shared-name/faces/search', { image, limit: 100, threshold: 1 });
    const s1 = await v1(appB, 'POST', '/groups/shared-name/search?limit=100&threshold=1', { image });
    for (const s of [s2, s1]) {
      assert.equal(s.resultCode, 0);
      for (const m of s.data.matchFaces) assert.ok(bSharedFaces.includes(m.face.faceId), `search returned ${m.face.faceId}, not B's`);
    }
    const byId = await v2(appB, 'GET', `/groups/shared-name/faces/${bSharedFaces[0]}/search?limit=100&threshold=1`);
    assert.equal(byId.resultCode, 0);
    assert.deepEqual(byId.data.matchFaces, [], "B's only face has no neighbours: A's faces are not in B's index");
  });

  test("A's page tokens are refused to B (-40040)", async () => {
    const groups = await v2(appA, 'GET', '/groups?limit=1');
    assert.ok(groups.data.nextToken, 'A has two groups, so a next page');
    expectRefused(await v2(appB, 'GET', `/groups?next-token=${encodeURIComponent(groups.data.nextToken)}`), -40040, 'v2 groups token');
    expectRefused(await v1(appB, 'GET', `/groups?next-token=${encodeURIComponent(groups.data.nextToken)}`), -40040, 'v1 groups token');
    const faces = await v2(appA, 'GET', '/groups/shared-name/faces?limit=1');
    assert.ok(faces.data.nextToken);
    expectRefused(await v2(appB, 'GET', `/groups/shared-name/faces?next-token=${encodeURIComponent(faces.data.nextToken)}`), -40040, 'v2 faces token');
  });

  test("after all of B's attempts, A's groups and faces are intact", async () => {
    const groups = await v2(appA, 'GET', '/groups?limit=200');
    assert.deepEqual(groups.data.groups.map((g: any) => g.groupId), ['a-private', 'shared-name']);
    const priv = await v2(appA, 'GET', '/groups/a-private/faces?limit=200');
    assert.deepEqual([...priv.data.faces.map((f: any) => f.faceId)].sort(), [...aPrivateFaces].sort());
    const shared = await v2(appA, 'GET', '/groups/shared-name/faces?limit=200');
    assert.deepEqual([...shared.data.faces.map((f: any) => f.faceId)].sort(), [...aSharedFaces].sort());
    const search = await v2(appA, 'GET', `/groups/shared-name/faces/${aSharedFaces[0]}/search?limit=100&threshold=1`);
    for (const m of search.data.matchFaces) assert.ok(aSharedFaces.includes(m.face.faceId), "A's search sees only A's faces");
  });
});
