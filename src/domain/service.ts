import { randomUUID } from 'node:crypto';
import { embeddedFaces } from '../engine/analyzer.js';
import type { EmbeddedFace } from '../engine/engine.js';
import { fromSimilarity, toSimilarity } from '../engine/similarity.js';
import { cosine } from '../engine/vectors.js';
import { isSpoof, type SpoofCondition } from '../engine/spoof.js';
import { toGroupRef, type FaceSearch } from '../index/face-search.js';
import { StoreConflictError, type FaceFilter, type GroupRecord, type FaceRecord, type FaceWithVector, type Store } from '../store/store.js';
import { FaceApiError, invalidParam } from './errors.js';
import { toBBox, toFaceDetail, toLandmarks } from './face-detail.js';
import type { ImageReader } from './images.js';
import { DEFAULT_LIMITS, type DomainLimits } from './limits.js';
import type { PageTokens } from './page-tokens.js';
import type { DetailFlags, FaceDetail, GroupInfo, ImageInput, Paged, SearchMatch, StoredFace } from './types.js';
import { checkExternalImageId, checkGroupId, checkGroupIdForCreate, checkIntRange } from './validation.js';

export interface RegisterResult {
  modelVersion: string;
  added: { face: StoredFace; detail: FaceDetail }[];
  notAdded: FaceDetail[];
  /** True when the group filled up during the call (NHN +40070 partial success). */
  quotaHit: boolean;
}

export interface CompareResult {
  modelVersion: string;
  sourceFace: FaceDetail;
  matched: { faceDetail: FaceDetail; similarity: number }[];
  unmatched: { faceDetail: FaceDetail; similarity: number }[];
}

/**
 * The one API every transport (NHN v1.0, v2.0, CLI, console) goes through. `appKey` is always
 * an authenticated app: the adapters authenticate before calling in.
 */
export class FaceService {
  constructor(
    private readonly store: Store,
    private readonly images: ImageReader,
    private readonly faceSearch: FaceSearch,
    private readonly tokens: PageTokens,
    readonly modelVersion: string,
    readonly limits: DomainLimits = DEFAULT_LIMITS,
  ) {}

  // ── groups ────────────────────────────────────────────────────────────────

  async createGroup(appKey: string, groupId: unknown): Promise<void> {
    const id = checkGroupIdForCreate(groupId);
    try {
      await this.store.createGroup(appKey, id, this.modelVersion, this.limits.maxGroupsPerApp);
    } catch (e) {
      if (e instanceof StoreConflictError) {
        if (e.reason === 'quota') throw new FaceApiError('ServiceQuotaExceededException', `this app already has ${this.limits.maxGroupsPerApp} groups`);
        throw new FaceApiError('DuplicatedGroupID', `group ${id} already exists`);
      }
      throw e;
    }
  }

  async listGroups(appKey: string, limit: number | undefined, nextToken?: string): Promise<Paged<GroupInfo>> {
    let cursor: string | undefined;
    if (nextToken) {
      const s = this.tokens.open(nextToken, 'groups', appKey);
      limit = s.limit;
      cursor = s.cursor;
    }
    const n = checkIntRange('limit', limit, 1, this.limits.maxListLimit);
    const page = await this.store.listGroups(appKey, n, cursor);
    return {
      items: page.items,
      nextToken: page.next ? this.tokens.issue({ kind: 'groups', appKey, limit: n, cursor: page.next }) : undefined,
    };
  }

  async getGroup(appKey: string, groupId: string): Promise<GroupInfo> {
    const g = await this.store.getGroup(appKey, checkGroupId(groupId));
    if (!g) throw notFoundGroup(groupId);
    return g;
  }

  async deleteGroup(appKey: string, groupId: string): Promise<void> {
    const deleted = await this.store.deleteGroup(appKey, checkGroupId(groupId));
    this.faceSearch.dropped({ appKey, groupId });
    if (!deleted) throw notFoundGroup(groupId);
  }

  // ── faces ─────────────────────────────────────────────────────────────────

