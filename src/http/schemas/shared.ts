/**
 * JSON schemas of the NHN objects and envelope, shared by the v1.0 and v2.0 route schemas.
 *
 * These schemas DOCUMENT the API (they feed /openapi.json); they do not validate it. NHN's result
 * codes depend on which check fails first (a bad groupId is -40010 on create and -40000
 * elsewhere, bad base64 is -45030, a missing group beats a bad limit…), so the handlers and the
 * domain stay the only validators and the NHN plugins install no-op compilers (see
 * `documentationOnly`). test/openapi.test.ts checks real answers against these schemas, so the
 * document cannot drift from what the server sends.
 */
import type { FastifyInstance, FastifySchema } from 'fastify';
import { RESULT_CODES, type ResultName } from '../../domain/errors.js';
import { DEFAULT_LIMITS, DEFAULT_MAX_IMAGE_BYTES } from '../../domain/limits.js';
import { MODEL_VERSION } from '../../engine/models.js';

export type JsonSchema = Record<string, unknown>;

/** The image cap as the document states it: NHN's figure, which the operator may change. */
const IMAGE_CAP = `${DEFAULT_MAX_IMAGE_BYTES.toLocaleString('en-US')} bytes (FACEREC_MAX_IMAGE_BYTES)`;

export type ApiVersion = 'v1.0' | 'v2.0';

const closed = (properties: Record<string, JsonSchema>, required: string[] = Object.keys(properties), extra: JsonSchema = {}): JsonSchema => ({
  type: 'object',
  properties,
  ...(required.length ? { required } : {}),
  additionalProperties: false,
  ...extra,
});

const fraction = (description: string): JsonSchema => ({ type: 'number', minimum: 0, maximum: 1, description });
const count = (description: string): JsonSchema => ({ type: 'integer', minimum: 0, description });

// ── named objects (components.schemas in the document) ──────────────────────

/**
 * Objects that recur across operations, registered once with `addSchema` and referenced by $id,
 * so the document names them (FaceDetail, StoredFace…) for readers and client generators.
 */
const named = (id: string, schema: JsonSchema): JsonSchema => ({ $id: id, title: id, ...schema });
export const ref = (id: string): JsonSchema => ({ $ref: `${id}#` });

const BBox = named('BBox', closed(
  { x0: fraction('left, as a fraction of the image width'), y0: fraction('top, as a fraction of the image height'), x1: fraction('right'), y1: fraction('bottom') },
  undefined,
  { description: 'Face box; coordinates are fractions (0..1) of the image width (x) and height (y).' },
));

const Landmark = named('Landmark', closed({
  type: { type: 'string', enum: ['leftEye', 'rightEye', 'nose', 'leftLip', 'rightLip'], description: 'named by side of the image: the subject’s right eye is leftEye' },
  x: fraction('fraction of the image width'),
  y: fraction('fraction of the image height'),
}));

const FaceDetail = named('FaceDetail', closed(
  {
    bbox: ref('BBox'),
    landmarks: { type: 'array', items: ref('Landmark'), maxItems: 5, description: 'five points; empty for an aligned spoofing image' },
    orientation: closed(
      { x: { type: 'number', description: 'yaw, degrees (> 0: turned towards the image’s right)' }, y: { type: 'number', description: 'pitch, degrees (> 0: up)' }, z: { type: 'number', description: 'roll, degrees (> 0: clockwise)' } },
      undefined,
      { description: 'present when the request has orientation=true (the default)' },
    ),
    mask: { type: 'boolean', description: 'a mask is worn; present when the request has mask=true (the default)' },
    spoofing: { type: 'boolean', description: 'true = judged a presentation attack (print, screen); present when spoofing was asked for' },
    confidence: { type: 'number', minimum: 0, maximum: 1, description: 'face-detection confidence, 0..1' },
  },
  ['bbox', 'landmarks', 'confidence'],
  { description: 'A face found in the request image.' },
));

const StoredFace = named('StoredFace', closed(
  {
    faceId: { type: 'string', format: 'uuid' },
    imageId: { type: 'string', format: 'uuid', description: 'shared by every face registered from one image' },
    externalImageId: { type: 'string', description: 'the label given at registration, if any' },
    bbox: ref('BBox'),
    confidence: { type: 'number', minimum: 0, maximum: 1 },
  },
  ['faceId', 'imageId', 'bbox', 'confidence'],
  { description: 'A face registered in a group (only its feature vector is stored, encrypted).' },
));

