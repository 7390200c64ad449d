/** Route schemas of NHN Face Recognition API v1.0 (JSON bodies; limit and threshold in the query). */
import {
  compared, createTime, data, detailFlags, faceDetail, externalImageId, faceDetails, fields, IMAGE_CODES, imageInput, listLimit, modelVersion,
  nextToken, nextTokenParam, operation, registered, registerLimit, searchLimit, searchMatches, spoofingCondition, storedFace, threshold,
  verified, type OperationDoc,
} from './shared.js';

const v1 = (doc: Omit<OperationDoc, 'version'>) => operation({ version: 'v1.0', ...doc });

const listQuery = fields({ limit: listLimit, 'next-token': nextTokenParam }, ['limit']);
const searchQuery = fields({ limit: searchLimit, threshold }, ['limit', 'threshold']);

export const v1Schemas = {
  createGroup: v1({
    operationId: 'createGroup',
    summary: 'Create a group',
    json: fields({ groupId: { type: 'string', description: '[a-z0-9-], 1–255 characters' } }, ['groupId']),
    codes: ['InvalidGroupID', 'DuplicatedGroupID', 'ServiceQuotaExceededException'],
  }),
  listGroups: v1({
    operationId: 'listGroups',
    summary: 'List groups',
    description: 'Ordered by groupId.',
    querystring: listQuery,
    data: data({ groupCount: { type: 'integer', minimum: 0 }, groups: { type: 'array', items: data({ groupId: { type: 'string' }, modelVersion }) }, nextToken }, ['groupCount', 'groups', 'nextToken']),
    codes: ['InvalidTokenError'],
  }),
  getGroup: v1({
    operationId: 'getGroup',
    summary: 'Group details',
    params: ['groupId'],
    data: data({
      groupCount: { type: 'integer', enum: [1] },
      groups: { type: 'array', minItems: 1, maxItems: 1, items: data({ groupId: { type: 'string' }, createTime, faceCount: { type: 'integer', minimum: 0 }, modelVersion }) },
    }),
    codes: ['NotFoundGroupError'],
  }),
  deleteGroup: v1({ operationId: 'deleteGroup', summary: 'Delete a group and all its faces', params: ['groupId'], codes: ['NotFoundGroupError'] }),
  detect: v1({
    operationId: 'detect',
    summary: 'Detect faces',
    description: 'Up to 20 faces, largest first. An image without faces succeeds with faceDetailCount 0.',
    json: fields({ image: imageInput, ...detailFlags }, ['image']),
    data: data(faceDetails),
    codes: IMAGE_CODES,
  }),
  register: v1({
    operationId: 'registerFaces',
    summary: 'Register the largest faces of an image in a group',
    params: ['groupId'],
    json: fields({ image: imageInput, limit: registerLimit, externalImageId, ...detailFlags }, ['image', 'limit']),
    data: data({ modelVersion, ...registered }),
    codes: ['NotFoundGroupError', 'ServiceQuotaExceededPartialSuccessException', 'ServiceQuotaExceededException', ...IMAGE_CODES],
  }),
  deleteFace: v1({ operationId: 'deleteFace', summary: 'Delete a face', params: ['groupId', 'faceId'], codes: ['NotFoundGroupError', 'NotFoundFaceIDError'] }),
  listFaces: v1({
    operationId: 'listFaces',
    summary: 'List the faces of a group',
    description: 'Newest first.',
    params: ['groupId'],
    querystring: listQuery,
    data: data({ modelVersion, faceCount: { type: 'integer', minimum: 0, description: 'length of faces' }, faces: { type: 'array', items: storedFace }, nextToken }, ['modelVersion', 'faceCount', 'faces', 'nextToken']),
    codes: ['NotFoundGroupError', 'InvalidTokenError'],
  }),
  searchByFaceId: v1({
    operationId: 'searchByFaceId',
    summary: 'Search a group with a registered face',
    description: 'In v1.0 a GET on one face is a search by that face, not a fetch. The query face itself is never in the results.',
    params: ['groupId', 'faceId'],
    querystring: searchQuery,
    data: data(searchMatches),
    codes: ['NotFoundGroupError', 'NotFoundFaceIDError'],
  }),
  searchByImage: v1({
    operationId: 'searchByImage',
    summary: 'Search a group with the largest face of an image',
    params: ['groupId'],
    querystring: searchQuery,
    json: fields({ image: imageInput, ...detailFlags }, ['image']),
    data: data({ modelVersion, ...searchMatches, sourceFace: faceDetail }),
    codes: ['NotFoundGroupError', ...IMAGE_CODES],
  }),
  compare: v1({
    operationId: 'compare',
    summary: 'Compare the largest face of one image with every face of another',
    description: 'No face in sourceImage is -40000; no face in targetImage succeeds with empty lists.',
    querystring: fields({ threshold }, ['threshold']),
    json: fields({ sourceImage: imageInput, targetImage: imageInput, ...detailFlags }, ['sourceImage', 'targetImage']),
    data: data({ modelVersion, ...compared }),
    codes: IMAGE_CODES,
  }),
  verify: v1({
    operationId: 'verify',
    summary: 'Verify the largest face of an image against a registered face (1:1)',
    params: ['groupId', 'faceId'],
    json: fields({ compareImage: imageInput, ...detailFlags }, ['compareImage']),
    data: data(verified),
    codes: ['NotFoundGroupError', 'NotFoundFaceIDError', ...IMAGE_CODES],
  }),
  spoofing: v1({
    operationId: 'spoofing',
    summary: 'Judge whether each face is live or a presentation attack',
    description: 'With aligned=true the image must be a 224×224 aligned face: the answer has one face with a zero box, no landmarks and confidence 0.',
    json: fields({ image: imageInput, aligned: { type: 'boolean', default: false, description: 'the image is an aligned 224×224 face crop' }, spoofingCondition }, ['image']),
    data: data(faceDetails),
    codes: IMAGE_CODES,
  }),
};
