/**
 * Downloads a client-supplied image URL (NHN `{ url }` image input) without
 * turning the server into an SSRF proxy into the network it runs in.
 *
 * The address check lives in the connection path: every socket is opened by
 * `guardedConnector`, which validates the exact IP it is about to connect to
 * (literal hosts directly, names via a DNS lookup whose every answer is checked
 * before `net.connect` uses it). There is no separate "check, then connect"
 * step, so DNS rebinding has no window, and redirects go through the same path.
 */
import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector, request, type Dispatcher } from 'undici';
import { classifyAddress, isAddressAllowed } from './address-policy.js';

export interface FetchPolicy {
  /** Largest accepted body in bytes (NHN's image limit); larger → 'too-large'. */
  maxBytes: number;
  /** Budget for the whole download, redirects and a slow body included; → 'timeout'. */
  timeoutMs: number;
  maxRedirects: number;
  /** On-premise opt-in for loopback / private / CGNAT / unique-local targets. Metadata endpoints stay forbidden. */
  allowPrivateAddresses: boolean;
}

export const DEFAULT_FETCH_POLICY: Readonly<FetchPolicy> = Object.freeze({
  maxBytes: 3_000_000,
  timeoutMs: 5000,
  maxRedirects: 3,
  allowPrivateAddresses: false,
});

export type FetchErrorKind =
  | 'invalid-url'
  | 'forbidden-address'
  | 'forbidden-port'
  | 'timeout'
  | 'too-large'
  | 'http-error'
  | 'network';

/**
 * A failed download. Its message is shown to the client (header.detail): the rule that stopped
 * it and how to comply, naming only what the client sent (host, port, scheme). What the server
 * learnt on the way (the addresses a name resolves to, the network's own error text) stays in
 * `cause`, for the log: telling clients what internal names resolve to would map the network.
 */