export const similarity: JsonSchema = { type: 'number', minimum: 0, maximum: 100, description: '0..100, higher is more alike' };

const SearchMatch = named('SearchMatch', closed({ face: ref('StoredFace'), similarity }, undefined, { description: 'A registered face and its similarity to the query face.' }));
const ComparedFace = named('ComparedFace', closed({ faceDetail: ref('FaceDetail'), similarity }, undefined, { description: 'A target-image face and its similarity to the source face.' }));

const ImageInput = named('ImageInput', {
  type: 'object',
  description: `Exactly one of url and bytes. JPEG or PNG, at least 80×80 px, at most ${IMAGE_CAP}.`,
  properties: {
    url: { type: 'string', description: 'http(s) URL the server downloads; ports 80, 443, 10000–12000' },
    bytes: { type: 'string', format: 'byte', description: 'the image, base64' },
  },
  minProperties: 1,
  maxProperties: 1,
});

/** Register on the root instance before the routes that reference them. */
export const SHARED_SCHEMAS = [BBox, Landmark, FaceDetail, StoredFace, SearchMatch, ComparedFace, ImageInput];

export const faceDetail = ref('FaceDetail');
export const storedFace = ref('StoredFace');
export const imageInput = ref('ImageInput');

// ── data of the answers ─────────────────────────────────────────────────────

export const searchMatches = {
  matchFaceCount: count('length of matchFaces'),
  matchFaces: { type: 'array', items: ref('SearchMatch'), description: 'at or above the threshold, most similar first' },
};

export const modelVersion: JsonSchema = { type: 'string', description: 'recognition model the group was built with (v1.0 only)', examples: [MODEL_VERSION] };

export const nextToken: JsonSchema = { type: 'string', description: 'pass as next-token for the next page; the empty string on the last page' };

/** NHN times: `YYYY-MM-DDTHH:MM:SS`, UTC, no zone suffix. */
export const createTime: JsonSchema = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}$', description: 'UTC, no zone suffix', examples: ['2024-05-01T09:30:00'] };

export const faceDetails = {
  faceDetailCount: count('length of faceDetails'),
  faceDetails: { type: 'array', items: faceDetail, maxItems: DEFAULT_LIMITS.maxFacesPerImage, description: 'largest face first' },
};

export const registered = {
  addedFaceCount: count('length of addedFaces'),
  addedFaces: { type: 'array', items: storedFace },
  addedFaceDetails: { type: 'array', items: faceDetail, description: 'the same faces as addedFaces, in the same order' },
  notAddedFaceCount: count('length of notAddedFaces'),
  notAddedFaces: { type: 'array', items: faceDetail, description: 'faces refused for the quota, too small (< 60 px) or turned (|yaw| or |pitch| > 45°), or beyond limit' },
};

export const compared = {
  matchedFaceDetailCount: count('length of matchedFaceDetails'),
  matchedFaceDetails: { type: 'array', items: ref('ComparedFace'), description: 'target faces at or above the threshold, most similar first' },
  unmatchedFaceDetailCount: count('length of unmatchedFaceDetails'),
  unmatchedFaceDetails: { type: 'array', items: ref('ComparedFace'), description: 'target faces below the threshold' },
  sourceFace: faceDetail,
};

export const verified = { similarity, face: storedFace, sourceFace: faceDetail };

export const data = closed;

// ── what clients send ───────────────────────────────────────────────────────

export const imageFile: JsonSchema = {
  type: 'string',
  format: 'binary',
  description: `JPEG or PNG file, at most ${IMAGE_CAP}. The part may also be named without the "File" suffix (image, sourceImage, targetImage), as in NHN's curl examples; not both.`,
};

export const spoofingCondition: JsonSchema = { type: 'string', enum: ['weak', 'balanced', 'strict'], default: 'balanced', description: 'liveness sensitivity' };

/** NHN request flags: what each returned FaceDetail carries. */
export const detailFlags: Record<string, JsonSchema> = {
  orientation: { type: 'boolean', default: true, description: 'return orientation' },
  mask: { type: 'boolean', default: true, description: 'return mask' },
  spoofing: { type: 'boolean', default: false, description: 'judge liveness and return spoofing' },
  spoofingCondition,
};

