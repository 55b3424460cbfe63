import { loadConfig, parseTrustProxy } from '../../src/config/config.js';

describe('TRUST_PROXY', () => {
  it('is empty by default: no proxy is believed', () => {
    expect(loadConfig({}).trustProxy).toEqual([]);
  });

  it('takes addresses, CIDR blocks and Express\'s names', () => {
    expect(parseTrustProxy('10.0.0.1, 10.1.0.0/16 ,fd00::/8,loopback,uniquelocal')).toEqual(['10.0.0.1', '10.1.0.0/16', 'fd00::/8', 'loopback', 'uniquelocal']);
    expect(loadConfig({ TRUST_PROXY: '192.0.2.7' }).trustProxy).toEqual(['192.0.2.7']);
  });

  it('refuses anything else, listing the variable', () => {
    for (const bad of ['proxy.example.com', '10.0.0.0/33', '::1/129', '10.0.0.1/8/1', 'true', '*']) expect(parseTrustProxy(bad)).toBeUndefined();
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
  });
});
