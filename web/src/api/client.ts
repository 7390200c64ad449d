import type {
  ClusterJob,
  CompareData,
  DetailOptions,
  DetectData,
  Envelope,
  ErasureData,
  FacesData,
  GroupDetails,
  GroupsData,
  ListPersonsResult,
  NhnHeader,
  Page,
  Person,
  PersonFields,
  PersonWithFaces,
  PhotosData,
  RegisterData,
  RegisterPersonData,
  SearchData,
  StoredFace,
  SubjectData,
  VerifyData,
} from './types';

/** What the user types into the keys form; the console never sees any other credential. */
export interface Keys {
  appKey: string;
  secretKey: string;
}

/** A failed call: an NHN envelope with isSuccessful=false, or an answer that is no envelope at all. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly httpStatus: number,
    /** NHN result code and name when the server answered with an envelope. */
    readonly header?: NhnHeader,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Query = Record<string, string | number | undefined>;

/** The lowest threshold the API accepts: with it compare returns every face's similarity as "matched". */
export const MIN_THRESHOLD = 1;

/**
 * The public v2.0 API of the server that serves this page (same origin), authenticated with
 * `Authorization: {secretKey}`. Images go as multipart `imageFile` parts, never re-encoded.
 */
export class FaceApi {
  constructor(private readonly keys: Keys) {}

  // ── groups ──────────────────────────────────────────────────────────────

  async listGroups(limit: number, nextToken?: string): Promise<Page<string>> {
    const d = await this.call<GroupsData>('GET', '/groups', { limit, 'next-token': nextToken });
    return { items: d.groups.map((g) => g.groupId), nextToken: d.nextToken };
  }

  getGroup(groupId: string): Promise<GroupDetails> {
    return this.call('GET', `/groups/${encodeURIComponent(groupId)}`);
  }

  async createGroup(groupId: string): Promise<void> {
    await this.call('POST', '/groups', undefined, { groupId });
  }

  async deleteGroup(groupId: string): Promise<void> {
    await this.call('DELETE', `/groups/${encodeURIComponent(groupId)}`);
  }

  // ── faces in a group ────────────────────────────────────────────────────

  register(groupId: string, image: Blob, limit: number, externalImageId: string, options: DetailOptions): Promise<RegisterData> {
    const form = imageForm({ imageFile: image }, { limit, externalImageId: externalImageId || undefined, ...optionFields(options) });
    return this.call('POST', `/groups/${encodeURIComponent(groupId)}/faces`, undefined, form);
  }

  async listFaces(groupId: string, limit: number, nextToken?: string): Promise<Page<StoredFace>> {
    const d = await this.call<FacesData>('GET', `/groups/${encodeURIComponent(groupId)}/faces`, { limit, 'next-token': nextToken });
    return { items: d.faces, nextToken: d.nextToken };
  }

  /** One stored face by id (the list with its face-id filter); null when the group has no such face. */
  async getFace(groupId: string, faceId: string): Promise<StoredFace | null> {
    const d = await this.call<FacesData>('GET', `/groups/${encodeURIComponent(groupId)}/faces`, { limit: 1, 'face-id': faceId });
    return d.faces[0] ?? null;
  }

  async deleteFace(groupId: string, faceId: string): Promise<void> {
    await this.call('DELETE', `/groups/${encodeURIComponent(groupId)}/faces/${encodeURIComponent(faceId)}`);
  }

  searchByImage(groupId: string, image: Blob, limit: number, threshold: number, options: DetailOptions): Promise<SearchData> {
    const form = imageForm({ imageFile: image }, { limit, threshold, ...optionFields(options) });
    return this.call('POST', `/groups/${encodeURIComponent(groupId)}/faces/search`, undefined, form);
  }

  searchByFaceId(groupId: string, faceId: string, limit: number, threshold: number): Promise<SearchData> {
    return this.call('GET', `/groups/${encodeURIComponent(groupId)}/faces/${encodeURIComponent(faceId)}/search`, { limit, threshold });
  }

