import { randomUUID } from 'node:crypto';
import { fromSimilarity, toSimilarity } from '../engine/similarity.js';
import { cosine } from '../engine/vectors.js';
import { toGroupRef, type FaceSearch } from '../index/face-search.js';
import type { PersonChanges, PersonRecord, PersonStore } from '../store/person-store.js';
import type { FaceRecord, GroupRecord, Store } from '../store/store.js';
import type { AuditTrail } from './audit.js';
import { FaceApiError, invalidParam } from './errors.js';
import { toFaceDetail } from './face-detail.js';
import type { ImageReader } from './images.js';
import type { PageTokens } from './page-tokens.js';
import type { FaceService } from './service.js';
import type { BBox, DetailFlags, FaceDetail, ImageInput, Paged, StoredFace } from './types.js';
import { checkExternalImageId, checkGroupId, checkIntRange } from './validation.js';

/** Limits of the person layer (docs/persons.md). */
export const PERSON_LIMITS = {
  /** Faces one person may have (AWS Users allow 100; a cluster made a person may bring more). */
  maxFacesPerPerson: 1000,
  /** Faces named in one associate/disassociate call. */
  maxFaceIdsPerCall: 1000,
  /** Images in one registerPerson call. */
  maxImagesPerRegister: 10,
  maxNameLength: 255,
  /** The metadata object, as JSON text in UTF-8. */
  maxMetadataBytes: 4096,
  /** Faces a person search or an album search looks at per query vector. */
  searchBreadth: 4096,
};

export interface PersonMatch {
  person: PersonRecord;
  /** The best similarity over the person's faces (best-of, docs/persons.md). */
  similarity: number;
  /** The face of the person that scored it. */
  face: StoredFace;
}

export interface AlbumPhoto {
  imageId: string;
  externalImageId?: string;
  faces: { faceId: string; bbox: BBox; similarity: number; personId?: string }[];
}

type Auditor = Pick<AuditTrail, 'record'>;

/** The result of registering a person from several images: one entry per image, in order. */
export interface PersonRegistration {
  person: PersonRecord;
  images: ({ index: number; faceId: string; face: StoredFace } | { index: number; error: { resultCode: number; resultMessage: string; detail: string } })[];
}

/**
 * Persons in a group: a name and metadata for a set of the group's faces (AWS Users, Azure
 * Person, CompreFace Subjects). A face belongs to at most one person; persons go with their group.
 * Search and verify against persons score each person by the best of its faces.
 */
export class PersonService {
  constructor(
    private readonly store: Store,
    private readonly persons: PersonStore,
    private readonly faces: FaceService,
    private readonly images: ImageReader,
    private readonly faceSearch: FaceSearch,
    private readonly tokens: PageTokens,
    private readonly audit?: Auditor,
  ) {}

  // ── persons ───────────────────────────────────────────────────────────────

  async createPerson(appKey: string, groupId: string, body: { name?: unknown; metadata?: unknown }): Promise<PersonRecord> {
    await this.requireGroup(appKey, groupId);
    const name = checkName(body.name);
    const metadata = checkMetadata(body.metadata);
    const p = await this.persons.createPerson(appKey, groupId, { personId: randomUUID(), ...(name ? { name } : {}), ...(metadata ? { metadata } : {}) });
    if (!p) throw notFoundGroup(groupId);
    return p;
  }

  async listPersons(appKey: string, groupId: string, limit: number | undefined, nextToken?: string): Promise<Paged<PersonRecord>> {
    await this.requireGroup(appKey, groupId);
    let cursor: string | undefined;
    if (nextToken) {
      const s = this.tokens.open(nextToken, 'persons', appKey, groupId);
      limit = s.limit;
      cursor = s.cursor;
    }
    const n = checkIntRange('limit', limit ?? 100, 1, 200);
    const page = await this.persons.listPersons(appKey, groupId, n, cursor);
    return { items: page.items, nextToken: page.next ? this.tokens.issue({ kind: 'persons', appKey, groupId, limit: n, cursor: page.next }) : undefined };
  }

  async getPerson(appKey: string, groupId: string, personId: string): Promise<PersonRecord & { faceIds: string[] }> {
    const p = await this.requirePerson(appKey, groupId, personId);
    return { ...p, faceIds: await this.persons.personFaceIds(appKey, groupId, personId) };
  }

