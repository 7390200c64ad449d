import { toGroupRef, type FaceSearch } from '../index/face-search.js';
import type { Consent, ConsentRecords, StorageResidue } from '../store/privacy-store.js';
import type { FaceRecord, GroupRecord, Store } from '../store/store.js';
import { groupIdsOf } from './apps.js';
import type { AuditTrail } from './audit.js';
import { invalidParam } from './errors.js';
import type { RegisterResult } from './service.js';
import { checkExternalImageId } from './validation.js';

/** A face as subject access shows it: where it is and what describes it, never its vector. */
export interface SubjectFace {
  groupId: string;
  faceId: string;
  imageId: string;
  externalImageId: string;
  createTime: Date;
  bbox: FaceRecord['bbox'];
  confidence: number;
  /** Present when the face was registered through the extension with consent metadata. */
  consentRef?: string;
  purpose?: string;
}

export interface ErasureReport {
  externalImageId: string;
  /** Faces this call deleted; a retry after a failure counts only what was still there. */
  deletedFaceCount: number;
  /** Groups that held some of them, with how many each; groups with none are not listed. */
  groups: { groupId: string; deletedFaceCount: number }[];
}

/** What an erasure also has to reach beyond the store: search indexes and their snapshots. */
export interface ErasureReach {
  faceSearch: FaceSearch;
  /** Writes every changed index snapshot now, so that no file keeps an erased face's vector. */
  flushIndex?: () => Promise<void>;
  residue?: StorageResidue;
}

/** Audit actions of subject access ('export') and erasure, recorded by the service itself. */
type Auditor = Pick<AuditTrail, 'record'>;

/** Faces read per store call when walking a subject's faces in a group. */
const PAGE = 1000;

/**
 * The data subject's rights over the faces an app holds, across all its groups: one call to see
 * them (access) and one to delete them (erasure). The subject is named by `externalImageId`,
 * the only label of a person NHN's API carries.
 */
export class PrivacyService {
  constructor(
    private readonly store: Store,
    private readonly reach: ErasureReach,
    private readonly audit?: Auditor,
    private readonly consents?: ConsentRecords,
  ) {}

  /**
   * Register (the domain's own, passed in) and then record the consent with the faces it added.
   * The consent is checked before anything is analysed or stored. The two writes are not one
   * transaction (the Store's `addFaces` commits on its own); if recording the consent fails, the
   * faces just added are deleted again before the error is answered, so no face is ever
   * acknowledged without its consent. Only a crash between the two writes leaves a face without
   * consent, and that face was never acknowledged (docs/privacy.md).
   */
  async registerWithConsent(appKey: string, groupId: string, consent: unknown, register: () => Promise<RegisterResult>): Promise<RegisterResult> {
    const c = checkConsent(consent);
    const wanted = c.consentRef !== undefined || c.purpose !== undefined;
    if (wanted && !this.consents) throw invalidParam('this server keeps no consent metadata');
    const r = await register();
    const faceIds = r.added.map((a) => a.face.faceId);
    if (!wanted || faceIds.length === 0) return r;
    try {
      await this.consents!.recordConsent(faceIds, c);
    } catch (err) {
      await this.undoRegister(appKey, groupId, faceIds).catch(() => {}); // the first failure is the one to answer
      throw err;
    }
    return r;
  }

  /** Deletes faces a register just added (consent could not be recorded), from the store and the index. */
  private async undoRegister(appKey: string, groupId: string, faceIds: string[]): Promise<void> {
    const group = await this.store.getGroup(appKey, groupId);
    if (!group) return; // deleted meanwhile, with its faces
    const undone = await deleteFaces(this.store, this.reach.faceSearch, group, faceIds);
    await this.audit?.record({ action: 'delete', appKey, groupId, faceIds: undone });
  }

