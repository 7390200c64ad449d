import { FacerecApiError, FacerecProtocolError } from './errors.js';
import type {
  AuditEntry,
  AuditLogResult,
  AuditQuery,
  CompareOptions,
  CompareResult,
  DetailOptions,
  DetectResult,
  ErasureResult,
  Face,
  FaceFilter,
  GroupDetails,
  GroupSummary,
  ImageSource,
  IterateOptions,
  ListFacesResult,
  ListGroupsResult,
  PageOptions,
  RegisterOptions,
  RegisterResult,
  RegisterWithConsentOptions,
  ResponseHeader,
  RetentionSettings,
  SearchByFaceIdResult,
  SearchByImageResult,
  SearchOptions,
  SpoofingOptions,
  SpoofingResult,
  SubjectAccessResult,
  VerifyResult,
} from './types.js';
import type {
  ClusterJob,
  FindPhotosResult,
  ListPersonsResult,
  Person,
  PersonFields,
  PersonWithFaces,
  RegisterPersonOptions,
  RegisterPersonResult,
  SearchPersonsResult,
  VerifyPersonResult,
} from './person-types.js';

export interface FacerecClientOptions {
  /** Server root, e.g. `http://localhost:8080`; the client adds `/v2.0/appkeys/{appKey}` (and `/x/v1/appkeys/{appKey}` for the privacy extension). */
  baseUrl: string;
  appKey: string;
  secretKey: string;
  /** Per-request time limit (default 60 s: a large photo on a busy CPU server takes seconds). */
  timeoutMs?: number;
  /** A fetch implementation to use instead of the global one (proxies, tests). */
  fetch?: typeof fetch;
}

const MAX_PAGE_SIZE = 200;
/** The audit route's largest page. */
const MAX_AUDIT_PAGE = 1000;

/** Which API a path is under: NHN v2.0, or facerec's privacy extension (same credentials). */
type Api = 'v2' | 'x';

/**
 * Typed client for the NHN Face Recognition API v2.0 (facerec or NHN Cloud itself), and for
 * facerec's privacy extension (`/x/v1`, same credentials; NHN Cloud does not have it).
 *
 * Images always travel as JSON (`{bytes: base64}` or `{url}`): every v2 operation accepts that
 * form for both kinds of image, whereas multipart has URL fields only on compare. Base64 costs a
 * third more bytes, which is small next to the inference time of the request.
 */