export const groupIdParam: JsonSchema = { type: 'string', pattern: '^[a-z0-9-]{1,255}$', description: 'group id: [a-z0-9-], 1–255 characters' };
export const externalImageId: JsonSchema = { type: 'string', pattern: '^[a-zA-Z0-9_.\\-:]{1,255}$', description: 'your label for the image, echoed back' };

export const integer = (min: number, max: number, description: string): JsonSchema => ({ type: 'integer', minimum: min, maximum: max, description });
export const listLimit = integer(1, DEFAULT_LIMITS.maxListLimit, 'page size');
export const searchLimit = integer(1, DEFAULT_LIMITS.maxSearchLimit, 'most matches to return');
export const registerLimit = integer(1, DEFAULT_LIMITS.maxFacesPerImage, 'register the largest `limit` faces');
export const threshold = integer(1, 100, 'smallest similarity (inclusive) counted as a match');
export const nextTokenParam: JsonSchema = { type: 'string', description: 'nextToken of the previous page; fixes limit and filters to their values at issue time; empty means the first page' };

/** An object body or query whose fields the handler checks itself (extra fields are ignored). */
export const fields = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({
  type: 'object',
  properties,
  ...(required.length ? { required } : {}),
});

// ── result codes ────────────────────────────────────────────────────────────

/** When each result code is returned; the text of the per-operation tables in the document. */
export const RESULT_MEANINGS: Record<ResultName, string> = {
  Success: 'success',
  ServiceQuotaExceededPartialSuccessException: 'partial success: the group filled up during the call; some faces were added (isSuccessful is true)',
  InvalidParam: 'a parameter is missing, malformed or out of range; or no face in a search/verify/compare source image',
  InvalidGroupID: 'the groupId to create does not match [a-z0-9-]{1,255}',
  DuplicatedGroupID: 'the group already exists',
  NotFoundGroupError: 'no such group in this app',
  InvalidTokenError: 'next-token is malformed, expired, or belongs to another listing',
  NotFoundFaceIDError: 'no such face in the group',
  ServiceQuotaExceededException: 'the app has the maximum number of groups, or the group already holds the maximum number of faces',
  NotFoundPersonError: 'no such person in the group (x/v1 extension)',
  FaceAlreadyAssociatedError: 'a face is already associated with another person; disassociate it first (x/v1 extension)',
  NotFoundJobError: 'no such clustering job in the group (x/v1 extension)',
  UnauthorizedAppKey: 'the appKey in the path is not known (v1.0)',
  UnauthorizedAppKeyOrSecretKey: 'the appKey or the Authorization secret key is not valid (v2.0)',
  ImageTooLargeException: `the image is over ${IMAGE_CAP}`,
  InvalidImageBytesException: 'the image bytes are empty or not valid base64',
  InvalidImageFormatException: 'the image is neither JPEG nor PNG',
  InvalidImageURLException: 'the image URL is malformed or not allowed (scheme, port, private address)',
  ImageTimeoutError: 'the image download timed out',
  InvalidImageSizeException: 'the image is under 80 px a side, over 50 megapixels, or (aligned=true) not 224×224',
  InvalidImageFileException: 'the image starts like JPEG/PNG but does not decode',
  InternalServerError: 'an unexpected failure, or the engine is overloaded (then with a Retry-After header)',
};

/** Codes every image-taking operation can return. */
export const IMAGE_CODES: ResultName[] = [
  'ImageTooLargeException',
  'InvalidImageBytesException',
  'InvalidImageFormatException',
  'InvalidImageURLException',
  'ImageTimeoutError',
  'InvalidImageSizeException',
  'InvalidImageFileException',
];

const AUTH_CODE: Record<ApiVersion, ResultName> = { 'v1.0': 'UnauthorizedAppKey', 'v2.0': 'UnauthorizedAppKeyOrSecretKey' };

/** The codes an operation can return: its own plus success, bad parameters, auth and internal errors. */
export function resultCodesOf(version: ApiVersion, own: ResultName[]): ResultName[] {
  const all = new Set<ResultName>(['Success', 'InvalidParam', AUTH_CODE[version], ...own, 'InternalServerError']);
  return (Object.keys(RESULT_CODES) as ResultName[]).filter((name) => all.has(name));
}

function resultCodeTable(names: ResultName[]): string {
  const rows = names.map((n) => `| ${RESULT_CODES[n]} | ${n} | ${RESULT_MEANINGS[n]} |`);
  return ['| resultCode | resultMessage | when |', '|---|---|---|', ...rows].join('\n');
}

