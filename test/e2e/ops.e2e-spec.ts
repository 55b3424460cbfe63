import request from 'supertest';
import { loadConfig, type ConfigError } from '../../src/config/config.js';
import { adminQuery } from '../helpers/test-db.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/** Sum of the samples of `name` whose labels include every pair in `labels`. */
function sample(metrics: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.indexOf('}'));
    const have = Object.fromEntries([...body.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** GET /metrics is served only to this bearer token (METRICS_TOKEN). */
const METRICS_TOKEN = 'ops-spec-metrics-token-0123456789';
const scrape = (baseUrl: string) => request(baseUrl).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);

describe('operations endpoints', () => {
  let t: TestApp;
  let other: TestApp | undefined;
  beforeAll(async () => {
    t = await startTestApp({ METRICS_TOKEN });
  });
  afterAll(async () => {
    await other?.close();
    await t?.close();
  });

  it('GET /health is public and reports the database up', async () => {
    const res = await request(t.baseUrl).get('/health').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', details: { database: { status: 'up' } } });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('GET /health/live is public and does not need the database', async () => {
    const res = await request(t.baseUrl).get('/health/live').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', details: {} });
  });

  it('GET /metrics serves Prometheus text with process metrics and labelled request counts', async () => {
    const api = request(t.baseUrl);
    await api.get('/api/v2/auth').set('Authorization', `Bearer ${t.adminKey}`).expect(200);
    await api.get('/api/v2/auth').expect(401);
    await api.get('/api/v2/organizations/org-raw-id-987654').set('Authorization', `Bearer ${t.adminKey}`).expect(404);
    await api.get('/no/such/route/123456').expect(404);
    await api.post('/api/v2/api_keys').set('Authorization', `Bearer ${t.adminKey}`).set('Content-Type', 'application/json').send('{bad').expect(400);

    const res = await scrape(t.baseUrl).expect(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = res.text;
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(sample(text, 'http_requests_total', { method: 'GET', route: '/api/v2/auth', status: '200' })).toBe(1);
    expect(sample(text, 'http_requests_total', { method: 'GET', route: '/api/v2/auth', status: '401' })).toBe(1);
    expect(sample(text, 'http_requests_total', { method: 'GET', route: '/api/v2/organizations/:org_id', status: '404' })).toBe(1);
    expect(sample(text, 'http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);
    expect(sample(text, 'http_requests_total', { method: 'POST', status: '400' })).toBe(1);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/api/v2/auth', status: '200' })).toBe(1);
    // Raw URLs never become label values.
    expect(text).not.toContain('org-raw-id-987654');
    expect(text).not.toContain('/no/such/route');
  });

  it('GET /metrics needs the metrics token: missing or wrong -> 401 (an API key is no substitute), right -> 200', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-of-some-length', `Bearer ${METRICS_TOKEN}x`, `Bearer ${t.adminKey}`, `Basic ${METRICS_TOKEN}`, METRICS_TOKEN]) {
      const call = request(t.baseUrl).get('/metrics');
      const res = await (authorization === undefined ? call : call.set('Authorization', authorization));
      expect([authorization, res.status]).toEqual([authorization, 401]);
      expect(res.body).toEqual({ request_id: expect.any(String), code: 'UNAUTHORIZED', message: 'send the metrics token as "Authorization: Bearer <METRICS_TOKEN>"' });
      expect(res.text).not.toContain('# TYPE');
    }
    const ok = await request(t.baseUrl).get('/metrics').set('Authorization', `bearer ${METRICS_TOKEN}`).expect(200);
    expect(ok.text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(ok.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('METRICS_TOKEN is validated with the other variables', () => {
    const base = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db' };
    const problems = (env: Record<string, string>): string[] => {
      try {
        loadConfig({ ...base, ...env });
      } catch (err) {
        return (err as ConfigError).problems;
      }
      return [];
    };
    expect(loadConfig(base).metricsToken).toBeUndefined();
    expect(loadConfig({ ...base, METRICS_TOKEN: '  ' }).metricsToken).toBeUndefined();
    expect(loadConfig({ ...base, METRICS_TOKEN: METRICS_TOKEN }).metricsToken).toBe(METRICS_TOKEN);
    expect(loadConfig({ ...base, METRICS_TOKEN: 'abcDEF0123456789-._~+/==' }).metricsToken).toBe('abcDEF0123456789-._~+/==');
    for (const bad of ['short', 'has a space in the middle', 'quote"d-0123456789', 'x'.repeat(513), '==0123456789abcdef']) {
      expect(problems({ METRICS_TOKEN: bad })).toEqual([expect.stringMatching(/^METRICS_TOKEN must be 16 to 512 characters/)]);
    }
  });

  it('keeps one registry per app instance, so two apps in one process count separately', async () => {
    other = await startTestApp({ METRICS_TOKEN });
    await request(other.baseUrl).get('/health/live').expect(200);
    await request(other.baseUrl).get('/health/live').expect(200);
    await request(t.baseUrl).get('/health/live').expect(200);
    const mine = (await scrape(t.baseUrl).expect(200)).text;
    const theirs = (await scrape(other.baseUrl).expect(200)).text;
    expect(sample(theirs, 'http_requests_total', { route: '/health/live' })).toBe(2);
    expect(sample(mine, 'http_requests_total', { route: '/health/live' })).toBe(2); // one from the earlier test, one now
  });

  it('GET /health answers 503 in Neon error shape when the database is gone, while /health/live stays 200', async () => {
    await adminQuery(`DROP DATABASE ${t.database} WITH (FORCE)`);
    const res = await request(t.baseUrl).get('/health').set('X-Request-ID', 'health-down-1').expect(503);
    expect(res.body).toEqual({ request_id: 'health-down-1', code: 'SERVICE_UNAVAILABLE', message: 'not ready: database is down' });
    await request(t.baseUrl).get('/health/live').expect(200);
    const metrics = (await scrape(t.baseUrl).expect(200)).text;
    expect(sample(metrics, 'http_requests_total', { route: '/health', status: '503' })).toBe(1);
  });
});