export class FacerecClient {
  private readonly roots: Record<Api, string>;
  private readonly secretKey: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: FacerecClientOptions) {
    const base = options.baseUrl.replace(/\/+$/, '');
    const app = encodeURIComponent(options.appKey);
    this.roots = { v2: `${base}/v2.0/appkeys/${app}`, x: `${base}/x/v1/appkeys/${app}` };
    this.secretKey = options.secretKey;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.fetchImpl = options.fetch ?? fetch;
  }

  // ── groups ────────────────────────────────────────────────────────────────

  async createGroup(groupId: string): Promise<void> {
    await this.call('POST', '/groups', { body: { groupId } });
  }

  /** One page of groups; see `listGroups` to iterate over all of them. */
  async listGroupsPage(page: PageOptions): Promise<ListGroupsResult> {
    const data = (await this.call<ListGroupsResult>('GET', '/groups', { query: { limit: page.limit, 'next-token': page.nextToken || undefined } })).data;
    return { ...data, nextToken: data.nextToken ?? '' }; // servers that omit it on the last page
  }

  /** Every group of the app, fetching pages as the loop goes. */
  async *listGroups(options: IterateOptions = {}): AsyncIterableIterator<GroupSummary> {
    let nextToken: string | undefined;
    do {
      const page = await this.listGroupsPage({ limit: options.pageSize ?? MAX_PAGE_SIZE, nextToken });
      yield* page.groups;
      nextToken = page.nextToken;
    } while (nextToken);
  }

  async getGroup(groupId: string): Promise<GroupDetails> {
    return (await this.call<GroupDetails>('GET', `/groups/${seg(groupId)}`)).data;
  }

  async deleteGroup(groupId: string): Promise<void> {
    await this.call('DELETE', `/groups/${seg(groupId)}`);
  }

  // ── faces ─────────────────────────────────────────────────────────────────

  async detect(image: ImageSource, options: DetailOptions = {}): Promise<DetectResult> {
    return (await this.call<DetectResult>('POST', '/faces/detect', { body: { image: imageJson(image), ...options } })).data;
  }

  /**
   * Registers the largest `limit` faces of an image. Resolves on NHN's partial success too
   * (`resultCode` 40070: the group filled up part-way); throws when nothing could be added.
   */
  async registerFaces(groupId: string, image: ImageSource, options: RegisterOptions): Promise<RegisterResult> {
    const { header, data } = await this.call<Omit<RegisterResult, 'resultCode' | 'resultMessage'>>('POST', `/groups/${seg(groupId)}/faces`, {
      body: { image: imageJson(image), ...options },
    });
    return { resultCode: header.resultCode, resultMessage: header.resultMessage, ...data };
  }

  async deleteFace(groupId: string, faceId: string): Promise<void> {
    await this.call('DELETE', `/groups/${seg(groupId)}/faces/${seg(faceId)}`);
  }

  /** One page of a group's faces, newest first; filters match exactly and combine with AND. */
  async listFacesPage(groupId: string, page: PageOptions & FaceFilter): Promise<ListFacesResult> {
    const query = {
      limit: page.limit,
      'next-token': page.nextToken || undefined,
      'face-id': page.faceId,
      'image-id': page.imageId,
      'external-image-id': page.externalImageId,
    };
    const data = (await this.call<ListFacesResult>('GET', `/groups/${seg(groupId)}/faces`, { query })).data;
    return { ...data, nextToken: data.nextToken ?? '' }; // servers that omit it on the last page
  }

  /** Every face of a group (matching the filter), fetching pages as the loop goes. */
  async *listFaces(groupId: string, options: IterateOptions & FaceFilter = {}): AsyncIterableIterator<Face> {
    const { pageSize, ...filter } = options;
    let nextToken: string | undefined;
    do {
      // A next-token carries the filter it was issued with; sending it again is harmless.
      const page = await this.listFacesPage(groupId, { ...filter, limit: pageSize ?? MAX_PAGE_SIZE, nextToken });
      yield* page.faces;
      nextToken = page.nextToken;
    } while (nextToken);
  }

  // ── search, compare, verify, spoofing ─────────────────────────────────────

  /** 1:N with a stored face as the query (the face itself is not among the results). */
  async searchByFaceId(groupId: string, faceId: string, options: SearchOptions): Promise<SearchByFaceIdResult> {
    return (await this.call<SearchByFaceIdResult>('GET', `/groups/${seg(groupId)}/faces/${seg(faceId)}/search`, { query: { ...options } })).data;
  }

  /** 1:N with the largest face of an image as the query. */
  async searchByImage(groupId: string, image: ImageSource, options: SearchOptions & DetailOptions): Promise<SearchByImageResult> {
    return (await this.call<SearchByImageResult>('POST', `/groups/${seg(groupId)}/faces/search`, { body: { image: imageJson(image), ...options } })).data;
  }

  /** The largest face of `source` against every face of `target`. */
  async compare(source: ImageSource, target: ImageSource, options: CompareOptions): Promise<CompareResult> {
    const body = { sourceImage: imageJson(source), targetImage: imageJson(target), ...options };
    return (await this.call<CompareResult>('POST', '/faces/compare', { body })).data;
  }

  /** 1:1: the largest face of an image against one stored face. */
  async verify(groupId: string, faceId: string, image: ImageSource, options: DetailOptions = {}): Promise<VerifyResult> {
    return (await this.call<VerifyResult>('POST', `/groups/${seg(groupId)}/faces/${seg(faceId)}/verify`, { body: { compareImage: imageJson(image), ...options } })).data;
  }

  /** Live or presentation attack, for every face of the image. */
  async spoofing(image: ImageSource, options: SpoofingOptions = {}): Promise<SpoofingResult> {
    return (await this.call<SpoofingResult>('POST', '/spoofing', { body: { image: imageJson(image), ...options } })).data;
  }

  // ── privacy extension (facerec only: docs/privacy.md) ─────────────────────

  /** registerFaces plus the consent the faces were collected under, stored with each face. */
  async registerFacesWithConsent(groupId: string, image: ImageSource, options: RegisterWithConsentOptions): Promise<RegisterResult> {
    const { header, data } = await this.call<Omit<RegisterResult, 'resultCode' | 'resultMessage'>>('POST', `/groups/${seg(groupId)}/faces`, {
      api: 'x',
      body: { image: imageJson(image), ...options },
    });
    return { resultCode: header.resultCode, resultMessage: header.resultMessage, ...data };
  }

  /** Every face held for a subject (by externalImageId) in every group of the app; never vectors. */
  async subjectAccess(externalImageId: string): Promise<SubjectAccessResult> {
    return (await this.call<SubjectAccessResult>('GET', `/subjects/${seg(externalImageId)}`, { api: 'x' })).data;
  }

  /** The same list as CSV text (header row, then one row per face). */
  async subjectAccessCsv(externalImageId: string): Promise<string> {
    const { res, text, url } = await this.send('GET', 'x', `/subjects/${seg(externalImageId)}/faces.csv`, {}, 'text/csv');
    if (res.ok && /^text\/csv/i.test(res.headers.get('content-type') ?? '')) return text;
    throw this.failure(res, text, 'GET', url); // a failure is the JSON envelope
  }

  /** Deletes every face of a subject in every group of the app; safe to retry. */
  async eraseSubject(externalImageId: string): Promise<ErasureResult> {
    return (await this.call<ErasureResult>('DELETE', `/subjects/${seg(externalImageId)}`, { api: 'x' })).data;
  }

  /** One page of the app's audit log, oldest first; see `auditLog` to iterate over all of it. */
  async auditLogPage(query: AuditQuery = {}): Promise<AuditLogResult> {
    const time = (t: Date | string | undefined) => (t instanceof Date ? t.toISOString() : t);
    const q = { from: time(query.from), to: time(query.to), externalImageId: query.externalImageId, limit: query.limit, 'after-seq': query.afterSeq };
    return (await this.call<AuditLogResult>('GET', '/audit', { api: 'x', query: q })).data;
  }

  /** Every matching audit entry, fetching pages (by seq) as the loop goes. */
  async *auditLog(query: Omit<AuditQuery, 'limit'> & IterateOptions = {}): AsyncIterableIterator<AuditEntry> {
    const { pageSize, ...filter } = query;
    const limit = pageSize ?? MAX_AUDIT_PAGE;
    let afterSeq = filter.afterSeq;
    for (;;) {
      const page = await this.auditLogPage({ ...filter, limit, afterSeq });
      yield* page.entries;
      if (page.entries.length < limit) return;
      afterSeq = page.entries[page.entries.length - 1].seq;
    }
  }

  /** The app's default retention period and each group's own. */
  async getRetention(): Promise<RetentionSettings> {
    return (await this.call<RetentionSettings>('GET', '/retention', { api: 'x' })).data;
  }

  /** Faces of groups without their own period are deleted once older than `retentionDays`. */
  async setAppRetention(retentionDays: number): Promise<void> {
    await this.call('PUT', '/retention', { api: 'x', body: { retentionDays } });
  }

  async clearAppRetention(): Promise<void> {
    await this.call('DELETE', '/retention', { api: 'x' });
  }

  /** A group's own period, which wins over the app's default. */
  async setGroupRetention(groupId: string, retentionDays: number): Promise<void> {
    await this.call('PUT', `/groups/${seg(groupId)}/retention`, { api: 'x', body: { retentionDays } });
  }

  async clearGroupRetention(groupId: string): Promise<void> {
    await this.call('DELETE', `/groups/${seg(groupId)}/retention`, { api: 'x' });
  }

  // ── persons, clustering, album search (/x/v1, docs/persons.md) ───────────

  async createPerson(groupId: string, fields: PersonFields = {}): Promise<Person> {
    return (await this.call<Person>('POST', `/groups/${seg(groupId)}/persons`, { api: 'x', body: fields })).data;
  }

  async listPersonsPage(groupId: string, page: { limit?: number; nextToken?: string } = {}): Promise<ListPersonsResult> {
    return (await this.call<ListPersonsResult>('GET', `/groups/${seg(groupId)}/persons`, { api: 'x', query: { limit: page.limit, 'next-token': page.nextToken } })).data;
  }

  /** Every person of the group, oldest first, fetching pages as the loop goes. */
  async *listPersons(groupId: string, options: { pageSize?: number } = {}): AsyncIterableIterator<Person> {
    let nextToken: string | undefined;
    do {
      const page = await this.listPersonsPage(groupId, nextToken ? { nextToken } : { limit: options.pageSize ?? 100 });
      yield* page.persons;
      nextToken = page.nextToken || undefined;
    } while (nextToken);
  }

  async getPerson(groupId: string, personId: string): Promise<PersonWithFaces> {
    return (await this.call<PersonWithFaces>('GET', `/groups/${seg(groupId)}/persons/${seg(personId)}`, { api: 'x' })).data;
  }

  /** Fields left out stay; `name: ""` clears the name and `metadata: {}` the metadata. */
  async updatePerson(groupId: string, personId: string, fields: PersonFields): Promise<Person> {
    return (await this.call<Person>('PATCH', `/groups/${seg(groupId)}/persons/${seg(personId)}`, { api: 'x', body: fields })).data;
  }

  /** The person's faces stay in the group unless `deleteFaces`. */
  async deletePerson(groupId: string, personId: string, options: { deleteFaces?: boolean } = {}): Promise<{ deletedFaceCount: number }> {
    return (await this.call<{ deletedFaceCount: number }>('DELETE', `/groups/${seg(groupId)}/persons/${seg(personId)}`, { api: 'x', query: { 'delete-faces': options.deleteFaces ? 'true' : undefined } })).data;
  }

  /** All or none; a face of another person is refused with -40090. */
  async associateFaces(groupId: string, personId: string, faceIds: string[]): Promise<Person> {
    return (await this.call<Person>('POST', `/groups/${seg(groupId)}/persons/${seg(personId)}/associate`, { api: 'x', body: { faceIds } })).data;
  }

  async disassociateFaces(groupId: string, personId: string, faceIds: string[]): Promise<{ disassociatedFaceIds: string[] }> {
    return (await this.call<{ disassociatedFaceIds: string[] }>('POST', `/groups/${seg(groupId)}/persons/${seg(personId)}/disassociate`, { api: 'x', body: { faceIds } })).data;
  }

  /** The largest face of each image becomes a face of one person (a new one unless `personId`). */
  async registerPerson(groupId: string, images: ImageSource[], options: RegisterPersonOptions = {}): Promise<RegisterPersonResult> {
    return (await this.call<RegisterPersonResult>('POST', `/groups/${seg(groupId)}/persons/register`, { api: 'x', body: { images: images.map(imageJson), ...options } })).data;
  }

  async searchPersons(groupId: string, image: ImageSource, options: { threshold: number; limit?: number } & DetailOptions): Promise<SearchPersonsResult> {
    return (await this.call<SearchPersonsResult>('POST', `/groups/${seg(groupId)}/persons/search`, { api: 'x', body: { image: imageJson(image), ...options } })).data;
  }

  async verifyPerson(groupId: string, personId: string, image: ImageSource, options: DetailOptions = {}): Promise<VerifyPersonResult> {
    return (await this.call<VerifyPersonResult>('POST', `/groups/${seg(groupId)}/persons/${seg(personId)}/verify`, { api: 'x', body: { image: imageJson(image), ...options } })).data;
  }

  /** Album search: every photo of a person (by personId) or of whoever a probe image shows. */
  async findPhotos(groupId: string, query: { personId: string } | { image: ImageSource }, options: { threshold?: number; limit?: number } = {}): Promise<FindPhotosResult> {
    const q = 'personId' in query ? { personId: query.personId } : { image: imageJson(query.image) };
    return (await this.call<FindPhotosResult>('POST', `/groups/${seg(groupId)}/photos/search`, { api: 'x', body: { ...q, ...options } })).data;
  }

  /** Starts clustering the group's faces (or the listed ones) in the background. */
  async startClustering(groupId: string, options: { faceIds?: string[]; threshold?: number; attachThreshold?: number } = {}): Promise<ClusterJob> {
    return (await this.call<ClusterJob>('POST', `/groups/${seg(groupId)}/cluster-jobs`, { api: 'x', body: options })).data;
  }

  async getClustering(groupId: string, jobId: string): Promise<ClusterJob> {
    return (await this.call<ClusterJob>('GET', `/groups/${seg(groupId)}/cluster-jobs/${seg(jobId)}`, { api: 'x' })).data;
  }

  /** Polls the job until it succeeded or failed. */
  async waitForClustering(groupId: string, jobId: string, options: { intervalMs?: number; onProgress?: (job: ClusterJob) => void } = {}): Promise<ClusterJob> {
    for (;;) {
      const job = await this.getClustering(groupId, jobId);
      options.onProgress?.(job);
      if (job.state === 'succeeded' || job.state === 'failed') return job;
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 500));
    }
  }

  /** A new person with the faces of one cluster of a finished job. */
  async clusterToPerson(groupId: string, jobId: string, clusterId: string, fields: PersonFields = {}): Promise<Person> {
    return (await this.call<Person>('POST', `/groups/${seg(groupId)}/cluster-jobs/${seg(jobId)}/clusters/${seg(clusterId)}/person`, { api: 'x', body: fields })).data;
  }

  // ── transport ─────────────────────────────────────────────────────────────

  private async call<T = undefined>(
    method: Method,
    path: string,
    request: { api?: Api; query?: Query; body?: object } = {},
  ): Promise<{ header: ResponseHeader; data: T }> {
    const { res, text, url } = await this.send(method, request.api ?? 'v2', path, request);
    const envelope = parseEnvelope(text);
    if (!envelope || !envelope.header.isSuccessful) throw this.failure(res, text, method, url);
    return { header: envelope.header, data: envelope.data as T };
  }

  private async send(method: Method, api: Api, path: string, request: { query?: Query; body?: object }, accept = 'application/json'): Promise<{ res: Response; text: string; url: URL }> {
    const url = new URL(this.roots[api] + path);
    for (const [k, v] of Object.entries(request.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { authorization: this.secretKey, accept };
    if (request.body) headers['content-type'] = 'application/json';
    const res = await this.fetchImpl(url, {
      method,
      headers,
      ...(request.body ? { body: JSON.stringify(request.body) } : {}),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    return { res, text: await res.text(), url };
  }

  /** The error for an answer that is a failure envelope, or no envelope at all. */
  private failure(res: Response, text: string, method: string, url: URL): Error {
    const envelope = parseEnvelope(text);
    if (!envelope) return new FacerecProtocolError(res.status, `${method} ${url.pathname}: HTTP ${res.status}, not an NHN envelope: ${text.slice(0, 200)}`);
    const { header } = envelope;
    const retryAfter = Number(res.headers.get('retry-after'));
    return new FacerecApiError(
      header.resultCode,
      header.resultMessage,
      res.headers.get('x-request-id') ?? undefined,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      header.detail,
    );
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Query = Record<string, string | number | undefined>;

function parseEnvelope(text: string): { header: ResponseHeader; data?: unknown } | undefined {
  try {
    const value = JSON.parse(text) as { header?: Partial<ResponseHeader>; data?: unknown };
    const h = value?.header;
    if (typeof h?.isSuccessful !== 'boolean' || typeof h.resultCode !== 'number') return undefined;
    const detail = typeof h.detail === 'string' && h.detail !== '' ? { detail: h.detail } : {};
    return { header: { isSuccessful: h.isSuccessful, resultCode: h.resultCode, resultMessage: String(h.resultMessage ?? ''), ...detail }, data: value.data };
  } catch {
    return undefined;
  }
}

function imageJson(image: ImageSource): { url: string } | { bytes: string } {
  if (image instanceof Uint8Array) return { bytes: Buffer.from(image.buffer, image.byteOffset, image.byteLength).toString('base64') };
  return { url: image.url };
}

const seg = (s: string) => encodeURIComponent(s);
