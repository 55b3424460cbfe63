import { OutboundHttp, type OutboundResolver } from '../../src/common/outbound-http.js';
import {
  classifyAddress,
  findOutboundRefusal,
  isPublicAddress,
  OutboundDestinationRefused,
  OutboundUrlPolicy,
  parseOutboundAllowList,
} from '../../src/common/outbound-url-policy.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';

/** The rules of src/common/outbound-url-policy.ts, without a network: classes, URLs, the allow-list and its parsing. */

describe('classifyAddress: only public unicast passes', () => {
  it.each<[string, string]>([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['169.254.0.1', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.255', 'carrierGradeNat'],
    ['100.100.100.200', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.192', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fe80::1%eth0', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd00::1', 'uniqueLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['fec0::1', 'deprecatedSiteLocal'],
    ['100::1', 'discard'],
    ['2001:db8::1', 'reserved'],
    ['4000::1', 'notGlobalUnicast'],
  ])('%s is %s', (address, range) => {
    expect(classifyAddress(address).range).toBe(range);
    expect(isPublicAddress(address)).toBe(false);
  });

  // The IPv6 spellings of IPv4 addresses: judged by the IPv4 address they carry, or refused as a whole.
  it.each<[string, string, string]>([
    ['::ffff:169.254.169.254', 'linkLocal', '169.254.169.254'],
    ['::ffff:a9fe:a9fe', 'linkLocal', '169.254.169.254'],
    ['[::ffff:a9fe:a9fe]', 'linkLocal', '169.254.169.254'],
    ['::ffff:127.0.0.1', 'loopback', '127.0.0.1'],
    ['::ffff:7f00:1', 'loopback', '127.0.0.1'],
    ['::ffff:10.0.0.1', 'private', '10.0.0.1'],
    ['::ffff:100.64.0.1', 'carrierGradeNat', '100.64.0.1'],
    ['::ffff:0.0.0.0', 'unspecified', '0.0.0.0'],
    ['64:ff9b::a9fe:a9fe', 'linkLocal', '169.254.169.254'],
    ['64:ff9b::169.254.169.254', 'linkLocal', '169.254.169.254'],
    ['64:ff9b::127.0.0.1', 'loopback', '127.0.0.1'],
    ['64:ff9b::10.0.0.1', 'private', '10.0.0.1'],
  ])('%s (IPv4-mapped / NAT64) is %s, as %s', (address, range, carried) => {
    expect(classifyAddress(address)).toMatchObject({ range, address: carried });
  });

  it.each<[string, string]>([
    ['::a9fe:a9fe', 'ipv4Compatible'],
    ['::169.254.169.254', 'ipv4Compatible'],
    ['::127.0.0.1', 'ipv4Compatible'],
    ['::8.8.8.8', 'ipv4Compatible'],
    ['::ffff:0:a00:1', 'rfc6145'],
    ['64:ff9b:1::a00:1', 'rfc6052'],
    ['2002:a9fe:a9fe::1', '6to4'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
  ])('%s (IPv4-compatible, SIIT, local-use NAT64, 6to4, Teredo) is refused as %s', (address, range) => {
    expect(classifyAddress(address).range).toBe(range);
  });

  it.each(['169.254.169.254', '::ffff:a9fe:a9fe', '64:ff9b::a9fe:a9fe', '169.254.170.2', 'fd00:ec2::254', '100.100.100.200', '192.0.0.192'])(
    '%s is a cloud metadata address',
    (address) => {
      expect(classifyAddress(address).metadata).toBe(true);
    },
  );

  it.each([
    ['8.8.8.8', '8.8.8.8'],
    ['93.184.215.14', '93.184.215.14'],
    ['172.32.0.1', '172.32.0.1'],
    ['100.128.0.1', '100.128.0.1'],
    ['11.0.0.1', '11.0.0.1'],
    ['2606:4700:4700::1111', '2606:4700:4700::1111'],
    ['2001:4860:4860::8888', '2001:4860:4860::8888'],
    ['::ffff:8.8.8.8', '8.8.8.8'],
    ['64:ff9b::8.8.8.8', '8.8.8.8'],
  ])('%s is public', (address, as) => {
    expect(classifyAddress(address)).toEqual({ range: 'public', address: as, metadata: false });
  });

  it.each(['localhost', '127.1', '0x7f000001', '2130706433', '', 'fd00::1::2'])('%j is not an IP address', (value) => {
    expect(classifyAddress(value).range).toBe('invalid');
  });
});

describe('OutboundUrlPolicy.checkUrl: what is decided before any lookup', () => {
  const policy = new OutboundUrlPolicy({ trustedOrigins: ['http://127.0.0.1:3000', 'https://stack.internal.example'] });

  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://[::ffff:169.254.169.254]/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://[::a9fe:a9fe]/',
    'http://10.0.0.1:6379',
    'http://100.64.0.1',
    'http://[fd00::1]',
    'http://0.0.0.0:3000',
    'http://127.0.0.1:3001',
    'https://127.0.0.1:3000', // the trusted origin is http
    'http://2130706433:3001/', // the URL parser reads it as 127.0.0.1
    'http://0x7f.1:3001/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://METADATA.GOOGLE.INTERNAL./',
    'http://metadata.goog',
    'http://instance-data/latest/',
    'ftp://example.com/',
    'file:///etc/passwd',
    'data:text/plain,hello',
    'not a url',
  ])('%s is refused', (url) => {
    const d = policy.checkUrl(url);
    expect(d.verdict).toBe('refuse');
    if (d.verdict === 'refuse') expect(d.error).toBeInstanceOf(OutboundDestinationRefused);
  });

  it('the trusted origins (scheme, host and port) pass, whatever the path', () => {
    expect(policy.checkUrl('http://127.0.0.1:3000/stack-auth')).toEqual({ verdict: 'allow', via: 'trusted-origin' });
    expect(policy.checkUrl('https://stack.internal.example:443/api')).toEqual({ verdict: 'allow', via: 'trusted-origin' });
    expect(policy.checkTarget('http:', '127.0.0.1', '3000')).toEqual({ verdict: 'allow', via: 'trusted-origin' });
  });

  it('a public IP passes; a host name is left to the connect-time lookup', () => {
    expect(policy.checkUrl('https://8.8.8.8/x')).toEqual({ verdict: 'allow', via: 'public' });
    expect(policy.checkUrl('http://[2606:4700:4700::1111]:8080/')).toEqual({ verdict: 'allow', via: 'public' });
    expect(policy.checkUrl('https://api.stack-auth.com')).toEqual({ verdict: 'resolve', host: 'api.stack-auth.com', nameAllowed: false });
    expect(policy.checkUrl('http://localhost:3000')).toEqual({ verdict: 'resolve', host: 'localhost', nameAllowed: false });
  });

  it('every resolved address must pass: one private address refuses the name', () => {
    expect(policy.checkResolved('api.example.com', ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'])).toBeUndefined();
    expect(policy.checkResolved('api.example.com', ['93.184.215.14', '127.0.0.1'])).toBeInstanceOf(OutboundDestinationRefused);
    expect(policy.checkResolved('api.example.com', ['::ffff:a9fe:a9fe'])).toBeInstanceOf(OutboundDestinationRefused);
    expect(policy.checkResolved('api.example.com', [])).toBeInstanceOf(OutboundDestinationRefused);
  });
});

describe('OUTBOUND_ALLOWED_HOSTS', () => {
  it('reads host names, IP addresses and CIDR ranges (IPv4 and IPv6, brackets and a trailing dot allowed)', () => {
    expect(parseOutboundAllowList(' auth.corp.internal, 10.20.0.0/16 ,192.168.1.10, fd00::/8, [fd00::1], Provider.Corp. ,, ')).toEqual({
      entries: [
        { kind: 'host', name: 'auth.corp.internal' },
        { kind: 'cidr', network: '10.20.0.0', prefix: 16 },
        { kind: 'ip', address: '192.168.1.10' },
        { kind: 'cidr', network: 'fd00::', prefix: 8 },
        { kind: 'ip', address: 'fd00::1' },
        { kind: 'host', name: 'provider.corp' },
      ],
      problems: [],
    });
    expect(parseOutboundAllowList(undefined)).toEqual({ entries: [], problems: [] });
  });

  it('names every entry that is none of these', () => {
    const bad = ['http://auth.internal', 'auth.internal:8080', '10.0.0.0/33', 'fd00::/129', '127.1', '999.1.1.1', '*.example.com', 'a_b.example', '10.0.0.0/x'];
    const { entries, problems } = parseOutboundAllowList(bad.join(','));
    expect(entries).toEqual([]);
    expect(problems).toEqual(bad.map((b) => `"${b}" is not a host name, an IP address or a CIDR range`));
  });

  it('bad values fail the configuration together with every other bad variable (the exit-78 path)', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'x', OUTBOUND_ALLOWED_HOSTS: '10.0.0.0/8, 10.0.0.0/99, host:1' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      'PORT must be an integer between 0 and 65535 (got "x")',
      'OUTBOUND_ALLOWED_HOSTS: "10.0.0.0/99" is not a host name, an IP address or a CIDR range',
      'OUTBOUND_ALLOWED_HOSTS: "host:1" is not a host name, an IP address or a CIDR range',
    ]);
    expect(loadConfig({ OUTBOUND_ALLOWED_HOSTS: 'auth.internal,10.0.0.0/8' }).outboundAllowedHosts).toHaveLength(2);
    expect(loadConfig({}).outboundAllowedHosts).toEqual([]);
  });

  const allowed = new OutboundUrlPolicy({ allow: parseOutboundAllowList('auth.corp.internal, 10.0.0.0/8, 192.168.1.10, 169.254.0.0/16, fd00::/8, metadata.google.internal').entries });

  it('lets listed IPs and ranges through (IPv4-mapped spellings too), and nothing beside them', () => {
    expect(allowed.checkUrl('http://10.9.9.9:6379').verdict).toBe('allow');
    expect(allowed.checkUrl('http://[::ffff:10.9.9.9]/').verdict).toBe('allow');
    expect(allowed.checkUrl('http://192.168.1.10').verdict).toBe('allow');
    expect(allowed.checkUrl('http://192.168.1.11').verdict).toBe('refuse');
    expect(allowed.checkUrl('http://[fd00::1]').verdict).toBe('allow');
    expect(allowed.checkUrl('http://[fc00::1]').verdict).toBe('refuse');
    expect(allowed.checkUrl('http://127.0.0.1').verdict).toBe('refuse');
    expect(allowed.checkUrl('http://169.254.1.1').verdict).toBe('allow');
  });

  it('a metadata address passes only when listed by itself, never through a range or an allowed name', () => {
    expect(allowed.checkUrl('http://169.254.169.254').verdict).toBe('refuse');
    expect(allowed.checkUrl('http://[fd00:ec2::254]').verdict).toBe('refuse');
    expect(allowed.checkResolved('auth.corp.internal', ['169.254.169.254'])).toBeInstanceOf(OutboundDestinationRefused);
    const listed = new OutboundUrlPolicy({ allow: parseOutboundAllowList('169.254.169.254').entries });
    expect(listed.checkUrl('http://169.254.169.254').verdict).toBe('allow');
    expect(listed.checkUrl('http://[::ffff:a9fe:a9fe]').verdict).toBe('allow');
  });

  it('a listed name may resolve to private addresses; a listed metadata name is let through by name', () => {
    expect(allowed.checkUrl('https://Auth.Corp.Internal./x')).toEqual({ verdict: 'resolve', host: 'auth.corp.internal', nameAllowed: true });
    expect(allowed.checkResolved('auth.corp.internal', ['10.1.2.3', '127.0.0.1'])).toBeUndefined();
    expect(allowed.checkResolved('other.corp.internal', ['127.0.0.1'])).toBeInstanceOf(OutboundDestinationRefused);
    expect(allowed.checkUrl('http://metadata.google.internal').verdict).toBe('resolve');
  });
});