  verify(groupId: string, faceId: string, image: Blob, options: DetailOptions): Promise<VerifyData> {
    const form = imageForm({ imageFile: image }, optionFields(options));
    return this.call('POST', `/groups/${encodeURIComponent(groupId)}/faces/${encodeURIComponent(faceId)}/verify`, undefined, form);
  }

  // ── images only ─────────────────────────────────────────────────────────

  detect(image: Blob, options: DetailOptions): Promise<DetectData> {
    return this.call('POST', '/faces/detect', undefined, imageForm({ imageFile: image }, optionFields(options)));
  }

  compare(source: Blob, target: Blob, threshold: number, options: DetailOptions): Promise<CompareData> {
    const form = imageForm({ sourceImageFile: source, targetImageFile: target }, { threshold, ...optionFields(options) });
    return this.call('POST', '/faces/compare', undefined, form);
  }

  // ── privacy extension (/x/v1: same keys, same envelope) ─────────────────

  /** Every face held for a subject (externalImageId) in every group of the app; never vectors. */
  subject(externalImageId: string): Promise<SubjectData> {
    return this.call('GET', `/subjects/${encodeURIComponent(externalImageId)}`, undefined, undefined, 'x');
  }

  /** The same record as CSV, for a download (a link cannot carry the Authorization header). */
  async subjectCsv(externalImageId: string): Promise<Blob> {
    const url = `${this.root('x')}/subjects/${encodeURIComponent(externalImageId)}/faces.csv`;
    const res = await this.send(url, { method: 'GET', headers: { authorization: this.keys.secretKey }, cache: 'no-store' });
    if (res.ok && /^text\/csv/i.test(res.headers.get('content-type') ?? '')) return res.blob();
    const envelope = await readEnvelope(res); // a failure is the JSON envelope
    throw new ApiError(envelope.header.resultMessage, res.status, envelope.header);
  }

  /** Deletes every face of the subject in every group of the app. */
  eraseSubject(externalImageId: string): Promise<ErasureData> {
    return this.call('DELETE', `/subjects/${encodeURIComponent(externalImageId)}`, undefined, undefined, 'x');
  }

  // ── persons, clustering, album search (/x/v1, docs/persons.md) ──────────

  async listPersons(groupId: string, limit: number, nextToken?: string): Promise<Page<Person>> {
    const d = await this.call<ListPersonsResult>('GET', `${personsPath(groupId)}`, { limit, 'next-token': nextToken }, undefined, 'x');
    return { items: d.persons, nextToken: d.nextToken || undefined };
  }

  getPerson(groupId: string, personId: string): Promise<PersonWithFaces> {
    return this.call('GET', `${personsPath(groupId)}/${encodeURIComponent(personId)}`, undefined, undefined, 'x');
  }

  createPerson(groupId: string, fields: PersonFields): Promise<Person> {
    return this.call('POST', personsPath(groupId), undefined, fields, 'x');
  }

  /** Absent fields stay; `name: ""` clears the name. */
  updatePerson(groupId: string, personId: string, fields: PersonFields): Promise<Person> {
    return this.call('PATCH', `${personsPath(groupId)}/${encodeURIComponent(personId)}`, undefined, fields, 'x');
  }

  deletePerson(groupId: string, personId: string, deleteFaces: boolean): Promise<{ deletedFaceCount: number }> {
    return this.call('DELETE', `${personsPath(groupId)}/${encodeURIComponent(personId)}`, { 'delete-faces': deleteFaces ? 'true' : undefined }, undefined, 'x');
  }

  /** All or none: one face of another person refuses the call (-40090). */
  associate(groupId: string, personId: string, faceIds: string[]): Promise<Person> {
    return this.call('POST', `${personsPath(groupId)}/${encodeURIComponent(personId)}/associate`, undefined, { faceIds }, 'x');
  }

  disassociate(groupId: string, personId: string, faceIds: string[]): Promise<{ disassociatedFaceIds: string[] }> {
    return this.call('POST', `${personsPath(groupId)}/${encodeURIComponent(personId)}/disassociate`, undefined, { faceIds }, 'x');
  }