  async subjectFaces(appKey: string, externalImageId: string): Promise<SubjectFace[]> {
    const id = requireSubject(externalImageId);
    const out: SubjectFace[] = [];
    for (const groupId of await groupIdsOf(this.store, appKey)) {
      for (const f of await this.facesOf(appKey, groupId, id)) {
        out.push({ groupId, faceId: f.faceId, imageId: f.imageId, externalImageId: id, createTime: f.createTime, bbox: f.bbox, confidence: f.confidence });
      }
    }
    const consent = (await this.consents?.consentOf(out.map((f) => f.faceId))) ?? new Map<string, Consent>();
    await this.audit?.record({ action: 'export', appKey, externalImageId: id, faceIds: out.map((f) => f.faceId) });
    return out.map((f) => ({ ...f, ...consent.get(f.faceId) }));
  }

  async eraseSubject(appKey: string, externalImageId: string): Promise<ErasureReport> {
    const id = requireSubject(externalImageId);
    const groups: ErasureReport['groups'] = [];
    const erased: string[] = [];
    try {
      for (const groupId of await groupIdsOf(this.store, appKey)) {
        const group = await this.store.getGroup(appKey, groupId);
        if (!group) continue; // deleted meanwhile, with its faces
        const faces = await this.facesOf(appKey, groupId, id);
        const deleted = await deleteFaces(this.store, this.reach.faceSearch, group, faces.map((f) => f.faceId));
        erased.push(...deleted);
        if (deleted.length > 0) groups.push({ groupId, deletedFaceCount: deleted.length });
      }
    } finally {
      // Also after a failure: what was deleted before it must not linger in snapshots or the WAL.
      // Recorded before the purge, so the WAL copies the audit insert leaves are truncated too.
      await this.audit?.record({ action: 'erase', appKey, externalImageId: id, faceIds: erased });
      if (groups.length > 0) {
        await this.reach.flushIndex?.();
        await this.reach.residue?.purge();
      }
    }
    return { externalImageId: id, deletedFaceCount: groups.reduce((n, g) => n + g.deletedFaceCount, 0), groups };
  }

  /** Every face of the subject in one group; read in full before any is deleted (cursors stay valid). */
  private async facesOf(appKey: string, groupId: string, externalImageId: string): Promise<FaceRecord[]> {
    const out: FaceRecord[] = [];
    for (let page = await this.store.listFaces(appKey, groupId, PAGE, { externalImageId }); ; page = await this.store.listFaces(appKey, groupId, PAGE, { externalImageId }, page.next)) {
      out.push(...page.items);
      if (!page.next) return out;
    }
  }
}

/**
 * Deletes faces of a group from the store and its search index; returns those this call
 * deleted (a face already gone, deleted by another request or process, is not this call's).
 */
export async function deleteFaces(store: Store, faceSearch: FaceSearch, group: GroupRecord, faceIds: string[]): Promise<string[]> {
  const deleted: string[] = [];
  for (const faceId of faceIds) {
    const key = await store.deleteFace(group.appKey, group.groupId, faceId);
    if (key === undefined) continue;
    deleted.push(faceId);
    faceSearch.removed(toGroupRef(group), { key, faceId });
  }
  return deleted;
}

function requireSubject(externalImageId: unknown): string {
  if (typeof externalImageId !== 'string' || externalImageId === '') throw invalidParam('externalImageId is required');
  return checkExternalImageId(externalImageId)!;
}

const CONSENT_FIELD = /^[^\p{Cc}]{1,255}$/u;

/** consentRef and purpose: optional, each 1–255 characters without control characters. */
export function checkConsent(value: unknown): Consent {
  const v = (value ?? {}) as Record<string, unknown>;
  const out: Consent = {};
  for (const name of ['consentRef', 'purpose'] as const) {
    const field = v[name];
    if (field === undefined) continue;
    if (typeof field !== 'string' || !CONSENT_FIELD.test(field)) throw invalidParam(`${name} must be text of 1 to 255 characters without control characters`);
    out[name] = field;
  }
  return out;
}
