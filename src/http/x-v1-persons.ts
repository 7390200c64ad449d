import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ClusterService } from '../domain/clusters.js';
import { FaceApiError, invalidParam } from '../domain/errors.js';
import type { PersonService } from '../domain/persons.js';
import { PERSON_LIMITS } from '../domain/persons.js';
import type { ImageInput } from '../domain/types.js';
import type { PersonRecord } from '../store/person-store.js';
import { refuseImageWorkWhenSaturated, requireAppSecret, type HttpContext } from './context.js';
import { success } from './envelope.js';
import { nhnTime, withToken } from './nhn-shapes.js';
import { bool, detailFlags, imageFromJson, imageFromMultipart, int, listPage, readBody, str, type Fields, type ParsedBody } from './request-parts.js';
import { documentationOnly } from './schemas/shared.js';
import { xV1PersonSchemas as S } from './schemas/x-v1-persons.js';

type P<T extends string> = FastifyRequest<{ Params: Record<T | 'appKey' | 'groupId', string>; Querystring: Fields }>;

export const shownPerson = (p: PersonRecord) => ({
  personId: p.personId,
  ...(p.name !== undefined ? { name: p.name } : {}),
  ...(p.metadata !== undefined ? { metadata: p.metadata } : {}),
  faceCount: p.faceCount,
  createTime: nhnTime(p.createTime),
  updateTime: nhnTime(p.updateTime),
});

const imageOf = (b: ParsedBody): ImageInput => (b.multipart ? imageFromMultipart(b.fields, b.files, 'imageFile', 'imageUrl') : imageFromJson(b.fields.image, 'image'));

/**
 * facerec's person layer, clustering and album search (docs/persons.md) under `/x/v1`, with
 * v2.0's authentication and NHN's envelope and codes. JSON bodies; the single-image operations
 * also take multipart (`imageFile`) as v2.0 does.
 */
