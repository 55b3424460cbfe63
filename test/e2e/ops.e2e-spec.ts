import request from 'supertest';
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

describe('operations endpoints', () => {
  let t: TestApp;
  let other: TestApp | undefined;
  beforeAll(async () => {
    t = await startTestApp();
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

    const res = await api.get('/metrics').expect(200);
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

  it('keeps one registry per app instance, so two apps in one process count separately', async () => {
    other = await startTestApp();
    await request(other.baseUrl).get('/health/live').expect(200);
    await request(other.baseUrl).get('/health/live').expect(200);
    await request(t.baseUrl).get('/health/live').expect(200);
    const mine = (await request(t.baseUrl).get('/metrics').expect(200)).text;
    const theirs = (await request(other.baseUrl).get('/metrics').expect(200)).text;
    expect(sample(theirs, 'http_requests_total', { route: '/health/live' })).toBe(2);
    expect(sample(mine, 'http_requests_total', { route: '/health/live' })).toBe(2); // one from the earlier test, one now
  });

  it('GET /health answers 503 in Neon error shape when the database is gone, while /health/live stays 200', async () => {
    await adminQuery(`DROP DATABASE ${t.database} WITH (FORCE)`);
    const res = await request(t.baseUrl).get('/health').set('X-Request-ID', 'health-down-1').expect(503);
    expect(res.body).toEqual({ request_id: 'health-down-1', code: 'SERVICE_UNAVAILABLE', message: 'not ready: database is down' });
    await request(t.baseUrl).get('/health/live').expect(200);
    const metrics = (await request(t.baseUrl).get('/metrics').expect(200)).text;
    expect(sample(metrics, 'http_requests_total', { route: '/health', status: '503' })).toBe(1);
  });
});
