/**
 * Hostile requests for the image endpoints of NHN v1.0 and v2.0: a fixed corpus (every kind of
 * malformation named in the robustness issue, each with the codes the API documents for it) and
 * a seeded random one (fast-check), shared by `test/fuzz.test.ts` and `scripts/fuzz.ts`.
 *
 * A case is a function of the target (appKey, a group, a registered face), so the same corpus
 * runs against any server.
 */
import fc from 'fast-check';
import { RESULT_CODES as C } from '../../src/domain/errors.js';
import type { HostileImage, HostileImages } from './hostile-images.js';
import { flipBits } from './hostile-images.js';

export interface FuzzTarget {
  appKey: string;
  secretKey: string;
  /** A group that exists, with `faceId` registered in it. */
  groupId: string;
  faceId: string;
  /** A person of the group that holds `faceId` (the person layer's cases; docs/persons.md). */
  personId?: string;
  /** A clustering job of the group that has succeeded. */
  jobId?: string;
}

export interface HttpCall {
  method: string;
  /** Path and query, starting with `/`. */
  url: string;
  headers: Record<string, string>;
  payload?: Buffer;
}

export interface FuzzCase {
  name: string;
  /** For the outcome table: image, base64, json, multipart, http, random. */
  category: string;
  call(target: FuzzTarget): HttpCall;
  /** The codes this case may answer with; absent: any documented code except -50000. */
  expect?: readonly number[];
  /** 200 unless the path is unknown (404). */
  status?: number;
}

// ── endpoints ────────────────────────────────────────────────────────────────

type Version = 'v1' | 'v2';

interface ImageSlot {
  json: string;
  /** v2 multipart file part. */
  file: string;
}

export interface ImageEndpoint {
  id: string;
  version: Version;
  path(t: FuzzTarget): string;
  slots: ImageSlot[];
  /** The valid non-image fields (v2: body; v1 keeps limit/threshold of search and compare in the query). */
  fields: Record<string, string | number | boolean>;
  /** A decodable image without a face is -40000 here (search, verify, compare's source). */
  needsFace: boolean;
}

const one = (json = 'image', file = 'imageFile'): ImageSlot[] => [{ json, file }];
const pair: ImageSlot[] = [
  { json: 'sourceImage', file: 'sourceImageFile' },
  { json: 'targetImage', file: 'targetImageFile' },
];

export const IMAGE_ENDPOINTS: readonly ImageEndpoint[] = [
  { id: 'v2.detect', version: 'v2', path: () => '/faces/detect', slots: one(), fields: {}, needsFace: false },
  { id: 'v2.register', version: 'v2', path: (t) => `/groups/${t.groupId}/faces`, slots: one(), fields: { limit: 2 }, needsFace: false },
  { id: 'v2.search', version: 'v2', path: (t) => `/groups/${t.groupId}/faces/search`, slots: one(), fields: { limit: 5, threshold: 50 }, needsFace: true },
  { id: 'v2.compare', version: 'v2', path: () => '/faces/compare', slots: pair, fields: { threshold: 50 }, needsFace: true },
  { id: 'v2.verify', version: 'v2', path: (t) => `/groups/${t.groupId}/faces/${t.faceId}/verify`, slots: one('compareImage'), fields: {}, needsFace: true },
  { id: 'v2.spoofing', version: 'v2', path: () => '/spoofing', slots: one(), fields: { spoofingCondition: 'strict' }, needsFace: false },
  { id: 'v1.detect', version: 'v1', path: () => '/detect', slots: one(), fields: {}, needsFace: false },
  { id: 'v1.register', version: 'v1', path: (t) => `/groups/${t.groupId}`, slots: one(), fields: { limit: 2 }, needsFace: false },
  { id: 'v1.search', version: 'v1', path: (t) => `/groups/${t.groupId}/search?limit=5&threshold=50`, slots: one(), fields: {}, needsFace: true },
  { id: 'v1.compare', version: 'v1', path: () => '/compare?threshold=50', slots: pair, fields: {}, needsFace: true },
  { id: 'v1.verify', version: 'v1', path: (t) => `/verify/groups/${t.groupId}/faces/${t.faceId}`, slots: one('compareImage'), fields: {}, needsFace: true },
  { id: 'v1.spoofing', version: 'v1', path: () => '/spoofing', slots: one(), fields: {}, needsFace: false },
];

const endpoint = (id: string) => IMAGE_ENDPOINTS.find((e) => e.id === id)!;

export function prefix(version: Version, t: FuzzTarget): string {
  return version === 'v1' ? `/nhn-face-reco/v1.0/appkeys/${t.appKey}` : `/v2.0/appkeys/${t.appKey}`;
}

const auth = (version: Version, t: FuzzTarget): Record<string, string> => (version === 'v2' ? { authorization: t.secretKey } : {});

/** A raw JSON body (string, so that invalid JSON, duplicate keys and deep nesting can be sent). */
export function rawJsonCall(ep: { version: Version; path(t: FuzzTarget): string }, t: FuzzTarget, body: string | Buffer, contentType = 'application/json'): HttpCall {
  return {
    method: 'POST',
    url: prefix(ep.version, t) + ep.path(t),
    headers: { ...auth(ep.version, t), 'content-type': contentType },
    payload: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
  };
}

// ── multipart, by hand so that every malformation can be expressed ────────────

export type Part = { name?: string; value: string } | { name?: string; file: Uint8Array; filename?: string; type?: string };

export interface MultipartOptions {
  boundary?: string;
  /** Boundary announced in Content-Type; defaults to the one used in the body. */
  announced?: string | null;
  /** Leave the closing `--boundary--` off (a truncated upload). */
  unterminated?: boolean;
  /** Line breaks between headers and bodies (some clients send bare LF). */
  eol?: string;
}