export function xV1Persons(persons: PersonService, clusters?: ClusterService) {
  return async (app: FastifyInstance, ctx: HttpContext): Promise<void> => {
    documentationOnly(app);
    requireAppSecret(app, ctx);
    refuseImageWorkWhenSaturated(app, ctx);
    const body = async (req: FastifyRequest) => readBody(req, ctx.maxImageBytes);

    app.post('/groups/:groupId/persons', { schema: S.createPerson }, async (req: P<never>) => {
      const b = (await body(req)).fields;
      return success(shownPerson(await persons.createPerson(req.params.appKey, req.params.groupId, b)));
    });

    app.get('/groups/:groupId/persons', { schema: S.listPersons }, async (req: P<never>) => {
      const { limit, nextToken } = listPage(req.query);
      const page = await persons.listPersons(req.params.appKey, req.params.groupId, limit, nextToken);
      return success(withToken({ personCount: page.items.length, persons: page.items.map(shownPerson) }, page.nextToken));
    });

    app.get('/groups/:groupId/persons/:personId', { schema: S.getPerson }, async (req: P<'personId'>) => {
      const p = await persons.getPerson(req.params.appKey, req.params.groupId, req.params.personId);
      return success({ ...shownPerson(p), faceIds: p.faceIds });
    });

    app.patch('/groups/:groupId/persons/:personId', { schema: S.updatePerson }, async (req: P<'personId'>) => {
      const b = (await body(req)).fields;
      return success(shownPerson(await persons.updatePerson(req.params.appKey, req.params.groupId, req.params.personId, b)));
    });

    app.delete('/groups/:groupId/persons/:personId', { schema: S.deletePerson }, async (req: P<'personId'>) => {
      const deleteFaces = bool(req.query, 'delete-faces', false);
      return success(await persons.deletePerson(req.params.appKey, req.params.groupId, req.params.personId, deleteFaces));
    });

    app.post('/groups/:groupId/persons/:personId/associate', { schema: S.associateFaces }, async (req: P<'personId'>) => {
      const b = (await body(req)).fields;
      return success(shownPerson(await persons.associateFaces(req.params.appKey, req.params.groupId, req.params.personId, b.faceIds)));
    });

    app.post('/groups/:groupId/persons/:personId/disassociate', { schema: S.disassociateFaces }, async (req: P<'personId'>) => {
      const b = (await body(req)).fields;
      return success(await persons.disassociateFaces(req.params.appKey, req.params.groupId, req.params.personId, b.faceIds));
    });

    // Up to ten base64 images in one JSON body: a body limit of its own.
    const registerBodyLimit = Math.ceil(ctx.maxImageBytes * 1.4) * PERSON_LIMITS.maxImagesPerRegister + 64 * 1024;
    app.post('/groups/:groupId/persons/register', { schema: S.registerPerson, bodyLimit: registerBodyLimit, config: { carriesImage: true } }, async (req: P<never>) => {
      const b = await body(req);
      if (b.multipart) throw invalidParam('register persons with a JSON body: images is an array of {url} or {bytes}');
      const images = b.fields.images;
      if (!Array.isArray(images)) throw invalidParam('images must be an array of {url} or {bytes}');
      // An image that cannot be read is reported in its place; the others go ahead.
      const inputs = images.map((im, i) => {
        try {
          return imageFromJson(im, `images[${i}]`);
        } catch (err) {
          if (err instanceof FaceApiError) return err;
          throw err;
        }
      });
      const r = await persons.registerPerson(req.params.appKey, req.params.groupId, {
        ...(str(b.fields, 'personId') !== undefined ? { personId: str(b.fields, 'personId') } : {}),
        name: b.fields.name,
        metadata: b.fields.metadata,
        ...(str(b.fields, 'externalImageId') !== undefined ? { externalImageId: str(b.fields, 'externalImageId') } : {}),
      }, inputs, detailFlags(b.fields));
      return success({ person: shownPerson(r.person), images: r.images });
    });

    app.post('/groups/:groupId/persons/search', { schema: S.searchPersons, config: { carriesImage: true } }, async (req: P<never>) => {
      const b = await body(req);
      const r = await persons.searchPersons(req.params.appKey, req.params.groupId, imageOf(b), { limit: int(b.fields, 'limit'), threshold: int(b.fields, 'threshold') }, detailFlags(b.fields));
      return success({ sourceFace: r.sourceFace, personCount: r.persons.length, persons: r.persons.map((m) => ({ person: shownPerson(m.person), similarity: m.similarity, face: m.face })) });
    });

    app.post('/groups/:groupId/persons/:personId/verify', { schema: S.verifyPerson, config: { carriesImage: true } }, async (req: P<'personId'>) => {
      const b = await body(req);
      const r = await persons.verifyPerson(req.params.appKey, req.params.groupId, req.params.personId, imageOf(b), detailFlags(b.fields));
      return success({ similarity: r.similarity, face: r.face, person: shownPerson(r.person), sourceFace: r.sourceFace });
    });

    app.post('/groups/:groupId/photos/search', { schema: S.findPhotos, config: { carriesImage: true } }, async (req: P<never>) => {
      const b = await body(req);
      const personId = str(b.fields, 'personId');
      const hasImage = b.multipart ? Object.keys(b.files).length > 0 || b.fields.imageUrl !== undefined : b.fields.image !== undefined;
      if ((personId !== undefined) === hasImage) throw invalidParam('give either personId or an image, not both');
      const query = personId !== undefined ? { personId } : { image: imageOf(b) };
      const r = await persons.findPhotos(req.params.appKey, req.params.groupId, query, { threshold: int(b.fields, 'threshold'), limit: int(b.fields, 'limit') }, detailFlags(b.fields));
      return success({ ...r, photoCount: r.photos.length });
    });

    if (clusters) {
      app.post('/groups/:groupId/cluster-jobs', { schema: S.startClustering }, async (req: P<never>) => {
        const b = (await body(req)).fields;
        const job = await clusters.start(req.params.appKey, req.params.groupId, { faceIds: b.faceIds, threshold: int(b, 'threshold'), attachThreshold: int(b, 'attachThreshold') });
        return success(clusters.shown(job));
      });
      app.get('/groups/:groupId/cluster-jobs/:jobId', { schema: S.getClustering }, async (req: P<'jobId'>) => {
        return success(clusters.shown(await clusters.get(req.params.appKey, req.params.groupId, req.params.jobId)));
      });
      app.post('/groups/:groupId/cluster-jobs/:jobId/clusters/:clusterId/person', { schema: S.clusterToPerson }, async (req: P<'jobId' | 'clusterId'>) => {
        const b = (await body(req)).fields;
        const p = await clusters.toPerson(req.params.appKey, req.params.groupId, req.params.jobId, req.params.clusterId, b);
        return success(shownPerson(p));
      });
    }
  };
}