describe('OutboundHttp without a network: validation through a resolver, refusals before any connection', () => {
  const answering = (...addresses: string[]): OutboundResolver => async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  it('assertAllowed resolves the name now and checks every address', async () => {
    await expect(new OutboundHttp(new OutboundUrlPolicy(), { resolver: answering('93.184.215.14') }).assertAllowed('https://provider.example/x')).resolves.toBeUndefined();
    await expect(new OutboundHttp(new OutboundUrlPolicy(), { resolver: answering('93.184.215.14', '10.0.0.1') }).assertAllowed('https://provider.example/x')).rejects.toBeInstanceOf(
      OutboundDestinationRefused,
    );
    await expect(new OutboundHttp(new OutboundUrlPolicy(), { resolver: answering('::ffff:7f00:1') }).assertAllowed('https://provider.example/x')).rejects.toBeInstanceOf(
      OutboundDestinationRefused,
    );
    const failing: OutboundResolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    await expect(new OutboundHttp(new OutboundUrlPolicy(), { resolver: failing }).assertAllowed('https://nowhere.example')).rejects.toBeInstanceOf(OutboundDestinationRefused);
    await expect(new OutboundHttp(new OutboundUrlPolicy(), { resolver: failing }).assertAllowed('http://169.254.169.254')).rejects.toBeInstanceOf(OutboundDestinationRefused);
  });

  it('fetch refuses IP literals, metadata names and other schemes without opening a connection (this tier refuses connections)', async () => {
    const outbound = new OutboundHttp(new OutboundUrlPolicy());
    try {
      for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[::ffff:a9fe:a9fe]/', 'http://metadata.google.internal/', 'data:text/plain,x']) {
        const err = await outbound.fetch(url).catch((e: unknown) => e);
        expect(findOutboundRefusal(err)).toBeInstanceOf(OutboundDestinationRefused);
      }
    } finally {
      await outbound.onApplicationShutdown();
    }
  });
});
