import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FaceApiError } from '../domain/errors.js';
import type { FaceService } from '../domain/service.js';
import type { ImageInput } from '../domain/types.js';
import { bool, detailFlags, imageFromJson, imageFromMultipart, int, listPage, readBody, spoofCondition, str, type Fields, type ParsedBody } from './request-parts.js';
import { success } from './envelope.js';
import { compareData, groupDetails, registerData, registered, withToken } from './nhn-shapes.js';
import { refuseImageWorkWhenSaturated, type HttpContext } from './context.js';
import { documentationOnly } from './schemas/shared.js';
import { v2Schemas as S } from './schemas/v2.js';

/**
 * Why v2.0 credentials failed, as far as it is safe to say: a missing header or a scheme word
 * before the key is the client's visible mistake; otherwise the appKey and secret key do not
 * match, without telling which (that would reveal which appKeys exist).
 */
function credentialProblem(authorization: string | undefined): string {
  if (authorization === undefined || authorization === '') return 'no Authorization header; send the app\'s secret key as "Authorization: {secretKey}"';
  if (/^(Bearer|Basic|Token)\s/i.test(authorization)) return 'the Authorization header starts with a scheme word; send the bare secret key, as NHN does';
  return 'the appKey and the secret key in Authorization do not match an app of this server';
}

/** The image of a JSON (`image: {url|bytes}`) or multipart (`imageFile`) request. */
const imageOf = (b: ParsedBody, jsonField: string, fileField: string, urlField?: string): ImageInput =>
  b.multipart ? imageFromMultipart(b.fields, b.files, fileField, urlField) : imageFromJson(b.fields[jsonField], jsonField);

/** What v2 register passes the domain after appKey and groupId; the extension's register reads the same body. */
export function registerArgs(b: ParsedBody): [ImageInput, Parameters<FaceService['register']>[3], Parameters<FaceService['register']>[4]] {
  return [imageOf(b, 'image', 'imageFile'), { limit: int(b.fields, 'limit'), externalImageId: str(b.fields, 'externalImageId') }, detailFlags(b.fields)];
}

type P<T extends string> = FastifyRequest<{ Params: Record<T | 'appKey', string>; Querystring: Fields }>;

/**
 * NHN Face Recognition API v2.0: appKey plus `Authorization: {secretKey}`; image endpoints take
 * JSON or multipart/form-data; limit and threshold move from the query into the body.
 */