  async detect(image: ImageInput, flags: DetailFlags): Promise<FaceDetail[]> {
    const r = await this.images.analyze(image, { spoof: flags.spoofing, maxFaces: this.limits.maxFacesPerImage });
    return r.faces.map((f) => toFaceDetail(f, r, flags));
  }

  /**
   * Registers the largest `limit` faces. Faces NHN calls ineligible for recognition (under
   * 60×60 px, or yaw/pitch beyond 45°) and faces past the group quota go to `notAdded`.
   */
  async register(appKey: string, groupId: string, image: ImageInput, opts: { limit?: number; externalImageId?: string }, flags: DetailFlags): Promise<RegisterResult> {
    const limit = checkIntRange('limit', opts.limit, 1, this.limits.maxFacesPerImage);
    const externalImageId = checkExternalImageId(opts.externalImageId);
    const group = await this.requireGroup(appKey, groupId);
    if (group.faceCount >= this.limits.maxFacesPerGroup) {
      throw new FaceApiError('ServiceQuotaExceededException', `group ${groupId} already holds ${this.limits.maxFacesPerGroup} faces`);
    }
    const r = await this.images.analyze(image, { embed: true, embedLimit: limit, spoof: flags.spoofing, maxFaces: this.limits.maxFacesPerImage });
    const candidates = embeddedFaces(r, limit);
    const beyondLimit = r.faces.slice(limit).map((f) => toFaceDetail(f, r, flags));
    const eligible: EmbeddedFace[] = [];
    const ineligible: FaceDetail[] = [];
    for (const f of candidates) {
      if (f.quality.recognizable) eligible.push(f);
      else ineligible.push(toFaceDetail(f, r, flags));
    }

    const imageId = randomUUID();
    const createTime = new Date();
    const rows: FaceWithVector[] = eligible.map((f) => ({
      faceId: randomUUID(),
      imageId,
      ...(externalImageId !== undefined ? { externalImageId } : {}),
      bbox: toBBox(f, r.width, r.height),
      landmarks: toLandmarks(f, r.width, r.height),
      confidence: f.confidence,
      createTime,
      vector: f.embedding,
    }));
    const result = await this.store.addFaces(appKey, groupId, rows, this.limits.maxFacesPerGroup);
    if (!result) throw notFoundGroup(groupId);
    // The store adds a prefix of `rows`, in order (the rest were refused by the quota).
    this.faceSearch.added(toGroupRef(group), result.added.map((rec, i) => ({ key: result.keys[i], faceId: rec.faceId, vector: rows[i].vector })));
    const added = result.added.map((rec, i) => ({ face: toStoredFace(rec), detail: toFaceDetail(eligible[i], r, flags) }));
    const refused = eligible.slice(result.added.length).map((f) => toFaceDetail(f, r, flags));
    return { modelVersion: group.modelVersion, added, notAdded: [...refused, ...ineligible, ...beyondLimit], quotaHit: result.refusedForQuota > 0 };
  }

  async deleteFace(appKey: string, groupId: string, faceId: string): Promise<void> {
    const group = await this.requireGroup(appKey, groupId, { anyModel: true });
    const key = await this.store.deleteFace(appKey, groupId, faceId);
    if (key === undefined) throw notFoundFace(faceId);
    this.faceSearch.removed(toGroupRef(group), { key, faceId });
  }

  async listFaces(appKey: string, groupId: string, limit: number | undefined, filter: FaceFilter, nextToken?: string): Promise<Paged<StoredFace> & { modelVersion: string }> {
    const group = await this.requireGroup(appKey, groupId, { anyModel: true });
    let cursor: string | undefined;
    if (nextToken) {
      const s = this.tokens.open(nextToken, 'faces', appKey, groupId);
      limit = s.limit;
      filter = s.filter;
      cursor = s.cursor;
    }
    const n = checkIntRange('limit', limit, 1, this.limits.maxListLimit);
    if (filter.externalImageId !== undefined) checkExternalImageId(filter.externalImageId);
    const page = await this.store.listFaces(appKey, groupId, n, filter, cursor);
    return {
      modelVersion: group.modelVersion,
      items: page.items.map(toStoredFace),
      nextToken: page.next ? this.tokens.issue({ kind: 'faces', appKey, groupId, limit: n, filter, cursor: page.next }) : undefined,
    };
  }

