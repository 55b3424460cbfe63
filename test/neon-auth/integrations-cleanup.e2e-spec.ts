// Disable (and failed enables) delete the provider project the product manages (owned_by neon), and only that:
// user-owned projects (manual setup, or transferred to their person) are never deleted. Real HTTP, real databases.
import request from 'supertest';
import { DataSource } from 'typeorm';
import { ProviderAuthFailed, ProviderUnavailable, type ProviderCredentials } from '../../src/providers/auth-provider.port.js';
import { MOCK_PROVIDER_BASE_URL, MockProviderAdapter } from '../../src/providers/mock/mock-provider.adapter.js';
import { StackProviderAdapter } from '../../src/providers/stack/stack-provider.adapter.js';
import { api, withClient, type Api } from '../helpers/fixtures.js';
import { createStackProject, serverHeaders } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { integrationRows, newProject, providerProjectCounts } from './integrations-helpers.js';

type Kind = 'stack' | 'mock';

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the promise to reject');
}

describe('Neon Auth: managed provider projects are cleaned up', () => {
  let t: TestApp;
  let a: Api;
  beforeAll(async () => {
    t = await startTestApp();
    a = api(t, t.adminKey);
  });
  afterAll(async () => {
    await t?.close();
  });

  const adapter = (kind: Kind) => (kind === 'stack' ? t.app.get(StackProviderAdapter) : t.app.get(MockProviderAdapter));

  /** Whether the provider still has the project (stack: its row; mock: a live, not tombstoned row). */
  async function providerHas(kind: Kind, projectId: string): Promise<boolean> {
    const db = t.app.get(DataSource);
    const rows =
      kind === 'stack'
        ? await db.query('SELECT 1 FROM stack_auth.projects WHERE id = $1', [projectId])
        : await db.query('SELECT 1 FROM mock_provider_projects WHERE id = $1 AND deleted_at IS NULL', [projectId]);
    return rows.length === 1;
  }

  /** Whether an application's secret server key (from the enable answer) still opens the provider project. */
  async function sdkKeyWorks(kind: Kind, enabled: { auth_provider_project_id: string; secret_server_key: string; pub_client_key: string }): Promise<boolean> {
    if (kind === 'stack') {
      const server = await request(t.baseUrl)
        .get('/stack-auth/api/v1/users')
        .set({ 'x-stack-access-type': 'server', 'x-stack-project-id': enabled.auth_provider_project_id, 'x-stack-secret-server-key': enabled.secret_server_key });
      const client = await request(t.baseUrl)
        .get('/stack-auth/api/v1/projects/current')
        .set({ 'x-stack-access-type': 'client', 'x-stack-project-id': enabled.auth_provider_project_id, 'x-stack-publishable-client-key': enabled.pub_client_key });
      if (server.status === 200 && client.status === 200) return true;
      expect([server.status, server.body.code, client.status, client.body.code]).toEqual([400, 'CURRENT_PROJECT_NOT_FOUND', 400, 'CURRENT_PROJECT_NOT_FOUND']);
      return false;
    }
    const creds: ProviderCredentials = { baseUrl: MOCK_PROVIDER_BASE_URL, projectId: enabled.auth_provider_project_id, secretServerKey: enabled.secret_server_key };
    try {
      await adapter('mock').listUsers(creds, { limit: 1 });
      return true;
    } catch (err) {
      expect(err).toBeInstanceOf(ProviderAuthFailed);
      return false;
    }
  }

  describe.each(['stack', 'mock'] as const)('%s', (kind) => {
    it.each(['branch', 'legacy'] as const)('disable (%s route) deletes the managed provider project and its users; the old SDK keys stop working', async (route) => {
      const p = await newProject(t);
      const path = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
      const enabled = (await a.post(path, { auth_provider: kind }).expect(201)).body;
      await a.post(`${path}/users`, { email: `someone-${route}@example.com`, name: 'Someone' }).expect(201);
      expect(await sdkKeyWorks(kind, enabled)).toBe(true);
      const before = await providerProjectCounts(t);

      const off = route === 'branch' ? await a.delete(path).send({}).expect(200) : await a.delete(`/projects/${p.projectId}/auth/integration/${kind}`).send({}).expect(200);
      expect(off.body).toEqual({});

      expect(await integrationRows(t, p.projectId)).toEqual([]);
      expect(await providerHas(kind, enabled.auth_provider_project_id)).toBe(false);
      expect((await providerProjectCounts(t))[kind]).toBe(before[kind] - 1);
      const db = t.app.get(DataSource);
      const users =
        kind === 'stack'
          ? await db.query('SELECT id FROM stack_auth.users WHERE project_id = $1', [enabled.auth_provider_project_id])
          : await db.query('SELECT id FROM mock_provider_users WHERE project_id = $1', [enabled.auth_provider_project_id]);
      expect(users).toEqual([]);
      expect(await sdkKeyWorks(kind, enabled)).toBe(false);

      // Enabling again makes a new provider project with working keys.
      const again = (await a.post(path, { auth_provider: kind }).expect(201)).body;
      expect(again.auth_provider_project_id).not.toBe(enabled.auth_provider_project_id);
      expect(await sdkKeyWorks(kind, again)).toBe(true);
      expect(await sdkKeyWorks(kind, enabled)).toBe(false);
    });

    it('a user-owned provider project (manual setup) is never deleted', async () => {
      const p = await newProject(t);
      let connect: Record<string, string>;
      let creds: ProviderCredentials;
      if (kind === 'stack') {
        const sp = await createStackProject(t, 'customer owned');
        await request(t.baseUrl).post('/stack-auth/api/v1/users').set(serverHeaders(sp)).send({ primary_email: 'own@example.com' }).expect(201);
        connect = { auth_provider_base_url: sp.baseUrl, auth_provider_project_id: sp.projectId, secret_server_key: sp.secretServerKey };
        creds = { baseUrl: sp.baseUrl, projectId: sp.projectId, secretServerKey: sp.secretServerKey };
      } else {
        const made = await t.app.get(MockProviderAdapter).provisionManagedProject({ displayName: 'customer owned' });
        await t.app.get(MockProviderAdapter).createUser(made.credentials, { email: 'own@example.com' });
        connect = { auth_provider_base_url: MOCK_PROVIDER_BASE_URL, auth_provider_project_id: made.providerProjectId, secret_server_key: made.credentials.secretServerKey! };
        creds = { baseUrl: MOCK_PROVIDER_BASE_URL, projectId: made.providerProjectId, secretServerKey: made.credentials.secretServerKey };
      }
      const path = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
      await a.post(path, { auth_provider: kind, ...connect }).expect(201);
      await a.delete(path).send({ delete_data: true }).expect(200);
      expect(await integrationRows(t, p.projectId)).toEqual([]);
      expect(await providerHas(kind, connect.auth_provider_project_id)).toBe(true);
      expect((await adapter(kind).listUsers(creds, { limit: 10 })).users.map((u) => u.email)).toEqual(['own@example.com']);
    });

    it('a project whose transfer was confirmed in the provider (not yet read back) is not deleted', async () => {
      const p = await newProject(t);
      const path = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
      const enabled = (await a.post(path, { auth_provider: kind }).expect(201)).body;
      const { url } = (await a.post('/projects/auth/transfer_ownership', { project_id: p.projectId, auth_provider: kind }).expect(200)).body;
      if (kind === 'mock') {
        await t.app.get(MockProviderAdapter).confirmOwnershipTransfer(enabled.auth_provider_project_id);
      } else {
        // The person confirms in the provider's page (GET it, POST its form with its cookie).
        const page = await fetch(url);
        const html = await page.text();
        const hidden = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)![1];
        const done = await fetch(`${t.baseUrl}/stack-auth/integrations/neon/projects/transfer/confirm`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: page.headers.get('set-cookie')!.split(';')[0] },
          body: new URLSearchParams({ code: hidden('code'), nonce: hidden('nonce'), email: 'owner@example.com' }).toString(),
        });
        expect(done.status).toBe(200);
      }
      // The integration row still says owned_by neon / initiated: nobody read it since the confirmation.
      expect((await integrationRows(t, p.projectId)).map((r) => [r.ownedBy, r.transferStatus])).toEqual([['neon', 'initiated']]);
      await a.delete(path).send({}).expect(200);
      expect(await providerHas(kind, enabled.auth_provider_project_id)).toBe(true);
      expect(await sdkKeyWorks(kind, enabled)).toBe(true);
    });

    it('a provider failure while deleting does not fail the disable (the project stays, logged)', async () => {
      const p = await newProject(t);
      const path = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
      const enabled = (await a.post(path, { auth_provider: kind }).expect(201)).body;
      const provider = adapter(kind);
      const original = provider.deleteManagedProject.bind(provider);
      let calls = 0;
      provider.deleteManagedProject = async () => {
        calls++;
        throw new ProviderUnavailable('delete project: connect ECONNREFUSED');
      };
      try {
        await a.delete(path).send({}).expect(200);
      } finally {
        provider.deleteManagedProject = original;
      }
      expect(calls).toBe(1);
      expect(await integrationRows(t, p.projectId)).toEqual([]);
      await a.get(path).expect(404);
      expect(await providerHas(kind, enabled.auth_provider_project_id)).toBe(true);
    });

    it('an enable that fails after its provider project was made (SDK keys) deletes that project', async () => {
      const p = await newProject(t);
      const provider = adapter(kind);
      const original = provider.createSdkKeys.bind(provider);
      provider.createSdkKeys = async () => {
        throw new ProviderUnavailable('create api keys: connect ECONNREFUSED');
      };
      const before = await providerProjectCounts(t);
      try {
        const res = await a.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, { auth_provider: kind }).expect(503);
        expect(res.body.code).toBe('AUTH_PROVIDER_UNAVAILABLE');
      } finally {
        provider.createSdkKeys = original;
      }
      expect(await providerProjectCounts(t)).toEqual(before);
      expect(await integrationRows(t, p.projectId)).toEqual([]);
    });

    it('the loser of two concurrent enables deletes its provider project; the winner\'s keys work', async () => {
      const p = await newProject(t);
      const path = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
      // Both requests pass the early "already enabled" check: the loser fails on the unique branch index.
      const provisioning = t.app.get((await import('../../src/neon-auth/users-sync/users-sync.store.js')).NeonAuthUsersSyncStore);
      const original = provisioning.provision.bind(provisioning);
      provisioning.provision = async (target) => {
        await new Promise((r) => setTimeout(r, 400));
        return original(target);
      };
      const before = await providerProjectCounts(t);
      let results: request.Response[];
      try {
        results = await Promise.all([a.post(path, { auth_provider: kind }), a.post(path, { auth_provider: kind })]);
      } finally {
        provisioning.provision = original;
      }
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
      const winner = results.find((r) => r.status === 201)!.body;
      expect(await providerProjectCounts(t)).toEqual({ ...before, [kind]: before[kind] + 1 });
      expect(await providerHas(kind, winner.auth_provider_project_id)).toBe(true);
      expect(await sdkKeyWorks(kind, winner)).toBe(true);
    });
  });

  it.each(['stack', 'mock'] as const)(
    '%s: disable without delete_data keeps the rows but marks them deleted (their provider project is gone); enabling again starts clean',
    async (kind) => {
      const { projectId, defaultBranchId, uri } = await newProject(t, a, `keep-rows-${kind}`);
      const auth = `/projects/${projectId}/branches/${defaultBranchId}/auth`;
      await a.post(auth, { auth_provider: kind }).expect(201);
      const user = (await a.post(`${auth}/users`, { email: `kept-${kind}@example.com` }).expect(201)).body.id as string;
      await request(t.baseUrl).delete(`/api/v2${auth}`).set('Authorization', `Bearer ${t.adminKey}`).send({ delete_data: false }).expect(200);
      const rows = await withClient(uri, async (c) => (await c.query('SELECT id, deleted_at FROM neon_auth.users_sync')).rows);
      expect(rows).toEqual([{ id: user, deleted_at: expect.any(Date) }]);
      await a.post(auth, { auth_provider: kind }).expect(201);
      const again = await withClient(uri, async (c) => (await c.query('SELECT id, deleted_at FROM neon_auth.users_sync WHERE id = $1', [user])).rows);
      expect(again).toEqual([{ id: user, deleted_at: expect.any(Date) }]);
      await a.post(`${auth}/users`, { email: `kept-${kind}@example.com` }).expect(201);
    },
  );

  it('deleting a gone project is a success for both adapters (idempotent)', async () => {
    for (const kind of ['stack', 'mock'] as const) {
      const made = await adapter(kind).provisionManagedProject({ displayName: 'twice' });
      await adapter(kind).deleteManagedProject(made.credentials);
      await expect(adapter(kind).deleteManagedProject(made.credentials)).resolves.toBeUndefined();
      expect(await rejection(adapter(kind).listUsers(made.credentials, { limit: 1 }))).toBeInstanceOf(ProviderAuthFailed);
    }
  });
});
