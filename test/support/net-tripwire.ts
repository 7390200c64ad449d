// A test-only recorder and safety net for outgoing TCP connections, independent of the code
// under test: it sees every address a socket is about to connect to, and refuses any that is
// not loopback, so a regression in the SSRF guard fails a test instead of sending a packet.
import dns from 'node:dns';
import net from 'node:net';

export interface Tripwire {
  /** Every address a socket tried to connect to (literal, or as resolved by its lookup). */
  readonly attempts: string[];
  /** Attempts that were off this host; the tripwire refused them. Must stay empty. */
  readonly offHost: string[];
  uninstall(): void;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export function installTripwire(): Tripwire {
  const original = net.Socket.prototype.connect;
  const state: Tripwire = { attempts: [], offHost: [], uninstall: () => void (net.Socket.prototype.connect = original) };

  const check = (address: string): Error | undefined => {
    state.attempts.push(address);
    if (LOOPBACK.has(address)) return undefined;
    state.offHost.push(address);
    return new Error(`test tripwire: refused to connect to ${address}`);
  };

  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    // net.connect passes its normalised [options, callback] pair; direct callers pass options or (port, host).
    const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
    const options = typeof first === 'object' && first !== null ? (first as net.TcpNetConnectOpts) : undefined;
    const host = options ? (options.host ?? 'localhost') : typeof args[1] === 'string' ? args[1] : 'localhost';
    if (net.isIP(host) !== 0) {
      const refused = check(host);
      if (refused) throw refused;
    } else if (options) {
      // Names: judge the addresses the lookup hands to the socket, i.e. what it would connect to.
      const lookup = options.lookup ?? (dns.lookup as unknown as net.LookupFunction);
      options.lookup = (hostname, lookupOptions, callback) =>
        lookup(hostname, lookupOptions, (error, address, family) => {
          if (error) return callback(error, address, family);
          const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
          const refused = addresses.map(check).find((e) => e !== undefined);
          return refused ? callback(refused, []) : callback(null, address, family);
        });
    }
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
  return state;
}
