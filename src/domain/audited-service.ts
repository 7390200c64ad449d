import type { AuditTrail } from './audit.js';
import { FaceService } from './service.js';

/**
 * FaceService with every operation on biometric records written to the audit trail once it
 * succeeded: the one place NHN operations are audited, whatever transport called them.
 */
export class AuditedFaceService extends FaceService {
  readonly #audit: AuditTrail;

  constructor(audit: AuditTrail, ...args: ConstructorParameters<typeof FaceService>) {
    super(...args);
    this.#audit = audit;
  }

  override async register(...args: Parameters<FaceService['register']>): ReturnType<FaceService['register']> {
    const r = await super.register(...args);
    const [appKey, groupId, , opts] = args;
    await this.#audit.record({ action: 'register', appKey, groupId, externalImageId: opts.externalImageId, faceIds: r.added.map((a) => a.face.faceId) });
    return r;
  }

  override async deleteFace(...args: Parameters<FaceService['deleteFace']>): ReturnType<FaceService['deleteFace']> {
    await super.deleteFace(...args);
    const [appKey, groupId, faceId] = args;
    await this.#audit.record({ action: 'delete', appKey, groupId, faceIds: [faceId] });
  }

  override async searchByFaceId(...args: Parameters<FaceService['searchByFaceId']>): ReturnType<FaceService['searchByFaceId']> {
    const matches = await super.searchByFaceId(...args);
    const [appKey, groupId, faceId] = args;
    await this.#audit.record({ action: 'search', appKey, groupId, faceIds: [faceId, ...matches.map((m) => m.face.faceId)], count: matches.length });
    return matches;
  }

  override async searchByImage(...args: Parameters<FaceService['searchByImage']>): ReturnType<FaceService['searchByImage']> {
    const r = await super.searchByImage(...args);
    const [appKey, groupId] = args;
    await this.#audit.record({ action: 'search', appKey, groupId, faceIds: r.matches.map((m) => m.face.faceId) });
    return r;
  }

  override async verify(...args: Parameters<FaceService['verify']>): ReturnType<FaceService['verify']> {
    const r = await super.verify(...args);
    const [appKey, groupId, faceId] = args;
    await this.#audit.record({ action: 'verify', appKey, groupId, faceIds: [faceId] });
    return r;
  }

  override async compare(...args: Parameters<FaceService['compare']>): ReturnType<FaceService['compare']> {
    const r = await super.compare(...args);
    // Two images and no stored record: the app and the request are what there is to record.
    await this.#audit.record({ action: 'compare', count: r.matched.length + r.unmatched.length });
    return r;
  }
}
