/**
 * SSRF guard tests for the image downloader.
 *
 * All traffic goes to test servers on 127.0.0.1 / ::1. Forbidden targets such as
 * 169.254.169.254 are only ever named in URLs that must be refused before any
 * socket is opened; mixed DNS answers that contain non-loopback addresses are
 * tested against `guardedLookup` alone, which never connects. Should the guard
 * ever regress, the off-host tripwire below makes the test fail instead of
 * letting a packet leave this machine.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { fetchImage, guardedLookup, ImageFetchError, type FetchErrorKind, type HostResolver } from '../src/net/image-fetch.js';
import { classifyAddress, isAddressAllowed, type AddressClass } from '../src/net/address-policy.js';

const IMAGE_BYTES = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 0xff, 0xd9]);
const LOCAL = { allowPrivateAddresses: true } as const;

// ---------------------------------------------------------------------------
// Off-host tripwire: a test-only safety net, independent of the code under test

/** Connection targets that something tried to reach off this host; must stay empty. */
const offHostAttempts: string[] = [];
const originalSocketConnect = net.Socket.prototype.connect;

function isLoopbackAddress(address: string): boolean {
  return net.isIP(address) !== 0 && ipaddr.process(address).range() === 'loopback';
}

/** Host names the tests may connect to: `localhost`, and `.test` names answered by stub resolvers. */
function isLoopbackTarget(host: string | undefined): boolean {
  if (host === undefined || host === 'localhost' || host.endsWith('.test')) return true;
  return isLoopbackAddress(host);
}

/** Wraps a `net.connect` lookup so that a resolved off-host address fails the connect. */
function loopbackOnlyLookup(lookup: net.LookupFunction): net.LookupFunction {
  return (hostname, options, callback) =>
    lookup(hostname, options, (error, address, family) => {
      const resolved = Array.isArray(address) ? address.map((entry) => entry.address) : [address];
      const offHost = error ? undefined : resolved.find((entry) => !isLoopbackAddress(entry));
      if (offHost === undefined) return callback(error, address, family);
      offHostAttempts.push(`${hostname} -> ${offHost}`);
      callback(new Error(`test tripwire: refused to connect to ${offHost}`), []);
    });
}

/**
 * Patches `net.Socket#connect` (also used by TLS sockets) so that any attempt to
 * reach a non-loopback address throws before the socket is opened.
 */
function installOffHostTripwire(): void {
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    // net.connect passes its normalised [options, callback] array; direct callers pass options or (port, host).
    const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
    const options = typeof first === 'object' && first !== null ? (first as net.TcpNetConnectOpts) : undefined;
    const host = options ? options.host : typeof args[1] === 'string' ? args[1] : undefined;
    if (!isLoopbackTarget(host)) {
      offHostAttempts.push(String(host));
      throw new Error(`test tripwire: refused to connect to ${host}`);
    }
    if (options?.lookup) options.lookup = loopbackOnlyLookup(options.lookup);
    return (originalSocketConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
}

installOffHostTripwire();
after(() => {
  net.Socket.prototype.connect = originalSocketConnect;
  assert.deepEqual(offHostAttempts, [], 'no connection may ever target an address off this host');
});

// ---------------------------------------------------------------------------
// Test server

interface TestServer {
  origin: string;
  port: number;
  /** TCP connections accepted: proves "not a single packet" better than a request count. */
  connections: number;
  requests: number;
  lastHostHeader: string | undefined;
  /** Bytes the /endless route managed to write before the client hung up. */
  endlessBytesWritten: number;
  endlessClosed: Promise<void>;
  close(): Promise<void>;
}

function route(server: TestServer, req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://test');
  switch (url.pathname) {
    case '/image':
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(IMAGE_BYTES);
      return;
    case '/missing':
      res.writeHead(404).end('not found');
      return;
    case '/redirect':
      res.writeHead(302, { location: url.searchParams.get('to') ?? '' }).end();
      return;
    case '/endless':
      streamForever(server, res);
      return;
    case '/declares-huge':
      res.writeHead(200, { 'content-length': String(50_000_000) });
      res.write(IMAGE_BYTES); // then stall: the client must not wait for the rest
      return;
    case '/dribble':
      dribble(res, 100);
      return;
    case '/silent':
      return; // never answers
    default: {
      const hops = /^\/hops\/(\d+)$/.exec(url.pathname);
      if (hops !== null) {
        const remaining = Number(hops[1]);
        res.writeHead(302, { location: remaining > 1 ? `/hops/${remaining - 1}` : '/image' }).end();
        return;
      }
      res.writeHead(500).end();
    }
  }
}

function streamForever(server: TestServer, res: http.ServerResponse): void {
  const chunk = Buffer.alloc(64 * 1024, 0xab);
  res.writeHead(200, { 'content-type': 'image/jpeg' });
  const pump = (): void => {
    while (!res.destroyed && res.write(chunk)) server.endlessBytesWritten += chunk.length;
  };
  res.on('drain', pump);
  pump();
}

function dribble(res: http.ServerResponse, intervalMs: number): void {
  res.writeHead(200, { 'content-type': 'image/jpeg' });
  const timer = setInterval(() => res.write(Buffer.from([0])), intervalMs);
  res.on('close', () => clearInterval(timer));
}

async function startTestServer(host: string): Promise<TestServer> {
  let resolveEndlessClosed!: () => void;
  const state: TestServer = {
    origin: '',
    port: 0,
    connections: 0,
    requests: 0,
    lastHostHeader: undefined,
    endlessBytesWritten: 0,
    endlessClosed: new Promise((resolve) => (resolveEndlessClosed = resolve)),
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    state.requests++;
    state.lastHostHeader = req.headers.host;
    if (req.url === '/endless') res.on('close', resolveEndlessClosed);
    route(state, req, res);
  });
  server.on('connection', () => state.connections++);
  state.port = await listenOnNhnPort(server, host);
  state.origin = `http://${host.includes(':') ? `[${host}]` : host}:${state.port}`;
  state.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** NHN only allows ports 10000–12000 besides 80/443, so test servers must live there. */
async function listenOnNhnPort(server: net.Server, host: string): Promise<number> {
  for (let attempt = 0; attempt < 25; attempt++) {
    const port = 10000 + Math.floor(Math.random() * 2001);
    if (await tryListen(server, port, host)) return port;
  }
  throw new Error('no free port in 10000–12000');
}

function tryListen(server: net.Server, port: number, host: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') resolve(false);
      else reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError).once('listening', onListening).listen(port, host);
  });
}

