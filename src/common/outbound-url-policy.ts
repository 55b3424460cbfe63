import ipaddr from 'ipaddr.js';

/**
 * Where the server may connect when a URL came from a person (a manual-setup provider base URL; later, webhook
 * targets): the pure rules, no I/O. src/common/outbound-http.ts applies them at connect time.
 *
 * Refused: every address that is not public unicast (loopback, RFC 1918 private, link-local, unique-local
 * fc00::/7, CGNAT 100.64.0.0/10, unspecified, multicast, broadcast, documentation, benchmarking and other
 * reserved ranges, IPv6 outside 2000::/3), the cloud metadata addresses and names, and IPv6 forms that carry an
 * IPv4 address (IPv4-mapped ::ffff:0:0/96 and NAT64 64:ff9b::/96 are judged by the IPv4 address they carry;
 * IPv4-compatible ::/96, SIIT ::ffff:0:0:0/96, local-use NAT64 64:ff9b:1::/48, 6to4 and Teredo are refused).
 * The address classes come from ipaddr.js (maintained, used by Express's proxy-addr), not from hand-written
 * masks.
 *
 * Let through regardless: the trusted origins (operator configuration: the embedded provider at PUBLIC_URL and
 * STACK_AUTH_URL), and what OUTBOUND_ALLOWED_HOSTS lists: host names (any address they resolve to), IP addresses
 * and CIDR ranges. A metadata address is let through only when listed by itself (as an IP, not inside a CIDR
 * or behind an allowed name); a metadata name only when listed by name.
 */

/** One entry of OUTBOUND_ALLOWED_HOSTS. */
export type OutboundAllowEntry =
  | { kind: 'host'; name: string }
  | { kind: 'ip'; address: string }
  | { kind: 'cidr'; network: string; prefix: number };

/** Link-local, CGNAT and reserved addresses where clouds serve instance metadata and credentials. */
export const METADATA_ADDRESSES: readonly string[] = [
  '169.254.169.254', // AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack, ...
  '169.254.170.2', // AWS ECS task metadata and credentials
  '169.254.170.23', // AWS EKS Pod Identity agent
  'fd00:ec2::254', // AWS IMDS over IPv6
  'fd00:ec2::23', // AWS EKS Pod Identity agent over IPv6
  '100.100.100.200', // Alibaba Cloud
  '192.0.0.192', // Oracle Cloud (legacy)
];

/** Host names that resolve to the metadata service inside a cloud (refused before any lookup). */
export const METADATA_HOST_NAMES: readonly string[] = ['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal'];

/** One spelling per address (RFC 5952 for IPv6), so sets and messages compare and read alike. */
function canonical(addr: ipaddr.IPv4 | ipaddr.IPv6): string {
  return addr.kind() === 'ipv6' ? (addr as ipaddr.IPv6).toRFC5952String() : addr.toString();
}

const METADATA = new Set(METADATA_ADDRESSES.map((a) => canonical(ipaddr.parse(a))));
const METADATA_NAMES = new Set(METADATA_HOST_NAMES);

/** What classifyAddress found out about an address. */
export interface AddressClass {
  /** `public`, or why not: ipaddr.js's range name (`loopback`, `private`, `linkLocal`, ...) or one of ours. */
  range: string;
  /** The address the class was decided on, normalized: for IPv4-mapped and NAT64 forms, the IPv4 address they carry. */
  address: string;
  /** One of METADATA_ADDRESSES (judged on the carried IPv4 address for the IPv6 forms). */
  metadata: boolean;
}

const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96');

/**
 * The class of one IP address (IPv4 dotted quad or IPv6, with or without brackets or a zone). Only `public`
 * may be connected to without an allow-list entry. Anything unparsable is `invalid`.
 */
export function classifyAddress(input: string): AddressClass {
  const parsed = parseAddress(input);
  if (!parsed) return { range: 'invalid', address: input, metadata: false };
  let addr = parsed;
  if (addr.kind() === 'ipv6') {
    const v6 = addr as ipaddr.IPv6;
    const range = v6.range();
    if (range === 'ipv4Mapped' || (range === 'rfc6052' && v6.match(NAT64_WELL_KNOWN))) {
      // ::ffff:a.b.c.d is a.b.c.d to the kernel; 64:ff9b::a.b.c.d is a.b.c.d to a NAT64 gateway.
      addr = ipaddr.IPv4.parse(v6.parts.slice(6).flatMap((p) => [p >> 8, p & 0xff]).join('.'));
    } else {
      const address = canonical(v6);
      const metadata = METADATA.has(address);
      if (range !== 'unicast') return { range, address, metadata };
      // ::a.b.c.d (IPv4-compatible, deprecated) is not in ipaddr.js's table; nor is unallocated space outside 2000::/3.
      if (v6.match(IPV4_COMPATIBLE)) return { range: 'ipv4Compatible', address, metadata };
      if (!v6.match(GLOBAL_UNICAST_V6)) return { range: 'notGlobalUnicast', address, metadata };
      return { range: metadata ? 'metadata' : 'public', address, metadata };
    }
  }
  const v4 = addr as ipaddr.IPv4;
  const address = canonical(v4);
  const metadata = METADATA.has(address);
  const range = v4.range();
  if (range !== 'unicast') return { range, address, metadata };
  return { range: metadata ? 'metadata' : 'public', address, metadata };
}

