// POST /projects/auth/transfer_ownership: the provider's confirm page driven with real HTTP (as a browser
// would: GET the page, POST its form with the cookie it set), then the integration reports the new owner.
import { createApiClient, NeonAuthSupportedAuthProvider, type NeonAuthTransferAuthProviderProjectResponse } from '@neondatabase/api-client';
import request from 'supertest';
import { MockProviderAdapter } from '../../src/providers/mock/mock-provider.adapter.js';
import { apiClient } from '../helpers/client.js';
import { api, type Api } from '../helpers/fixtures.js';
import { createStackProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { adminQuery } from '../helpers/test-db.js';
import { enableAuth, newAuthProject, providerUser, uniqueEmail, usersSyncRow, type AuthProject, type EnabledAuth } from './users-helpers.js';

/** A person opening the confirm link and confirming with their e-mail (the provider's HTML form). */
async function confirmInBrowser(url: string, email: string): Promise<string> {
  const page = await fetch(url, { redirect: 'manual' });
  expect(page.status).toBe(200);
  const html = await page.text();
  const hidden = (name: string) => new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(html)?.[1];
  const cookie = page.headers.get('set-cookie')!.split(';')[0];
  const action = new URL('confirm', url).href.replace(/\?.*$/, '');
  const done = await fetch(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ code: hidden('code')!, nonce: hidden('nonce')!, email }).toString(),
    redirect: 'manual',
  });
  const text = await done.text();
  expect(done.status).toBe(200);
  return text;
}