export function multipartBody(parts: Part[], o: MultipartOptions = {}): { payload: Buffer; contentType: string } {
  const boundary = o.boundary ?? '----facerecFuzzBoundary7MA4YWxkTrZu0gW';
  const eol = o.eol ?? '\r\n';
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}${eol}`));
    const name = p.name === undefined ? '' : `; name="${p.name}"`;
    if ('file' in p) {
      chunks.push(Buffer.from(`Content-Disposition: form-data${name}; filename="${p.filename ?? 'photo.jpg'}"${eol}Content-Type: ${p.type ?? 'image/jpeg'}${eol}${eol}`));
      chunks.push(Buffer.from(p.file));
    } else {
      chunks.push(Buffer.from(`Content-Disposition: form-data${name}${eol}${eol}${p.value}`));
    }
    chunks.push(Buffer.from(eol));
  }
  if (!o.unterminated) chunks.push(Buffer.from(`--${boundary}--${eol}`));
  const announced = o.announced === undefined ? boundary : o.announced;
  return { payload: Buffer.concat(chunks), contentType: announced === null ? 'multipart/form-data' : `multipart/form-data; boundary=${announced}` };
}

function multipartCall(ep: ImageEndpoint, t: FuzzTarget, parts: Part[], o?: MultipartOptions): HttpCall {
  const { payload, contentType } = multipartBody(parts, o);
  return { method: 'POST', url: prefix(ep.version, t) + ep.path(t), headers: { ...auth(ep.version, t), 'content-type': contentType }, payload };
}

const fieldParts = (fields: Record<string, unknown>): Part[] => Object.entries(fields).map(([name, v]) => ({ name, value: String(v) }));

// ── base64 variants ──────────────────────────────────────────────────────────

/** How image bytes are put into a request. */
export type Encoding =
  | 'multipart'
  | 'base64'
  | 'base64-mime-lines' // 76-column lines, CRLF
  | 'base64-whitespace' // spaces, tabs and newlines anywhere
  | 'base64-urlsafe' // - and _ instead of + and /, no padding
  | 'base64-no-padding'
  | 'base64-extra-padding' // "===" at the end: invalid
  | 'base64-padding-inside' // "=" in the middle: invalid
  | 'base64-bad-chars' // characters outside both alphabets: invalid
  | 'base64-data-uri'; // "data:image/jpeg;base64,…": invalid (not base64)

export const ENCODINGS: readonly Encoding[] = [
  'multipart', 'base64', 'base64-mime-lines', 'base64-whitespace', 'base64-urlsafe', 'base64-no-padding',
  'base64-extra-padding', 'base64-padding-inside', 'base64-bad-chars', 'base64-data-uri',
];

/** Encodings that cannot decode: the answer is -45030 whatever the image. */
const INVALID_BASE64 = new Set<Encoding>(['base64-extra-padding', 'base64-padding-inside', 'base64-bad-chars', 'base64-data-uri']);

export function encodeBase64(bytes: Uint8Array, encoding: Exclude<Encoding, 'multipart'>): string {
  const b64 = Buffer.from(bytes).toString('base64');
  switch (encoding) {
    case 'base64':
      return b64;
    case 'base64-mime-lines':
      return b64.replace(/.{1,76}/g, (line) => line + '\r\n');
    case 'base64-whitespace':
      return b64.replace(/.{1,13}/g, (chunk, at: number) => chunk + [' ', '\t', '\n', '  \r\n '][at % 4]);
    case 'base64-urlsafe':
      return Buffer.from(bytes).toString('base64url');
    case 'base64-no-padding':
      return b64.replace(/=+$/, '');
    case 'base64-extra-padding':
      return b64.replace(/=+$/, '') + '===';
    case 'base64-padding-inside':
      return b64.length > 8 ? `${b64.slice(0, 4)}=${b64.slice(5)}` : `A=${b64}`;
    case 'base64-bad-chars':
      return `${b64.slice(0, 8)}*%é\u0000${b64.slice(8)}`;
    case 'base64-data-uri':
      return `data:image/jpeg;base64,${b64}`;
  }
}

// ── image cases ──────────────────────────────────────────────────────────────

/**
 * One image endpoint called with `hostile` in slot `slot`; other slots get `valid`.
 * v1 has no multipart: it falls back to plain base64.
 */
export function imageCall(ep: ImageEndpoint, t: FuzzTarget, images: { hostile: Uint8Array; valid: Uint8Array }, slot: number, encoding: Encoding, extraFields: Record<string, unknown> = {}): HttpCall {
  const at = slot % ep.slots.length;
  const bytesOf = (i: number) => (i === at ? images.hostile : images.valid);
  if (encoding === 'multipart' && ep.version === 'v2') {
    const files: Part[] = ep.slots.map((s, i) => ({ name: s.file, file: bytesOf(i) }));
    return multipartCall(ep, t, [...fieldParts({ ...ep.fields, ...extraFields }), ...files]);
  }
  const enc = encoding === 'multipart' ? 'base64' : encoding;
  const body: Record<string, unknown> = { ...ep.fields, ...extraFields };
  ep.slots.forEach((s, i) => {
    body[s.json] = { bytes: encodeBase64(bytesOf(i), i === at ? enc : 'base64') };
  });
  return rawJsonCall(ep, t, JSON.stringify(body));
}

/** The documented answers for an image on an endpoint, from what the image alone leads to. */
export function expectedFor(image: HostileImage, ep: ImageEndpoint, encoding: Encoding): readonly number[] {
  const viaBase64 = encoding !== 'multipart' || ep.version === 'v1';
  if (viaBase64 && INVALID_BASE64.has(encoding)) return [C.InvalidImageBytesException];
  if (image.expect === 'decodable') return ep.needsFace ? [C.Success, C.InvalidParam] : [C.Success];
  return image.expect;
}

/**
 * Every hostile image on every endpoint would be slow (decodable images run the models), so:
 * images that are refused before the models run go to every endpoint; decodable ones to two,
 * chosen round-robin, alternating JSON and multipart.
 */
export function imageCases(images: HostileImages, valid: Uint8Array): FuzzCase[] {
  const cases: FuzzCase[] = [];
  let turn = 0;
  for (const [name, image] of Object.entries(images)) {
    const targets = image.expect === 'decodable' ? [IMAGE_ENDPOINTS[turn++ % IMAGE_ENDPOINTS.length], IMAGE_ENDPOINTS[turn++ % IMAGE_ENDPOINTS.length]] : IMAGE_ENDPOINTS;
    targets.forEach((ep, i) => {
      const encoding: Encoding = (turn + i) % 2 === 0 && ep.version === 'v2' ? 'multipart' : 'base64';
      cases.push({
        name: `image/${name}@${ep.id}.${encoding}`,
        category: 'image',
        call: (t) => imageCall(ep, t, { hostile: image.bytes, valid }, 0, encoding),
        expect: expectedFor(image, ep, encoding),
      });
    });
  }
  return cases;
}

/** Every base64 variant, on both versions' detect. */
export function base64Cases(valid: Uint8Array): FuzzCase[] {
  return ENCODINGS.filter((e) => e !== 'multipart').flatMap((encoding) =>
    ['v1.detect', 'v2.detect'].map((id): FuzzCase => ({
      name: `base64/${encoding}@${id}`,
      category: 'base64',
      call: (t) => imageCall(endpoint(id), t, { hostile: valid, valid }, 0, encoding),
      expect: INVALID_BASE64.has(encoding) ? [C.InvalidImageBytesException] : [C.Success],
    })),
  );
}

// ── JSON cases ───────────────────────────────────────────────────────────────

const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/** Malformed and mistyped JSON bodies. Nothing here reaches the models: all are -40000-ish. */
export function jsonCases(valid: Uint8Array): FuzzCase[] {
  const img = Buffer.from(valid).toString('base64');
  const P = C.InvalidParam;
  const cases: FuzzCase[] = [];
  // Big bodies are built when sent (a thunk), so a corpus in memory stays small.
  type Body = string | Buffer | (() => string | Buffer);
  const add = (name: string, epId: string, body: Body, expect: readonly number[], contentType?: string) =>
    cases.push({ name: `json/${name}@${epId}`, category: 'json', call: (t) => rawJsonCall(endpoint(epId), t, typeof body === 'function' ? body() : body, contentType), expect });

  for (const epId of ['v2.detect', 'v1.register', 'v2.compare']) {
    add('not-json', epId, 'image=photo.jpg', [P]);
    add('truncated', epId, `{"image":{"bytes":"${img.slice(0, 100)}`, [P]);
    add('array-body', epId, `[{"image":{"bytes":"${img.slice(0, 8)}"}}]`, [P]);
    add('string-body', epId, '"hello"', [P]);
    add('number-body', epId, '12345', [P]);
    add('null-body', epId, 'null', [P]);
    add('empty-object', epId, '{}', [P]);
    add('empty-body', epId, '', [P]);
    add('deep-array-100k', epId, () => `{"image":${deepArray(100_000)}}`, [P]);
    add('deep-object-100k', epId, () => `{"image":${deepObject(100_000)}}`, [P]);
    add('deep-array-top-level', epId, () => deepArray(200_000), [P]);
    add('proto-key', epId, `{"__proto__":{"isAdmin":true},"image":{"bytes":"${img.slice(0, 8)}"}}`, [P, C.InvalidImageFileException, C.InvalidImageFormatException]);
    add('constructor-prototype', epId, `{"constructor":{"prototype":{"x":1}},"image":{"bytes":"AAAA"}}`, [P, C.InvalidImageFormatException]);
    add('lone-surrogate', epId, '{"image":{"bytes":"\\ud800\\udfff\\ud800"}}', [P, C.InvalidImageBytesException]);
    add('utf16-charset', epId, Buffer.from(`{"image":{"bytes":"AAAA"}}`, 'utf16le'), [P], 'application/json; charset=utf-16');
  }
  const imageTypes: [string, string][] = [
    ['image-string', '"photo.jpg"'], ['image-number', '42'], ['image-null', 'null'], ['image-true', 'true'], ['image-array', `[{"bytes":"${img.slice(0, 8)}"}]`],
    ['bytes-number', '{"bytes":1234}'], ['bytes-array', '{"bytes":[255,216,255]}'], ['bytes-object', '{"bytes":{"a":1}}'], ['bytes-null', '{"bytes":null}'],
    ['url-number', '{"url":80}'], ['url-empty', '{"url":""}'], ['url-and-bytes', `{"url":"http://127.0.0.1/x.jpg","bytes":"${img.slice(0, 8)}"}`], ['neither', '{"file":"x"}'],
  ];
  for (const [name, image] of imageTypes) {
    add(name, 'v2.detect', `{"image":${image}}`, [P]);
    add(name, 'v1.verify', `{"compareImage":${image}}`, [P]);
  }
  // Refused URLs: loopback, private, other schemes. Literal addresses only: no DNS, no traffic.
  for (const url of ['http://127.0.0.1:1/x.jpg', 'http://10.0.0.1/x.jpg', 'http://[::1]/x.jpg', 'file:///etc/passwd', 'ftp://127.0.0.1/x.jpg', 'javascript:alert(1)', 'http://user:pw@127.0.0.1/x.jpg', 'not a url at all']) {
    add(`url-refused:${url}`, 'v2.detect', JSON.stringify({ image: { url } }), [C.InvalidImageURLException, P]);
  }
  const valueTypes: [string, unknown, readonly number[]][] = [
    ['limit-string', { limit: 'three' }, [P]], ['limit-fraction', { limit: 1.5 }, [P]], ['limit-zero', { limit: 0 }, [P]], ['limit-negative', { limit: -1 }, [P]],
    ['limit-huge', { limit: 1e300 }, [P]], ['limit-array', { limit: [1] }, [P]], ['limit-object', { limit: { n: 1 } }, [P]], ['limit-null', { limit: null }, [P]],
    ['limit-numeric-string-huge', { limit: '99999999999' }, [P]], ['limit-exponent-string', { limit: '1e1' }, [P]],
    ['spoofing-string', { spoofing: 'yes' }, [P]], ['spoofing-number', { spoofing: 1 }, [P]], ['orientation-null', { orientation: null }, [C.Success]], // null is "not sent" (docs/api-compatibility.md): the default orientation
    ['spoofing-condition-number', { spoofingCondition: 7 }, [P]], ['spoofing-condition-unknown', { spoofingCondition: 'paranoid' }, [P]],
    ['external-id-number', { externalImageId: 12345 }, [P]], ['external-id-true', { externalImageId: true }, [P]], ['external-id-array', { externalImageId: ['abc'] }, [P]],
    ['external-id-object', { externalImageId: { a: 1 } }, [P]], ['external-id-huge', { externalImageId: 'x'.repeat(1_000_000) }, [P]],
    ['external-id-unicode', { externalImageId: '사진\u0000.jpg' }, [P]], ['external-id-empty', { externalImageId: '' }, [P]],
  ];
  // Registered with a face image: a mistyped field must be refused before anything is stored.
  for (const epId of ['v2.register', 'v1.register']) {
    for (const [name, fields, expect] of valueTypes) {
      add(name, epId, () => JSON.stringify({ limit: 1, ...(fields as object), image: { bytes: img } }), expect);
    }
  }
  const searchFields: [string, Record<string, unknown>][] = [['threshold-string', { threshold: 'high' }], ['threshold-101', { threshold: 101 }], ['threshold-array', { threshold: [50] }], ['limit-5000', { limit: 5000 }]];
  for (const [name, fields] of searchFields) {
    add(name, 'v2.search', JSON.stringify({ limit: 5, threshold: 50, ...fields, image: { bytes: img } }), [P]);
  }
  // Duplicate keys: JSON.parse keeps the last one; the answer must follow that one.
  add('duplicate-image-key-last-bad', 'v2.detect', `{"image":{"bytes":"${img}"},"image":{"bytes":"@@@@"}}`, [C.InvalidImageBytesException]);
  add('duplicate-image-key-last-good', 'v2.detect', `{"image":{"bytes":"@@@@"},"image":{"bytes":"${img}"}}`, [C.Success]);
  add('duplicate-bytes-key', 'v1.detect', `{"image":{"bytes":"@@@@","bytes":"${img}"}}`, [C.Success]);
  add('duplicate-limit-key', 'v2.register', `{"limit":"x","limit":1,"image":{"bytes":"${img}"}}`, [C.Success]);
  // Huge strings: over the body limit, and big but under it.
  add('huge-body-9MB', 'v2.detect', () => `{"image":{"bytes":"${'A'.repeat(9_000_000)}"}}`, [C.ImageTooLargeException]);
  // 4,000,004 base64 characters are 3,000,003 bytes: just over the 3,000,000-byte limit.
  add('base64-just-over-limit', 'v2.detect', () => `{"image":{"bytes":"${'A'.repeat(4_000_004)}"}}`, [C.ImageTooLargeException]);
  add('base64-exactly-at-limit', 'v2.detect', () => `{"image":{"bytes":"${'A'.repeat(4_000_000)}"}}`, [C.InvalidImageFormatException]);
  add('huge-unknown-field', 'v2.detect', () => `{"junk":"${'x'.repeat(5_000_000)}","image":{"bytes":"${img}"}}`, [C.Success]);
  add('huge-url', 'v2.detect', () => JSON.stringify({ image: { url: `http://127.0.0.1/${'a'.repeat(2_000_000)}` } }), [C.InvalidImageURLException, P]);
  add('many-keys', 'v2.detect', () => `{${Array.from({ length: 100_000 }, (_, i) => `"k${i}":${i}`).join(',')},"image":{"bytes":"${img}"}}`, [C.Success]);
  // Content types that are not JSON.
  add('text-plain', 'v2.detect', JSON.stringify({ image: { bytes: img } }), [P], 'text/plain');
  add('image-jpeg-raw', 'v2.detect', Buffer.from(valid), [P], 'image/jpeg');
  add('octet-stream', 'v1.detect', Buffer.from(valid), [P], 'application/octet-stream');
  add('form-urlencoded', 'v2.detect', `image=${encodeURIComponent(img)}`, [P], 'application/x-www-form-urlencoded');
  // Group creation with bad ids (v2 and v1): -40010.
  for (const [name, body] of [['group-id-number', '{"groupId":5}'], ['group-id-array', '{"groupId":["a"]}'], ['group-id-huge', `{"groupId":"${'a'.repeat(1_000_000)}"}`], ['group-id-nul', '{"groupId":"a\\u0000b"}'], ['group-id-unicode', '{"groupId":"그룹"}'], ['group-id-missing', '{}']] as const) {
    for (const version of ['v1', 'v2'] as const) {
      cases.push({ name: `json/${name}@${version}.create-group`, category: 'json', call: (t) => rawJsonCall({ version, path: () => '/groups' }, t, body), expect: [C.InvalidGroupID] });
    }
  }
  return cases;
}