/** Whether the address may be connected to without an allow-list entry. */
export function isPublicAddress(input: string): boolean {
  return classifyAddress(input).range === 'public';
}

/** An IP literal as written in a URL or by a resolver; undefined when it is none (a host name). */
function parseAddress(input: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  let s = input.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.slice(0, zone);
  // Only the dotted quad: ipaddr.js would also read "127.1" or "0x7f.1", which no resolver answers and the URL
  // parser has already turned into a dotted quad.
  if (ipaddr.IPv4.isValidFourPartDecimal(s)) return ipaddr.IPv4.parse(s);
  if (!s.includes(':')) return undefined;
  if (s.includes('.')) {
    // An IPv4 tail ("::1.2.3.4", "64:ff9b::1.2.3.4"): ipaddr.js reads every such tail as IPv4-mapped, so the URL
    // parser (which writes it in hex, as resolvers do) spells it first.
    try {
      s = new URL(`http://[${s}]/`).hostname.slice(1, -1);
    } catch {
      return undefined;
    }
  }
  return ipaddr.IPv6.isValid(s) ? ipaddr.IPv6.parse(s) : undefined;
}

/** Whether the string is an IP literal (brackets allowed). */
export function isIpLiteral(input: string): boolean {
  return parseAddress(input) !== undefined;
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST_NAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`);

/** A host name as compared here: lower case, without a trailing dot or IPv6 brackets. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/**
 * OUTBOUND_ALLOWED_HOSTS: comma-separated host names, IP addresses and CIDR ranges (IPv4 or IPv6). Answers the
 * entries, and a problem per entry that is none of these (config.ts reports them with the other bad variables).
 */
export function parseOutboundAllowList(raw: string | undefined): { entries: OutboundAllowEntry[]; problems: string[] } {
  const entries: OutboundAllowEntry[] = [];
  const problems: string[] = [];
  for (const item of (raw ?? '').split(',')) {
    const value = item.trim();
    if (value === '') continue;
    if (value.includes('/')) {
      const [ip, bits] = value.split('/', 2);
      const addr = parseAddress(ip);
      const max = addr?.kind() === 'ipv4' ? 32 : 128;
      if (addr && /^\d{1,3}$/.test(bits) && Number(bits) <= max) {
        entries.push({ kind: 'cidr', network: canonical(addr), prefix: Number(bits) });
        continue;
      }
    } else {
      const addr = parseAddress(value);
      if (addr) {
        entries.push({ kind: 'ip', address: canonical(addr) });
        continue;
      }
      const name = normalizeHost(value);
      if (HOST_NAME.test(name) && !/^[\d.]+$/.test(name)) {
        entries.push({ kind: 'host', name });
        continue;
      }
    }
    problems.push(`"${value}" is not a host name, an IP address or a CIDR range`);
  }
  return { entries, problems };
}

/** Why a destination is refused (for logs; callers answer a generic message). */
export class OutboundDestinationRefused extends Error {
  readonly code = 'OUTBOUND_DESTINATION_REFUSED';
  constructor(
    /** The host as the URL named it. */
    readonly host: string,
    /** Which rule refused it, e.g. "10.0.0.1 is private" (may name a resolved address: never show it to a caller). */
    readonly reason: string,
  ) {
    super(`outgoing connection to ${host} refused: ${reason}`);
    this.name = 'OutboundDestinationRefused';
  }
}

/** The first OutboundDestinationRefused in an error's cause chain (fetch wraps the connector's error). */
export function findOutboundRefusal(err: unknown): OutboundDestinationRefused | undefined {
  for (let e = err, depth = 0; e !== null && e !== undefined && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof OutboundDestinationRefused) return e;
  }
  return undefined;
}

/** What the policy says about a URL or a connection target before any lookup. */
export type TargetDecision =
  /** Connect without further checks (a trusted origin, or an IP literal that passed). */
  | { verdict: 'allow'; via: 'trusted-origin' | 'allow-list' | 'public' }
  /** A host name: connect only to addresses that checkResolved lets through. */
  | { verdict: 'resolve'; host: string; nameAllowed: boolean }
  | { verdict: 'refuse'; error: OutboundDestinationRefused };

export interface OutboundPolicyOptions {
  /** OUTBOUND_ALLOWED_HOSTS. */
  allow?: readonly OutboundAllowEntry[];
  /** Origins (scheme, host, port) of operator-configured servers: the embedded provider, STACK_AUTH_URL. */
  trustedOrigins?: readonly string[];
}

export class OutboundUrlPolicy {
  private readonly names: ReadonlySet<string>;
  private readonly ips: ReadonlySet<string>;
  private readonly cidrs: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];
  private readonly trusted: ReadonlySet<string>;

  constructor(options: OutboundPolicyOptions = {}) {
    const allow = options.allow ?? [];
    this.names = new Set(allow.flatMap((e) => (e.kind === 'host' ? [e.name] : [])));
    this.ips = new Set(allow.flatMap((e) => (e.kind === 'ip' ? [classifyAddress(e.address).address] : [])));
    this.cidrs = allow.flatMap((e) => (e.kind === 'cidr' ? [[ipaddr.parse(e.network), e.prefix] as [ipaddr.IPv4 | ipaddr.IPv6, number]] : []));
    this.trusted = new Set(
      (options.trustedOrigins ?? []).flatMap((o) => {
        try {
          const u = new URL(o);
          return [targetKey(u.protocol, u.hostname, u.port)];
        } catch {
          return [];
        }
      }),
    );
  }

  /** Checks a URL as far as it can without a lookup (its scheme, a trusted origin, an IP literal, a metadata name). */
  checkUrl(url: string | URL): TargetDecision {
    let u: URL;
    try {
      u = typeof url === 'string' ? new URL(url) : url;
    } catch {
      return refuse(String(url), 'not a valid URL');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return refuse(u.host || u.protocol, `scheme ${u.protocol} is not http or https`);
    return this.checkTarget(u.protocol, u.hostname, u.port);
  }

  /** The same for a connection about to be opened (what an HTTP client's connector sees). */
  checkTarget(protocol: string, hostname: string, port: string | number | undefined): TargetDecision {
    const host = normalizeHost(hostname);
    if (this.trusted.has(targetKey(protocol, host, port))) return { verdict: 'allow', via: 'trusted-origin' };
    if (host === '') return refuse(hostname, 'no host');
    if (isIpLiteral(host)) {
      const refusal = this.addressRefusal(host, false);
      if (refusal) return refuse(hostname, refusal);
      return { verdict: 'allow', via: isPublicAddress(host) ? 'public' : 'allow-list' };
    }
    const nameAllowed = this.names.has(host);
    if (!nameAllowed && METADATA_NAMES.has(host)) return refuse(hostname, 'a cloud metadata host name');
    return { verdict: 'resolve', host, nameAllowed };
  }

  /** Every resolved address must be allowed (one refused address refuses the name). */
  checkResolved(hostname: string, addresses: readonly string[]): OutboundDestinationRefused | undefined {
    if (addresses.length === 0) return new OutboundDestinationRefused(hostname, 'the name resolved to no address');
    const nameAllowed = this.names.has(normalizeHost(hostname));
    for (const address of addresses) {
      const refusal = this.addressRefusal(address, nameAllowed);
      if (refusal) return new OutboundDestinationRefused(hostname, `it resolves to ${refusal}`);
    }
    return undefined;
  }

  /** Undefined when the address may be connected to; else why not. */
  private addressRefusal(address: string, nameAllowed: boolean): string | undefined {
    const c = classifyAddress(address);
    if (c.range === 'invalid') return `${address}, which is not an IP address`;
    if (this.ips.has(c.address)) return undefined; // listed by itself: even a metadata address
    if (c.metadata) return `${c.address}, a cloud metadata address`;
    if (c.range === 'public' || nameAllowed) return undefined;
    const parsed = ipaddr.parse(c.address);
    if (this.cidrs.some(([net, bits]) => net.kind() === parsed.kind() && parsed.match(net, bits))) return undefined;
    return `${c.address} (${c.range})`;
  }
}

function refuse(host: string, reason: string): TargetDecision {
  return { verdict: 'refuse', error: new OutboundDestinationRefused(host, reason) };
}

/** scheme://host:port with the default port filled in, the host normalized (no brackets). */
function targetKey(protocol: string, hostname: string, port: string | number | undefined): string {
  const p = port === undefined || port === '' || port === null ? (protocol === 'https:' ? '443' : '80') : String(port);
  return `${protocol}//${normalizeHost(hostname)}:${p}`;
}
