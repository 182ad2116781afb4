/**
 * Which network addresses a step may reach. A step's URL comes from a
 * playbook and its workload, so without a rule a caller could make a worker
 * fetch its cloud metadata (169.254.169.254), a NATS monitoring port on
 * loopback or a database on the private network. Loopback, private, shared
 * (CGNAT), link-local, unspecified, multicast, broadcast and reserved
 * addresses, and the IPv6 forms that embed them, are refused unless an
 * allowlist names them (NOETL_HTTP_ALLOW); every other address is public and
 * allowed. Pure: addresses are text in, decisions out; resolving names is the
 * caller's business.
 *
 * Allowlist syntax, comma-separated entries:
 *   10.1.0.0/16, fd00::/8       a network (CIDR), any port
 *   127.0.0.1, ::1              one address, any port
 *   127.0.0.1:8099, [::1]:8099  one address, one port
 *   localhost, api.internal:8443  a host name as the URL writes it (any or one port),
 *                               allowed whatever it resolves to
 */

/** An IP address: version and value (IPv4 in 32 bits, IPv6 in 128). */
export interface IpAddress {
  version: 4 | 6;
  value: bigint;
}

export type AllowEntry =
  | { kind: 'network'; text: string; network: IpAddress; prefix: number; port: undefined }
  | { kind: 'address'; text: string; address: IpAddress; port: number | undefined }
  | { kind: 'host'; text: string; host: string; port: number | undefined };

export type AddressAllowlist = readonly AllowEntry[];

/** Why an allowlist entry does not parse. */
export class AllowlistSyntaxError extends Error {}

/** Parses the allowlist syntax above; throws AllowlistSyntaxError naming the first bad entry. */
export function parseAllowlist(raw: string): AddressAllowlist {
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map(parseEntry);
}

function parseEntry(text: string): AllowEntry {
  const bad = (why: string): never => {
    throw new AllowlistSyntaxError(`entry "${text}" ${why}`);
  };
  const port = (digits: string | undefined): number | undefined => {
    if (digits === undefined) return undefined;
    const value = Number(digits);
    return /^\d{1,5}$/.test(digits) && value >= 1 && value <= 65_535 ? value : bad('has a port outside 1-65535');
  };
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const network = parseIp(text.slice(0, slash)) ?? bad('is not a network: expected an address/prefix such as 10.0.0.0/8');
    const digits = text.slice(slash + 1);
    const prefix = Number(digits);
    const bits = network.version === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(digits) || prefix > bits) bad(`has a prefix length outside 0-${bits}`);
    const value = masked(network.value, bits, prefix);
    return { kind: 'network', text, network: { version: network.version, value }, prefix, port: undefined };
  }
  const bracketed = /^\[([^\]]+)\](?::(\d*))?$/.exec(text);
  if (bracketed) {
    const address = parseIp(bracketed[1]!);
    if (address?.version !== 6) bad('is not an IPv6 address in brackets');
    return { kind: 'address', text, address: address!, port: port(bracketed[2]) };
  }
  const bare = parseIp(text);
  if (bare !== undefined) return { kind: 'address', text, address: bare, port: undefined };
  const withPort = /^([^:]+)(?::(\d*))?$/.exec(text) ?? bad('is not a network, an address or a host[:port]');
  const address = parseIp(withPort[1]!);
  if (address !== undefined) return { kind: 'address', text, address, port: port(withPort[2]) };
  const host = withPort[1]!.toLowerCase().replace(/\.$/, '');
  if (!HOST_NAME.test(host)) bad('is not a valid host name');
  return { kind: 'host', text, host, port: port(withPort[2]) };
}

const HOST_NAME = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** An IPv4 (dotted quad) or IPv6 address (a zone such as `%eth0` ignored), or undefined. */
export function parseIp(text: string): IpAddress | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { version: 4, value: v4 };
  const v6 = parseIpv6(text);
  return v6 === undefined ? undefined : { version: 6, value: v6 };
}

