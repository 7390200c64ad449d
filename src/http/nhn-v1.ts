import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FaceApiError } from '../domain/errors.js';
import type { Fields } from './request-parts.js';
import { detailFlags, imageFromJson, int, listPage, readBody, spoofCondition, bool, str } from './request-parts.js';
import { success } from './envelope.js';
import { compareData, groupDetails, registerData, registered, withToken } from './nhn-shapes.js';
import { refuseImageWorkWhenSaturated, type HttpContext } from './context.js';
import { documentationOnly } from './schemas/shared.js';
import { v1Schemas as S } from './schemas/v1.js';

type P<T extends string> = FastifyRequest<{ Params: Record<T | 'appKey', string>; Querystring: Fields }>;

/** NHN Face Recognition API v1.0: the appKey in the path is the credential; JSON bodies only. */
export async function nhnV1(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  const { service, apps, maxImageBytes } = ctx;
  documentationOnly(app);
  app.addHook('onRequest', async (req: FastifyRequest<{ Params: { appKey: string } }>) => {
    if (!(await apps.knows(req.params.appKey))) throw new FaceApiError('UnauthorizedAppKey', 'the appKey in the path is not an app of this server');
  });
  refuseImageWorkWhenSaturated(app, ctx);
  const body = async (req: FastifyRequest) => {
    const b = await readBody(req, maxImageBytes);
    if (b.multipart) throw new FaceApiError('InvalidParam', 'API v1.0 accepts JSON bodies only');
    return b.fields;
  };

  app.post('/groups', { schema: S.createGroup }, async (req: P<never>) => {
    await service.createGroup(req.params.appKey, (await body(req)).groupId);
    return success();
  });

  app.get('/groups', { schema: S.listGroups }, async (req: P<never>) => {
    const { limit, nextToken } = listPage(req.query);
    const page = await service.listGroups(req.params.appKey, limit, nextToken);
    const groups = page.items.map((g) => ({ groupId: g.groupId, modelVersion: g.modelVersion }));
    return success(withToken({ groupCount: groups.length, groups }, page.nextToken));
  });

  app.get('/groups/:groupId', { schema: S.getGroup }, async (req: P<'groupId'>) => {
    const g = await service.getGroup(req.params.appKey, req.params.groupId);
    return success({ groupCount: 1, groups: [{ ...groupDetails(g), modelVersion: g.modelVersion }] });
  });

  app.delete('/groups/:groupId', { schema: S.deleteGroup }, async (req: P<'groupId'>) => {
    await service.deleteGroup(req.params.appKey, req.params.groupId);
    return success();
  });

  app.post('/detect', { schema: S.detect, config: { carriesImage: true } }, async (req: P<never>) => {
    const f = await body(req);
    const faces = await service.detect(imageFromJson(f.image, 'image'), detailFlags(f));
    return success({ faceDetailCount: faces.length, faceDetails: faces });
  });

  app.post('/groups/:groupId', { schema: S.register, config: { carriesImage: true } }, async (req: P<'groupId'>) => {
    const f = await body(req);
    const r = await service.register(
      req.params.appKey,
      req.params.groupId,
      imageFromJson(f.image, 'image'),
      { limit: int(f, 'limit'), externalImageId: str(f, 'externalImageId') },
      detailFlags(f),
    );
    return registered(r, { modelVersion: r.modelVersion, ...registerData(r) });
  });

  app.delete('/groups/:groupId/faces/:faceId', { schema: S.deleteFace }, async (req: P<'groupId' | 'faceId'>) => {
    await service.deleteFace(req.params.appKey, req.params.groupId, req.params.faceId);
    return success();
  });

  app.get('/groups/:groupId/faces', { schema: S.listFaces }, async (req: P<'groupId'>) => {
    const { limit, nextToken } = listPage(req.query);
    const page = await service.listFaces(req.params.appKey, req.params.groupId, limit, {}, nextToken);
    return success(withToken({ modelVersion: page.modelVersion, faceCount: page.items.length, faces: page.items }, page.nextToken));
  });

  // In v1 a GET on one face is a search by that face, not a fetch.
  app.get('/groups/:groupId/faces/:faceId', { schema: S.searchByFaceId }, async (req: P<'groupId' | 'faceId'>) => {
    const matches = await service.searchByFaceId(req.params.appKey, req.params.groupId, req.params.faceId, {
      limit: int(req.query, 'limit'),
      threshold: int(req.query, 'threshold'),
    });
    return success({ matchFaceCount: matches.length, matchFaces: matches });
  });

  app.post('/groups/:groupId/search', { schema: S.searchByImage, config: { carriesImage: true } }, async (req: P<'groupId'>) => {
    const f = await body(req);
    const r = await service.searchByImage(
      req.params.appKey,
      req.params.groupId,
      imageFromJson(f.image, 'image'),
      { limit: int(req.query, 'limit'), threshold: int(req.query, 'threshold') },
      detailFlags(f),
    );
    return success({ modelVersion: r.modelVersion, matchFaceCount: r.matches.length, matchFaces: r.matches, sourceFace: r.sourceFace });
  });

  app.post('/compare', { schema: S.compare, config: { carriesImage: true } }, async (req: P<never>) => {
    const f = await body(req);
    const r = await service.compare(imageFromJson(f.sourceImage, 'sourceImage'), imageFromJson(f.targetImage, 'targetImage'), int(req.query, 'threshold'), detailFlags(f));
    return success({ modelVersion: r.modelVersion, ...compareData(r) });
  });

  app.post('/verify/groups/:groupId/faces/:faceId', { schema: S.verify, config: { carriesImage: true } }, async (req: P<'groupId' | 'faceId'>) => {
    const f = await body(req);
    const r = await service.verify(req.params.appKey, req.params.groupId, req.params.faceId, imageFromJson(f.compareImage, 'compareImage'), detailFlags(f));
    return success(r);
  });

  app.post('/spoofing', { schema: S.spoofing, config: { carriesImage: true } }, async (req: P<never>) => {
    const f = await body(req);
    const faces = await service.spoofing(imageFromJson(f.image, 'image'), spoofCondition(f), bool(f, 'aligned', false));
    return success({ faceDetailCount: faces.length, faceDetails: faces });
  });
}