// ── multipart cases ──────────────────────────────────────────────────────────

export function multipartCases(valid: Uint8Array, big: Uint8Array): FuzzCase[] {
  const P = C.InvalidParam;
  const cases: FuzzCase[] = [];
  const add = (name: string, epId: string, parts: Part[], expect: readonly number[], o?: MultipartOptions) =>
    cases.push({ name: `multipart/${name}@${epId}`, category: 'multipart', call: (t) => multipartCall(endpoint(epId), t, parts, o), expect });
  const file = (name: string, bytes = valid, extra: Partial<{ filename: string; type: string }> = {}): Part => ({ name, file: bytes, ...extra });

  add('valid', 'v2.detect', [file('imageFile')], [C.Success]);
  add('missing-file', 'v2.detect', [{ name: 'spoofing', value: 'true' }], [P]);
  add('no-parts', 'v2.detect', [], [P]);
  add('doubled-file', 'v2.detect', [file('imageFile'), file('imageFile')], [P]);
  add('doubled-field', 'v2.register', [{ name: 'limit', value: '1' }, { name: 'limit', value: '2' }, file('imageFile')], [P]);
  add('field-and-file-same-name', 'v2.detect', [{ name: 'imageFile', value: 'x' }, file('imageFile')], [P]);
  add('three-files', 'v2.compare', [file('sourceImageFile'), file('targetImageFile'), file('extraFile')], [P]);
  add('missing-target', 'v2.compare', [{ name: 'threshold', value: '50' }, file('sourceImageFile')], [P]);
  add('file-and-url', 'v2.compare', [{ name: 'threshold', value: '50' }, file('sourceImageFile'), { name: 'sourceImageUrl', value: 'http://127.0.0.1/x.jpg' }, file('targetImageFile')], [P]);
  add('wrong-file-name', 'v2.detect', [file('photo')], [P]);
  // NHN's curl examples drop the "File" suffix: taken (issue 13), but not both spellings at once.
  add('curl-example-file-name', 'v2.detect', [file('image')], [C.Success]);
  add('both-file-spellings', 'v2.detect', [file('image'), file('imageFile')], [P]);
  add('empty-file', 'v2.detect', [file('imageFile', new Uint8Array(0))], [C.InvalidImageBytesException]);
  add('file-over-limit', 'v2.detect', [file('imageFile', big)], [C.ImageTooLargeException]);
  add('text-named-jpg', 'v2.detect', [file('imageFile', new TextEncoder().encode('not really a jpeg'), { filename: 'photo.jpg', type: 'image/jpeg' })], [C.InvalidImageFormatException]);
  add('path-traversal-filename', 'v2.detect', [file('imageFile', valid, { filename: '../../../../etc/passwd' })], [C.Success]);
  add('unicode-filename', 'v2.detect', [file('imageFile', valid, { filename: '사진 "quoted".jpg' })], [C.Success, P]);
  add('part-without-name', 'v2.detect', [{ value: 'x' }, file('imageFile')], [C.Success, P]);
  add('file-without-name', 'v2.detect', [{ file: valid }], [P]);
  add('huge-field', 'v2.register', [{ name: 'externalImageId', value: 'x'.repeat(100_000) }, { name: 'limit', value: '1' }, file('imageFile')], [P]);
  add('many-fields', 'v2.detect', [...Array.from({ length: 40 }, (_, i) => ({ name: `f${i}`, value: String(i) })), file('imageFile')], [P]);
  add('limit-not-a-number', 'v2.register', [{ name: 'limit', value: 'NaN' }, file('imageFile')], [P]);
  add('spoofing-not-bool', 'v2.detect', [{ name: 'spoofing', value: 'maybe' }, file('imageFile')], [P]);
  add('unterminated', 'v2.detect', [file('imageFile')], [P, C.Success], { unterminated: true });
  add('bare-lf', 'v2.detect', [file('imageFile')], [P, C.Success], { eol: '\n' });
  add('no-boundary-announced', 'v2.detect', [file('imageFile')], [P], { announced: null });
  add('other-boundary-announced', 'v2.detect', [file('imageFile')], [P], { announced: 'somethingElse' });
  add('boundary-too-long', 'v2.detect', [file('imageFile')], [P, C.Success], { boundary: 'b'.repeat(300) });
  add('multipart-to-v1', 'v1.detect', [file('image')], [P]);
  cases.push({
    name: 'multipart/garbage-body@v2.detect',
    category: 'multipart',
    call: (t) => ({ method: 'POST', url: prefix('v2', t) + '/faces/detect', headers: { authorization: t.secretKey, 'content-type': 'multipart/form-data; boundary=x' }, payload: Buffer.from(flipBits(valid, 7, 500)) }),
    expect: [P],
  });
  return cases;
}

