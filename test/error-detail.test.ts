// header.detail: every refusal says why in one sentence (v1.0 and v2.0), while resultCode and
// resultMessage stay NHN's, and no sentence gives away a key, a server path, a stack or a
// library's own words.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/http/server.js';
import type { FaceService } from '../src/domain/service.js';
import { b64, startApi, type TestApi } from './support/api-helpers.js';
import { fixture } from './support/fixtures.js';
import { startLocalOrigin, type LocalOrigin } from './support/local-origin.js';

type Version = 'v1' | 'v2';

interface Call {
  method: string;
  path: string;
  body?: unknown;
  /** A body sent as it is, with this content type (malformed JSON). */
  raw?: { payload: string; contentType: string };
  /** Replaces the credentials: v1 gets this appKey; v2 this Authorization (null: none). */
  appKey?: string;
  authorization?: string | null;
}

interface Mistake {
  what: string;
  v1?: Call;
  v2?: Call;
  /** The server with private image URLs allowed (to reach a local image server). */
  onPremise?: boolean;
  resultMessage: string;
  detail: RegExp;
  httpStatus?: number;
}

const PREFIX: Record<Version, string> = { v1: '/nhn-face-reco/v1.0/appkeys/', v2: '/v2.0/appkeys/' };

let api: TestApi;
let onPremise: TestApi;
let images: LocalOrigin;
const tiny = await sharp({ create: { width: 60, height: 40, channels: 3, background: '#808080' } }).png().toBuffer();
const gif = Buffer.from('GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;', 'latin1');
const truncatedJpeg = fixture('sample2.jpg').subarray(0, 3000);
const photo = fixture('sample1.jpg');

const bytes = (b: Uint8Array) => ({ image: { bytes: b64(b) } });
const url = (u: string) => ({ image: { url: u } });
/** The same call in both versions, with v1's and v2's paths. */
const both = (method: string, v1Path: string, v2Path: string, body?: unknown, extra: Partial<Call> = {}) => ({
  v1: { method, path: v1Path, body, ...extra },
  v2: { method, path: v2Path, body, ...extra },
});