  async updatePerson(appKey: string, groupId: string, personId: string, body: { name?: unknown; metadata?: unknown }): Promise<PersonRecord> {
    await this.requireGroup(appKey, groupId);
    const changes: PersonChanges = {};
    // "" clears the name and {} the metadata (JSON nulls are read as absent fields).
    if (body.name !== undefined) changes.name = body.name === '' ? null : checkName(body.name)!;
    if (body.metadata !== undefined) {
      const m = checkMetadata(body.metadata)!;
      changes.metadata = Object.keys(m).length === 0 ? null : m;
    }
    const p = await this.persons.updatePerson(appKey, groupId, checkPersonId(personId), changes);
    if (!p) throw notFoundPerson(personId);
    return p;
  }

  /** The person goes; its faces stay in the group unless `deleteFaces` (as AWS DeleteUser). */
  async deletePerson(appKey: string, groupId: string, personId: string, deleteFaces = false): Promise<{ deletedFaceCount: number }> {
    await this.requireGroup(appKey, groupId);
    const faceIds = await this.persons.deletePerson(appKey, groupId, checkPersonId(personId));
    if (!faceIds) throw notFoundPerson(personId);
    let deleted = 0;
    if (deleteFaces) {
      for (const faceId of faceIds) {
        try {
          await this.faces.deleteFace(appKey, groupId, faceId);
          deleted++;
        } catch (err) {
          if (!(err instanceof FaceApiError && err.resultName === 'NotFoundFaceIDError')) throw err; // deleted meanwhile
        }
      }
    }
    return { deletedFaceCount: deleted };
  }

  /** All or nothing: a face of another person is -40090, a face not in the group -40050. */
  async associateFaces(appKey: string, groupId: string, personId: string, faceIds: unknown): Promise<PersonRecord> {
    await this.requireGroup(appKey, groupId);
    const ids = checkFaceIds(faceIds);
    const r = await this.persons.associateFaces(appKey, groupId, checkPersonId(personId), ids, PERSON_LIMITS.maxFacesPerPerson);
    if (r.ok) return r.person;
    switch (r.refusal.reason) {
      case 'no-person': throw notFoundPerson(personId);
      case 'no-face': throw new FaceApiError('NotFoundFaceIDError', `face ${r.refusal.faceId} is not in this group`);
      case 'other-person': throw new FaceApiError('FaceAlreadyAssociatedError', `face ${r.refusal.faceId} belongs to person ${r.refusal.personId}; disassociate it from that person first`);
      case 'quota': throw new FaceApiError('ServiceQuotaExceededException', `a person may have at most ${PERSON_LIMITS.maxFacesPerPerson} faces`);
    }
  }

  /** Faces not with the person are ignored (idempotent); the answer says which were removed. */
  async disassociateFaces(appKey: string, groupId: string, personId: string, faceIds: unknown): Promise<{ disassociatedFaceIds: string[] }> {
    await this.requireGroup(appKey, groupId);
    const removed = await this.persons.disassociateFaces(appKey, groupId, checkPersonId(personId), checkFaceIds(faceIds));
    if (!removed) throw notFoundPerson(personId);
    return { disassociatedFaceIds: removed };
  }

