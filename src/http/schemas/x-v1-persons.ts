/**
 * Route schemas of the person layer, clustering and album search under `/x/v1/appkeys/{appKey}`
 * (docs/persons.md): NHN's auth, envelope and result codes.
 */
import type { FastifySchema } from 'fastify';
import { PERSON_LIMITS } from '../../domain/persons.js';
import { createTime, data, detailFlags, externalImageId, faceDetail, fields, IMAGE_CODES, imageFile, imageInput, nextToken, nextTokenParam, operation, ref, similarity, storedFace, threshold, type JsonSchema, type OperationDoc } from './shared.js';

export const X_PERSONS_TAG = 'x/v1 persons';

const uuid = (description: string): JsonSchema => ({ type: 'string', format: 'uuid', description });
const PATH_PARAMS: Record<string, JsonSchema> = {
  personId: uuid('personId returned when the person was created'),
  jobId: uuid('jobId returned when the clustering job was started'),
  clusterId: { type: 'string', pattern: '^[0-9]+$', description: 'index of the cluster in the job\'s result' },
};

const x = (doc: Omit<OperationDoc, 'version' | 'params'>, extra: (keyof typeof PATH_PARAMS)[] = []): FastifySchema => {
  const s = operation({ version: 'v2.0', ...doc, params: ['groupId'] }) as Record<string, unknown>;
  const params = s.params as { properties: Record<string, JsonSchema>; required?: string[] };
  const properties = { ...params.properties };
  for (const p of extra) properties[p] = PATH_PARAMS[p];
  return { ...s, tags: [X_PERSONS_TAG], operationId: `x1_${doc.operationId}`, params: { ...params, properties, required: Object.keys(properties) } } as FastifySchema;
};

const name: JsonSchema = { type: 'string', minLength: 1, maxLength: PERSON_LIMITS.maxNameLength, description: 'shown to people; 1–255 characters, no control characters' };
const metadata: JsonSchema = { type: 'object', description: `any JSON object, at most ${PERSON_LIMITS.maxMetadataBytes} bytes as JSON` };
const time = { ...createTime };

const person = data({
  personId: uuid('the person'),
  name,
  metadata,
  faceCount: { type: 'integer', minimum: 0 },
  createTime: time,
  updateTime: time,
}, ['personId', 'faceCount', 'createTime', 'updateTime']);

const faceIds: JsonSchema = { type: 'array', items: { type: 'string', format: 'uuid' }, minItems: 1, maxItems: PERSON_LIMITS.maxFaceIdsPerCall };
const imageBody = (more: Record<string, JsonSchema>, required: string[] = ['image']) => ({
  json: fields({ image: imageInput, ...more, ...detailFlags }, required),
  multipart: { ...fields({ imageFile, imageUrl: { type: 'string' }, ...more, ...detailFlags }), description: 'form fields are text: booleans as true/false, integers in decimal' },
});

