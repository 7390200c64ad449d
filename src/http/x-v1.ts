import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FaceApiError } from '../domain/errors.js';
import type { AuditTrail } from '../domain/audit.js';
import { invalidParam } from '../domain/errors.js';
import type { PrivacyService, SubjectFace } from '../domain/privacy.js';
import type { RetentionService } from '../domain/retention.js';
import { int, readBody, str, type Fields } from './request-parts.js';
import { refuseImageWorkWhenSaturated, requireAppSecret, type HttpContext } from './context.js';
import { success } from './envelope.js';
import { nhnTime, registerData, registered } from './nhn-shapes.js';
import { registerArgs } from './nhn-v2.js';
import { documentationOnly } from './schemas/shared.js';
import { xV1Schemas as S } from './schemas/x-v1.js';

export const X_V1_PREFIX = '/x/v1/appkeys/:appKey';

type Subject = FastifyRequest<{ Params: { appKey: string; externalImageId: string } }>;

const shown = (f: SubjectFace) => ({ ...f, createTime: nhnTime(f.createTime) });

const CSV_COLUMNS = ['groupId', 'faceId', 'imageId', 'externalImageId', 'createTime', 'x0', 'y0', 'x1', 'y1', 'confidence', 'consentRef', 'purpose'] as const;

/**
 * A free-text cell (consentRef, purpose) as RFC 4180 wants it, and defused for spreadsheets: a
 * cell starting with = + - @ would run as a formula in the operator's spreadsheet, so it gets a
 * leading apostrophe (OWASP's advice; the JSON answer keeps the text as stored).
 */
export function csvText(text: string | undefined): string {
  if (text === undefined) return '';
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** Ids are [a-z0-9-] or [a-zA-Z0-9_.\-:] and numbers are numbers: only consentRef and purpose need quoting. */
export function subjectCsv(faces: SubjectFace[]): string {
  const rows = faces.map((f) => [f.groupId, f.faceId, f.imageId, f.externalImageId, nhnTime(f.createTime), f.bbox.x0, f.bbox.y0, f.bbox.x1, f.bbox.y1, f.confidence, csvText(f.consentRef), csvText(f.purpose)].join(','));
  return [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}

/**
 * facerec's privacy extension (docs/privacy.md), authenticated as v2.0 is: appKey in the path,
 * the app's secret key in Authorization. An app sees and erases only its own faces.
 */
export function xV1(privacy: PrivacyService, audit?: AuditTrail, retention?: RetentionService) {
  return async (app: FastifyInstance, ctx: HttpContext): Promise<void> => {
    documentationOnly(app);
    requireAppSecret(app, ctx);
    refuseImageWorkWhenSaturated(app, ctx);

    // v2 register's body and answer, plus consentRef and purpose stored with the faces.
    app.post('/groups/:groupId/faces', { schema: S.registerWithConsent, config: { carriesImage: true } }, async (req: FastifyRequest<{ Params: { appKey: string; groupId: string } }>) => {
      const b = await readBody(req, ctx.maxImageBytes);
      const { appKey, groupId } = req.params;
      const r = await privacy.registerWithConsent(appKey, groupId, b.fields, () => ctx.service.register(appKey, groupId, ...registerArgs(b)));
      return registered(r, registerData(r));
    });

    app.get('/subjects/:externalImageId', { schema: S.subjectAccess }, async (req: Subject) => {
      const faces = await privacy.subjectFaces(req.params.appKey, req.params.externalImageId);
      return success({ externalImageId: req.params.externalImageId, faceCount: faces.length, faces: faces.map(shown) });
    });

    app.get('/subjects/:externalImageId/faces.csv', { schema: S.subjectAccessCsv }, async (req: Subject, reply) => {
      const faces = await privacy.subjectFaces(req.params.appKey, req.params.externalImageId);
      reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="subject-${req.params.externalImageId}.csv"`);
      return subjectCsv(faces);
    });

    if (audit) {
      app.get('/audit', { schema: S.audit }, async (req: FastifyRequest<{ Params: { appKey: string }; Querystring: Fields }>) => {
        const q = req.query;
        const subject = str(q, 'externalImageId');
        const afterSeq = int(q, 'after-seq');
        const entries = await audit.query(req.params.appKey, {
          limit: int(q, 'limit') ?? 100,
          ...optionalTime(q, 'from'),
          ...optionalTime(q, 'to'),
          ...(subject !== undefined ? { externalImageId: subject } : {}),
          ...(afterSeq !== undefined ? { afterSeq } : {}),
        });
        // The appKey is the caller's own: left out of each entry.
        const shownEntries = entries.map(({ appKey: _a, time, ...e }) => ({ ...e, time: time.toISOString() }));
        return success({ entryCount: shownEntries.length, entries: shownEntries });
      });
    }

    if (retention) {
      type App = FastifyRequest<{ Params: { appKey: string } }>;
      type Group = FastifyRequest<{ Params: { appKey: string; groupId: string } }>;
      const body = async (req: FastifyRequest) => (await readBody(req, ctx.maxImageBytes)).fields;
      app.get('/retention', { schema: S.getRetention }, async (req: App) => success(await retention.retentionOf(req.params.appKey)));
      app.put('/retention', { schema: S.setAppRetention }, async (req: App) => {
        await retention.setAppRetention(req.params.appKey, (await body(req)).retentionDays);
        return success();
      });
      app.delete('/retention', { schema: S.clearAppRetention }, async (req: App) => {
        await retention.clearAppRetention(req.params.appKey);
        return success();
      });
      app.put('/groups/:groupId/retention', { schema: S.setGroupRetention }, async (req: Group) => {
        await retention.setGroupRetention(req.params.appKey, req.params.groupId, (await body(req)).retentionDays);
        return success();
      });
      app.delete('/groups/:groupId/retention', { schema: S.clearGroupRetention }, async (req: Group) => {
        await retention.clearGroupRetention(req.params.appKey, req.params.groupId);
        return success();
      });
    }

    app.delete('/subjects/:externalImageId', { schema: S.eraseSubject }, async (req: Subject) => {
      return success(await privacy.eraseSubject(req.params.appKey, req.params.externalImageId));
    });
  };
}

function optionalTime(q: Fields, name: 'from' | 'to'): { from?: Date; to?: Date } {
  const raw = str(q, name);
  if (raw === undefined) return {};
  const t = new Date(raw);
  if (Number.isNaN(t.getTime())) throw invalidParam(`${name} must be an ISO 8601 time, e.g. 2026-01-31T00:00:00Z; it is ${raw.slice(0, 40)}`);
  return { [name]: t };
}