function parseIpv4(text: string): bigint | undefined {
  const parts = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!parts) return undefined;
  let value = 0n;
  for (const part of parts.slice(1)) {
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  let rest = text.includes('%') ? text.slice(0, text.indexOf('%')) : text;
  // A trailing dotted quad is the last two groups.
  const tail = /^(.*:)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(rest);
  if (tail) {
    const v4 = parseIpv4(tail[2]!);
    if (v4 === undefined) return undefined;
    rest = `${tail[1]}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = rest.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): string[] => (half === '' ? [] : half.split(':'));
  const head = groups(halves[0]!);
  const back = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - back.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  let value = 0n;
  for (const group of [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...back]) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return undefined;
    value = (value << 16n) | BigInt(`0x${group}`);
  }
  return value;
}

/** The restricted range an address is in (e.g. "link-local (169.254.0.0/16, cloud metadata)"); undefined when public. */
export function restrictedRange(ip: IpAddress): string | undefined {
  if (ip.version === 4) return IPV4_RANGES.find((r) => inNetwork(ip.value, 32, r.network, r.prefix))?.name;
  for (const range of IPV6_RANGES) {
    if (!inNetwork(ip.value, 128, range.network, range.prefix)) continue;
    if (range.embeds === undefined) return range.name;
    const embedded = restrictedRange({ version: 4, value: (ip.value >> BigInt(range.embeds)) & 0xffff_ffffn });
    if (embedded !== undefined) return `${embedded} in ${range.name} form`;
  }
  return undefined;
}

/** The IPv4 address an IPv4-mapped IPv6 address stands for; other addresses as they are. */
export function unmapped(ip: IpAddress): IpAddress {
  return ip.version === 6 && inNetwork(ip.value, 128, MAPPED, 96) ? { version: 4, value: ip.value & 0xffff_ffffn } : ip;
}

/**
 * Whether a request to `host:port` that would connect to `address` may go: a
 * public address always may; a restricted one only when an entry names the
 * host, the address or its network (and the port, when the entry has one).
 * Returns the range that refuses it, or undefined.
 */
export function refusedRange(allow: AddressAllowlist, host: string, port: number, address: string): string | undefined {
  const ip = parseIp(address);
  if (ip === undefined) return 'unparsable';
  const range = restrictedRange(ip);
  if (range === undefined) return undefined;
  const name = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  const target = unmapped(ip);
  const named = allow.some((entry) => {
    if (entry.port !== undefined && entry.port !== port) return false;
    if (entry.kind === 'host') return entry.host === name;
    if (entry.kind === 'address') {
      const wanted = unmapped(entry.address);
      return wanted.version === target.version && wanted.value === target.value;
    }
    const bits = target.version === 4 ? 32 : 128;
    return entry.network.version === target.version && inNetwork(target.value, bits, entry.network.value, entry.prefix);
  });
  return named ? undefined : range;
}

function masked(value: bigint, bits: number, prefix: number): bigint {
  const hostBits = BigInt(bits - prefix);
  return (value >> hostBits) << hostBits;
}

function inNetwork(value: bigint, bits: number, network: bigint, prefix: number): boolean {
  return masked(value, bits, prefix) === network;
}

const ipv4 = (text: string): bigint => parseIpv4(text)!;
const ipv6 = (text: string): bigint => parseIpv6(text)!;
const MAPPED = ipv6('::ffff:0:0');

/** Checked in order: the first range an address is in names it. */
const IPV4_RANGES: { network: bigint; prefix: number; name: string }[] = [
  { network: ipv4('0.0.0.0'), prefix: 8, name: 'unspecified (0.0.0.0/8)' },
  { network: ipv4('10.0.0.0'), prefix: 8, name: 'private (10.0.0.0/8)' },
  { network: ipv4('100.64.0.0'), prefix: 10, name: 'shared CGNAT (100.64.0.0/10)' },
  { network: ipv4('127.0.0.0'), prefix: 8, name: 'loopback (127.0.0.0/8)' },
  { network: ipv4('169.254.0.0'), prefix: 16, name: 'link-local (169.254.0.0/16, cloud metadata)' },
  { network: ipv4('172.16.0.0'), prefix: 12, name: 'private (172.16.0.0/12)' },
  { network: ipv4('192.168.0.0'), prefix: 16, name: 'private (192.168.0.0/16)' },
  { network: ipv4('224.0.0.0'), prefix: 4, name: 'multicast (224.0.0.0/4)' },
  { network: ipv4('255.255.255.255'), prefix: 32, name: 'broadcast (255.255.255.255)' },
  { network: ipv4('240.0.0.0'), prefix: 4, name: 'reserved (240.0.0.0/4)' },
];

/** `embeds`: the bit offset of an IPv4 address inside, judged by its own range. */
const IPV6_RANGES: { network: bigint; prefix: number; name: string; embeds?: number }[] = [
  { network: ipv6('::'), prefix: 128, name: 'unspecified (::)' },
  { network: ipv6('::1'), prefix: 128, name: 'loopback (::1)' },
  { network: MAPPED, prefix: 96, name: 'IPv4-mapped (::ffff:0:0/96)', embeds: 0 },
  { network: ipv6('::'), prefix: 96, name: 'IPv4-compatible (::/96, deprecated)' },
  { network: ipv6('64:ff9b::'), prefix: 96, name: 'NAT64 (64:ff9b::/96)', embeds: 0 },
  { network: ipv6('2002::'), prefix: 16, name: '6to4 (2002::/16)', embeds: 80 },
  { network: ipv6('fc00::'), prefix: 7, name: 'unique local, private (fc00::/7)' },
  { network: ipv6('fe80::'), prefix: 10, name: 'link-local (fe80::/10)' },
  { network: ipv6('fec0::'), prefix: 10, name: 'site-local (fec0::/10, deprecated)' },
  { network: ipv6('ff00::'), prefix: 8, name: 'multicast (ff00::/8)' },
];