// ── HTTP-level cases: paths, methods, query strings ──────────────────────────

export function httpCases(): FuzzCase[] {
  const P = C.InvalidParam;
  const get = (name: string, version: Version, path: (t: FuzzTarget) => string, expect: readonly number[], status = 200, method = 'GET'): FuzzCase => ({
    name: `http/${name}`,
    category: 'http',
    call: (t) => ({ method, url: prefix(version, t) + path(t), headers: auth(version, t) }),
    expect,
    status,
  });
  return [
    get('unknown-path', 'v2', () => '/no/such/route', [P], 404),
    get('unknown-method', 'v2', () => '/faces/detect', [P], 404, 'PUT'),
    get('patch-group', 'v1', (t) => `/groups/${t.groupId}`, [P], 404, 'PATCH'),
    get('encoded-nul-group', 'v2', () => '/groups/a%00b', [P]),
    get('dot-dot-group', 'v2', () => '/groups/..%2F..%2Fetc', [P]),
    // NHN group ids may be 255 characters: such a group must be reachable by its path.
    get('group-id-255-chars', 'v2', () => `/groups/${'a'.repeat(255)}`, [C.NotFoundGroupError]),
    get('group-id-255-chars-faces', 'v1', () => `/groups/${'b'.repeat(255)}/faces?limit=1`, [C.NotFoundGroupError]),
    get('group-id-300-chars', 'v2', () => `/groups/${'a'.repeat(300)}`, [P]),
    get('group-id-5000-chars', 'v2', () => `/groups/${'a'.repeat(5000)}/faces/search`, [P], 200, 'POST'),
    get('bad-percent-encoding', 'v2', () => '/groups/%E0%A4%A/faces?limit=1', [P]),
    get('bad-percent-encoding-query', 'v2', () => '/groups?limit=%ZZ', [P]),
    get('unicode-group-id', 'v1', () => `/groups/${encodeURIComponent('그룹')}/faces?limit=1`, [P]),
    get('bad-face-id', 'v2', (t) => `/groups/${t.groupId}/faces/not-a-uuid/search?limit=1&threshold=50`, [C.NotFoundFaceIDError]),
    get('limit-twice', 'v2', () => '/groups?limit=1&limit=2', [P]),
    get('limit-array-syntax', 'v2', () => '/groups?limit[]=1', [P]),
    get('limit-huge', 'v1', () => '/groups?limit=999999999999999999999', [P]),
    get('limit-negative', 'v2', (t) => `/groups/${t.groupId}/faces?limit=-5`, [P]),
    get('face-id-filter-twice', 'v2', (t) => `/groups/${t.groupId}/faces?limit=5&face-id=a&face-id=b`, [P]),
    get('next-token-garbage', 'v2', (t) => `/groups/${t.groupId}/faces?limit=5&next-token=${'%FF'.repeat(50)}`, [C.InvalidTokenError, P]),
    get('next-token-huge', 'v1', () => `/groups?limit=5&next-token=${'A'.repeat(6000)}`, [C.InvalidTokenError]),
    get('threshold-text', 'v1', (t) => `/groups/${t.groupId}/faces/${t.faceId}?limit=1&threshold=high`, [P]),
    get('query-only-separators', 'v2', () => '/groups?&&&=&=', [P]),
  ];
}

// ── random cases ─────────────────────────────────────────────────────────────

type Mutation =
  | { kind: 'none' }
  | { kind: 'truncate'; fraction: number }
  | { kind: 'flip'; seed: number; count: number; fromFraction: number }
  | { kind: 'overwrite'; fraction: number; bytes: Uint8Array }
  | { kind: 'splice'; other: string; fraction: number };

function mutate(bytes: Uint8Array, m: Mutation, images: HostileImages): Uint8Array {
  const at = (f: number) => Math.min(bytes.length, Math.floor(f * bytes.length));
  switch (m.kind) {
    case 'none':
      return bytes;
    case 'truncate':
      return bytes.subarray(0, at(m.fraction));
    case 'flip':
      return flipBits(bytes, m.seed, m.count, at(m.fromFraction));
    case 'overwrite': {
      const out = new Uint8Array(bytes);
      out.set(m.bytes.subarray(0, Math.max(0, out.length - at(m.fraction))), at(m.fraction));
      return out;
    }
    case 'splice': {
      const other = images[m.other].bytes;
      return new Uint8Array(Buffer.concat([bytes.subarray(0, at(m.fraction)), other.subarray(Math.floor(m.fraction * other.length))]));
    }
  }
}

/** Junk for the non-image fields: any JSON value under a known or random name. */
const fieldNoise = fc.option(
  fc.dictionary(
    fc.oneof(fc.constantFrom('limit', 'threshold', 'spoofing', 'spoofingCondition', 'orientation', 'mask', 'externalImageId', 'aligned'), fc.string({ maxLength: 12 })),
    fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.integer(), fc.constantFrom('true', 'false', '1', '-1', '', '20', 'weak')),
    { maxKeys: 3 },
  ),
  { freq: 2 },
);

function randomCaseArbitrary(images: HostileImages, valid: Uint8Array): fc.Arbitrary<FuzzCase> {
  const names = Object.keys(images);
  // Positions as a fraction of the image, spread evenly (fc.double favours extreme values).
  const fraction = fc.integer({ min: 0, max: 10_000 }).map((n) => n / 10_000);
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.constant<Mutation>({ kind: 'none' }),
    fc.record({ kind: fc.constant('truncate' as const), fraction }),
    fc.record({ kind: fc.constant('flip' as const), seed: fc.integer({ min: 1, max: 0x7fffffff }), count: fc.integer({ min: 1, max: 200 }), fromFraction: fraction }),
    fc.record({ kind: fc.constant('overwrite' as const), fraction, bytes: fc.uint8Array({ minLength: 1, maxLength: 256 }) }),
    fc.record({ kind: fc.constant('splice' as const), other: fc.constantFrom(...names), fraction }),
  );
  return fc
    .record({
      ep: fc.constantFrom(...IMAGE_ENDPOINTS),
      base: fc.constantFrom(...names.filter((n) => images[n].bytes.length > 0 && images[n].bytes.length < 2_000_000)),
      mutation,
      // Mostly encodings that decode, so that most cases reach the image decoder.
      encoding: fc.oneof({ arbitrary: fc.constantFrom(...ENCODINGS.filter((e) => !INVALID_BASE64.has(e))), weight: 4 }, { arbitrary: fc.constantFrom(...INVALID_BASE64), weight: 1 }),
      slot: fc.nat(1),
      noise: fieldNoise,
    })
    .map(({ ep, base, mutation, encoding, slot, noise }): FuzzCase => {
      const describe = JSON.stringify({ ...mutation, ...('bytes' in mutation ? { bytes: mutation.bytes.length } : {}) });
      return {
        name: `random/${base}+${describe}@${ep.id}.${encoding}.slot${slot}${noise ? `+noise${JSON.stringify(noise).slice(0, 80)}` : ''}`,
        category: 'random',
        call: (t) => imageCall(ep, t, { hostile: mutate(images[base].bytes, mutation, images), valid }, slot, encoding, noise ?? {}),
      };
    });
}