  /**
   * Registers the largest face of each image (as v2 register with limit 1) and associates them
   * with the person: a new one (`personId` absent) or an existing one. An image that fails is
   * reported with its result code and the others go ahead; a new person is created only if at
   * least one face was registered.
   */
  async registerPerson(appKey: string, groupId: string, body: { personId?: string; name?: unknown; metadata?: unknown; externalImageId?: string }, images: (ImageInput | FaceApiError)[], flags: DetailFlags): Promise<PersonRegistration> {
    await this.requireGroup(appKey, groupId);
    if (images.length === 0) throw invalidParam('images must hold at least one image');
    if (images.length > PERSON_LIMITS.maxImagesPerRegister) throw invalidParam(`images may hold at most ${PERSON_LIMITS.maxImagesPerRegister} images; it holds ${images.length}`);
    checkExternalImageId(body.externalImageId);
    const existing = body.personId !== undefined ? await this.requirePerson(appKey, groupId, body.personId) : undefined;
    const name = existing ? undefined : checkName(body.name);
    const metadata = existing ? undefined : checkMetadata(body.metadata);
    const out: PersonRegistration['images'] = [];
    for (const [index, image] of images.entries()) {
      try {
        if (image instanceof FaceApiError) throw image;
        const r = await this.faces.register(appKey, groupId, image, { limit: 1, ...(body.externalImageId !== undefined ? { externalImageId: body.externalImageId } : {}) }, flags);
        const added = r.added[0];
        if (added) out.push({ index, faceId: added.face.faceId, face: added.face });
        else out.push({ index, error: { resultCode: -40000, resultMessage: 'InvalidParam', detail: r.notAdded.length ? 'the face is too small or turned too far to recognise (under 60 px, or yaw/pitch over 45°)' : 'no face was found in the image' } });
      } catch (err) {
        if (!(err instanceof FaceApiError)) throw err;
        out.push({ index, error: { resultCode: err.code, resultMessage: err.resultName, detail: err.message } });
      }
    }
    const faceIds = out.flatMap((o) => ('faceId' in o ? [o.faceId] : []));
    if (faceIds.length === 0) {
      if (existing) return { person: existing, images: out };
      const first = out[0] as { error: { resultCode: number; detail: string } };
      throw invalidParam(`no image gave a face to register, so no person was created; the first image: ${first.error.detail}`);
    }
    const person = existing ?? (await this.persons.createPerson(appKey, groupId, { personId: randomUUID(), ...(name ? { name } : {}), ...(metadata ? { metadata } : {}) }));
    if (!person) throw notFoundGroup(groupId);
    try {
      return { person: await this.associateFaces(appKey, groupId, person.personId, faceIds), images: out };
    } catch (err) {
      // No face is left registered but unassociated by a refused call.
      for (const faceId of faceIds) await this.faces.deleteFace(appKey, groupId, faceId).catch(() => {});
      if (!existing) await this.persons.deletePerson(appKey, groupId, person.personId).catch(() => {});
      throw err;
    }
  }

  // ── search and verify against persons ────────────────────────────────────

  /**
   * 1:N over persons: the probe's largest face against every face of the group; a person scores
   * the best of its faces (best-of measured better than the mean, docs/persons.md). Faces of no
   * person are not answers here.
   */
  async searchPersons(appKey: string, groupId: string, image: ImageInput, opts: { limit?: number; threshold?: number }, flags: DetailFlags): Promise<{ sourceFace: FaceDetail; persons: PersonMatch[] }> {
    const limit = checkIntRange('limit', opts.limit ?? 10, 1, 100);
    const threshold = checkIntRange('threshold', opts.threshold, 1, 100);
    const r = await this.faces.searchByImage(appKey, groupId, image, { limit: PERSON_LIMITS.searchBreadth, threshold }, flags);
    const owners = await this.persons.personsOfFaces(appKey, groupId, r.matches.map((m) => m.face.faceId));
    const best = new Map<string, { similarity: number; face: StoredFace }>();
    for (const m of r.matches) {
      const personId = owners.get(m.face.faceId);
      if (personId === undefined) continue;
      const seen = best.get(personId);
      if (!seen || m.similarity > seen.similarity) best.set(personId, { similarity: m.similarity, face: m.face });
    }
    const ranked = [...best.entries()].sort((a, b) => b[1].similarity - a[1].similarity).slice(0, limit);
    const persons: PersonMatch[] = [];
    for (const [personId, m] of ranked) {
      const person = await this.persons.getPerson(appKey, groupId, personId);
      if (person) persons.push({ person, ...m });
    }
    return { sourceFace: r.sourceFace, persons };
  }

