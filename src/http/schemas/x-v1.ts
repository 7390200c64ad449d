/**
 * Route schemas of facerec's extension API `/x/v1/appkeys/{appKey}`: NHN's auth (secret key in
 * Authorization), envelope and result codes, for operations NHN does not have.
 */
import type { FastifySchema } from 'fastify';
import {
  createTime, data, detailFlags, externalImageId, fields, IMAGE_CODES, imageFile, imageInput, operation, ref, registered, registerLimit, type JsonSchema, type OperationDoc,
} from './shared.js';

export const X_TAG = 'x/v1 privacy';

const x = (doc: Omit<OperationDoc, 'version'>, subject = true): FastifySchema => {
  const s = operation({ version: 'v2.0', ...doc }) as Record<string, unknown>;
  const params = s.params as { properties: Record<string, JsonSchema>; required: string[] };
  return {
    ...s,
    tags: [X_TAG],
    operationId: `x1_${doc.operationId}`,
    ...(subject ? { params: { ...params, properties: { ...params.properties, externalImageId: { ...externalImageId, description: 'the subject: the externalImageId their faces were registered with' } }, required: [...params.required, 'externalImageId'] } } : {}),
  } as FastifySchema;
};

const auditEntry = data({
  seq: { type: 'integer', minimum: 1 },
  time: { type: 'string', format: 'date-time' },
  action: { type: 'string', enum: ['register', 'delete', 'search', 'verify', 'compare', 'erase', 'export', 'expire'] },
  groupId: { type: 'string' },
  subjectRef: { type: 'string', description: 'keyed pseudonym of the externalImageId (the same subject always gives the same one)' },
  faceRefs: { type: 'array', items: { type: 'string' }, description: 'keyed pseudonyms of the faceIds concerned' },
  count: { type: 'integer', minimum: 0 },
  requestId: { type: 'string' },
  prevHash: { type: 'string' },
  hash: { type: 'string' },
}, ['seq', 'time', 'action', 'faceRefs', 'count', 'prevHash', 'hash']);

const subjectFace = data({
  groupId: { type: 'string' },
  faceId: { type: 'string', format: 'uuid' },
  imageId: { type: 'string', format: 'uuid' },
  externalImageId: { type: 'string' },
  createTime,
  bbox: ref('BBox'),
  confidence: { type: 'number', minimum: 0, maximum: 1 },
  consentRef: { type: 'string', description: 'present when the face was registered with one (x/v1 register)' },
  purpose: { type: 'string', description: 'present when the face was registered with one (x/v1 register)' },
}, ['groupId', 'faceId', 'imageId', 'externalImageId', 'createTime', 'bbox', 'confidence']);

const consentText = (what: string): JsonSchema => ({ type: 'string', minLength: 1, maxLength: 255, pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f]*$', description: `${what}; 1–255 characters, no control characters` });
const consent = {
  consentRef: consentText('your reference to the data subject\'s consent (a record id, a form version…)'),
  purpose: consentText('what the face is processed for, as the consent states it'),
};

const retentionDays = { type: 'integer', minimum: 1, maximum: 36500, description: 'faces older than this many days are deleted by the retention sweep' };

export const xV1Schemas = {
  registerWithConsent: x({
    operationId: 'registerFacesWithConsent',
    summary: 'Register faces as v2.0 does, with the consent they were collected under',
    description: 'The body and answer of v2.0 register, plus `consentRef` and `purpose`, stored with each added face and returned by subject access. A bad consent field is -40000 and nothing is stored.',
    params: ['groupId'],
    json: fields({ image: imageInput, limit: registerLimit, externalImageId, ...detailFlags, ...consent }, ['image', 'limit']),
    multipart: { ...fields({ imageFile, limit: registerLimit, externalImageId, ...detailFlags, ...consent }, ['imageFile', 'limit']), description: 'form fields are text: booleans as true/false, integers in decimal' },
    data: data(registered),
    codes: ['NotFoundGroupError', 'ServiceQuotaExceededPartialSuccessException', 'ServiceQuotaExceededException', ...IMAGE_CODES],
  }, false),
  getRetention: x({
    operationId: 'getRetention',
    summary: 'Retention periods of the app: its default and each group\'s own',
    data: data({ defaultRetentionDays: retentionDays, groups: { type: 'array', items: data({ groupId: { type: 'string' }, retentionDays }) } }, ['groups']),
  }, false),
  setAppRetention: x({
    operationId: 'setAppRetention',
    summary: 'Set the app\'s default retention period (groups without their own)',
    json: fields({ retentionDays }, ['retentionDays']),
  }, false),
  clearAppRetention: x({ operationId: 'clearAppRetention', summary: 'Clear the app\'s default retention period (faces are kept)' }, false),
  setGroupRetention: x({
    operationId: 'setGroupRetention',
    summary: 'Set a group\'s own retention period',
    params: ['groupId'],
    json: fields({ retentionDays }, ['retentionDays']),
    codes: ['NotFoundGroupError'],
  }, false),
  clearGroupRetention: x({ operationId: 'clearGroupRetention', summary: 'Clear a group\'s own retention period (the app default applies)', params: ['groupId'], codes: ['NotFoundGroupError'] }, false),
  audit: x({
    operationId: 'auditLog',
    summary: 'The app\'s audit log: who did what to which face, oldest first',
    description: 'Entries carry pseudonyms, never ids, images or vectors. Page on with `after-seq` = the last seq seen.',
    querystring: fields({
      from: { type: 'string', format: 'date-time', description: 'inclusive' },
      to: { type: 'string', format: 'date-time', description: 'exclusive' },
      externalImageId: { ...externalImageId, description: 'only entries about this subject' },
      limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
      'after-seq': { type: 'integer', minimum: 0 },
    }),
    data: data({ entryCount: { type: 'integer', minimum: 0 }, entries: { type: 'array', items: auditEntry } }),
  }, false),
  subjectAccess: x({
    operationId: 'subjectAccess',
    summary: 'Every face held for a subject, in every group of the app (no vectors)',
    description: 'For a data subject access request. The same list as CSV: `…/subjects/{externalImageId}/faces.csv`.',
    data: data({ externalImageId: { type: 'string' }, faceCount: { type: 'integer', minimum: 0 }, faces: { type: 'array', items: subjectFace } }),
  }),
  subjectAccessCsv: {
    ...(({ response: _r, ...rest }) => rest)(x({ operationId: 'subjectAccessCsv', summary: 'Every face held for a subject, as CSV (one row per face)' }) as Record<string, unknown>),
    response: { 200: { description: 'text/csv; a failure is the JSON envelope', content: { 'text/csv': { schema: { type: 'string' } } } } },
  } as FastifySchema,
  eraseSubject: x({
    operationId: 'eraseSubject',
    summary: 'Delete every face of a subject in every group of the app',
    description: 'Real deletion: store rows, search indexes and their snapshots. Retrying after a failure is safe and counts only what was still there.',
    data: data({
      externalImageId: { type: 'string' },
      deletedFaceCount: { type: 'integer', minimum: 0 },
      groups: { type: 'array', items: data({ groupId: { type: 'string' }, deletedFaceCount: { type: 'integer', minimum: 1 } }) },
    }),
  }),
};