const jobState = { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed'] };
const cluster = data({
  clusterId: { type: 'string' },
  faceCount: { type: 'integer', minimum: 1 },
  representativeFaceId: uuid('the face most alike to the others of the cluster'),
  faceIds: { type: 'array', items: { type: 'string' } },
}, ['clusterId', 'faceCount', 'representativeFaceId', 'faceIds']);
const job = data({
  jobId: uuid('the job'),
  groupId: { type: 'string' },
  state: jobState,
  percent: { type: 'integer', minimum: 0, maximum: 100 },
  createTime: time,
  updateTime: time,
  threshold,
  attachThreshold: threshold,
  faceCount: { type: 'integer', minimum: 0, description: 'faces clustered' },
  clusterCount: { type: 'integer', minimum: 0 },
  clusters: { type: 'array', items: cluster, description: 'largest first; present once succeeded' },
  unclusteredFaceIds: { type: 'array', items: { type: 'string' }, description: 'faces like no other face; present once succeeded' },
  error: { type: 'string', description: 'why a failed job failed' },
}, ['jobId', 'groupId', 'state', 'percent', 'createTime', 'updateTime']);

const albumFace = data({ faceId: { type: 'string' }, bbox: ref('BBox'), similarity, personId: { type: 'string' } }, ['faceId', 'bbox', 'similarity']);
const photo = data({ imageId: { type: 'string' }, externalImageId: { type: 'string' }, faces: { type: 'array', items: albumFace } }, ['imageId', 'faces']);

const resultOf = data({ resultCode: { type: 'integer' }, resultMessage: { type: 'string' }, detail: { type: 'string' } }, ['resultCode', 'resultMessage', 'detail']);

export const xV1PersonSchemas = {
  createPerson: x({
    operationId: 'createPerson',
    summary: 'Create a person in a group',
    json: fields({ name, metadata }),
    data: person,
    codes: ['NotFoundGroupError'],
  }),
  listPersons: x({
    operationId: 'listPersons',
    summary: 'List the persons of a group, oldest first',
    querystring: fields({ limit: { type: 'integer', minimum: 1, maximum: 200, default: 100 }, 'next-token': nextTokenParam }),
    data: data({ personCount: { type: 'integer', minimum: 0 }, persons: { type: 'array', items: person }, nextToken }),
    codes: ['NotFoundGroupError', 'InvalidTokenError'],
  }),
  getPerson: x({
    operationId: 'getPerson',
    summary: 'A person and the faceIds associated with it',
    data: { ...person, properties: { ...(person.properties as object), faceIds: { type: 'array', items: { type: 'string' } } } },
    codes: ['NotFoundGroupError', 'NotFoundPersonError'],
  }, ['personId']),
  updatePerson: x({
    operationId: 'updatePerson',
    summary: 'Change a person\'s name or metadata',
    description: 'Fields left out stay as they are; `name: ""` clears the name and `metadata: {}` the metadata.',
    json: fields({ name: { ...name, minLength: 0 }, metadata }),
    data: person,
    codes: ['NotFoundGroupError', 'NotFoundPersonError'],
  }, ['personId']),
  deletePerson: x({
    operationId: 'deletePerson',
    summary: 'Delete a person; its faces stay in the group unless delete-faces=true',
    querystring: fields({ 'delete-faces': { type: 'boolean', default: false } }),
    data: data({ deletedFaceCount: { type: 'integer', minimum: 0 } }),
    codes: ['NotFoundGroupError', 'NotFoundPersonError'],
  }, ['personId']),
  associateFaces: x({
    operationId: 'associateFaces',
    summary: 'Associate faces of the group with a person (all or none)',
    description: 'A face belongs to at most one person: a face of another person refuses the call with -40090; faces already with this person are fine.',
    json: fields({ faceIds }, ['faceIds']),
    data: person,
    codes: ['NotFoundGroupError', 'NotFoundPersonError', 'NotFoundFaceIDError', 'FaceAlreadyAssociatedError', 'ServiceQuotaExceededException'],
  }, ['personId']),
  disassociateFaces: x({
    operationId: 'disassociateFaces',
    summary: 'Take faces away from a person (the faces stay in the group)',
    json: fields({ faceIds }, ['faceIds']),
    data: data({ disassociatedFaceIds: { type: 'array', items: { type: 'string' } } }),
    codes: ['NotFoundGroupError', 'NotFoundPersonError', 'NotFoundFaceIDError'],
  }, ['personId']),
  registerPerson: x({
    operationId: 'registerPerson',
    summary: 'Register the largest face of each of several images as one person',
    description: 'A new person (or, with personId, an existing one) gets the largest face of each image. An image that fails is reported in `images` with its code; the others go ahead.',
    json: fields({
      images: { type: 'array', items: imageInput, minItems: 1, maxItems: PERSON_LIMITS.maxImagesPerRegister },
      personId: PATH_PARAMS.personId,
      name,
      metadata,
      externalImageId,
      ...detailFlags,
    }, ['images']),
    data: data({
      person,
      images: { type: 'array', items: data({ index: { type: 'integer' }, faceId: { type: 'string' }, face: storedFace, error: resultOf }, ['index']) },
    }),
    codes: ['NotFoundGroupError', 'NotFoundPersonError', 'ServiceQuotaExceededException', ...IMAGE_CODES],
  }),
  searchPersons: x({
    operationId: 'searchPersons',
    summary: 'Search the persons of a group by image (best of each person\'s faces)',
    ...imageBody({ limit: { type: 'integer', minimum: 1, maximum: 100, default: 10 }, threshold }, ['image', 'threshold']),
    data: data({ sourceFace: faceDetail, personCount: { type: 'integer', minimum: 0 }, persons: { type: 'array', items: data({ person, similarity, face: storedFace }) } }),
    codes: ['NotFoundGroupError', ...IMAGE_CODES],
  }),
  verifyPerson: x({
    operationId: 'verifyPerson',
    summary: 'Verify an image against a person (best of its faces)',
    ...imageBody({}),
    data: data({ similarity, face: storedFace, person, sourceFace: faceDetail }),
    codes: ['NotFoundGroupError', 'NotFoundPersonError', ...IMAGE_CODES],
  }, ['personId']),
  findPhotos: x({
    operationId: 'findPhotos',
    summary: 'Album search: every photo of a person, by personId or by a probe image',
    description: 'Photos are the imageIds of the group (one per registered image), with externalImageId and each matching face\'s box. facerec stores no image: show the photos from your own files by externalImageId.',
    ...imageBody({ personId: PATH_PARAMS.personId, threshold: { ...threshold, default: 80 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } }, []),
    data: data({ photoCount: { type: 'integer', minimum: 0 }, photos: { type: 'array', items: photo }, personId: { type: 'string' }, sourceFace: faceDetail }, ['photoCount', 'photos']),
    codes: ['NotFoundGroupError', 'NotFoundPersonError', ...IMAGE_CODES],
  }),
  startClustering: x({
    operationId: 'startClustering',
    summary: 'Start clustering the faces of a group (all, or the listed ones) into identities',
    description: 'Runs in the background; poll the job. Thresholds are similarities (0–100): two clusters merge while the mean similarity over all pairs of their faces is at least `threshold` (default 80); with `attachThreshold` below it, a face left alone joins the cluster it is most alike on average at or above `attachThreshold` (default: equal to `threshold`, no attach step).',
    json: fields({ faceIds: { ...faceIds, maxItems: 100000 }, threshold, attachThreshold: threshold }),
    data: job,
    codes: ['NotFoundGroupError'],
  }),
  getClustering: x({
    operationId: 'getClustering',
    summary: 'A clustering job: state, progress and, once done, the clusters',
    data: job,
    codes: ['NotFoundGroupError', 'NotFoundJobError'],
  }, ['jobId']),
  clusterToPerson: x({
    operationId: 'clusterToPerson',
    summary: 'Make a person of a cluster in one call',
    json: fields({ name, metadata }),
    data: person,
    codes: ['NotFoundGroupError', 'NotFoundJobError', 'FaceAlreadyAssociatedError', 'ServiceQuotaExceededException'],
  }, ['jobId', 'clusterId']),
};
