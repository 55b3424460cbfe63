import { randomBytes } from 'node:crypto';
import { RateLimits } from '../../src/common/rate-limit.js';
import { generateApiKeySecret } from '../../src/iam/api-key-secret.js';
import { requestFrom, type RawResponse } from '../helpers/from-address.js';
import { cleanupServers, makeTempDir, startServer } from '../helpers/server-process.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { adminQuery, testAdminUrl } from '../helpers/test-db.js';

/**
 * Failed API-key authentication of /api/v2 is throttled per client address (README, Brute-force throttling), with a
 * small limit through the environment; each test plays its clients from addresses of its own in 127.0.0.0/8.
 */
const LIMIT = 5;
const WINDOW_SECONDS = 600;
const LIMITS = { API_KEY_RATE_LIMIT_PER_IP: String(LIMIT), API_KEY_RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS) };

describe('failed API keys are throttled per client address', () => {
  let t: TestApp;
  const secretsKey = randomBytes(32).toString('hex');

  beforeAll(async () => {
    t = await startTestApp({ ...LIMITS, SECRETS_KEY: secretsKey });
  });
  afterAll(async () => {
    await cleanupServers();
    await t?.close();
  });

  const me = (from: string, key: string | undefined, baseUrl = t.baseUrl) =>
    requestFrom(from, 'GET', `${baseUrl}/api/v2/users/me`, { headers: key === undefined ? {} : { authorization: `Bearer ${key}` } });

  function expectUnauthorized(res: RawResponse): void {
    expect([res.status, res.json().code]).toEqual([401, 'UNAUTHORIZED']);
  }
  /** Neon's GeneralError, code RATE_LIMITED, with Retry-After. */
  function expectThrottled(res: RawResponse): void {
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers['retry-after']);
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= WINDOW_SECONDS).toBe(true);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['code', 'message', 'request_id']);
    expect(body.code).toBe('RATE_LIMITED');
    expect(body.message).toMatch(/too many failed API key attempts/);
    expect(body.request_id).toBe(res.headers['x-request-id']);
  }

  it(`the ${LIMIT + 1}th bad key from one address is 429 RATE_LIMITED with Retry-After; a valid key still works, from there and elsewhere`, async () => {
    const attacker = '127.0.0.31';
    for (let i = 0; i < LIMIT; i++) expectUnauthorized(await me(attacker, generateApiKeySecret()));
    expectThrottled(await me(attacker, generateApiKeySecret()));
    // The address cannot go on testing keys, but a key that authenticates is never refused: clients behind one
    // address (a NAT, a proxy) must not be locked out by whoever else sends bad keys from it.
    expectThrottled(await me(attacker, generateApiKeySecret()));
    expect((await me(attacker, t.adminKey)).status).toBe(200);
    expectThrottled(await me(attacker, generateApiKeySecret()));

    // Another source is not affected: its valid key works, and its bad keys are counted apart.
    const other = '127.0.0.32';
    expect((await me(other, t.adminKey)).status).toBe(200);
    expectUnauthorized(await me(other, generateApiKeySecret()));
    expect((await me(other, t.adminKey)).status).toBe(200);
  });

  it('a revoked key is a failed attempt; a request without a key is not', async () => {
    const from = '127.0.0.33';
    const created = await requestFrom('127.0.0.1', 'POST', `${t.apiUrl}/api_keys`, { headers: { authorization: `Bearer ${t.adminKey}` }, body: { key_name: 'to-revoke' } });
    expect(created.status).toBe(200);
    const { id, key } = created.json() as { id: number; key: string };
    expect((await requestFrom('127.0.0.1', 'DELETE', `${t.apiUrl}/api_keys/${id}`, { headers: { authorization: `Bearer ${t.adminKey}` } })).status).toBe(200);

    for (let i = 0; i < 2 * LIMIT; i++) expectUnauthorized(await me(from, undefined));
    expect((await me(from, t.adminKey)).status).toBe(200);
    for (let i = 0; i < LIMIT; i++) expectUnauthorized(await me(from, key));
    expectThrottled(await me(from, key));
    expect((await me(from, t.adminKey)).status).toBe(200);
  });

  it('the counts live in the control-plane database: a second server on it sees them', async () => {
    const second = await startServer({
      DATABASE_URL: t.config.databaseUrl,
      COMPUTE_DATABASE_URL: testAdminUrl(),
      DATA_DIR: makeTempDir(),
      SECRETS_KEY: secretsKey,
      ...LIMITS,
    });
    const from = '127.0.0.34';
    // Two failures here, three there: the second server reaches the limit and remembers the address ...
    for (let i = 0; i < 2; i++) expectUnauthorized(await me(from, generateApiKeySecret()));
    for (let i = 0; i < LIMIT - 2; i++) expectUnauthorized(await me(from, generateApiKeySecret(), second.baseUrl));
    expectThrottled(await me(from, generateApiKeySecret(), second.baseUrl));
    // ... and this one reads the shared count.
    expectThrottled(await me(from, generateApiKeySecret()));
    expect((await me(from, t.adminKey)).status).toBe(200);
    const rows = await adminQuery<{ points: number }>('SELECT points FROM rate_limits WHERE key = $1', [`api_key_failures_ip:${from}`], t.database);
    expect(rows[0].points).toBeGreaterThanOrEqual(LIMIT);
    // Another source still gets through on both.
    for (const baseUrl of [t.baseUrl, second.baseUrl]) expect((await me('127.0.0.35', t.adminKey, baseUrl)).status).toBe(200);
    expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('counters whose window has ended are pruned', async () => {
    const now = Date.now();
    await adminQuery(`INSERT INTO rate_limits (key, points, expire) VALUES ('test_prune:old', 7, $1), ('test_prune:live', 7, $2)`, [now - 3_600_000, now + 60_000], t.database);
    expect(await t.app.get(RateLimits).pruneExpired()).toBeGreaterThanOrEqual(1);
    const left = await adminQuery<{ key: string }>(`SELECT key FROM rate_limits WHERE key LIKE 'test_prune:%'`, [], t.database);
    expect(left).toEqual([{ key: 'test_prune:live' }]);
    // Every counter the earlier tests left is still inside its window.
    expect(Number((await adminQuery<{ n: string }>('SELECT count(*) AS n FROM rate_limits WHERE expire < $1', [now], t.database))[0].n)).toBe(0);
  });
});
