/**
 * Which IP addresses the image downloader may connect to.
 *
 * The policy is an allow-list: an address is reachable only if it is positively
 * recognised as public unicast (or, with the operator's on-premise flag, as an
 * internal network address). Anything unknown, odd or reserved is refused, so a
 * range that ipaddr.js learns about later can only make us stricter, never looser.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;
type IPAddress = IPv4 | IPv6;

/**
 * - `public`: reachable under the default policy.
 * - `internal`: loopback / private networks; reachable only with `allowPrivateAddresses`.
 * - `never`: refused even with `allowPrivateAddresses` (metadata services, link-local,
 *   unspecified, multicast, broadcast, reserved and anything unrecognised).
 */
export type AddressClass = 'public' | 'internal' | 'never';

/** ipaddr.js range names that an on-premise deployment may legitimately serve images from. */
const INTERNAL_IPV4_RANGES: ReadonlySet<string> = new Set(['loopback', 'private', 'carrierGradeNat']);
const INTERNAL_IPV6_RANGES: ReadonlySet<string> = new Set(['loopback', 'uniqueLocal']);

/**
 * Cloud instance-metadata endpoints that hand out credentials. Link-local ones
 * (169.254.169.254, 169.254.170.2, ...) are already `never` by range; these are
 * the ones that sit inside ranges the on-premise flag would otherwise open up.
 */
const METADATA_ENDPOINTS: readonly IPAddress[] = [
  ipaddr.parse('fd00:ec2::254'), // AWS IMDS over IPv6 (inside fc00::/7)
  ipaddr.parse('100.100.100.200'), // Alibaba Cloud metadata (inside 100.64/10)
];

/** Only the IANA global-unicast block counts as public IPv6; ipaddr.js calls everything unlisted "unicast". */
const IPV6_GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');

/** Well-known NAT64 prefix (RFC 6052): the IPv4 destination is the last 32 bits. */
const NAT64_WELL_KNOWN_PREFIX = ipaddr.parseCIDR('64:ff9b::/96');

/** Classifies a canonical IP literal (as produced by `dns.lookup` or WHATWG URL parsing). */
export function classifyAddress(ip: string): AddressClass {
  if (isIP(ip) === 0) return 'never';
  return classifyParsed(ipaddr.parse(ip));
}

/** True if a connection to `ip` is permitted under the given operator setting. */
export function isAddressAllowed(ip: string, allowPrivateAddresses: boolean): boolean {
  const addressClass = classifyAddress(ip);
  return addressClass === 'public' || (addressClass === 'internal' && allowPrivateAddresses);
}

function classifyParsed(address: IPAddress): AddressClass {
  if (isMetadataEndpoint(address)) return 'never';
  return address.kind() === 'ipv4' ? classifyIPv4(address as IPv4) : classifyIPv6(address as IPv6);
}

function isMetadataEndpoint(address: IPAddress): boolean {
  return METADATA_ENDPOINTS.some(
    (endpoint) => endpoint.kind() === address.kind() && endpoint.toNormalizedString() === address.toNormalizedString(),
  );
}

function classifyIPv4(address: IPv4): AddressClass {
  const range = address.range();
  if (range === 'unicast') return 'public';
  if (INTERNAL_IPV4_RANGES.has(range)) return 'internal';
  return 'never';
}

function classifyIPv6(address: IPv6): AddressClass {
  // Translation forms reach an IPv4 host, so judge them by that host: otherwise
  // ::ffff:127.0.0.1 or 64:ff9b::a9fe:a9fe would smuggle a forbidden target past us.
  const embedded = embeddedIPv4Addresses(address);
  if (embedded !== null) return strictestClass(embedded.map(classifyParsed));

  const range = address.range();
  if (range === 'unicast') return address.match(IPV6_GLOBAL_UNICAST) ? 'public' : 'never';
  if (INTERNAL_IPV6_RANGES.has(range)) return 'internal';
  return 'never';
}

/**
 * IPv4 addresses embedded in IPv6 translation/tunnelling forms, or null when the
 * address is not such a form. Forms whose embedding we cannot decode (e.g. the
 * local-use NAT64 prefix 64:ff9b:1::/48, whose layout depends on the operator's
 * prefix length) yield an empty list, which `strictestClass` turns into `never`.
 */
function embeddedIPv4Addresses(address: IPv6): IPv4[] | null {
  const p = address.parts;
  switch (address.range()) {
    case 'ipv4Mapped': // ::ffff:a.b.c.d
    case 'rfc6145': // ::ffff:0:a.b.c.d (SIIT)
      return [ipv4FromWords(p[6], p[7])];
    case 'rfc6052':
      return address.match(NAT64_WELL_KNOWN_PREFIX) ? [ipv4FromWords(p[6], p[7])] : [];
    case '6to4': // 2002:aabb:ccdd::/48
      return [ipv4FromWords(p[1], p[2])];
    case 'teredo': // 2001:0:server-v4:flags:port:~client-v4
      return [ipv4FromWords(p[2], p[3]), ipv4FromWords(~p[6] & 0xffff, ~p[7] & 0xffff)];
    default:
      return null;
  }
}

function ipv4FromWords(high: number, low: number): IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

function strictestClass(classes: AddressClass[]): AddressClass {
  if (classes.length === 0 || classes.includes('never')) return 'never';
  return classes.includes('internal') ? 'internal' : 'public';
}