  // ── search, compare, verify ───────────────────────────────────────────────

  /** 1:N with a stored face as the query; the query face itself is never in the results (as AWS SearchFaces). */
  async searchByFaceId(appKey: string, groupId: string, faceId: string, opts: { limit?: number; threshold?: number }): Promise<SearchMatch[]> {
    const { limit, threshold } = this.searchParams(opts);
    const group = await this.requireGroup(appKey, groupId);
    const face = await this.store.getFace(appKey, groupId, faceId);
    if (!face) throw notFoundFace(faceId);
    return this.search(appKey, group, face.vector, limit, threshold, faceId);
  }

  /** 1:N with the largest face of an image as the query. No face → -40000 (as AWS SearchFacesByImage). */
  async searchByImage(appKey: string, groupId: string, image: ImageInput, opts: { limit?: number; threshold?: number }, flags: DetailFlags): Promise<{ sourceFace: FaceDetail; matches: SearchMatch[]; modelVersion: string }> {
    const { limit, threshold } = this.searchParams(opts);
    const group = await this.requireGroup(appKey, groupId);
    const { face, detail } = await this.largestFace(image, flags, 'the image');
    const matches = await this.search(appKey, group, face.embedding, limit, threshold);
    return { sourceFace: detail, matches, modelVersion: group.modelVersion };
  }

  /** Largest face of `source` against every face of `target`; a target without faces gives empty lists. */
  async compare(source: ImageInput, target: ImageInput, threshold: number | undefined, flags: DetailFlags): Promise<CompareResult> {
    const t = checkIntRange('threshold', threshold, 1, 100);
    // Both images at once (two workers); a failure of the source is reported first either way.
    const [srcResult, trResult] = await Promise.allSettled([
      this.largestFace(source, flags, 'the source image'),
      this.images.analyze(target, { embed: true, spoof: flags.spoofing, maxFaces: this.limits.maxFacesPerImage }),
    ]);
    if (srcResult.status === 'rejected') throw srcResult.reason;
    if (trResult.status === 'rejected') throw trResult.reason;
    const src = srcResult.value;
    const tr = trResult.value;
    const scored = tr.faces
      .map((f) => ({ faceDetail: toFaceDetail(f, tr, flags), similarity: toSimilarity(cosine(src.face.embedding, f.embedding)) }))
      .sort((a, b) => b.similarity - a.similarity);
    return {
      modelVersion: this.modelVersion,
      sourceFace: src.detail,
      matched: scored.filter((s) => s.similarity >= t),
      unmatched: scored.filter((s) => s.similarity < t),
    };
  }

  /** 1:1: the largest face of an image against one stored face. No threshold: the caller decides. */
  async verify(appKey: string, groupId: string, faceId: string, image: ImageInput, flags: DetailFlags): Promise<{ similarity: number; face: StoredFace; sourceFace: FaceDetail }> {
    await this.requireGroup(appKey, groupId);
    const stored = await this.store.getFace(appKey, groupId, faceId);
    if (!stored) throw notFoundFace(faceId);
    const { face, detail } = await this.largestFace(image, flags, 'the image to verify');
    return { similarity: toSimilarity(cosine(stored.vector, face.embedding)), face: toStoredFace(stored), sourceFace: detail };
  }

  /**
   * The dedicated spoofing check: every face (up to 20), live or spoof. With `aligned` the image
   * is one aligned 224×224 face: no detection, zero box, no landmarks, confidence 0 (NHN draft).
   */
  async spoofing(image: ImageInput, condition: SpoofCondition, aligned = false): Promise<FaceDetail[]> {
    if (aligned) {
      const r = await this.images.analyze(image, { alignedFace: true });
      return [{ bbox: { x0: 0, y0: 0, x1: 0, y1: 0 }, landmarks: [], spoofing: isSpoof(r.imageLiveScore!, condition), confidence: 0 }];
    }
    const r = await this.images.analyze(image, { spoof: true, maxFaces: this.limits.maxFacesPerImage });
    return r.faces.map((f) => toFaceDetail(f, r, { orientation: false, mask: false, spoofing: true, spoofingCondition: condition }));
  }

