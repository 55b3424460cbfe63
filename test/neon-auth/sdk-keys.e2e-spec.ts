// POST /projects/auth/keys: fresh SDK keys from the provider, shown once, that work in Stack Auth's own SDK.
import { createApiClient, NeonAuthSupportedAuthProvider, type NeonAuthCreateIntegrationResponse } from '@neondatabase/api-client';
import { StackClientApp as ClientApp108, StackServerApp as ServerApp108 } from '@stackframe/js';
import { StackServerApp as ServerApp102 } from 'stackframe-js-2-8-102';
import { MockProviderAdapter } from '../../src/providers/mock/mock-provider.adapter.js';
import { apiClient } from '../helpers/client.js';
import { api, type Api } from '../helpers/fixtures.js';
import { createStackProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { enableAuth, mockCredentials, newAuthProject, newBranch, uniqueEmail, type AuthProject, type EnabledAuth } from './users-helpers.js';

const RESPONSE_KEYS = ['auth_provider', 'auth_provider_project_id', 'base_url', 'jwks_url', 'pub_client_key', 'schema_name', 'secret_server_key', 'table_name'];

describe('Neon Auth SDK keys', () => {
  let t: TestApp;
  let admin: Api;
  let stackProject: AuthProject;
  let stack: EnabledAuth;
  let mockProject: AuthProject;
  let mock: EnabledAuth;

  beforeAll(async () => {
    t = await startTestApp();
    admin = api(t, t.adminKey);
    stackProject = await newAuthProject(t, 'sdk keys stack');
    stack = await enableAuth(t, stackProject.projectId, stackProject.defaultBranchId, 'stack');
    mockProject = await newAuthProject(t, 'sdk keys mock');
    mock = await enableAuth(t, mockProject.projectId, mockProject.defaultBranchId, 'mock');
  });
  afterAll(async () => {
    // Stack's SDK drops its caches 5 s after their last fetch, on timers it does not unref: let them run out
    // while the app is still up, so the worker exits cleanly (as test/stack-auth/users-sdk does).
    await new Promise((resolve) => setTimeout(resolve, 5_200));
    await t?.close();
  }, 30_000);

  it('stack: 201 with new pck_/ssk_ keys for the default branch provider project; never shown again', async () => {
    const res = await admin.post('/projects/auth/keys', { project_id: stackProject.projectId, auth_provider: 'stack' }).expect(201);
    expect(Object.keys(res.body).sort()).toEqual(RESPONSE_KEYS);
    expect(res.body).toMatchObject({
      auth_provider: 'stack',
      auth_provider_project_id: stack.auth_provider_project_id,
      jwks_url: stack.jwks_url,
      base_url: `${t.baseUrl}/stack-auth`,
      schema_name: 'neon_auth',
      table_name: 'users_sync',
    });
    expect(res.body.pub_client_key).toMatch(/^pck_[0-9a-z]{20,}$/);
    expect(res.body.secret_server_key).toMatch(/^ssk_[0-9a-z]{20,}$/);
    expect(res.body.pub_client_key).not.toBe(stack.pub_client_key);
    expect(res.body.secret_server_key).not.toBe(stack.secret_server_key);
    const second = await admin.post('/projects/auth/keys', { project_id: stackProject.projectId, auth_provider: 'stack' }).expect(201);
    expect(second.body.secret_server_key).not.toBe(res.body.secret_server_key);
    // Reads never carry keys.
    const get = await admin.get(`/projects/${stackProject.projectId}/branches/${stackProject.defaultBranchId}/auth`).expect(200);
    expect(JSON.stringify(get.body)).not.toContain(res.body.secret_server_key);
    expect(get.body.pub_client_key).toBeUndefined();
  });

  it("the keys work in Stack Auth's SDK (both versions) against the provider project; earlier keys stay valid", async () => {
    const emails = [uniqueEmail('sdk-a'), uniqueEmail('sdk-b')];
    for (const email of emails) {
      await admin.post(`/projects/${stackProject.projectId}/branches/${stackProject.defaultBranchId}/auth/users`, { email, name: 'Sdk User' }).expect(201);
    }
    const keys = (await admin.post('/projects/auth/keys', { project_id: stackProject.projectId, auth_provider: 'stack' }).expect(201)).body as NeonAuthCreateIntegrationResponse;
    const options = (k: NeonAuthCreateIntegrationResponse) => ({
      projectId: k.auth_provider_project_id,
      publishableClientKey: k.pub_client_key,
      secretServerKey: k.secret_server_key,
      baseUrl: k.base_url!,
      tokenStore: 'memory' as const,
    });
    const apps = [new ServerApp108(options(keys)), new ServerApp102(options(keys)), new ServerApp108(options(stack as NeonAuthCreateIntegrationResponse))];
    for (const app of apps) {
      const users: { primaryEmail: string | null }[] = await app.listUsers();
      expect(users.map((u) => u.primaryEmail)).toEqual(expect.arrayContaining(emails));
      const created = await app.createUser({ primaryEmail: uniqueEmail('from-sdk'), displayName: 'Made by the SDK' });
      expect(created.displayName).toBe('Made by the SDK');
    }
    // The publishable client key works for the client SDK (sign-up with a password).
    const client = new ClientApp108({ projectId: keys.auth_provider_project_id, publishableClientKey: keys.pub_client_key, baseUrl: keys.base_url!, tokenStore: 'memory' });
    const signUp = await client.signUpWithCredential({ email: uniqueEmail('signup'), password: 'correct horse battery staple', noVerificationCallback: true });
    expect(signUp.status).toBe('ok');
    await client.signOut();
  });

  it('mock: 201 with deterministic-format keys that the mock provider accepts', async () => {
    const res = await admin.post('/projects/auth/keys', { project_id: mockProject.projectId, auth_provider: 'mock' }).expect(201);
    expect(Object.keys(res.body).sort()).toEqual(RESPONSE_KEYS);
    expect(res.body).toMatchObject({ auth_provider: 'mock', auth_provider_project_id: mock.auth_provider_project_id, jwks_url: mock.jwks_url });
    expect(res.body.pub_client_key).toMatch(/^pck_/);
    expect(res.body.secret_server_key).toMatch(/^ssk_/);
    expect(res.body.secret_server_key).not.toBe(mock.secret_server_key);
    await admin.post(`/projects/${mockProject.projectId}/branches/${mockProject.defaultBranchId}/auth/users`, { email: uniqueEmail('mock-keys') }).expect(201);
    const page = await t.app.get(MockProviderAdapter).listUsers(mockCredentials({ ...mock, secret_server_key: res.body.secret_server_key }), { limit: 10 });
    expect(page.users).toHaveLength(1);
  });

  it('a provider project that belongs to the user (manual setup) -> 409: keys are managed in the provider', async () => {
    const own = await createStackProject(t, 'my own stack project');
    const p = await newAuthProject(t, 'manual setup');
    await admin
      .post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, {
        auth_provider: 'stack',
        auth_provider_base_url: own.baseUrl,
        auth_provider_project_id: own.projectId,
        secret_server_key: own.secretServerKey,
      })
      .expect(201);
    const res = await admin.post('/projects/auth/keys', { project_id: p.projectId, auth_provider: 'stack' }).expect(409);
    expect(res.body.code).toBe('AUTH_PROVIDER_PROJECT_OWNED_BY_USER');
    expect(res.body.message).toContain('owned_by: user');
    expect(res.body.message).toContain('managed in the auth provider');
  });

  it('errors: not enabled, another provider, better_auth, unknown project, bad bodies', async () => {
    const plain = await newAuthProject(t, 'no auth');
    const cases: [object, number, string][] = [
      [{ project_id: plain.projectId, auth_provider: 'stack' }, 404, 'NEON_AUTH_NOT_ENABLED'],
      [{ project_id: stackProject.projectId, auth_provider: 'mock' }, 404, 'NEON_AUTH_NOT_ENABLED'],
      [{ project_id: stackProject.projectId, auth_provider: 'better_auth' }, 404, 'NEON_AUTH_NOT_ENABLED'],
      [{ project_id: 'no-such-project', auth_provider: 'stack' }, 404, 'NOT_FOUND'],
      [{ project_id: stackProject.projectId }, 400, 'VALIDATION_ERROR'],
      [{ project_id: stackProject.projectId, auth_provider: 'auth0' }, 400, 'VALIDATION_ERROR'],
      [{ project_id: 'BAD ID', auth_provider: 'stack' }, 400, 'VALIDATION_ERROR'],
      [{ project_id: stackProject.projectId, auth_provider: 'stack', branch_id: stackProject.defaultBranchId }, 400, 'VALIDATION_ERROR'],
    ];
    for (const [body, status, code] of cases) {
      const res = await admin.post('/projects/auth/keys', body);
      expect([res.status, res.body.code]).toEqual([status, code]);
    }
  });

  it('only the default branch counts (a branch-only integration is not found)', async () => {
    const p = await newAuthProject(t, 'branch only');
    const b = await newBranch(t, admin, p.projectId, 'auth-here');
    await enableAuth(t, p.projectId, b.id, 'mock');
    expect((await admin.post('/projects/auth/keys', { project_id: p.projectId, auth_provider: 'mock' }).expect(404)).body.code).toBe('NEON_AUTH_NOT_ENABLED');
  });

  it('Idempotency-Key: a retry answers the same keys (stored encrypted), not new ones', async () => {
    const body = { project_id: mockProject.projectId, auth_provider: 'mock' };
    const first = await admin.post('/projects/auth/keys', body).set('Idempotency-Key', 'keys-once').expect(201);
    const again = await admin.post('/projects/auth/keys', body).set('Idempotency-Key', 'keys-once').expect(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('@neondatabase/api-client createNeonAuthProviderSdkKeys and the generated client', async () => {
    const neon = createApiClient({ apiKey: t.adminKey, baseURL: t.apiUrl });
    const res = await neon.createNeonAuthProviderSdkKeys({ project_id: stackProject.projectId, auth_provider: NeonAuthSupportedAuthProvider.Stack });
    expect(res.status).toBe(201);
    const typed: Required<NeonAuthCreateIntegrationResponse> = res.data as Required<NeonAuthCreateIntegrationResponse>;
    expect(Object.keys(typed).sort()).toEqual(RESPONSE_KEYS);
    const failed = await neon.createNeonAuthProviderSdkKeys({ project_id: stackProject.projectId, auth_provider: NeonAuthSupportedAuthProvider.Mock }).catch((e: { response: { status: number; data: { code: string } } }) => e.response);
    expect(failed).toMatchObject({ status: 404, data: { code: 'NEON_AUTH_NOT_ENABLED' } });

    const client = apiClient(t.baseUrl, t.adminKey);
    const gen = await client.authLegacy.createNeonAuthProviderSdkKeys({ project_id: mockProject.projectId, auth_provider: 'mock' });
    expect(gen.status).toBe(201);
    expect(gen.data.secret_server_key).toMatch(/^ssk_/);
    const err = await client.authLegacy.createNeonAuthProviderSdkKeys({ project_id: mockProject.projectId, auth_provider: 'better_auth' }).catch((e: { status: number; error: { code: string } }) => e);
    expect(err).toMatchObject({ status: 404, error: { code: 'NEON_AUTH_NOT_ENABLED' } });
  });
});