export async function nhnV2(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  const { service, apps, maxImageBytes } = ctx;
  documentationOnly(app);
  app.addHook('onRequest', async (req: FastifyRequest<{ Params: { appKey: string } }>) => {
    const secret = req.headers.authorization;
    if (!(await apps.verifySecret(req.params.appKey, typeof secret === 'string' ? secret : undefined))) {
      throw new FaceApiError('UnauthorizedAppKeyOrSecretKey', credentialProblem(secret));
    }
  });
  refuseImageWorkWhenSaturated(app, ctx);
  const body = (req: FastifyRequest) => readBody(req, maxImageBytes);

  app.post('/groups', { schema: S.createGroup }, async (req: P<never>) => {
    const b = await body(req);
    await service.createGroup(req.params.appKey, b.fields.groupId);
    return success();
  });

  app.get('/groups', { schema: S.listGroups }, async (req: P<never>) => {
    const { limit, nextToken } = listPage(req.query);
    const page = await service.listGroups(req.params.appKey, limit, nextToken);
    const groups = page.items.map((g) => ({ groupId: g.groupId }));
    return success(withToken({ groupCount: groups.length, groups }, page.nextToken));
  });

  app.get('/groups/:groupId', { schema: S.getGroup }, async (req: P<'groupId'>) => success(groupDetails(await service.getGroup(req.params.appKey, req.params.groupId))));

  app.delete('/groups/:groupId', { schema: S.deleteGroup }, async (req: P<'groupId'>) => {
    await service.deleteGroup(req.params.appKey, req.params.groupId);
    return success();
  });

  app.post('/faces/detect', { schema: S.detect, config: { carriesImage: true } }, async (req: P<never>) => {
    const b = await body(req);
    const faces = await service.detect(imageOf(b, 'image', 'imageFile'), detailFlags(b.fields));
    return success({ faceDetailCount: faces.length, faceDetails: faces });
  });

  app.post('/groups/:groupId/faces', { schema: S.register, config: { carriesImage: true } }, async (req: P<'groupId'>) => {
    const b = await body(req);
    const r = await service.register(req.params.appKey, req.params.groupId, ...registerArgs(b));
    return registered(r, registerData(r));
  });

  app.delete('/groups/:groupId/faces/:faceId', { schema: S.deleteFace }, async (req: P<'groupId' | 'faceId'>) => {
    await service.deleteFace(req.params.appKey, req.params.groupId, req.params.faceId);
    return success();
  });

  app.get('/groups/:groupId/faces', { schema: S.listFaces }, async (req: P<'groupId'>) => {
    const q = req.query;
    const filter = {
      ...(str(q, 'face-id') ? { faceId: str(q, 'face-id') } : {}),
      ...(str(q, 'image-id') ? { imageId: str(q, 'image-id') } : {}),
      ...(str(q, 'external-image-id') ? { externalImageId: str(q, 'external-image-id') } : {}),
    };
    const { limit, nextToken } = listPage(q);
    const page = await service.listFaces(req.params.appKey, req.params.groupId, limit, filter, nextToken);
    return success(withToken({ faceCount: page.items.length, faces: page.items }, page.nextToken));
  });

  app.get('/groups/:groupId/faces/:faceId/search', { schema: S.searchByFaceId }, async (req: P<'groupId' | 'faceId'>) => {
    const matches = await service.searchByFaceId(req.params.appKey, req.params.groupId, req.params.faceId, {
      limit: int(req.query, 'limit'),
      threshold: int(req.query, 'threshold'),
    });
    return success({ matchFaceCount: matches.length, matchFaces: matches });
  });

  app.post('/groups/:groupId/faces/search', { schema: S.searchByImage, config: { carriesImage: true } }, async (req: P<'groupId'>) => {
    const b = await body(req);
    const r = await service.searchByImage(
      req.params.appKey,
      req.params.groupId,
      imageOf(b, 'image', 'imageFile'),
      { limit: int(b.fields, 'limit'), threshold: int(b.fields, 'threshold') },
      detailFlags(b.fields),
    );
    return success({ matchFaceCount: r.matches.length, matchFaces: r.matches, sourceFace: r.sourceFace });
  });

  app.post('/faces/compare', { schema: S.compare, config: { carriesImage: true } }, async (req: P<never>) => {
    const b = await body(req);
    const r = await service.compare(
      imageOf(b, 'sourceImage', 'sourceImageFile', 'sourceImageUrl'),
      imageOf(b, 'targetImage', 'targetImageFile', 'targetImageUrl'),
      int(b.fields, 'threshold'),
      detailFlags(b.fields),
    );
    return success(compareData(r));
  });

  app.post('/groups/:groupId/faces/:faceId/verify', { schema: S.verify, config: { carriesImage: true } }, async (req: P<'groupId' | 'faceId'>) => {
    const b = await body(req);
    const r = await service.verify(req.params.appKey, req.params.groupId, req.params.faceId, imageOf(b, 'compareImage', 'imageFile'), detailFlags(b.fields));
    return success(r);
  });

  app.post('/spoofing', { schema: S.spoofing, config: { carriesImage: true } }, async (req: P<never>) => {
    const b = await body(req);
    const faces = await service.spoofing(imageOf(b, 'image', 'imageFile'), spoofCondition(b.fields), bool(b.fields, 'aligned', false));
    return success({ faceDetailCount: faces.length, faceDetails: faces });
  });
}
