import { clientAddressKey, hashedSubject } from '../../src/common/rate-limit.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';

/** The throttling settings (README, Brute-force throttling) and the subject keys of client addresses. */
describe('rate-limit configuration', () => {
  it('defaults: 10 failed sign-ins per account and 100 per address per 15 minutes, 30 failed API keys per address per minute', () => {
    const c = loadConfig({});
    expect([c.stackAuthRateLimitPerAccount, c.stackAuthRateLimitPerIp, c.stackAuthRateLimitWindowSeconds, c.apiKeyRateLimitPerIp, c.apiKeyRateLimitWindowSeconds]).toEqual([10, 100, 900, 30, 60]);
  });

  it('takes other values, 0 turning a limit off', () => {
    const c = loadConfig({
      STACK_AUTH_RATE_LIMIT_PER_ACCOUNT: '0',
      STACK_AUTH_RATE_LIMIT_PER_IP: '5',
      STACK_AUTH_RATE_LIMIT_WINDOW_SECONDS: '60',
      API_KEY_RATE_LIMIT_PER_IP: '0',
      API_KEY_RATE_LIMIT_WINDOW_SECONDS: '3600',
    });
    expect([c.stackAuthRateLimitPerAccount, c.stackAuthRateLimitPerIp, c.stackAuthRateLimitWindowSeconds, c.apiKeyRateLimitPerIp, c.apiKeyRateLimitWindowSeconds]).toEqual([0, 5, 60, 0, 3600]);
  });

  it('refuses bad values, listing every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({
        STACK_AUTH_RATE_LIMIT_PER_ACCOUNT: '-1',
        STACK_AUTH_RATE_LIMIT_PER_IP: 'many',
        STACK_AUTH_RATE_LIMIT_WINDOW_SECONDS: '0',
        API_KEY_RATE_LIMIT_PER_IP: '1.5',
        API_KEY_RATE_LIMIT_WINDOW_SECONDS: '86401',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['STACK_AUTH_RATE_LIMIT_PER_ACCOUNT', 'STACK_AUTH_RATE_LIMIT_PER_IP', 'STACK_AUTH_RATE_LIMIT_WINDOW_SECONDS', 'API_KEY_RATE_LIMIT_PER_IP', 'API_KEY_RATE_LIMIT_WINDOW_SECONDS']) {
      expect(problems).toContain(name);
    }
    expect((error as ConfigError).problems).toHaveLength(5);
  });
});

describe('clientAddressKey', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['::FFFF:203.0.113.9', '203.0.113.9'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:ffff::1', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002::', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4::/64'],
  ])('%s counts as %s', (ip, key) => {
    expect(clientAddressKey(ip)).toBe(key);
  });

  it('an absent address is one subject; anything that is not an address is hashed to a bounded key', () => {
    expect(clientAddressKey(undefined)).toBe('unknown');
    expect(clientAddressKey('')).toBe('unknown');
    expect(clientAddressKey('x'.repeat(1000))).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('hashedSubject: fixed length, distinct for distinct parts', () => {
    expect(hashedSubject('p1', 'a@example.com')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hashedSubject('p1', 'a@example.com')).toBe(hashedSubject('p1', 'a@example.com'));
    expect(hashedSubject('p1', 'a@example.com')).not.toBe(hashedSubject('p2', 'a@example.com'));
    expect(hashedSubject('p1a', 'b')).not.toBe(hashedSubject('p1', 'ab'));
  });
});