  /** 1:1 against a person: the best similarity over its faces, and the face that gave it. */
  async verifyPerson(appKey: string, groupId: string, personId: string, image: ImageInput, flags: DetailFlags): Promise<{ similarity: number; face: StoredFace; person: PersonRecord; sourceFace: FaceDetail }> {
    const group = await this.requireGroup(appKey, groupId);
    const person = await this.requirePerson(appKey, groupId, personId);
    const faceIds = await this.persons.personFaceIds(appKey, groupId, person.personId);
    if (faceIds.length === 0) throw invalidParam(`person ${personId} has no faces to verify against`);
    const probe = await this.probe(image, flags, group);
    let best: { score: number; face: FaceRecord } | undefined;
    for (const faceId of faceIds) {
      const f = await this.store.getFace(appKey, groupId, faceId);
      if (!f) continue;
      const score = cosine(f.vector, probe.embedding);
      if (!best || score > best.score) best = { score, face: f };
    }
    if (!best) throw invalidParam(`person ${personId} has no faces to verify against`);
    await this.audit?.record({ action: 'verify', appKey, groupId, faceIds: [best.face.faceId] });
    return { similarity: toSimilarity(best.score), face: storedFace(best.face), person, sourceFace: probe.detail };
  }

  // ── album search ─────────────────────────────────────────────────────────

  /**
   * Every photo of the group showing the person: its own faces, and every face at or above the
   * threshold against any of them. With an image instead, the faces matching the probe, and the
   * faces of the persons those belong to. Photos are the group's imageIds (one per registered
   * image), best match first.
   */
  async findPhotos(appKey: string, groupId: string, query: { personId: string } | { image: ImageInput }, opts: { threshold?: number; limit?: number }, flags: DetailFlags): Promise<{ photos: AlbumPhoto[]; sourceFace?: FaceDetail; personId?: string }> {
    const threshold = checkIntRange('threshold', opts.threshold ?? 80, 1, 100);
    const limit = checkIntRange('limit', opts.limit ?? 100, 1, 1000);
    const group = await this.requireGroup(appKey, groupId);
    const scores = new Map<string, number>();
    const note = (faceId: string, similarity: number) => scores.set(faceId, Math.max(scores.get(faceId) ?? 0, similarity));
    let sourceFace: FaceDetail | undefined;
    const queries: Float32Array[] = [];
    if ('personId' in query) {
      const person = await this.requirePerson(appKey, groupId, query.personId);
      for (const faceId of await this.persons.personFaceIds(appKey, groupId, person.personId)) {
        const f = await this.store.getFace(appKey, groupId, faceId);
        if (!f) continue;
        note(faceId, 100);
        queries.push(f.vector);
      }
    } else {
      const probe = await this.probe(query.image, flags, group);
      sourceFace = probe.detail;
      queries.push(probe.embedding);
    }
    for (const q of queries) {
      const hits = await this.faceSearch.search(toGroupRef(group), q, Math.min(PERSON_LIMITS.searchBreadth, Math.max(1, group.faceCount)), fromSimilarity(threshold) - 1e-6);
      for (const h of hits) if (toSimilarity(h.score) >= threshold) note(h.faceId, toSimilarity(h.score));
    }
    const owners = await this.persons.personsOfFaces(appKey, groupId, [...scores.keys()]);
    if (!('personId' in query)) {
      // The probe found someone who is a person: their other photos are theirs too.
      for (const personId of new Set(owners.values())) {
        for (const faceId of await this.persons.personFaceIds(appKey, groupId, personId)) {
          if (scores.has(faceId)) continue;
          // Below the threshold, yet the person's: shown with its own similarity to the probe.
          const f = await this.store.getFace(appKey, groupId, faceId);
          if (f) scores.set(faceId, toSimilarity(cosine(f.vector, queries[0])));
        }
      }
      for (const [faceId, personId] of await this.persons.personsOfFaces(appKey, groupId, [...scores.keys()])) owners.set(faceId, personId);
    }
    const records = await this.store.getFaces(appKey, groupId, [...scores.keys()]);
    const photos = new Map<string, AlbumPhoto & { best: number }>();
    for (const r of records) {
      const photo = photos.get(r.imageId) ?? { imageId: r.imageId, ...(r.externalImageId !== undefined ? { externalImageId: r.externalImageId } : {}), faces: [], best: 0 };
      const similarity = scores.get(r.faceId)!;
      const personId = owners.get(r.faceId);
      photo.faces.push({ faceId: r.faceId, bbox: r.bbox, similarity, ...(personId !== undefined ? { personId } : {}) });
      photo.best = Math.max(photo.best, similarity);
      photos.set(r.imageId, photo);
    }
    const ordered = [...photos.values()].sort((a, b) => b.best - a.best || a.imageId.localeCompare(b.imageId)).slice(0, limit);
    await this.audit?.record({ action: 'search', appKey, groupId, faceIds: ordered.flatMap((p) => p.faces.map((f) => f.faceId)) });
    return {
      photos: ordered.map(({ best: _b, ...p }) => ({ ...p, faces: p.faces.sort((a, b) => b.similarity - a.similarity) })),
      ...(sourceFace ? { sourceFace } : {}),
      ...('personId' in query ? { personId: query.personId } : {}),
    };
  }