  /** The largest face of each image (at most 10) becomes a face of one new person. JSON only: images go as base64. */
  async registerPerson(groupId: string, images: Blob[], fields: PersonFields & { externalImageId?: string }): Promise<RegisterPersonData> {
    const encoded = await Promise.all(images.map(async (im) => ({ bytes: await base64Of(im) })));
    return this.call('POST', `${personsPath(groupId)}/register`, undefined, { ...fields, images: encoded }, 'x');
  }

  /** Album search: every photo of a person, by personId or by the largest face of a probe image. */
  findPhotos(groupId: string, query: { personId: string } | { image: Blob }, threshold: number, limit: number): Promise<PhotosData> {
    const path = `/groups/${encodeURIComponent(groupId)}/photos/search`;
    const body = 'personId' in query ? { personId: query.personId, threshold, limit } : imageForm({ imageFile: query.image }, { threshold, limit });
    return this.call('POST', path, undefined, body, 'x');
  }

  startClustering(groupId: string, threshold: number, attachThreshold: number): Promise<ClusterJob> {
    return this.call('POST', `/groups/${encodeURIComponent(groupId)}/cluster-jobs`, undefined, { threshold, attachThreshold }, 'x');
  }

  getClusterJob(groupId: string, jobId: string): Promise<ClusterJob> {
    return this.call('GET', `/groups/${encodeURIComponent(groupId)}/cluster-jobs/${encodeURIComponent(jobId)}`, undefined, undefined, 'x');
  }

  clusterToPerson(groupId: string, jobId: string, clusterId: string, fields: PersonFields): Promise<Person> {
    const path = `/groups/${encodeURIComponent(groupId)}/cluster-jobs/${encodeURIComponent(jobId)}/clusters/${encodeURIComponent(clusterId)}/person`;
    return this.call('POST', path, undefined, fields, 'x');
  }

  // ── transport ───────────────────────────────────────────────────────────

  private root(api: 'v2' | 'x'): string {
    return `${api === 'x' ? '/x/v1' : '/v2.0'}/appkeys/${encodeURIComponent(this.keys.appKey)}`;
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (err) {
      throw new ApiError(`the server did not answer (${(err as Error).message})`, 0);
    }
  }

  private async call<T>(method: string, path: string, query?: Query, body?: FormData | object, api: 'v2' | 'x' = 'v2'): Promise<T> {
    const url = `${this.root(api)}${path}${queryString(query)}`;
    const headers: Record<string, string> = { authorization: this.keys.secretKey };
    let payload: BodyInit | undefined;
    if (body instanceof FormData) {
      payload = body; // the browser sets the multipart boundary
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const res = await this.send(url, { method, headers, body: payload, cache: 'no-store' });
    const envelope = await readEnvelope<T>(res);
    if (!envelope.header.isSuccessful) {
      throw new ApiError(envelope.header.resultMessage, res.status, envelope.header);
    }
    return envelope.data as T;
  }
}

async function readEnvelope<T>(res: Response): Promise<Envelope<T>> {
  const text = await res.text();
  try {
    const parsed = JSON.parse(text) as Envelope<T>;
    if (parsed && typeof parsed.header?.isSuccessful === 'boolean') return parsed;
  } catch {
    // not JSON: fall through to the generic error below
  }
  throw new ApiError(`unexpected answer (HTTP ${res.status}): ${text.slice(0, 200)}`, res.status);
}

const personsPath = (groupId: string) => `/groups/${encodeURIComponent(groupId)}/persons`;

/** A file's bytes as base64 (the JSON register of a person takes no multipart). */
async function base64Of(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

function imageForm(files: Record<string, Blob>, fields: Query): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) form.set(k, String(v));
  for (const [k, blob] of Object.entries(files)) form.set(k, blob, blob instanceof File ? blob.name : 'image');
  return form;
}

function optionFields(options: DetailOptions): Query {
  return {
    spoofing: options.spoofing ? 'true' : undefined,
    spoofingCondition: options.spoofing ? options.spoofingCondition : undefined,
  };
}