export class ImageFetchError extends Error {
  override readonly name = 'ImageFetchError';
  constructor(
    readonly kind: FetchErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isImageFetchError = (e: unknown): e is ImageFetchError => e instanceof ImageFetchError;

/** Resolves a host name to all of its addresses. Replaceable so tests can simulate DNS answers. */
export type HostResolver = (hostname: string, options: dns.LookupOptions) => Promise<dns.LookupAddress[]>;

export interface FetchDependencies {
  resolveHost: HostResolver;
}

const systemResolver: HostResolver = (hostname, options) => dns.promises.lookup(hostname, { ...options, all: true });

/** NHN accepts only the default ports and 10000–12000 in image URLs. */
const ALLOWED_PORTS = { single: new Set([80, 443]), rangeStart: 10000, rangeEnd: 12000 };
const ALLOWED_PORTS_IN_WORDS = `${[...ALLOWED_PORTS.single].join(', ')} and ${ALLOWED_PORTS.rangeStart}–${ALLOWED_PORTS.rangeEnd}`;
/** The operator setting that opens private addresses (read in src/config.ts). */
const PRIVATE_URLS_SETTING = 'FACEREC_ALLOW_PRIVATE_URLS=true';
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const REQUEST_HEADERS = {
  accept: 'image/*',
  // Images are already compressed; identity keeps maxBytes a bound on what we hold in memory.
  'accept-encoding': 'identity',
  'user-agent': 'facerec-image-fetch',
};

/**
 * Downloads `url` and returns its body. Throws `ImageFetchError` for every
 * failure; `kind` says which rule or condition stopped it.
 *
 * `dependencies` is a test seam for DNS; production callers pass nothing.
 */
export async function fetchImage(
  url: string,
  policy: Partial<FetchPolicy> = {},
  dependencies: Partial<FetchDependencies> = {},
): Promise<Uint8Array> {
  const effectivePolicy: FetchPolicy = { ...DEFAULT_FETCH_POLICY, ...policy };
  const resolveHost = dependencies.resolveHost ?? systemResolver;
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new ImageFetchError('timeout', `the image download took longer than ${effectivePolicy.timeoutMs} ms`)),
    effectivePolicy.timeoutMs,
  );
  // A private Agent per download: its connections are bound to this call's policy
  // and are torn down afterwards, so nothing is pooled across policies.
  const dispatcher = createGuardedAgent(effectivePolicy, resolveHost);
  let host = '';
  try {
    const firstUrl = parseImageUrl(url);
    host = firstUrl.hostname;
    return await downloadFollowingRedirects(firstUrl, effectivePolicy, dispatcher, deadline.signal);
  } catch (error) {
    throw toImageFetchError(error, deadline.signal, host);
  } finally {
    clearTimeout(timer);
    await dispatcher.destroy().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------
// URL rules (checked on the first URL and on every redirect target)

function parseImageUrl(raw: string, base?: URL): URL {
  // A rule broken by a redirect target is the image server's doing, not the client's: say so.
  const which = base ? 'the image URL redirects to a URL that' : 'the image URL';
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw new ImageFetchError('invalid-url', base ? 'the image URL redirects to an invalid URL' : 'the image URL is not a valid absolute URL (http://… or https://…)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ImageFetchError('invalid-url', `${which} has the scheme ${url.protocol.slice(0, 20)}; only http and https are allowed`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new ImageFetchError('invalid-url', `${which} carries a user name or password; credentials in image URLs are not allowed`);
  }
  if (url.hostname === '') {
    throw new ImageFetchError('invalid-url', `${which} has no host`);
  }
  if (url.port !== '' && !isAllowedPort(Number(url.port))) {
    throw new ImageFetchError('forbidden-port', `${which} has port ${url.port}, which is not allowed; allowed ports are ${ALLOWED_PORTS_IN_WORDS}`);
  }
  // Addresses are deliberately not checked here but at connect time (guardedConnector),
  // the one place that sees the IP actually used. WHATWG parsing has already turned
  // decimal/octal/hex IPv4 forms into dotted quads, so literals arrive canonical.
  return url;
}

/** `url.port` is '' for the scheme's default port, so only explicit ports reach here. */
function isAllowedPort(port: number): boolean {
  return ALLOWED_PORTS.single.has(port) || (port >= ALLOWED_PORTS.rangeStart && port <= ALLOWED_PORTS.rangeEnd);
}

/** The bare IP if `hostname` is an IP literal (tolerating URL-style [brackets] around IPv6), else null. */
function ipLiteralHost(hostname: string): string | null {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) === 0 ? null : bare;
}

// ---------------------------------------------------------------------------
// Connection path: the only place sockets are opened

function createGuardedAgent(policy: FetchPolicy, resolveHost: HostResolver): Agent {
  return new Agent({
    connect: guardedConnector(policy, resolveHost),
    // Backstops only; the deadline signal is what bounds the whole download.
    headersTimeout: policy.timeoutMs,
    bodyTimeout: policy.timeoutMs,
    connections: 1,
  });
}

/**
 * Wraps undici's connector so that no socket is opened to a forbidden address.
 * `net.connect` skips `lookup` for IP literals, so those are checked here; names
 * go through `guardedLookup`, whose answers are the exact addresses connected to.
 * The URL's host name still travels as Host header and TLS servername, because
 * undici derives both from the request origin, not from the connected address.
 */
function guardedConnector(policy: FetchPolicy, resolveHost: HostResolver): buildConnector.connector {
  const connect = buildConnector({
    lookup: guardedLookup(resolveHost, policy.allowPrivateAddresses),
    timeout: policy.timeoutMs,
  });
  return (options, callback) => {
    const literal = ipLiteralHost(options.hostname);
    if (literal !== null && !isAddressAllowed(literal, policy.allowPrivateAddresses)) {
      callback(new ImageFetchError('forbidden-address', refusedAddress(`address ${literal}`, literal, policy.allowPrivateAddresses)), null);
      return;
    }
    connect(options, callback);
  };
}

/**
 * A `net.connect` lookup that refuses a host name if *any* of its addresses is
 * forbidden. Refusing (rather than filtering) also defeats answers that mix a
 * public decoy with an internal target, hoping a fallback connects to the latter.
 */
export function guardedLookup(resolveHost: HostResolver, allowPrivateAddresses: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolveHost(hostname, options).then(
      (addresses) => {
        if (addresses.length === 0) {
          // An empty answer is refused like a forbidden one: there is nothing allowed to connect to.
          callback(new ImageFetchError('forbidden-address', `host ${hostname} does not resolve`), []);
          return;
        }
        const forbidden = addresses.find((entry) => !isAddressAllowed(entry.address, allowPrivateAddresses));
        if (forbidden !== undefined) {
          const cause = new Error(`${hostname} resolves to ${forbidden.address}`);
          callback(new ImageFetchError('forbidden-address', refusedAddress(`host ${hostname}`, forbidden.address, allowPrivateAddresses), { cause }), []);
          return;
        }
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0].address, addresses[0].family);
      },
      (error: NodeJS.ErrnoException) => callback(error, []),
    );
  };
}

/**
 * Why an address is refused, and whether the operator could allow it. For a host name the
 * address itself is not named (see ImageFetchError), only its kind.
 */