  // ── helpers ───────────────────────────────────────────────────────────────

  async requireGroup(appKey: string, groupId: string): Promise<GroupRecord> {
    const g = await this.store.getGroup(appKey, checkGroupId(groupId));
    if (!g) throw notFoundGroup(groupId);
    return g;
  }

  async requirePerson(appKey: string, groupId: string, personId: string): Promise<PersonRecord> {
    await this.requireGroup(appKey, groupId);
    const p = await this.persons.getPerson(appKey, groupId, checkPersonId(personId));
    if (!p) throw notFoundPerson(personId);
    return p;
  }

  private async probe(image: ImageInput, flags: DetailFlags, group: GroupRecord): Promise<{ embedding: Float32Array; detail: FaceDetail }> {
    if (group.modelVersion !== this.faces.modelVersion) {
      throw invalidParam(`group ${group.groupId} was built with model ${group.modelVersion}; this server runs ${this.faces.modelVersion}. Create a new group and register the faces again.`);
    }
    const r = await this.images.analyze(image, { embed: true, spoof: flags.spoofing, maxFaces: 1 });
    const face = r.faces[0];
    if (!face) throw invalidParam('no face was found in the image');
    return { embedding: face.embedding, detail: toFaceDetail(face, r, flags) };
  }
}

const PERSON_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const notFoundGroup = (groupId: string) => new FaceApiError('NotFoundGroupError', `group ${groupId} does not exist`);
export const notFoundPerson = (personId: string) => new FaceApiError('NotFoundPersonError', `person ${personId.slice(0, 80)} is not in this group`);

/** Person ids are the UUIDs facerec issued; anything else names no person. */
function checkPersonId(personId: string): string {
  if (!PERSON_ID.test(personId)) throw notFoundPerson(personId);
  return personId;
}

function checkName(name: unknown): string | undefined {
  if (name === undefined) return undefined;
  if (typeof name !== 'string') throw invalidParam('name must be a string');
  if (name.length < 1 || name.length > PERSON_LIMITS.maxNameLength) throw invalidParam(`name must be 1 to ${PERSON_LIMITS.maxNameLength} characters; it is ${name.length}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) throw invalidParam('name must not contain control characters');
  return name;
}

function checkMetadata(metadata: unknown): Record<string, unknown> | undefined {
  if (metadata === undefined) return undefined;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw invalidParam('metadata must be a JSON object');
  const bytes = Buffer.byteLength(JSON.stringify(metadata), 'utf8');
  if (bytes > PERSON_LIMITS.maxMetadataBytes) throw invalidParam(`metadata must be at most ${PERSON_LIMITS.maxMetadataBytes} bytes as JSON; it is ${bytes}`);
  return metadata as Record<string, unknown>;
}

const FACE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function checkFaceIds(faceIds: unknown): string[] {
  if (!Array.isArray(faceIds) || faceIds.length === 0) throw invalidParam('faceIds must be a non-empty array of faceIds');
  if (faceIds.length > PERSON_LIMITS.maxFaceIdsPerCall) throw invalidParam(`faceIds may hold at most ${PERSON_LIMITS.maxFaceIdsPerCall} faceIds; it holds ${faceIds.length}`);
  for (const id of faceIds) {
    if (typeof id !== 'string') throw invalidParam('faceIds must hold strings');
    if (!FACE_ID.test(id)) throw new FaceApiError('NotFoundFaceIDError', `face ${id.slice(0, 80)} is not in this group`);
  }
  return [...new Set(faceIds as string[])];
}

function storedFace(r: FaceRecord): StoredFace {
  return { faceId: r.faceId, imageId: r.imageId, ...(r.externalImageId !== undefined ? { externalImageId: r.externalImageId } : {}), bbox: r.bbox, confidence: r.confidence };
}