const MISTAKES: Mistake[] = [
  { what: 'list limit out of range', ...both('GET', '/groups?limit=500', '/groups?limit=500'), resultMessage: 'InvalidParam', detail: /^limit must be an integer from 1 to 200; it is 500$/ },
  { what: 'list limit not a number', ...both('GET', '/groups?limit=ten', '/groups?limit=ten'), resultMessage: 'InvalidParam', detail: /^limit must be an integer$/ },
  {
    what: 'register limit over 20',
    v1: { method: 'POST', path: '/groups/staff', body: { ...bytes(photo), limit: 50 } },
    v2: { method: 'POST', path: '/groups/staff/faces', body: { ...bytes(photo), limit: 50 } },
    resultMessage: 'InvalidParam',
    detail: /^limit must be an integer from 1 to 20; it is 50$/,
  },
  {
    what: 'bad group id on create',
    ...both('POST', '/groups', '/groups', { groupId: 'Staff List' }),
    resultMessage: 'InvalidGroupID',
    detail: /^groupId contains 'S', a space, 'L'; groupId may use lower-case letters a-z, digits 0-9 and '-' only, 1 to 255 characters$/,
  },
  { what: 'bad group id in a path', ...both('GET', '/groups/Staff', '/groups/Staff'), resultMessage: 'InvalidParam', detail: /^groupId contains 'S'; groupId may use lower-case letters a-z/ },
  { what: 'group that does not exist', ...both('GET', '/groups/nobody', '/groups/nobody'), resultMessage: 'NotFoundGroupError', detail: /^group nobody does not exist$/ },
  {
    what: 'image URL on port 22',
    ...both('POST', '/detect', '/faces/detect', url('http://images.example.com:22/face.jpg')),
    resultMessage: 'InvalidImageURLException',
    detail: /^the image URL has port 22, which is not allowed; allowed ports are 80, 443 and 10000–12000$/,
  },
  {
    what: 'image URL on a private address',
    ...both('POST', '/detect', '/faces/detect', url('http://127.0.0.1:10080/face.jpg')),
    resultMessage: 'InvalidImageURLException',
    detail: /^address 127\.0\.0\.1 is a private network address, refused by default; set FACEREC_ALLOW_PRIVATE_URLS=true on the server to allow private and loopback addresses \(on ports 80, 443 and 10000–12000\)$/,
  },
  {
    what: 'image URL whose host does not resolve',
    ...both('POST', '/detect', '/faces/detect', url('http://no-such-host.invalid/face.jpg')),
    resultMessage: 'InvalidImageURLException',
    detail: /^host no-such-host\.invalid does not resolve$/,
  },
  {
    what: 'image URL answered with 404',
    onPremise: true,
    ...both('POST', '/detect', '/faces/detect', { image: { url: 'ORIGIN/missing.jpg' } }),
    resultMessage: 'InvalidImageURLException',
    detail: /^the image server answered HTTP 404$/,
  },
  { what: 'image too small', ...both('POST', '/detect', '/faces/detect', bytes(tiny)), resultMessage: 'InvalidImageSizeException', detail: /^the image is 60×40 px; at least 80 px a side$/ },
  { what: 'image neither JPEG nor PNG', ...both('POST', '/detect', '/faces/detect', bytes(gif)), resultMessage: 'InvalidImageFormatException', detail: /^the image is neither JPEG nor PNG/ },
  { what: 'image bytes not base64', ...both('POST', '/detect', '/faces/detect', { image: { bytes: '*** not base64 ***' } }), resultMessage: 'InvalidImageBytesException', detail: /^image\.bytes is not valid base64/ },
  { what: 'damaged JPEG', ...both('POST', '/detect', '/faces/detect', bytes(truncatedJpeg)), resultMessage: 'InvalidImageFileException', detail: /^the JPEG (header|data) .*damaged or cut short/ },
  {
    what: 'body that is not JSON',
    ...both('POST', '/groups', '/groups', undefined, { raw: { payload: '{"groupId": "staff"', contentType: 'application/json' } }),
    resultMessage: 'InvalidParam',
    detail: /^the body is not valid JSON although Content-Type is application\/json$/,
  },
  {
    what: 'body over the size limit',
    ...both('POST', '/detect', '/faces/detect', { image: { bytes: 'A'.repeat(9_000_000) } }),
    resultMessage: 'ImageTooLargeException',
    detail: /^the request body is over \d+ bytes, the most the server reads; an image may be at most 3000000 bytes/,
  },
  {
    what: 'unknown appKey (v1) / no Authorization header (v2)',
    v1: { method: 'GET', path: '/groups?limit=10', appKey: 'no-such-app' },
    v2: { method: 'GET', path: '/groups?limit=10', authorization: null },
    resultMessage: 'UNAUTHORIZED',
    detail: /^(the appKey in the path is not an app of this server|no Authorization header; send the app's secret key as "Authorization: \{secretKey\}")$/,
  },
  {
    what: 'secret key sent with a scheme word',
    v2: { method: 'GET', path: '/groups?limit=10', authorization: 'Bearer SECRET' },
    resultMessage: 'UnauthorizedAppKeyOrSecretKey',
    detail: /^the Authorization header starts with a scheme word; send the bare secret key/,
  },
  {
    what: 'wrong secret key',
    v2: { method: 'GET', path: '/groups?limit=10', authorization: 'not-the-secret' },
    resultMessage: 'UnauthorizedAppKeyOrSecretKey',
    detail: /^the appKey and the secret key in Authorization do not match an app of this server$/,
  },
  {
    what: 'path that is no operation',
    ...both('GET', '/grops', '/grops'),
    httpStatus: 404,
    resultMessage: 'InvalidParam',
    detail: /^no API operation GET \/(nhn-face-reco\/v1\.0|v2\.0)\/appkeys\/\*\*\*\/grops; the API lives under/,
  },
];

const CODES: Record<string, number> = {
  InvalidParam: -40000,
  InvalidGroupID: -40010,
  NotFoundGroupError: -40030,
  InvalidImageURLException: -45050,
  InvalidImageSizeException: -45070,
  InvalidImageFormatException: -45040,
  InvalidImageBytesException: -45030,
  InvalidImageFileException: -45080,
  ImageTooLargeException: -45020,
  UnauthorizedAppKeyOrSecretKey: -41005,
  UnauthorizedAppKey: -41000,
};

/** Every detail any test here received, for the leak checks at the end. */
const seen: { what: string; detail: string }[] = [];

async function send(target: TestApi, version: Version, call: Call) {
  const secret = call.authorization === undefined ? target.secretKey : call.authorization;
  const headers: Record<string, string> = version === 'v2' && secret !== null ? { authorization: secret } : {};
  let payload: string | undefined;
  if (call.raw) {
    payload = call.raw.payload;
    headers['content-type'] = call.raw.contentType;
  } else if (call.body !== undefined) {
    payload = JSON.stringify(call.body).replaceAll('ORIGIN', images.origin);
    headers['content-type'] = 'application/json';
  }
  const res = await target.app.inject({ method: call.method as 'GET', url: `${PREFIX[version]}${call.appKey ?? target.appKey}${call.path}`, headers, payload });
  return { status: res.statusCode, envelope: JSON.parse(res.body) };
}

before(async () => {
  images = await startLocalOrigin((_req, res) => res.writeHead(404).end());
  api = await startApi();
  onPremise = await startApi({ allowPrivateUrls: true });
  assert.equal((await api.v2('POST', '/groups', { groupId: 'staff' })).header.resultCode, 0);
});
after(async () => {
  await api?.dispose();
  await onPremise?.dispose();
  await images?.close();
});

describe('header.detail says why, resultCode and resultMessage stay NHN’s', () => {
  for (const m of MISTAKES) {
    for (const version of ['v1', 'v2'] as const) {
      const call = m[version];
      if (!call) continue;
      test(`${version}: ${m.what}`, async () => {
        const { status, envelope } = await send(m.onPremise ? onPremise : api, version, call);
        const resultMessage = m.resultMessage === 'UNAUTHORIZED' ? (version === 'v1' ? 'UnauthorizedAppKey' : 'UnauthorizedAppKeyOrSecretKey') : m.resultMessage;
        assert.equal(status, m.httpStatus ?? 200);
        // NHN's three fields keep NHN's values and order; detail comes after them.
        assert.deepEqual(Object.keys(envelope.header), ['isSuccessful', 'resultCode', 'resultMessage', 'detail']);
        assert.equal(envelope.header.isSuccessful, false);
        assert.equal(envelope.header.resultMessage, resultMessage);
        assert.equal(envelope.header.resultCode, CODES[resultMessage]);
        assert.equal(envelope.data, undefined);
        assert.match(envelope.header.detail, m.detail);
        seen.push({ what: `${version}: ${m.what}`, detail: envelope.header.detail });
      });
    }
  }

  test('a success has no detail: its header is NHN’s, byte for byte', async () => {
    for (const version of ['v1', 'v2'] as const) {
      const res = await api.app.inject({ url: `${PREFIX[version]}${api.appKey}/groups?limit=10`, headers: { authorization: api.secretKey } });
      assert.ok(res.body.startsWith('{"header":{"isSuccessful":true,"resultCode":0,"resultMessage":"Success"},'), res.body.slice(0, 100));
    }
  });
});

describe('server-side failures', () => {
  /** The test API's service and apps behind a server of our own (to make the engine "busy" or the store fail). */
  const serverWith = (service: FaceService, engineSaturated?: () => boolean): FastifyInstance =>
    buildServer({ service, apps: api.runtime.apps, maxImageBytes: api.config.maxImageBytes, engineSaturated });

  test('overload (-50000) says the engine is busy and when to retry', async () => {
    const app = serverWith(api.runtime.service, () => true);
    try {
      const res = await app.inject({ method: 'POST', url: `/v2.0/appkeys/${api.appKey}/faces/detect`, headers: { authorization: api.secretKey }, payload: bytes(photo) });
      const { header } = JSON.parse(res.body);
      assert.equal(header.resultCode, -50000);
      assert.equal(header.resultMessage, 'InternalServerError');
      assert.equal(res.headers['retry-after'], '1');
      assert.match(header.detail, /busy.*retry/);
      seen.push({ what: 'overload', detail: header.detail });
    } finally {
      await app.close();
    }
  });

  test('an unexpected exception (-50000) gives the request id, never the exception’s text', async () => {
    const secretText = `SQLITE_IOERR: disk I/O error at ${api.dataDir}/facerec.db, key ${api.secretKey}`;
    const failing = Object.create(api.runtime.service) as FaceService;
    failing.listGroups = async () => {
      throw new Error(secretText);
    };
    const app = serverWith(failing);
    try {
      for (const version of ['v1', 'v2'] as const) {
        const res = await app.inject({ url: `${PREFIX[version]}${api.appKey}/groups?limit=10`, headers: { authorization: api.secretKey } });
        const { header } = JSON.parse(res.body);
        assert.equal(header.resultCode, -50000);
        assert.equal(header.resultMessage, 'InternalServerError');
        assert.equal(header.detail, `the server failed unexpectedly; its log has the details under request id ${res.headers['x-request-id']}`);
        seen.push({ what: `${version}: unexpected exception`, detail: header.detail });
      }
    } finally {
      await app.close();
    }
  });
});

describe('no detail gives anything away', () => {
  test('no key, no server path, no stack trace, no library text', () => {
    assert.ok(seen.length >= 2 * 15, `the tables above ran first (${seen.length} details)`);
    const forbidden: [string, (d: string) => boolean][] = [
      ['the secret key', (d) => d.includes(api.secretKey) || d.includes(onPremise.secretKey)],
      ['the appKey', (d) => d.includes(api.appKey) || d.includes(onPremise.appKey)],
      ['the data dir', (d) => d.includes(api.dataDir) || d.includes(onPremise.dataDir) || d.includes('/tmp/')],
      ['a stack trace', (d) => /\bat .+:\d+:\d+/.test(d) || d.includes('\n')],
      ['a source path', (d) => /node_modules|\/src\/|\.ts\b|\.js\b/.test(d)],
      ['framework or library words', (d) => /FST_|vips|getaddrinfo|ENOTFOUND|undici|busboy|Error:/i.test(d)],
    ];
    for (const { what, detail } of seen) {
      for (const [name, leaks] of forbidden) assert.ok(!leaks(detail), `${what}: the detail shows ${name}: ${detail}`);
    }
  });
});

describe('the README shows it', () => {
  test('the five-minute tour\'s mistake is answered as the README says', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const shown = /-d '(\{"image":\{"url":"[^']+"\}\})'\n\s*```\n\s*```json\n\s*(\{"header":\{"isSuccessful":false.*\})\n/.exec(readme);
    assert.ok(shown, 'the tour has a curl call with a mistake, followed by its answer');
    const res = await api.app.inject({ method: 'POST', url: `/v2.0/appkeys/${api.appKey}/faces/detect`, headers: { authorization: api.secretKey, 'content-type': 'application/json' }, payload: shown[1] });
    assert.equal(res.body, shown[2]);
  });
});