function refusedAddress(subject: string, ip: string, allowPrivateAddresses: boolean): string {
  const isName = subject.startsWith('host ');
  if (classifyAddress(ip) === 'internal' && !allowPrivateAddresses) {
    const where = isName ? `${subject} resolves to a private network address` : `${subject} is a private network address`;
    return `${where}, refused by default; set ${PRIVATE_URLS_SETTING} on the server to allow private and loopback addresses (on ports ${ALLOWED_PORTS_IN_WORDS})`;
  }
  const where = isName ? `${subject} resolves to an address that is` : `${subject} is`;
  return `${where} never allowed (link-local, cloud metadata, multicast, broadcast or reserved)`;
}

// ---------------------------------------------------------------------------
// HTTP exchange

async function downloadFollowingRedirects(
  firstUrl: URL,
  policy: FetchPolicy,
  dispatcher: Dispatcher,
  signal: AbortSignal,
): Promise<Uint8Array> {
  let url = firstUrl;
  for (let redirects = 0; ; redirects++) {
    const response = await request(url, { method: 'GET', headers: REQUEST_HEADERS, dispatcher, signal });
    const location = redirectLocation(response);
    if (location === null) return readSuccessfulBody(response, policy.maxBytes);

    discardBody(response.body);
    if (redirects >= policy.maxRedirects) {
      throw new ImageFetchError('http-error', `the image URL redirects more than ${policy.maxRedirects} times`);
    }
    url = parseImageUrl(location, url);
  }
}

function redirectLocation(response: Dispatcher.ResponseData): string | null {
  if (!REDIRECT_STATUSES.has(response.statusCode)) return null;
  const location = response.headers.location;
  return typeof location === 'string' && location !== '' ? location : null;
}

async function readSuccessfulBody(response: Dispatcher.ResponseData, maxBytes: number): Promise<Uint8Array> {
  if (response.statusCode < 200 || response.statusCode > 299) {
    discardBody(response.body);
    throw new ImageFetchError('http-error', `the image server answered HTTP ${response.statusCode}`);
  }
  const declaredLength = Number(response.headers['content-length']);
  if (Number.isFinite(declaredLength) && declaredLength > maxBytes) {
    discardBody(response.body);
    throw tooLarge(maxBytes);
  }
  return readAtMost(response.body, maxBytes);
}

/** Collects the body, abandoning the connection the moment it exceeds `maxBytes`. */
async function readAtMost(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    received += chunk.length;
    // Leaving the loop destroys the stream (and its socket), so nothing more is read.
    if (received > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, received);
}

function tooLarge(maxBytes: number): ImageFetchError {
  return new ImageFetchError('too-large', `the image at the URL is over ${maxBytes} bytes`);
}

/** Drops a body we will not read; its connection is closed with the per-download Agent. */
function discardBody(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

// ---------------------------------------------------------------------------
// Error normalisation

/** Every failure leaves `fetchImage` as an ImageFetchError; the deadline wins over whatever it interrupted. */
function toImageFetchError(error: unknown, deadline: AbortSignal, host: string): ImageFetchError {
  if (error instanceof ImageFetchError) return error;
  if (deadline.aborted) {
    return deadline.reason instanceof ImageFetchError
      ? deadline.reason
      : new ImageFetchError('timeout', 'the image download timed out', { cause: error });
  }
  if (isUndiciTimeout(error)) return new ImageFetchError('timeout', `the image server ${host} did not answer in time`, { cause: error });
  return new ImageFetchError('network', networkFailure(error, host), { cause: error });
}

/** The network's error, told by its code: the text of Node's or undici's message stays in `cause`. */
function networkFailure(error: unknown, host: string): string {
  const e = error as { code?: unknown; hostname?: unknown; cause?: { code?: unknown } } | null;
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : '';
  const name = typeof e?.hostname === 'string' ? e.hostname : host;
  if (['ENOTFOUND', 'EAI_AGAIN', 'EAI_NODATA', 'EAI_NONAME', 'EAI_FAIL'].includes(code)) return `host ${name} does not resolve`;
  if (code === 'ECONNREFUSED') return `host ${name} refused the connection`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `host ${name} cannot be reached`;
  if (['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'].includes(code)) return `the connection to ${name} closed before the image arrived`;
  if (/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)) return `the TLS certificate of ${name} is not trusted (${code})`;
  if (code.startsWith('ERR_SSL') || code === 'EPROTO') return `the TLS handshake with ${name} failed`;
  return `the image download from ${name} failed${/^[A-Z0-9_]{2,40}$/.test(code) ? ` (${code})` : ''}`;
}

function isUndiciTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
  );
}