/** `count` random cases; the same seed always gives the same cases. */
export function randomCases(images: HostileImages, valid: Uint8Array, seed: number, count: number): FuzzCase[] {
  return fc.sample(randomCaseArbitrary(images, valid), { seed, numRuns: count });
}

/** NHN's spoofing with `aligned=true`: the image must be a 224×224 face crop, else -45070. */
export function alignedSpoofingCases(images: HostileImages): FuzzCase[] {
  const cases: FuzzCase[] = [];
  for (const id of ['v1.spoofing', 'v2.spoofing']) {
    for (const [name, expect] of [['aligned224', [C.Success]], ['jpeg', [C.InvalidImageSizeException]], ['gif', [C.InvalidImageFormatException]], ['zeroBytes', [C.InvalidImageBytesException]]] as const) {
      cases.push({
        name: `spoofing/aligned-${name}@${id}`,
        category: 'image',
        call: (t) => imageCall(endpoint(id), t, { hostile: images[name].bytes, valid: images[name].bytes }, 0, 'base64', { aligned: true }),
        expect,
      });
    }
  }
  return cases;
}

/** The whole fixed corpus. */
/**
 * The privacy extension (`/x/v1`): hostile subjects and audit queries. Erasures here name
 * subjects the target never registered, so the target face survives the corpus.
 */
export function privacyCases(): FuzzCase[] {
  const P = C.InvalidParam;
  const x = (name: string, method: string, path: string, expect: readonly number[], headers?: (t: FuzzTarget) => Record<string, string>, status = 200): FuzzCase => ({
    name: `privacy/${name}`,
    category: 'http',
    call: (t) => ({ method, url: `/x/v1/appkeys/${t.appKey}${path}`, headers: headers ? headers(t) : { authorization: t.secretKey } }),
    expect,
    status,
  });
  return [
    x('subject-ok', 'GET', '/subjects/nobody-here', [C.Success]),
    x('erase-unknown-subject', 'DELETE', '/subjects/nobody-here', [C.Success]),
    x('subject-space', 'GET', '/subjects/a%20b', [P]),
    x('subject-nul', 'DELETE', '/subjects/a%00b', [P]),
    x('subject-dot-dot', 'DELETE', '/subjects/..%2F..%2Fetc', [P]),
    x('subject-unicode', 'GET', `/subjects/${encodeURIComponent('홍길동')}`, [P]),
    x('subject-256-chars', 'GET', `/subjects/${'s'.repeat(256)}`, [P]),
    x('subject-5000-chars', 'DELETE', `/subjects/${'s'.repeat(5000)}`, [P]),
    x('subject-bad-percent', 'GET', '/subjects/%E0%A4%A/faces.csv', [P]),
    x('subject-csv-bad', 'GET', '/subjects/a%20b/faces.csv', [P]),
    x('subject-no-auth', 'DELETE', '/subjects/nobody-here', [C.UnauthorizedAppKeyOrSecretKey], () => ({})),
    x('subject-bearer', 'GET', '/subjects/nobody-here', [C.UnauthorizedAppKeyOrSecretKey], (t) => ({ authorization: `Bearer ${t.secretKey}` })),
    x('subject-put', 'PUT', '/subjects/nobody-here', [P], undefined, 404),
    x('audit-ok', 'GET', '/audit?limit=5', [C.Success]),
    x('audit-limit-zero', 'GET', '/audit?limit=0', [P]),
    x('audit-limit-huge', 'GET', '/audit?limit=999999999999999999999', [P]),
    x('audit-limit-twice', 'GET', '/audit?limit=1&limit=2', [P]),
    x('audit-from-garbage', 'GET', '/audit?from=yesterday', [P]),
    x('audit-to-before-from', 'GET', '/audit?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', [P]),
    x('audit-subject-bad', 'GET', '/audit?externalImageId=%00', [P]),
    x('audit-after-seq-text', 'GET', '/audit?after-seq=abc', [P]),
    x('audit-after-seq-negative', 'GET', '/audit?after-seq=-1', [P]),
    x('audit-no-auth', 'GET', '/audit', [C.UnauthorizedAppKeyOrSecretKey], () => ({})),
    x('retention-get', 'GET', '/retention', [C.Success]),
    x('retention-no-body', 'PUT', '/retention', [P]),
    x('retention-missing-group', 'PUT', '/groups/no-such-group/retention', [P, C.NotFoundGroupError]),
    x('retention-bad-group-id', 'DELETE', '/groups/a%00b/retention', [P]),
    x('retention-unknown-group-clear', 'DELETE', '/groups/no-such-group/retention', [C.NotFoundGroupError]),
    x('retention-no-auth', 'DELETE', '/retention', [C.UnauthorizedAppKeyOrSecretKey], () => ({})),
  ];
}

/**
 * The extension's register with consent (`POST /x/v1/…/groups/{groupId}/faces`): hostile consent
 * fields in JSON and multipart, beside a valid image, and the register failures v2 answers.
 */
export function consentRegisterCases(valid: Uint8Array): FuzzCase[] {
  const P = C.InvalidParam;
  const img = Buffer.from(valid).toString('base64');
  const url = (t: FuzzTarget, groupId = t.groupId) => `/x/v1/appkeys/${t.appKey}/groups/${groupId}/faces`;
  const json = (name: string, fields: Record<string, unknown>, expect: readonly number[], o: { groupId?: string; auth?: boolean; raw?: string } = {}): FuzzCase => ({
    name: `consent/${name}`,
    category: 'json',
    call: (t) => ({
      method: 'POST',
      url: url(t, o.groupId),
      headers: { ...(o.auth === false ? {} : { authorization: t.secretKey }), 'content-type': 'application/json' },
      payload: Buffer.from(o.raw ?? JSON.stringify({ image: { bytes: img }, limit: 1, ...fields }), 'utf8'),
    }),
    expect,
  });
  const form = (name: string, parts: Part[], expect: readonly number[]): FuzzCase => ({
    name: `consent/${name}`,
    category: 'multipart',
    call: (t) => {
      const { payload, contentType } = multipartBody([{ name: 'limit', value: '1' }, ...parts, { name: 'imageFile', file: valid }]);
      return { method: 'POST', url: url(t), headers: { authorization: t.secretKey, 'content-type': contentType }, payload };
    },
    expect,
  });
  return [
    json('ok', { consentRef: 'form-7', purpose: 'door access' }, [C.Success]),
    json('unicode-ok', { purpose: '출입 관리 ✓ \u202e' }, [C.Success]),
    json('none-ok', {}, [C.Success]),
    json('null-is-absent', { consentRef: null }, [C.Success]),
    json('empty', { consentRef: '' }, [P]),
    json('256-chars', { purpose: 'p'.repeat(256) }, [P]),
    json('huge', { purpose: 'p'.repeat(1_000_000) }, [P]),
    json('nul', { consentRef: 'a\u0000b' }, [P]),
    json('newline', { purpose: 'a\nb' }, [P]),
    json('c1-control', { purpose: 'a\u0085b' }, [P]),
    json('number', { consentRef: 7 }, [P]),
    json('array', { purpose: ['a'] }, [P]),
    json('object', { consentRef: { $ne: '' } }, [P]),
    json('bool', { purpose: true }, [P]),
    json('duplicate-key-last-bad', {}, [P], { raw: `{"image":{"bytes":"${img}"},"limit":1,"consentRef":"ok","consentRef":""}` }),
    json('bad-image', { consentRef: 'c' }, [C.InvalidImageBytesException], { raw: '{"image":{"bytes":"@@@@"},"limit":1,"consentRef":"c"}' }),
    json('unknown-group', { consentRef: 'c' }, [C.NotFoundGroupError], { groupId: 'no-such-group' }),
    json('bad-group-id', { consentRef: 'c' }, [P, C.NotFoundGroupError], { groupId: 'a%00b' }),
    json('no-auth', { consentRef: 'c' }, [C.UnauthorizedAppKeyOrSecretKey], { auth: false }),
    form('multipart-ok', [{ name: 'consentRef', value: 'form-7' }, { name: 'purpose', value: 'door access' }], [C.Success]),
    form('multipart-nul', [{ name: 'consentRef', value: 'a\u0000b' }], [P]),
    form('multipart-empty', [{ name: 'purpose', value: '' }], [P]),
    form('multipart-doubled', [{ name: 'consentRef', value: 'a' }, { name: 'consentRef', value: 'b' }], [P]),
    form('multipart-crlf', [{ name: 'purpose', value: 'a\r\nb' }], [P]),
  ];
}