  // ── helpers ───────────────────────────────────────────────────────────────

  private searchParams(opts: { limit?: number; threshold?: number }) {
    return {
      limit: checkIntRange('limit', opts.limit, 1, this.limits.maxSearchLimit),
      threshold: checkIntRange('threshold', opts.threshold, 1, 100),
    };
  }

  /**
   * The group, or -40030. Work that compares vectors (register, searches, verify) also needs the
   * group's model to be this server's (-40000 otherwise); listing and deleting faces do not, so a
   * group left from an older model can still be read out and emptied (`anyModel`).
   */
  private async requireGroup(appKey: string, groupId: string, options: { anyModel?: boolean } = {}): Promise<GroupRecord> {
    const g = await this.store.getGroup(appKey, checkGroupId(groupId));
    if (!g) throw notFoundGroup(groupId);
    if (!options.anyModel && g.modelVersion !== this.modelVersion) {
      throw invalidParam(`group ${groupId} was built with model ${g.modelVersion}; this server runs ${this.modelVersion}. Create a new group and register the faces again.`);
    }
    return g;
  }

  /** `which` names the image in the refusal: compare has two, and only its source must show a face. */
  private async largestFace(image: ImageInput, flags: DetailFlags, which: string): Promise<{ face: EmbeddedFace; detail: FaceDetail }> {
    const r = await this.images.analyze(image, { embed: true, spoof: flags.spoofing, maxFaces: 1 });
    const face = r.faces[0];
    if (!face) throw invalidParam(`no face was found in ${which}`);
    return { face, detail: toFaceDetail(face, r, flags) };
  }

  private async search(appKey: string, group: GroupRecord, query: Float32Array, limit: number, threshold: number, exclude?: string): Promise<SearchMatch[]> {
    const { groupId } = group;
    // The search filters on cosine; the exact cut is re-applied on the 0-100 scale below so that
    // a face scoring exactly the threshold is never lost to rounding.
    const hits = (await this.faceSearch.search(toGroupRef(group), query, limit, fromSimilarity(threshold) - 1e-6, exclude))
      .filter((h) => toSimilarity(h.score) >= threshold);
    if (hits.length === 0) return [];
    // An index that read the records with the ids answers with them when they are current (no
    // deletion reached it meanwhile). Otherwise they are read after it answered: a face deleted
    // meanwhile is simply absent.
    if (hits.every((h) => h.face !== undefined)) {
      return hits.map((h) => ({ face: toStoredFace({ faceId: h.faceId, ...h.face! }), similarity: toSimilarity(h.score) }));
    }
    const records = await this.store.getFaces(appKey, groupId, hits.map((h) => h.faceId));
    const byId = new Map(records.map((r) => [r.faceId, r]));
    return hits.flatMap((h) => {
      const rec = byId.get(h.faceId);
      return rec ? [{ face: toStoredFace(rec), similarity: toSimilarity(h.score) }] : [];
    });
  }
}

const notFoundGroup = (groupId: string) => new FaceApiError('NotFoundGroupError', `group ${groupId} does not exist`);
const notFoundFace = (faceId: string) => new FaceApiError('NotFoundFaceIDError', `face ${faceId} is not in this group`);

function toStoredFace(r: Pick<FaceRecord, 'faceId' | 'imageId' | 'externalImageId' | 'bbox' | 'confidence'>): StoredFace {
  return {
    faceId: r.faceId,
    imageId: r.imageId,
    ...(r.externalImageId !== undefined ? { externalImageId: r.externalImageId } : {}),
    bbox: r.bbox,
    confidence: r.confidence,
  };
}