/**
 * facerec's one addition to NHN's envelope: on failures, the reason in one sentence. NHN's fields
 * keep NHN's values, and NHN clients ignore a field they do not know.
 */
export const headerDetail: JsonSchema = {
  type: 'string',
  description:
    'facerec extension, only when isSuccessful is false: why the request failed, in one sentence for people (which parameter, what is wrong, what is allowed). Not part of NHN\'s API; its wording may change, so branch on resultCode.',
  examples: ['limit must be an integer from 1 to 20; it is 50'],
};

/** NHN's envelope: always HTTP 200; `data` only on success (resultCode ≥ 0) and only for operations that return data. */
function envelope(names: ResultName[], dataSchema?: JsonSchema): JsonSchema {
  return {
    description: 'HTTP 200 whether the call succeeded or failed: check header.isSuccessful and header.resultCode.',
    headers: {
      'x-request-id': { type: 'string', description: 'id of this request in the server logs' },
      'retry-after': { type: 'string', description: 'seconds; only with -50000 when the engine queue is full' },
    },
    ...closed(
      {
        header: closed(
          {
            isSuccessful: { type: 'boolean', description: 'true for resultCode ≥ 0' },
            resultCode: { type: 'integer', enum: names.map((n) => RESULT_CODES[n]) },
            resultMessage: { type: 'string', enum: names },
            detail: headerDetail,
          },
          ['isSuccessful', 'resultCode', 'resultMessage'],
        ),
        ...(dataSchema ? { data: { ...dataSchema, description: 'present when isSuccessful is true' } } : {}),
      },
      ['header'],
    ),
  };
}

// ── one operation ───────────────────────────────────────────────────────────

export interface OperationDoc {
  version: ApiVersion;
  operationId: string;
  summary: string;
  description?: string;
  /** Path parameters after the appKey. */
  params?: ('groupId' | 'faceId')[];
  querystring?: JsonSchema;
  /** JSON request body. */
  json?: JsonSchema;
  /** multipart/form-data request body (v2.0 image operations). */
  multipart?: JsonSchema;
  /** Schema of `data` on success; omitted for operations that answer with the header only. */
  data?: JsonSchema;
  /** Result codes beyond success, InvalidParam, the auth code and InternalServerError. */
  codes?: ResultName[];
}

const APP_KEY: Record<ApiVersion, string> = {
  'v1.0': 'your appKey; in v1.0 it is the only credential',
  'v2.0': 'your appKey; send the secret key in the Authorization header',
};

/** A Fastify route schema that @fastify/swagger turns into one OpenAPI operation. */
export function operation(doc: OperationDoc): FastifySchema {
  const names = resultCodesOf(doc.version, doc.codes ?? []);
  const params: Record<string, JsonSchema> = { appKey: { type: 'string', description: APP_KEY[doc.version] } };
  if (doc.params?.includes('groupId')) params.groupId = groupIdParam;
  if (doc.params?.includes('faceId')) params.faceId = { type: 'string', format: 'uuid', description: 'faceId returned by register' };
  const body = doc.multipart
    ? { content: { 'application/json': { schema: doc.json ?? fields({}) }, 'multipart/form-data': { schema: doc.multipart } } }
    : doc.json;
  return {
    tags: [doc.version],
    operationId: `${doc.version === 'v1.0' ? 'v1' : 'v2'}_${doc.operationId}`,
    summary: doc.summary,
    description: [doc.description, `**Result codes**\n\n${resultCodeTable(names)}`].filter(Boolean).join('\n\n'),
    'x-nhn-result-codes': names.map((n) => ({ resultCode: RESULT_CODES[n], resultMessage: n })),
    ...(doc.version === 'v2.0' ? { security: [{ secretKey: [] }] } : {}),
    params: closed(params),
    ...(doc.querystring ? { querystring: doc.querystring } : {}),
    ...(body ? { body } : {}),
    response: { 200: envelope(names, doc.data) },
  } as FastifySchema;
}

/**
 * Makes the route schemas of an NHN plugin documentation only: requests reach the handlers as
 * sent (no coercion, defaults or removed fields, so the handlers return NHN's exact codes), and
 * answers are plain JSON.stringify (fast-json-stringify would drop fields the schema misses).
 */
export function documentationOnly(app: FastifyInstance): void {
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (payload) => JSON.stringify(payload));
}
