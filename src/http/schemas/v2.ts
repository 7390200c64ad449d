/**
 * Route schemas of NHN Face Recognition API v2.0: image operations take JSON or
 * multipart/form-data (a file part instead of `{url|bytes}`); limit and threshold move from the
 * query into the body; no modelVersion in answers.
 */
import {
  compared, createTime, data, detailFlags, externalImageId, faceDetail, faceDetails, fields, IMAGE_CODES, imageFile, imageInput, listLimit,
  nextToken, nextTokenParam, operation, registered, registerLimit, searchLimit, searchMatches, spoofingCondition, storedFace, threshold,
  verified, type JsonSchema, type OperationDoc,
} from './shared.js';

const v2 = (doc: Omit<OperationDoc, 'version'>) => operation({ version: 'v2.0', ...doc });

/** Form fields arrive as text; the handlers read "true"/"false" and decimal integers. */
const form = (properties: Record<string, JsonSchema>, required: string[]) => ({ ...fields(properties, required), description: 'form fields are text: booleans as true/false, integers in decimal' });

const searchQuery = fields({ limit: searchLimit, threshold }, ['limit', 'threshold']);
const aligned: JsonSchema = { type: 'boolean', default: false, description: 'the image is an aligned 224×224 face crop' };

export const v2Schemas = {
  createGroup: v2({
    operationId: 'createGroup',
    summary: 'Create a group',
    json: fields({ groupId: { type: 'string', description: '[a-z0-9-], 1–255 characters' } }, ['groupId']),
    codes: ['InvalidGroupID', 'DuplicatedGroupID', 'ServiceQuotaExceededException'],
  }),
  listGroups: v2({
    operationId: 'listGroups',
    summary: 'List groups',
    description: 'Ordered by groupId.',
    querystring: fields({ limit: listLimit, 'next-token': nextTokenParam }, ['limit']),
    data: data({ groupCount: { type: 'integer', minimum: 0 }, groups: { type: 'array', items: data({ groupId: { type: 'string' } }) }, nextToken }, ['groupCount', 'groups', 'nextToken']),
    codes: ['InvalidTokenError'],
  }),
  getGroup: v2({
    operationId: 'getGroup',
    summary: 'Group details',
    params: ['groupId'],
    data: data({ groupId: { type: 'string' }, createTime, faceCount: { type: 'integer', minimum: 0, description: 'faces in the group' } }),
    codes: ['NotFoundGroupError'],
  }),
  deleteGroup: v2({ operationId: 'deleteGroup', summary: 'Delete a group and all its faces', params: ['groupId'], codes: ['NotFoundGroupError'] }),
  detect: v2({
    operationId: 'detect',
    summary: 'Detect faces',
    description: 'Up to 20 faces, largest first. An image without faces succeeds with faceDetailCount 0.',
    json: fields({ image: imageInput, ...detailFlags }, ['image']),
    multipart: form({ imageFile, ...detailFlags }, ['imageFile']),
    data: data(faceDetails),
    codes: IMAGE_CODES,
  }),
  register: v2({
    operationId: 'registerFaces',
    summary: 'Register the largest faces of an image in a group',
    params: ['groupId'],
    json: fields({ image: imageInput, limit: registerLimit, externalImageId, ...detailFlags }, ['image', 'limit']),
    multipart: form({ imageFile, limit: registerLimit, externalImageId, ...detailFlags }, ['imageFile', 'limit']),
    data: data(registered),
    codes: ['NotFoundGroupError', 'ServiceQuotaExceededPartialSuccessException', 'ServiceQuotaExceededException', ...IMAGE_CODES],
  }),
  deleteFace: v2({ operationId: 'deleteFace', summary: 'Delete a face', params: ['groupId', 'faceId'], codes: ['NotFoundGroupError', 'NotFoundFaceIDError'] }),
  listFaces: v2({
    operationId: 'listFaces',
    summary: 'List the faces of a group',
    description: 'Newest first. The filters match exactly and combine with AND.',
    params: ['groupId'],
    querystring: fields(
      {
        limit: listLimit,
        'face-id': { type: 'string', description: 'only this face' },
        'image-id': { type: 'string', description: 'only faces registered from this image' },
        'external-image-id': { ...externalImageId, description: 'only faces with this externalImageId' },
        'next-token': nextTokenParam,
      },
      ['limit'],
    ),
    data: data({ faceCount: { type: 'integer', minimum: 0, description: 'length of faces' }, faces: { type: 'array', items: storedFace }, nextToken }, ['faceCount', 'faces', 'nextToken']),
    codes: ['NotFoundGroupError', 'InvalidTokenError'],
  }),
  searchByFaceId: v2({
    operationId: 'searchByFaceId',
    summary: 'Search a group with a registered face',
    description: 'The query face itself is never in the results.',
    params: ['groupId', 'faceId'],
    querystring: searchQuery,
    data: data(searchMatches),
    codes: ['NotFoundGroupError', 'NotFoundFaceIDError'],
  }),
  searchByImage: v2({
    operationId: 'searchByImage',
    summary: 'Search a group with the largest face of an image',
    params: ['groupId'],
    json: fields({ image: imageInput, limit: searchLimit, threshold, ...detailFlags }, ['image', 'limit', 'threshold']),
    multipart: form({ imageFile, limit: searchLimit, threshold, ...detailFlags }, ['imageFile', 'limit', 'threshold']),
    data: data({ ...searchMatches, sourceFace: faceDetail }),
    codes: ['NotFoundGroupError', ...IMAGE_CODES],
  }),
  compare: v2({
    operationId: 'compare',
    summary: 'Compare the largest face of one image with every face of another',
    description: 'No face in the source image is -40000; no face in the target succeeds with empty lists. In multipart, each image is a file part or a …Url field, exactly one.',
    json: fields({ sourceImage: imageInput, targetImage: imageInput, threshold, ...detailFlags }, ['sourceImage', 'targetImage', 'threshold']),
    multipart: form(
      {
        sourceImageFile: imageFile,
        sourceImageUrl: { type: 'string', description: 'instead of sourceImageFile' },
        targetImageFile: imageFile,
        targetImageUrl: { type: 'string', description: 'instead of targetImageFile' },
        threshold,
        ...detailFlags,
      },
      ['threshold'],
    ),
    data: data(compared),
    codes: IMAGE_CODES,
  }),
  verify: v2({
    operationId: 'verify',
    summary: 'Verify the largest face of an image against a registered face (1:1)',
    params: ['groupId', 'faceId'],
    json: fields({ compareImage: imageInput, ...detailFlags }, ['compareImage']),
    multipart: form({ imageFile, ...detailFlags }, ['imageFile']),
    data: data(verified),
    codes: ['NotFoundGroupError', 'NotFoundFaceIDError', ...IMAGE_CODES],
  }),
  spoofing: v2({
    operationId: 'spoofing',
    summary: 'Judge whether each face is live or a presentation attack',
    description: 'With aligned=true the image must be a 224×224 aligned face: the answer has one face with a zero box, no landmarks and confidence 0.',
    json: fields({ image: imageInput, aligned, spoofingCondition }, ['image']),
    multipart: form({ imageFile, aligned, spoofingCondition }, ['imageFile']),
    data: data(faceDetails),
    codes: IMAGE_CODES,
  }),
};