export function fixedCases(images: HostileImages, valid: Uint8Array): FuzzCase[] {
  return [...personCases(valid), ...imageCases(images, valid), ...alignedSpoofingCases(images), ...base64Cases(valid), ...jsonCases(valid), ...multipartCases(valid, images.overByteLimit.bytes), ...httpCases(), ...privacyCases(), ...consentRegisterCases(valid)];
}

// ── the person layer, clustering and album search (/x/v1, docs/persons.md) ───

/** A personId / jobId no group holds (well-formed). */
export const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000';

/** Where a case sends a person-layer request; `{person}`, `{job}` and `{face}` are the target's. */
interface XCall {
  method: string;
  path: string;
  body?: string | Buffer | (() => string | Buffer);
  contentType?: string;
  /** false: no Authorization; a string: that Authorization. */
  auth?: false | string;
}

const fillIn = (text: string, t: FuzzTarget) =>
  text.replaceAll('{group}', t.groupId).replaceAll('{person}', t.personId ?? NO_SUCH_ID).replaceAll('{job}', t.jobId ?? NO_SUCH_ID).replaceAll('{face}', t.faceId);

function xCall(t: FuzzTarget, c: XCall): HttpCall {
  const path = fillIn(c.path, t);
  const body = typeof c.body === 'function' ? c.body() : c.body;
  const headers: Record<string, string> = {};
  if (c.auth === undefined) headers.authorization = t.secretKey;
  else if (c.auth !== false) headers.authorization = c.auth;
  if (body !== undefined) headers['content-type'] = c.contentType ?? 'application/json';
  return {
    method: c.method,
    url: `/x/v1/appkeys/${t.appKey}${path}`,
    headers,
    ...(body !== undefined ? { payload: Buffer.isBuffer(body) ? body : Buffer.from(fillIn(body, t), 'utf8') } : {}),
  };
}

/** Every route of the person layer, with a body that is valid apart from what a case changes. */
export const PERSON_ROUTES: readonly { id: string; method: string; path: string; body?: Record<string, unknown> }[] = [
  { id: 'createPerson', method: 'POST', path: '/groups/{group}/persons', body: { name: 'fuzz' } },
  { id: 'listPersons', method: 'GET', path: '/groups/{group}/persons?limit=5' },
  { id: 'getPerson', method: 'GET', path: '/groups/{group}/persons/{person}' },
  { id: 'updatePerson', method: 'PATCH', path: '/groups/{group}/persons/{person}', body: { name: 'fuzz' } },
  { id: 'deletePerson', method: 'DELETE', path: `/groups/{group}/persons/${NO_SUCH_ID}` },
  { id: 'associate', method: 'POST', path: '/groups/{group}/persons/{person}/associate', body: { faceIds: ['{face}'] } },
  { id: 'disassociate', method: 'POST', path: `/groups/{group}/persons/{person}/disassociate`, body: { faceIds: [NO_SUCH_ID] } },
  { id: 'registerPerson', method: 'POST', path: '/groups/{group}/persons/register', body: { images: [{ bytes: 'AAAA' }] } },
  { id: 'searchPersons', method: 'POST', path: '/groups/{group}/persons/search', body: { image: { bytes: 'AAAA' }, threshold: 50 } },
  { id: 'verifyPerson', method: 'POST', path: '/groups/{group}/persons/{person}/verify', body: { image: { bytes: 'AAAA' } } },
  { id: 'findPhotos', method: 'POST', path: '/groups/{group}/photos/search', body: { personId: '{person}' } },
  { id: 'startClustering', method: 'POST', path: '/groups/{group}/cluster-jobs', body: { threshold: 80 } },
  { id: 'getClustering', method: 'GET', path: '/groups/{group}/cluster-jobs/{job}' },
  { id: 'clusterToPerson', method: 'POST', path: '/groups/{group}/cluster-jobs/{job}/clusters/0/person', body: { name: 'fuzz' } },
];

/**
 * Hostile requests on every `/x/v1` person, clustering and album route: auth on each, bad and
 * foreign ids, wrong types, oversize names and metadata, malformed JSON, hostile images. No case
 * takes the target face from the target person or deletes it, so cases may run in any order.
 */
