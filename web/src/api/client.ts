import type {
  CompareData,
  DetailOptions,
  DetectData,
  Envelope,
  ErasureData,
  FacesData,
  GroupDetails,
  GroupsData,
  NhnHeader,
  Page,
  RegisterData,
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