async function canListenOnIPv6Loopback(): Promise<boolean> {
  const probe = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '::1', resolve));
    return true;
  } catch {
    return false;
  } finally {
    probe.close();
  }
}

// ---------------------------------------------------------------------------
// Assertions

async function expectFetchError(promise: Promise<unknown>, kind: FetchErrorKind): Promise<ImageFetchError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ImageFetchError, `expected ImageFetchError, got ${String(error)}`);
    assert.equal(error.kind, kind, `expected '${kind}', got '${error.kind}': ${error.message}`);
    return error;
  }
  assert.fail(`expected '${kind}', but the download succeeded`);
}

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = performance.now();
  const result = await work();
  return { result, ms: performance.now() - start };
}

/** A resolver that answers only from `table`, so tests never depend on real DNS. */
function stubResolver(table: Record<string, string[]>): HostResolver {
  return async (hostname) => {
    const addresses = table[hostname];
    if (addresses === undefined) throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address): LookupAddress => ({ address, family: net.isIP(address) }));
  };
}

function lookupOnce(
  resolver: HostResolver,
  allowPrivateAddresses: boolean,
  hostname: string,
): Promise<LookupAddress[]> {
  const lookup = guardedLookup(resolver, allowPrivateAddresses);
  return new Promise((resolve, reject) =>
    lookup(hostname, { all: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses as LookupAddress[]),
    ),
  );
}

// ---------------------------------------------------------------------------

