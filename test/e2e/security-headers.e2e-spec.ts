import request from 'supertest';
import { clientHeaders, createStackProject, type StackTestProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Security headers on every response (helmet): no MIME sniffing, no framing, a Content-Security-Policy
 * (Swagger UI's under /api/docs, which must still load, and the strictest elsewhere); the embedded
 * provider's CORS headers and the webhook receiver keep working. And /metrics without METRICS_TOKEN
 * configured is not served at all.
 */

/** The directives of a Content-Security-Policy header, by name. */
function csp(header: string | undefined): Record<string, string[]> {
  expect(header).toEqual(expect.any(String));
  return Object.fromEntries(
    header!
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0] !== '')
      .map(([name, ...values]) => [name, values]),
  );
}

function expectBaseline(res: request.Response): Record<string, string[]> {
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['x-frame-options']).toBe('DENY');
  const policy = csp(res.headers['content-security-policy']);
  expect(policy['frame-ancestors']).toEqual(["'none'"]);
  expect(res.headers['x-powered-by']).toBeUndefined();
  return policy;
}

describe('security headers', () => {
  let t: TestApp;
  let p: StackTestProject;
  beforeAll(async () => {
    t = await startTestApp();
    p = await createStackProject(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['GET /health', () => request(t.baseUrl).get('/health'), 200],
    ['GET /health/live', () => request(t.baseUrl).get('/health/live'), 200],
    ['GET /api/v2/users/me with a key', () => request(t.baseUrl).get('/api/v2/users/me').set('Authorization', `Bearer ${t.adminKey}`), 200],
    ['GET /api/v2/projects without a key', () => request(t.baseUrl).get('/api/v2/projects'), 401],
    ['POST /api/v2/api_keys with malformed JSON', () => request(t.baseUrl).post('/api/v2/api_keys').set('Authorization', `Bearer ${t.adminKey}`).set('Content-Type', 'application/json').send('{bad'), 400],
    ['an unknown route', () => request(t.baseUrl).get('/no/such/route'), 404],
    ['GET /api/docs-json', () => request(t.baseUrl).get('/api/docs-json'), 200],
  ] as const)('%s: nosniff, no framing, a CSP', async (_name, call, status) => {
    const res = await call();
    expect(res.status).toBe(status);
    const policy = expectBaseline(res);
    if (!res.request.url.includes('/api/docs')) {
      // JSON answers load nothing, whatever renders them.
      expect(policy['default-src']).toEqual(["'none'"]);
    }
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  it("GET /api/docs: Swagger UI's policy, and every asset the page names loads under it", async () => {
    const page = await request(t.baseUrl).get('/api/docs').expect(200);
    const policy = expectBaseline(page);
    expect(policy).toMatchObject({
      'default-src': ["'self'"],
      'script-src': ["'self'"],
      'img-src': ["'self'", 'data:'],
      'style-src': ["'self'", "'unsafe-inline'"],
      'object-src': ["'none'"],
    });
    // No inline script: every <script> has a same-origin src, so script-src 'self' runs them all.
    const scripts = [...page.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThanOrEqual(3);
    for (const [, attributes, body] of scripts) {
      expect(body.trim()).toBe('');
      expect(attributes).toMatch(/src="[^":]+"/);
    }
    const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]).filter((u) => !u.startsWith('#') && !u.startsWith('http'));
    const paths = assets.map((asset) => new URL(asset, `${t.baseUrl}/api/docs`).pathname);
    expect(paths).toEqual(expect.arrayContaining(['/api/docs/swagger-ui-bundle.js', '/api/docs/swagger-ui-init.js', '/api/docs/swagger-ui.css']));
    for (const asset of paths) {
      const res = await request(t.baseUrl).get(asset);
      expect([asset, res.status]).toEqual([asset, 200]);
      expectBaseline(res);
    }
    const init = await request(t.baseUrl).get('/api/docs/swagger-ui-init.js').expect(200);
    expect(init.headers['content-type']).toMatch(/javascript/);
    expect(init.text).toContain('"persistAuthorization": false');
  });

  it("the embedded provider's CORS answers are intact, and carry the same headers", async () => {
    const preflight = await request(`${t.baseUrl}/stack-auth/api/v1`)
      .options('/projects/current')
      .set({ origin: 'https://app.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-stack-project-id' });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
    expect(preflight.headers['access-control-allow-headers']).toBe('x-stack-project-id');
    const res = await request(`${t.baseUrl}/stack-auth/api/v1`).get('/projects/current').set({ ...clientHeaders(p), origin: 'https://app.example.com' }).expect(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-expose-headers']).toContain('x-stack-known-error');
    expectBaseline(res);
    const known = await request(`${t.baseUrl}/stack-auth/api/v1`).get('/projects/current').expect(400);
    expect(known.headers['x-stack-known-error']).toBe('ACCESS_TYPE_REQUIRED');
    expectBaseline(known);
  });

  it('the webhook receiver (ahead of Express) answers with them too', async () => {
    const unknown = await request(t.baseUrl).post('/webhooks/neon-auth/00000000-0000-4000-8000-000000000000').set('content-type', 'application/json').send('{}').expect(404);
    expect(unknown.body.code).toBe('NOT_FOUND');
    expectBaseline(unknown);
  });

  it('/metrics is not served when METRICS_TOKEN is unset: 404 as for any unknown path, with or without a token', async () => {
    const plain = await request(t.baseUrl).get('/metrics').expect(404);
    const unknown = await request(t.baseUrl).get('/no-such-path').expect(404);
    expect(plain.body.code).toBe(unknown.body.code);
    expect(plain.body.message).toBe('Cannot GET /metrics');
    expect(plain.text).not.toContain('# TYPE');
    const guessed = await request(t.baseUrl).get('/metrics').set('Authorization', `Bearer ${t.adminKey}`).expect(404);
    expect(guessed.text).not.toContain('# TYPE');
  });
});
