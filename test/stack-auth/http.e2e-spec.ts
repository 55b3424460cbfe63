import request from 'supertest';
import { clientHeaders, createStackProject, serverHeaders, type StackTestProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/** The provider's request authentication and error protocol (Stack Auth's, not Neon's). */
describe('embedded provider: headers, keys and errors', () => {
  let t: TestApp;
  let p: StackTestProject;
  beforeAll(async () => {
    t = await startTestApp();
    p = await createStackProject(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const api = () => request(`${t.baseUrl}/stack-auth/api/v1`);

  it('serves the client project config with a publishable key, in both header families', async () => {
    for (const prefix of ['stack', 'hexclave'] as const) {
      const res = await api().get('/projects/current').set(clientHeaders(p, prefix)).expect(200);
      expect(res.body).toMatchObject({ id: p.projectId, config: { sign_up_enabled: true, enabled_oauth_providers: [], domains: [] } });
      expect(res.headers['x-stack-request-id']).toEqual(res.headers['x-hexclave-request-id']);
      expect(res.headers['cache-control']).toBe('no-store, max-age=0');
    }
  });

  it('known errors are JSON {code, details?, error} with both known-error headers', async () => {
    const res = await api().get('/projects/current').expect(400);
    expect(res.headers['x-stack-known-error']).toBe('ACCESS_TYPE_REQUIRED');
    expect(res.headers['x-hexclave-known-error']).toBe('ACCESS_TYPE_REQUIRED');
    expect(Object.keys(JSON.parse(res.text))).toEqual(['code', 'error']);
  });

  it('override-error-status turns a 4xx into 200 with the actual status in both families', async () => {
    const res = await api()
      .get('/projects/current')
      .set({ ...clientHeaders(p), 'x-stack-publishable-client-key': 'pck_wrong', 'x-stack-override-error-status': 'true' })
      .expect(200);
    expect(res.headers['x-stack-actual-status']).toBe('401');
    expect(res.headers['x-hexclave-actual-status']).toBe('401');
    expect(res.body.code).toBe('INVALID_PUBLISHABLE_CLIENT_KEY');
  });

  it.each([
    ['no access type but a key', { 'x-stack-project-id': 'x', 'x-stack-secret-server-key': 'k' }, 400, 'PROJECT_KEY_WITHOUT_ACCESS_TYPE'],
    ['a bad access type', { 'x-stack-access-type': 'root' }, 400, 'INVALID_ACCESS_TYPE'],
    ['no project id', { 'x-stack-access-type': 'server' }, 400, 'ACCESS_TYPE_WITHOUT_PROJECT_ID'],
    ['an unknown project', { 'x-stack-access-type': 'server', 'x-stack-project-id': '00000000-0000-4000-8000-000000000000' }, 400, 'CURRENT_PROJECT_NOT_FOUND'],
    ['a non-uuid project', { 'x-stack-access-type': 'server', 'x-stack-project-id': 'internal; drop' }, 400, 'CURRENT_PROJECT_NOT_FOUND'],
  ])('%s', async (_name, headers, status, code) => {
    const res = await api().get('/projects/current').set(headers as Record<string, string>).expect(status);
    expect(res.body.code).toBe(code);
  });

  it('server access needs the secret server key of that very project', async () => {
    const other = await createStackProject(t, 'Other');
    expect((await api().get('/projects/current').set({ ...serverHeaders(p), 'x-stack-secret-server-key': '' }).expect(401)).body.code).toBe(
      'SERVER_AUTHENTICATION_REQUIRED',
    );
    expect((await api().get('/projects/current').set({ ...serverHeaders(p), 'x-stack-secret-server-key': other.secretServerKey }).expect(401)).body.code).toBe(
      'INVALID_SECRET_SERVER_KEY',
    );
    await api().get('/projects/current').set(serverHeaders(p)).expect(200);
  });

  it('JWKS lists the project\'s ES256 public keys and 404s for unknown projects', async () => {
    const res = await api().get(`/projects/${p.projectId}/.well-known/jwks.json`).expect(200);
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    expect(res.body.keys).toEqual([expect.objectContaining({ kty: 'EC', crv: 'P-256', alg: 'ES256', kid: expect.stringMatching(/^[A-Za-z0-9_-]{12}$/) })]);
    expect(JSON.stringify(res.body)).not.toContain('"d"');
    await api().get('/projects/00000000-0000-4000-8000-000000000000/.well-known/jwks.json').expect(404);
  });

  it('malformed JSON is a BODY_PARSING_ERROR in Stack\'s format', async () => {
    const res = await api().post('/users').set(serverHeaders(p)).set('content-type', 'application/json').send('{"x":').expect(400);
    expect(res.headers['x-stack-known-error']).toBe('BODY_PARSING_ERROR');
  });
});