describe('address policy', () => {
  const cases: Array<[string, AddressClass]> = [
    ['93.184.216.34', 'public'],
    ['2606:4700::1111', 'public'],
    ['127.0.0.1', 'internal'],
    ['127.255.0.9', 'internal'],
    ['10.1.2.3', 'internal'],
    ['172.16.0.1', 'internal'],
    ['172.31.255.255', 'internal'],
    ['192.168.1.1', 'internal'],
    ['100.64.0.1', 'internal'],
    ['::1', 'internal'],
    ['fd12:3456::1', 'internal'],
    ['169.254.169.254', 'never'],
    ['169.254.170.2', 'never'],
    ['fe80::1', 'never'],
    ['fd00:ec2::254', 'never'],
    ['100.100.100.200', 'never'],
    ['0.0.0.0', 'never'],
    ['0.1.2.3', 'never'],
    ['::', 'never'],
    ['224.0.0.1', 'never'],
    ['ff02::1', 'never'],
    ['255.255.255.255', 'never'],
    ['240.0.0.1', 'never'],
    ['192.0.2.1', 'never'],
    ['2001:db8::1', 'never'],
    ['fec0::1', 'never'],
    ['::7f00:1', 'never'], // deprecated IPv4-compatible form, outside 2000::/3
    ['::ffff:127.0.0.1', 'internal'],
    ['::ffff:169.254.169.254', 'never'],
    ['::ffff:93.184.216.34', 'public'],
    ['::ffff:0:127.0.0.1', 'internal'],
    ['64:ff9b::7f00:1', 'internal'],
    ['64:ff9b::a9fe:a9fe', 'never'],
    ['64:ff9b::5db8:d822', 'public'],
    ['64:ff9b:1::1', 'never'], // local-use NAT64: layout unknown, fail closed
    ['2002:7f00:1::1', 'internal'],
    ['2002:a9fe:a9fe::1', 'never'],
    ['2002:5db8:d822::1', 'public'],
    ['2001:0:5db8:d822:0:0:f7f7:f7f7', 'public'], // Teredo: server 93.184.216.34, client 8.8.8.8
    ['2001:0:a9fe:a9fe:0:0:f7f7:f7f7', 'never'], // Teredo server 169.254.169.254
    ['2001:0:5db8:d822:0:0:80ff:fffe', 'internal'], // Teredo client 127.0.0.1
    ['not-an-ip', 'never'],
  ];
  for (const [address, expected] of cases) {
    it(`${address} is ${expected}`, () => assert.equal(classifyAddress(address), expected));
  }

  it('allowPrivateAddresses opens internal ranges but never metadata or unspecified', () => {
    assert.equal(isAddressAllowed('10.0.0.1', false), false);
    assert.equal(isAddressAllowed('10.0.0.1', true), true);
    for (const address of ['169.254.169.254', 'fd00:ec2::254', '0.0.0.0', '::']) {
      assert.equal(isAddressAllowed(address, true), false, address);
    }
  });
});

describe('guardedLookup (DNS answers, no connection)', () => {
  const resolver = stubResolver({
    'public.test': ['93.184.216.34', '2606:4700::1111'],
    'mixed.test': ['93.184.216.34', '127.0.0.1'],
    'metadata.test': ['169.254.169.254'],
    'empty.test': [],
  });

  it('passes through an all-public answer', async () => {
    const addresses = await lookupOnce(resolver, false, 'public.test');
    assert.deepEqual(
      addresses.map((entry) => entry.address),
      ['93.184.216.34', '2606:4700::1111'],
    );
  });

  it('refuses the whole name if any answer is forbidden (public decoy + loopback)', async () => {
    await expectFetchError(lookupOnce(resolver, false, 'mixed.test'), 'forbidden-address');
  });

  it('refuses metadata even with allowPrivateAddresses', async () => {
    await expectFetchError(lookupOnce(resolver, true, 'metadata.test'), 'forbidden-address');
  });

  it('refuses an empty answer', async () => {
    await expectFetchError(lookupOnce(resolver, false, 'empty.test'), 'forbidden-address');
  });

  it('answers in single-address form when net asks without all:true', async () => {
    const lookup = guardedLookup(resolver, false);
    const [address, family] = await new Promise<[unknown, unknown]>((resolve, reject) =>
      lookup('public.test', {}, (error, address, family) => (error ? reject(error) : resolve([address, family]))),
    );
    assert.equal(address, '93.184.216.34');
    assert.equal(family, 4);
  });
});

