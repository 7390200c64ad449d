// A minimal NHN v2.0 client over real HTTP, for tests that run the server as a child process.

export class NhnV2Client {
  constructor(
    readonly origin: string,
    private readonly appKey: string,
    private readonly secretKey: string,
  ) {}

  /**
   * One call; resolves with the parsed envelope. Rejects when there is no HTTP answer at all
   * (refused or reset connection, time-out): for a write, that outcome is unknown.
   */
  async call(method: string, path: string, body?: object | FormData, timeoutMs = 30_000): Promise<any> {
    const json = body !== undefined && !(body instanceof FormData);
    const res = await fetch(`${this.origin}/v2.0/appkeys/${this.appKey}${path}`, {
      method,
      headers: { authorization: this.secretKey, ...(json ? { 'content-type': 'application/json' } : {}) },
      ...(body === undefined ? {} : { body: json ? JSON.stringify(body) : (body as FormData) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return res.json();
  }

  /** Every face of a group, following nextToken. */
  async listAllFaces(groupId: string): Promise<{ faceId: string; externalImageId?: string }[]> {
    const faces: { faceId: string; externalImageId?: string }[] = [];
    let path = `/groups/${groupId}/faces?limit=200`;
    for (;;) {
      const r = await this.call('GET', path);
      if (r.header.resultCode !== 0) throw new Error(`list faces of ${groupId}: ${JSON.stringify(r.header)}`);
      faces.push(...r.data.faces);
      if (!r.data.nextToken) return faces;
      path = `/groups/${groupId}/faces?next-token=${encodeURIComponent(r.data.nextToken)}`;
    }
  }

  async listAllGroups(): Promise<string[]> {
    const groups: string[] = [];
    let path = '/groups?limit=200';
    for (;;) {
      const r = await this.call('GET', path);
      if (r.header.resultCode !== 0) throw new Error(`list groups: ${JSON.stringify(r.header)}`);
      groups.push(...r.data.groups.map((g: { groupId: string }) => g.groupId));
      if (!r.data.nextToken) return groups;
      path = `/groups?next-token=${encodeURIComponent(r.data.nextToken)}`;
    }
  }
}

/** A v2 register body: JSON with base64, or multipart with a file part. */
export function registerBody(image: Uint8Array, fields: { limit: number; externalImageId: string }, multipart: boolean): object | FormData {
  if (!multipart) return { image: { bytes: Buffer.from(image).toString('base64') }, ...fields };
  const form = new FormData();
  form.set('limit', String(fields.limit));
  form.set('externalImageId', fields.externalImageId);
  form.set('imageFile', new Blob([image.slice()], { type: 'image/jpeg' }), 'face.jpg');
  return form;
}

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