export function personCases(valid: Uint8Array): FuzzCase[] {
  const P = C.InvalidParam;
  const AUTH = [C.UnauthorizedAppKeyOrSecretKey];
  const img = Buffer.from(valid).toString('base64');
  const cases: FuzzCase[] = [];
  const add = (name: string, c: XCall, expect: readonly number[], status?: number) =>
    cases.push({ name: `persons/${name}`, category: 'persons', call: (t) => xCall(t, c), expect, ...(status !== undefined ? { status } : {}) });
  const json = (v: unknown) => JSON.stringify(v);

  // Auth: every route refuses a missing, wrong or Bearer-wrapped secret before anything else.
  for (const r of PERSON_ROUTES) {
    const body = r.body ? json(r.body) : undefined;
    add(`${r.id}/no-auth`, { method: r.method, path: r.path, body, auth: false }, AUTH);
    add(`${r.id}/wrong-secret`, { method: r.method, path: r.path, body, auth: 'not-the-secret' }, AUTH);
    add(`${r.id}/bearer`, { method: r.method, path: r.path, body, auth: 'Bearer x' }, AUTH);
    // Bad group ids and an unknown group on every route.
    add(`${r.id}/unknown-group`, { method: r.method, path: r.path.replace('{group}', 'no-such-group'), body }, [C.NotFoundGroupError]);
    add(`${r.id}/bad-group-id`, { method: r.method, path: r.path.replace('{group}', 'a%00b'), body }, [P, C.NotFoundGroupError]);
    add(`${r.id}/group-id-300`, { method: r.method, path: r.path.replace('{group}', 'g'.repeat(300)), body }, [P]);
  }

  // Bad person, job and cluster ids.
  for (const [what, id] of [['not-a-uuid', 'not-a-uuid'], ['unknown', NO_SUCH_ID], ['upper-case', NO_SUCH_ID.toUpperCase()], ['nul', 'a%00b'], ['dot-dot', '..%2F..%2Fetc'], ['5000-chars', 'p'.repeat(5000)], ['bad-percent', '%E0%A4%A'], ['unicode', encodeURIComponent('사람')]] as const) {
    const nf = [C.NotFoundPersonError, P];
    add(`getPerson/${what}`, { method: 'GET', path: `/groups/{group}/persons/${id}` }, nf);
    add(`updatePerson/${what}`, { method: 'PATCH', path: `/groups/{group}/persons/${id}`, body: json({ name: 'x' }) }, nf);
    add(`deletePerson/${what}`, { method: 'DELETE', path: `/groups/{group}/persons/${id}?delete-faces=true` }, nf);
    add(`associate/${what}`, { method: 'POST', path: `/groups/{group}/persons/${id}/associate`, body: json({ faceIds: [NO_SUCH_ID] }) }, nf);
    add(`disassociate/${what}`, { method: 'POST', path: `/groups/{group}/persons/${id}/disassociate`, body: json({ faceIds: [NO_SUCH_ID] }) }, nf);
    add(`verifyPerson/${what}`, { method: 'POST', path: `/groups/{group}/persons/${id}/verify`, body: json({ image: { bytes: img } }) }, nf);
    add(`findPhotos/${what}`, { method: 'POST', path: '/groups/{group}/photos/search', body: json({ personId: decodeURIComponent(id.includes('%') ? 'x' : id) }) }, nf);
    add(`getClustering/${what}`, { method: 'GET', path: `/groups/{group}/cluster-jobs/${id}` }, [C.NotFoundJobError, P]);
    add(`clusterToPerson/job-${what}`, { method: 'POST', path: `/groups/{group}/cluster-jobs/${id}/clusters/0/person`, body: '{}' }, [C.NotFoundJobError, P]);
  }
  for (const [what, id] of [['negative', '-1'], ['huge', '99999999999999999999'], ['text', 'abc'], ['unknown', '4096']] as const) {
    add(`clusterToPerson/cluster-${what}`, { method: 'POST', path: `/groups/{group}/cluster-jobs/{job}/clusters/${id}/person`, body: '{}' }, [P]);
  }

  // Names and metadata: wrong types, control characters, oversize, prototype keys.
  const fieldCases: [string, unknown, readonly number[]][] = [
    ['name-ok-unicode', { name: '홍길동 ✓ \u202e' }, [C.Success]],
    ['name-255', { name: 'n'.repeat(255) }, [C.Success]],
    ['name-256', { name: 'n'.repeat(256) }, [P]],
    ['name-1mb', { name: 'n'.repeat(1_000_000) }, [P]],
    ['name-nul', { name: 'a\u0000b' }, [P]],
    ['name-newline', { name: 'a\nb' }, [P]],
    ['name-c1', { name: 'a\u0085b' }, [P]],
    ['name-number', { name: 7 }, [P]],
    ['name-array', { name: ['a'] }, [P]],
    ['name-object', { name: { $ne: '' } }, [P]],
    ['name-bool', { name: true }, [P]],
    ['metadata-ok', { metadata: { team: 'blue', tags: ['a', 1, null], nested: { deep: true } } }, [C.Success]],
    ['metadata-string', { metadata: 'text' }, [P]],
    ['metadata-array', { metadata: [1, 2] }, [P]],
    ['metadata-number', { metadata: 42 }, [P]],
    ['metadata-4097-bytes', { metadata: { blob: 'x'.repeat(4097) } }, [P]],
    ['metadata-1mb', { metadata: { blob: 'x'.repeat(1_000_000) } }, [P]],
    ['metadata-many-keys', { metadata: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i])) }, [P]],
    ['metadata-proto', { metadata: JSON.parse('{"__proto__":{"isAdmin":true}}') }, [C.Success, P]],
  ];
  for (const [what, body, expect] of fieldCases) {
    add(`createPerson/${what}`, { method: 'POST', path: '/groups/{group}/persons', body: json(body) }, expect);
    add(`updatePerson/${what}`, { method: 'PATCH', path: '/groups/{group}/persons/{person}', body: json(body) }, expect);
  }

  // Malformed bodies on every route that takes one.
  for (const r of PERSON_ROUTES.filter((r) => r.body)) {
    add(`${r.id}/not-json`, { method: r.method, path: r.path, body: 'name=x' }, [P]);
    add(`${r.id}/truncated`, { method: r.method, path: r.path, body: '{"name":"x' }, [P]);
    add(`${r.id}/array-body`, { method: r.method, path: r.path, body: '[{"name":"x"}]' }, [P]);
    // A null body is no body (as a null field is an absent one): fine where every field is optional.
    const allOptional = ['createPerson', 'updatePerson', 'startClustering', 'clusterToPerson'].includes(r.id);
    add(`${r.id}/null-body`, { method: r.method, path: r.path, body: 'null' }, allOptional ? [P, C.Success] : [P]);
    // Unknown fields are ignored (clustering takes no name): there the nesting is refused by the parser or not read at all.
    add(`${r.id}/deep-nesting`, { method: r.method, path: r.path, body: () => `{"name":${'['.repeat(100_000)}${']'.repeat(100_000)}}` }, r.id === 'startClustering' ? [P, C.Success] : [P]);
    add(`${r.id}/utf16`, { method: r.method, path: r.path, body: Buffer.from(json(r.body), 'utf16le'), contentType: 'application/json; charset=utf-16' }, [P]);
    add(`${r.id}/text-plain`, { method: r.method, path: r.path, body: json(r.body), contentType: 'text/plain' }, [P, C.Success, C.InvalidImageBytesException]);
  }
  add('createPerson/empty-object', { method: 'POST', path: '/groups/{group}/persons', body: '{}' }, [C.Success]);
  add('createPerson/no-body', { method: 'POST', path: '/groups/{group}/persons' }, [C.Success, P]);
  add('createPerson/duplicate-key-last-bad', { method: 'POST', path: '/groups/{group}/persons', body: '{"name":"ok","name":""}' }, [P]);
  add('updatePerson/empty-object', { method: 'PATCH', path: '/groups/{group}/persons/{person}', body: '{}' }, [C.Success]);

  // faceIds: wrong types, unknown, too many, a face of another person.
  const faceIdCases: [string, unknown, readonly number[]][] = [
    ['missing', {}, [P]],
    ['empty', { faceIds: [] }, [P]],
    ['string', { faceIds: '{face}' }, [P]],
    ['numbers', { faceIds: [1, 2] }, [P]],
    ['null-item', { faceIds: [null] }, [P]],
    ['object-item', { faceIds: [{ $ne: '' }] }, [P]],
    ['not-uuids', { faceIds: ['x', '../../etc'] }, [P, C.NotFoundFaceIDError]],
    ['unknown', { faceIds: [NO_SUCH_ID] }, [C.NotFoundFaceIDError]],
    ['ten-thousand', { faceIds: Array.from({ length: 10_000 }, () => NO_SUCH_ID) }, [P]],
    ['huge-string', { faceIds: ['f'.repeat(1_000_000)] }, [P, C.NotFoundFaceIDError]],
  ];
  for (const [what, body, expect] of faceIdCases) {
    add(`associate/faceIds-${what}`, { method: 'POST', path: '/groups/{group}/persons/{person}/associate', body: json(body) }, expect);
    // Disassociating a face the person does not have is harmless (and answers which were removed).
    add(`disassociate/faceIds-${what}`, { method: 'POST', path: '/groups/{group}/persons/{person}/disassociate', body: json(body) }, what === 'unknown' || what === 'not-uuids' || what === 'huge-string' ? [C.Success, P, C.NotFoundFaceIDError] : expect);
    if (what !== 'missing') add(`startClustering/faceIds-${what}`, { method: 'POST', path: '/groups/{group}/cluster-jobs', body: json(body) }, [P, C.NotFoundFaceIDError, C.Success]);
  }
  add('associate/target-face-again', { method: 'POST', path: '/groups/{group}/persons/{person}/associate', body: json({ faceIds: ['{face}'] }) }, [C.Success]);
  // The target face belongs to the target person: no other person may take it.
  add('associate/face-of-another-person', { method: 'POST', path: `/groups/{group}/persons/${NO_SUCH_ID}/associate`, body: json({ faceIds: ['{face}'] }) }, [C.NotFoundPersonError]);
  add('deletePerson/delete-faces-text', { method: 'DELETE', path: `/groups/{group}/persons/${NO_SUCH_ID}?delete-faces=maybe` }, [P, C.NotFoundPersonError]);
  add('deletePerson/delete-faces-twice', { method: 'DELETE', path: `/groups/{group}/persons/${NO_SUCH_ID}?delete-faces=true&delete-faces=false` }, [P, C.NotFoundPersonError]);

  // Listing: limits and tokens.
  for (const [what, q, expect] of [
    ['limit-0', 'limit=0', [P]], ['limit-201', 'limit=201', [P]], ['limit-negative', 'limit=-1', [P]], ['limit-text', 'limit=ten', [P]],
    ['limit-huge', 'limit=999999999999999999999', [P]], ['limit-twice', 'limit=1&limit=2', [P]], ['limit-array', 'limit[]=1', [P, C.Success]],
    ['token-forged', 'next-token=forged.token', [C.InvalidTokenError]], ['token-huge', `next-token=${'A'.repeat(6000)}`, [C.InvalidTokenError]],
    ['token-bytes', `next-token=${'%FF'.repeat(50)}`, [C.InvalidTokenError, P]],
  ] as const) {
    add(`listPersons/${what}`, { method: 'GET', path: `/groups/{group}/persons?${q}` }, expect);
  }

  // Thresholds and limits of search, album search and clustering.
  for (const [what, v] of [['zero', 0], ['101', 101], ['negative', -5], ['float', 50.5], ['string', '"80"'], ['null', null], ['huge', 1e300], ['array', [80]]] as const) {
    const value = typeof v === 'string' ? v : json(v);
    const nullable = v === null ? [P, C.Success] : [P];
    add(`findPhotos/threshold-${what}`, { method: 'POST', path: '/groups/{group}/photos/search', body: `{"personId":"{person}","threshold":${value}}` }, v === null || what === 'string' ? [P, C.Success] : nullable);
    add(`findPhotos/limit-${what}`, { method: 'POST', path: '/groups/{group}/photos/search', body: `{"personId":"{person}","limit":${value}}` }, v === null || what === 'string' || what === '101' ? [P, C.Success] : nullable);
    add(`searchPersons/threshold-${what}`, { method: 'POST', path: '/groups/{group}/persons/search', body: `{"image":{"bytes":"${img}"},"threshold":${value}}` }, v === null || what === 'string' ? [P, C.Success] : nullable);
    add(`startClustering/threshold-${what}`, { method: 'POST', path: '/groups/{group}/cluster-jobs', body: `{"threshold":${value}}` }, v === null || what === 'string' ? [P, C.Success] : nullable);
    add(`startClustering/attach-${what}`, { method: 'POST', path: '/groups/{group}/cluster-jobs', body: `{"attachThreshold":${value}}` }, v === null || what === 'string' ? [P, C.Success] : nullable);
  }
  add('startClustering/attach-above-threshold', { method: 'POST', path: '/groups/{group}/cluster-jobs', body: '{"threshold":60,"attachThreshold":70}' }, [P]);

  // Album search: exactly one of personId and image.
  add('findPhotos/neither', { method: 'POST', path: '/groups/{group}/photos/search', body: '{}' }, [P]);
  add('findPhotos/both', { method: 'POST', path: '/groups/{group}/photos/search', body: `{"personId":"{person}","image":{"bytes":"${img}"}}` }, [P]);
  add('findPhotos/personId-number', { method: 'POST', path: '/groups/{group}/photos/search', body: '{"personId":7}' }, [P, C.NotFoundPersonError]);
  add('findPhotos/ok-by-person', { method: 'POST', path: '/groups/{group}/photos/search', body: '{"personId":"{person}"}' }, [C.Success]);
  add('findPhotos/ok-by-image', { method: 'POST', path: '/groups/{group}/photos/search', body: `{"image":{"bytes":"${img}"}}` }, [C.Success]);
  add('findPhotos/image-bad-base64', { method: 'POST', path: '/groups/{group}/photos/search', body: '{"image":{"bytes":"@@@@"}}' }, [C.InvalidImageBytesException]);
  add('findPhotos/image-not-an-image', { method: 'POST', path: '/groups/{group}/photos/search', body: '{"image":{"bytes":"bm90IGFuIGltYWdl"}}' }, [C.InvalidImageFormatException, C.InvalidImageFileException]);
  add('findPhotos/image-url-loopback', { method: 'POST', path: '/groups/{group}/photos/search', body: '{"image":{"url":"http://127.0.0.1/x.jpg"}}' }, [C.InvalidImageURLException]);

  // registerPerson: images of every wrong kind; an image that cannot be read is reported in its place.
  const registerBodies: [string, string | (() => string), readonly number[]][] = [
    ['images-missing', '{"name":"x"}', [P]],
    ['images-empty', '{"images":[]}', [P]],
    ['images-object', '{"images":{"bytes":"AAAA"}}', [P]],
    ['images-eleven', () => json({ images: Array.from({ length: 11 }, () => ({ bytes: 'AAAA' })) }), [P]],
    ['images-all-bad', '{"images":[{"bytes":"@@@@"},{"bytes":""},null,7,{"url":"http://10.0.0.1/x.jpg"}]}', [P, C.InvalidImageBytesException]],
    ['images-one-good', `{"images":[{"bytes":"${img}"},{"bytes":"@@@@"}],"name":"fuzz-registered"}`, [C.Success]],
    ['personId-unknown', `{"images":[{"bytes":"${img}"}],"personId":"${NO_SUCH_ID}"}`, [C.NotFoundPersonError]],
    ['personId-number', `{"images":[{"bytes":"${img}"}],"personId":7}`, [P, C.NotFoundPersonError]],
    ['name-bad', `{"images":[{"bytes":"${img}"}],"name":"a\\u0000b"}`, [P]],
    ['metadata-bad', `{"images":[{"bytes":"${img}"}],"metadata":"x"}`, [P]],
    ['externalImageId-bad', `{"images":[{"bytes":"${img}"}],"externalImageId":"a b"}`, [P]],
  ];
  for (const [what, body, expect] of registerBodies) add(`registerPerson/${what}`, { method: 'POST', path: '/groups/{group}/persons/register', body }, expect);
  add('registerPerson/multipart', { method: 'POST', path: '/groups/{group}/persons/register', ...multipartOf([{ name: 'imageFile', file: valid }]) }, [P]);

  // Search and verify: JSON and multipart, no face, hostile image fields.
  for (const [id, path] of [['searchPersons', '/groups/{group}/persons/search'], ['verifyPerson', '/groups/{group}/persons/{person}/verify']] as const) {
    const extra = id === 'searchPersons' ? ',"threshold":50' : '';
    add(`${id}/ok`, { method: 'POST', path, body: `{"image":{"bytes":"${img}"}${extra}}` }, [C.Success]);
    add(`${id}/multipart-ok`, { method: 'POST', path, ...multipartOf([...(extra ? [{ name: 'threshold', value: '50' }] : []), { name: 'imageFile', file: valid }]) }, [C.Success]);
    add(`${id}/multipart-two-files`, { method: 'POST', path, ...multipartOf([{ name: 'imageFile', file: valid }, { name: 'imageFile', file: valid }]) }, [P]);
    add(`${id}/image-missing`, { method: 'POST', path, body: `{"threshold":50}` }, [P]);
    add(`${id}/image-string`, { method: 'POST', path, body: `{"image":"photo.jpg"${extra}}` }, [P]);
    add(`${id}/image-bad-base64`, { method: 'POST', path, body: `{"image":{"bytes":"@@@@"}${extra}}` }, [C.InvalidImageBytesException]);
    add(`${id}/image-url-and-bytes`, { method: 'POST', path, body: `{"image":{"url":"http://127.0.0.1/x.jpg","bytes":"AAAA"}${extra}}` }, [P]);
    add(`${id}/image-url-private`, { method: 'POST', path, body: `{"image":{"url":"http://192.168.0.1/x.jpg"}${extra}}` }, [C.InvalidImageURLException]);
    add(`${id}/spoofing-not-bool`, { method: 'POST', path, body: `{"image":{"bytes":"${img}"},"spoofing":"maybe"${extra}}` }, [P]);
  }

  // Clustering: a job of the target group that succeeded; clusters by index.
  add('getClustering/ok', { method: 'GET', path: '/groups/{group}/cluster-jobs/{job}' }, [C.Success]);
  add('clusterToPerson/name-bad', { method: 'POST', path: '/groups/{group}/cluster-jobs/{job}/clusters/0/person', body: '{"name":7}' }, [P]);
  add('clusterToPerson/metadata-bad', { method: 'POST', path: '/groups/{group}/cluster-jobs/{job}/clusters/0/person', body: '{"metadata":[1]}' }, [P]);

  // Methods and paths the layer does not have.
  add('put-person', { method: 'PUT', path: '/groups/{group}/persons/{person}', body: '{}' }, [P], 404);
  add('get-cluster-jobs-list', { method: 'DELETE', path: '/groups/{group}/cluster-jobs/{job}' }, [P], 404);
  add('get-photos-search', { method: 'GET', path: '/groups/{group}/photos/search' }, [P], 404);
  return cases;
}