describe('fetchImage', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer('127.0.0.1');
  });
  after(() => server.close());

  /** Runs a download that must be refused and proves the server never saw a connection. */
  async function expectRefusedWithoutContact(
    url: string,
    kind: FetchErrorKind,
    policy: Parameters<typeof fetchImage>[1] = {},
    dependencies: Parameters<typeof fetchImage>[2] = {},
  ): Promise<void> {
    const connectionsBefore = server.connections;
    const { ms } = await timed(() => expectFetchError(fetchImage(url, policy, dependencies), kind));
    assert.equal(server.connections, connectionsBefore, `${url} must not reach the server`);
    assert.ok(ms < 1000, `${url} took ${ms.toFixed(0)} ms; a refusal must not wait on the network`);
  }

  describe('with allowPrivateAddresses (on-premise)', () => {
    it('downloads an image from a port in 10000–12000', async () => {
      const body = await fetchImage(`${server.origin}/image`, LOCAL);
      assert.deepEqual(Buffer.from(body), IMAGE_BYTES);
    });

    it('connects to the checked IP while keeping the URL host as Host header', async () => {
      const dependencies = { resolveHost: stubResolver({ 'images.internal.test': ['127.0.0.1'] }) };
      const body = await fetchImage(`http://images.internal.test:${server.port}/image`, LOCAL, dependencies);
      assert.deepEqual(Buffer.from(body), IMAGE_BYTES);
      assert.equal(server.lastHostHeader, `images.internal.test:${server.port}`);
    });

    it('follows relative redirects up to maxRedirects', async () => {
      const body = await fetchImage(`${server.origin}/hops/3`, { ...LOCAL, maxRedirects: 3 });
      assert.deepEqual(Buffer.from(body), IMAGE_BYTES);
    });

    it('gives up after maxRedirects', async () => {
      await expectFetchError(fetchImage(`${server.origin}/hops/4`, { ...LOCAL, maxRedirects: 3 }), 'http-error');
    });

    it('refuses a 404 as http-error', async () => {
      await expectFetchError(fetchImage(`${server.origin}/missing`, LOCAL), 'http-error');
    });

    it('still refuses the metadata address', async () => {
      await expectRefusedWithoutContact('http://169.254.169.254/latest/meta-data', 'forbidden-address', LOCAL);
    });

    it('refuses 0.0.0.0, which Linux would route to this host', async () => {
      await expectRefusedWithoutContact(`http://0.0.0.0:${server.port}/image`, 'forbidden-address', LOCAL);
    });
  });

  describe('default policy refuses this host in every spelling, before connecting', () => {
    const spellings = (port: number): string[] => [
      `http://127.0.0.1:${port}/image`,
      `http://localhost:${port}/image`,
      `http://2130706433:${port}/image`, // decimal
      `http://0x7f000001:${port}/image`, // hex
      `http://0177.0.0.1:${port}/image`, // octal
      `http://127.1:${port}/image`, // short form
      `http://[::ffff:127.0.0.1]:${port}/image`, // IPv4-mapped IPv6
      `http://[64:ff9b::7f00:1]:${port}/image`, // NAT64 of 127.0.0.1
    ];
    it('refuses every spelling as forbidden-address; a fresh server sees zero connections', async () => {
      const untouched = await startTestServer('127.0.0.1');
      try {
        for (const url of spellings(untouched.port)) {
          await expectFetchError(fetchImage(url), 'forbidden-address');
        }
        assert.equal(untouched.connections, 0);
        assert.equal(untouched.requests, 0);
      } finally {
        await untouched.close();
      }
    });

    it('refuses a name whose DNS answer is loopback (connect-time check)', async () => {
      const dependencies = { resolveHost: stubResolver({ 'rebind.test': ['127.0.0.1'] }) };
      await expectRefusedWithoutContact(`http://rebind.test:${server.port}/image`, 'forbidden-address', {}, dependencies);
    });

    it('refuses the metadata address', async () => {
      await expectRefusedWithoutContact('http://169.254.169.254/latest/meta-data', 'forbidden-address');
    });
  });

  describe('IPv6 loopback', () => {
    let v6: TestServer | undefined;
    before(async () => {
      if (await canListenOnIPv6Loopback()) v6 = await startTestServer('::1');
    });
    after(() => v6?.close());

    it('refuses [::1] by default and serves it with allowPrivateAddresses', async (t) => {
      if (v6 === undefined) return t.skip('::1 not available');
      await expectFetchError(fetchImage(`${v6.origin}/image`), 'forbidden-address');
      assert.equal(v6.connections, 0);
      assert.deepEqual(Buffer.from(await fetchImage(`${v6.origin}/image`, LOCAL)), IMAGE_BYTES);
    });
  });

  describe('redirect targets are re-validated', () => {
    const redirectTo = (target: string): string => `${server.origin}/redirect?to=${encodeURIComponent(target)}`;

    it('refuses a redirect to the metadata address', async () => {
      await expectFetchError(fetchImage(redirectTo('http://169.254.169.254/latest/meta-data'), LOCAL), 'forbidden-address');
    });

    it('refuses a redirect to an IPv4-mapped metadata address', async () => {
      await expectFetchError(fetchImage(redirectTo('http://[::ffff:169.254.169.254]/'), LOCAL), 'forbidden-address');
    });

    it('refuses a redirect to a forbidden port', async () => {
      const before = server.connections;
      await expectFetchError(fetchImage(redirectTo('http://127.0.0.1:8080/'), LOCAL), 'forbidden-port');
      assert.equal(server.connections, before + 1, 'only the redirecting request connects');
    });

    it('refuses a redirect to another scheme or to credentials', async () => {
      await expectFetchError(fetchImage(redirectTo('file:///etc/passwd'), LOCAL), 'invalid-url');
      await expectFetchError(fetchImage(redirectTo(`http://u:p@127.0.0.1:${server.port}/image`), LOCAL), 'invalid-url');
    });
  });

  describe('URL rules', () => {
    it('accepts only http and https', async () => {
      for (const url of ['ftp://127.0.0.1/x.jpg', 'file:///etc/passwd', 'data:image/png;base64,AAAA', 'gopher://x/', 'not a url']) {
        await expectRefusedWithoutContact(url, 'invalid-url', LOCAL);
      }
    });

    it('refuses credentials in the URL', async () => {
      await expectRefusedWithoutContact(`http://user:pass@127.0.0.1:${server.port}/image`, 'invalid-url', LOCAL);
    });

    it('allows only ports 80, 443 and 10000–12000', async () => {
      // A forbidden host tells "port accepted" (forbidden-address) from "port refused" without any traffic.
      const host = 'http://169.254.169.254';
      for (const port of [80, 443, 10000, 10500, 12000]) {
        await expectRefusedWithoutContact(`${host}:${port}/`, 'forbidden-address', LOCAL);
      }
      await expectRefusedWithoutContact(`https://169.254.169.254:80/`, 'forbidden-address', LOCAL);
      for (const port of [8080, 22, 9999, 12001, 65535]) {
        await expectRefusedWithoutContact(`${host}:${port}/`, 'forbidden-port', LOCAL);
      }
      await expectRefusedWithoutContact(`http://127.0.0.1:8080/image`, 'forbidden-port', LOCAL);
    });
  });

  describe('size and time limits', () => {
    it('stops an endless body at maxBytes', async () => {
      const maxBytes = 200_000;
      await expectFetchError(fetchImage(`${server.origin}/endless`, { ...LOCAL, maxBytes }), 'too-large');
      // The client must hang up rather than drain the stream.
      await server.endlessClosed;
      assert.ok(server.endlessBytesWritten < 20_000_000, `server wrote ${server.endlessBytesWritten} bytes`);
    });

    it('refuses early when Content-Length exceeds maxBytes', async () => {
      const { ms } = await timed(() =>
        expectFetchError(fetchImage(`${server.origin}/declares-huge`, { ...LOCAL, timeoutMs: 3000 }), 'too-large'),
      );
      assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
    });

    it('accepts a body of exactly maxBytes', async () => {
      const body = await fetchImage(`${server.origin}/image`, { ...LOCAL, maxBytes: IMAGE_BYTES.length });
      assert.equal(body.length, IMAGE_BYTES.length);
    });

    it('times out a body that dribbles 1 byte per 100 ms', async () => {
      const timeoutMs = 600;
      const { ms } = await timed(() =>
        expectFetchError(fetchImage(`${server.origin}/dribble`, { ...LOCAL, timeoutMs }), 'timeout'),
      );
      assert.ok(ms >= timeoutMs - 50 && ms < timeoutMs + 500, `took ${ms.toFixed(0)} ms`);
    });

    it('times out a server that never answers', async () => {
      const timeoutMs = 400;
      const { ms } = await timed(() =>
        expectFetchError(fetchImage(`${server.origin}/silent`, { ...LOCAL, timeoutMs }), 'timeout'),
      );
      assert.ok(ms < timeoutMs + 500, `took ${ms.toFixed(0)} ms`);
    });

    it('sends accept-encoding: identity', async () => {
      let seen: string | undefined;
      const probe = http.createServer((req, res) => {
        seen = req.headers['accept-encoding'];
        res.end(IMAGE_BYTES);
      });
      const port = await listenOnNhnPort(probe, '127.0.0.1');
      try {
        await fetchImage(`http://127.0.0.1:${port}/`, LOCAL);
        assert.equal(seen, 'identity');
      } finally {
        probe.closeAllConnections();
        probe.close();
      }
    });
  });

  describe('https', () => {
    it('sends the URL host name as TLS servername while connecting to the checked IP', async () => {
      // A bare TCP listener: the ClientHello (with SNI in clear text) is all we need to see.
      let clientHello = Buffer.alloc(0);
      const tcp = net.createServer((socket) =>
        socket.once('data', (data) => {
          clientHello = data;
          socket.destroy();
        }),
      );
      const port = await listenOnNhnPort(tcp, '127.0.0.1');
      try {
        const dependencies = { resolveHost: stubResolver({ 'secure.internal.test': ['127.0.0.1'] }) };
        await expectFetchError(fetchImage(`https://secure.internal.test:${port}/`, LOCAL, dependencies), 'network');
        assert.ok(clientHello.includes('secure.internal.test'), 'SNI should carry the URL host name');
      } finally {
        tcp.close();
      }
    });
  });
});