describe('Neon Auth ownership transfer', () => {
  let t: TestApp;
  let admin: Api;

  beforeAll(async () => {
    t = await startTestApp();
    admin = api(t, t.adminKey);
  });
  afterAll(async () => {
    await t?.close();
  });

  const getAuth = (p: AuthProject) => admin.get(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`).expect(200);
  const listAuth = (p: AuthProject) => admin.get(`/projects/${p.projectId}/auth/integrations`).expect(200);
  const transfer = (p: AuthProject, provider: string) => admin.post('/projects/auth/transfer_ownership', { project_id: p.projectId, auth_provider: provider });

  describe('stack (embedded provider, confirmed in its HTML page)', () => {
    let p: AuthProject;
    let stack: EnabledAuth;
    let before: string;
    beforeAll(async () => {
      p = await newAuthProject(t, 'claim me');
      stack = await enableAuth(t, p.projectId, p.defaultBranchId, 'stack');
      before = (await admin.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth/users`, { email: uniqueEmail('before') }).expect(201)).body.id;
    });

    it('starts: 200 {url} to the provider confirm page; the integration shows transfer_status initiated', async () => {
      const first = await getAuth(p);
      expect(first.body).toMatchObject({ owned_by: 'neon' });
      expect(first.body.transfer_status).toBeUndefined();

      const res = await transfer(p, 'stack').expect(200);
      expect(Object.keys(res.body)).toEqual(['url']);
      expect(res.body.url).toMatch(new RegExp(`^${t.baseUrl.replace(/\./g, '\\.')}/stack-auth/integrations/neon/projects/transfer/confirm\\?code=[0-9a-z]{45}$`));
      const row = await adminQuery<{ transfer_status: string; owned_by: string }>('SELECT owned_by, transfer_status FROM neon_auth_integrations WHERE branch_id = $1', [p.defaultBranchId], t.database);
      expect(row).toEqual([{ owned_by: 'neon', transfer_status: 'initiated' }]);
      // Reading before the person confirmed asks the provider and changes nothing.
      expect((await getAuth(p)).body).toMatchObject({ owned_by: 'neon', transfer_status: 'initiated' });
      expect((await listAuth(p)).body.data[0]).toMatchObject({ owned_by: 'neon', transfer_status: 'initiated' });
    });

    it('once the person confirms in the provider page, reads report owned_by user and transfer_status finished', async () => {
      // Starting again while a link is pending issues a fresh link; the person uses that one.
      const { url } = (await transfer(p, 'stack').expect(200)).body as NeonAuthTransferAuthProviderProjectResponse;
      const html = await confirmInBrowser(url, 'Owner@Example.com');
      expect(html).toContain('Project transferred');
      const got = await getAuth(p);
      expect(got.body).toMatchObject({ owned_by: 'user', transfer_status: 'finished', auth_provider: 'stack', auth_provider_project_id: stack.auth_provider_project_id });
      expect((await listAuth(p)).body.data).toEqual([expect.objectContaining({ owned_by: 'user', transfer_status: 'finished', branch_id: p.defaultBranchId })]);
      const row = await adminQuery<{ transfer_status: string; owned_by: string }>('SELECT owned_by, transfer_status FROM neon_auth_integrations WHERE branch_id = $1', [p.defaultBranchId], t.database);
      expect(row).toEqual([{ owned_by: 'user', transfer_status: 'finished' }]);
    });

    it('users keep working after the transfer (provider and users_sync)', async () => {
      const base = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth/users`;
      const email = uniqueEmail('after');
      const id = (await admin.post(base, { email, name: 'After Transfer' }).expect(201)).body.id as string;
      expect(await usersSyncRow(p.uri, id)).toMatchObject({ email, name: 'After Transfer' });
      expect(await providerUser(t, stack, id)).toMatchObject({ primary_email: email });
      await request(t.apiUrl).put(`${base}/${before}/role`).set('Authorization', `Bearer ${t.adminKey}`).send({ roles: ['owner'] }).expect(200);
      expect((await usersSyncRow(p.uri, before))!.raw_json.server_metadata).toEqual({ roles: ['owner'] });
      await admin.delete(`${base}/${id}`).expect(204);
      expect((await usersSyncRow(p.uri, id))!.deleted_at).toBeInstanceOf(Date);
    });

    it('after the transfer: SDK keys and a second transfer -> 409 AUTH_PROVIDER_PROJECT_OWNED_BY_USER', async () => {
      const keys = await admin.post('/projects/auth/keys', { project_id: p.projectId, auth_provider: 'stack' }).expect(409);
      expect(keys.body.code).toBe('AUTH_PROVIDER_PROJECT_OWNED_BY_USER');
      const again = await transfer(p, 'stack').expect(409);
      expect(again.body.code).toBe('AUTH_PROVIDER_PROJECT_OWNED_BY_USER');
      expect(again.body.message).toContain('already belongs to you');
    });
  });

  describe('mock (the person confirming is simulated by the mock provider)', () => {
    it('initiated, then finished on the next read; SDK keys refused afterwards', async () => {
      const p = await newAuthProject(t, 'claim mock');
      const mock = await enableAuth(t, p.projectId, p.defaultBranchId, 'mock');
      const res = await transfer(p, 'mock').expect(200);
      expect(res.body.url).toMatch(/^https:\/\/mock-auth\.invalid\/integrations\/neon\/projects\/transfer\/confirm\?code=/);
      expect((await getAuth(p)).body).toMatchObject({ owned_by: 'neon', transfer_status: 'initiated' });
      // Before the confirmation SDK keys are still the product's to hand out.
      await admin.post('/projects/auth/keys', { project_id: p.projectId, auth_provider: 'mock' }).expect(201);
      await t.app.get(MockProviderAdapter).confirmOwnershipTransfer(mock.auth_provider_project_id);
      // The SDK-keys call reads the integration too: it learns about the transfer and refuses.
      expect((await admin.post('/projects/auth/keys', { project_id: p.projectId, auth_provider: 'mock' }).expect(409)).body.code).toBe('AUTH_PROVIDER_PROJECT_OWNED_BY_USER');
      expect((await getAuth(p)).body).toMatchObject({ owned_by: 'user', transfer_status: 'finished' });
      await admin.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth/users`, { email: uniqueEmail('mock-after') }).expect(201);
    });
  });

  it('a provider project connected by the user (manual setup, owned_by user) cannot be transferred -> 409', async () => {
    const own = await createStackProject(t, 'already mine');
    const p = await newAuthProject(t, 'manual');
    await admin
      .post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, {
        auth_provider: 'stack',
        auth_provider_base_url: own.baseUrl,
        auth_provider_project_id: own.projectId,
        secret_server_key: own.secretServerKey,
      })
      .expect(201);
    const res = await transfer(p, 'stack').expect(409);
    expect(res.body.code).toBe('AUTH_PROVIDER_PROJECT_OWNED_BY_USER');
    expect((await getAuth(p)).body.transfer_status).toBeUndefined();
  });

  it('errors: not enabled, another provider, better_auth, unknown project, bad bodies', async () => {
    const p = await newAuthProject(t, 'transfer errors');
    await enableAuth(t, p.projectId, p.defaultBranchId, 'mock');
    const plain = await newAuthProject(t, 'transfer plain');
    const cases: [object, number, string][] = [
      [{ project_id: plain.projectId, auth_provider: 'stack' }, 404, 'NEON_AUTH_NOT_ENABLED'],
      [{ project_id: p.projectId, auth_provider: 'stack' }, 404, 'NEON_AUTH_NOT_ENABLED'],
      [{ project_id: p.projectId, auth_provider: 'better_auth' }, 404, 'NEON_AUTH_NOT_ENABLED'],
      [{ project_id: 'no-such-project', auth_provider: 'mock' }, 404, 'NOT_FOUND'],
      [{ project_id: p.projectId }, 400, 'VALIDATION_ERROR'],
      [{ auth_provider: 'mock' }, 400, 'VALIDATION_ERROR'],
      [{ project_id: p.projectId, auth_provider: 'mock', url: 'x' }, 400, 'VALIDATION_ERROR'],
    ];
    for (const [body, status, code] of cases) {
      const res = await admin.post('/projects/auth/transfer_ownership', body);
      expect([res.status, res.body.code]).toEqual([status, code]);
    }
    expect((await getAuth(p)).body.transfer_status).toBeUndefined();
  });

  it('@neondatabase/api-client transferNeonAuthProviderProject and the generated client', async () => {
    const p = await newAuthProject(t, 'transfer clients');
    await enableAuth(t, p.projectId, p.defaultBranchId, 'mock');
    const neon = createApiClient({ apiKey: t.adminKey, baseURL: t.apiUrl });
    const res = await neon.transferNeonAuthProviderProject({ project_id: p.projectId, auth_provider: NeonAuthSupportedAuthProvider.Mock });
    expect(res.status).toBe(200);
    const body: NeonAuthTransferAuthProviderProjectResponse = res.data;
    expect(Object.keys(body)).toEqual(['url']);
    const integration = await neon.getNeonAuth(p.projectId, p.defaultBranchId);
    expect(integration.data.transfer_status).toBe('initiated');

    const client = apiClient(t.baseUrl, t.adminKey);
    const gen = await client.authLegacy.transferNeonAuthProviderProject({ project_id: p.projectId, auth_provider: 'mock' });
    expect(gen.data.url).toMatch(/^https:\/\/mock-auth\.invalid\//);
    const err = await client.authLegacy.transferNeonAuthProviderProject({ project_id: p.projectId, auth_provider: 'stack' }).catch((e: { status: number; error: { code: string } }) => e);
    expect(err).toMatchObject({ status: 404, error: { code: 'NEON_AUTH_NOT_ENABLED' } });
  });
});