function multipartOf(parts: Part[]): Pick<XCall, 'body' | 'contentType'> {
  const { payload, contentType } = multipartBody(parts);
  return { body: payload, contentType };
}

/** Random JSON bodies on random person-layer routes: only never -50000 and always a documented code. */
export function randomPersonCases(seed: number, count: number): FuzzCase[] {
  const names = ['name', 'metadata', 'faceIds', 'images', 'image', 'personId', 'threshold', 'attachThreshold', 'limit', 'externalImageId', 'spoofing'];
  const value = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.array(fc.constantFrom(NO_SUCH_ID, '{face}', 'x', ''), { maxLength: 4 }),
    fc.constantFrom('{face}', NO_SUCH_ID, '', 'AAAA', 80, -1, 1e308, true, null),
  );
  // Deletes go to no real person: a random case never takes the target face away.
  const routes = PERSON_ROUTES.filter((r) => r.id !== 'deletePerson');
  return fc.sample(
    fc.record({ route: fc.constantFrom(...routes), body: fc.dictionary(fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 8 })), value, { maxKeys: 4 }) }).map(({ route, body }): FuzzCase => {
      // Disassociate only faces the target person does not have.
      const safe = route.id === 'disassociate' ? { ...body, faceIds: [NO_SUCH_ID] } : body;
      const text = JSON.stringify(safe);
      return { name: `random-persons/${route.id}+${text.slice(0, 100)}`, category: 'random', call: (t) => xCall(t, { method: route.method, path: route.path, body: route.method === 'GET' ? undefined : text }) };
    }),
    { seed, numRuns: count },
  );
}
