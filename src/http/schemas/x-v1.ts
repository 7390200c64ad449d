/**
 * Route schemas of facerec's extension API `/x/v1/appkeys/{appKey}`: NHN's auth (secret key in
 * Authorization), envelope and result codes, for operations NHN does not have.
 */
import type { FastifySchema } from 'fastify';
import { createTime, data, externalImageId, operation, ref, type JsonSchema, type OperationDoc } from './shared.js';

export const X_TAG = 'x/v1 privacy';

const x = (doc: Omit<OperationDoc, 'version'>): FastifySchema => {
  const s = operation({ version: 'v2.0', ...doc }) as Record<string, unknown>;
  const params = s.params as { properties: Record<string, JsonSchema>; required: string[] };
  return {
    ...s,
    tags: [X_TAG],
    operationId: `x1_${doc.operationId}`,
    params: { ...params, properties: { ...params.properties, externalImageId: { ...externalImageId, description: 'the subject: the externalImageId their faces were registered with' } }, required: [...params.required, 'externalImageId'] },
  } as FastifySchema;
};

const subjectFace = data({
  groupId: { type: 'string' },
  faceId: { type: 'string', format: 'uuid' },
  imageId: { type: 'string', format: 'uuid' },
  externalImageId: { type: 'string' },
  createTime,
  bbox: ref('BBox'),
  confidence: { type: 'number', minimum: 0, maximum: 1 },
});

export const xV1Schemas = {
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
