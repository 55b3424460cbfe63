// Disable with delete_data (and failed enables) delete the provider project the product manages (owned_by neon), and
// only that: user-owned projects (manual setup, or transferred to their person) are never deleted. Without delete_data
// the managed project is kept, and enabling again on the branch reattaches it. Real HTTP, real databases.
import request from 'supertest';
import { DataSource } from 'typeorm';
import { ProviderAuthFailed, ProviderUnavailable, type ProviderCredentials } from '../../src/providers/auth-provider.port.js';
import { MOCK_PROVIDER_BASE_URL, MockProviderAdapter } from '../../src/providers/mock/mock-provider.adapter.js';
import { StackProviderAdapter } from '../../src/providers/stack/stack-provider.adapter.js';
import { api, withClient, type Api, rejection } from '../helpers/fixtures.js';
import { createStackProject, serverHeaders } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { NeonAuthIntegrationResolver } from '../../src/neon-auth/integrations/integration-resolver.js';
import { OperationsReconciler } from '../../src/projects/operations/operations.reconciler.js';
import { SyncReconcilerService } from '../../src/sync/reconciler/reconciler.service.js';
import { integrationRows, newProject, providerProjectCounts } from './integrations-helpers.js';
import { signUpWithClientKey } from './users-helpers.js';

type Kind = 'stack' | 'mock';


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
    it.each(['branch', 'legacy'] as const)('disable with delete_data (%s route) deletes the managed provider project and its users; the old SDK keys stop working', async (route) => {
      const p = await newProject(t);
      const path = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
      const enabled = (await a.post(path, { auth_provider: kind }).expect(201)).body;
      await a.post(`${path}/users`, { email: `someone-${route}@example.com`, name: 'Someone' }).expect(201);
      expect(await sdkKeyWorks(kind, enabled)).toBe(true);
      const before = await providerProjectCounts(t);

      const off =
        route === 'branch'
          ? await a.delete(path).send({ delete_data: true }).expect(200)
          : await a.delete(`/projects/${p.projectId}/auth/integration/${kind}`).send({ delete_data: true }).expect(200);
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

    it('a provider failure while deleting does not fail the disable (the project stays; the operation is retried)', async () => {
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
        await a.delete(path).send({ delete_data: true }).expect(200);
      } finally {
        provider.deleteManagedProject = original;
      }
      expect(calls).toBe(1);
      expect(await integrationRows(t, p.projectId)).toEqual([]);
      await a.get(path).expect(404);
      expect(await providerHas(kind, enabled.auth_provider_project_id)).toBe(true);
      // The disable's operation waits in `error`; its retry (the reconciler) deletes the project.
      const ops = (await a.get(`/projects/${p.projectId}/operations`).expect(200)).body.operations;
      expect(ops[0]).toMatchObject({ action: 'apply_config', branch_id: p.defaultBranchId, status: 'error', failures_count: 1 });
      expect(ops[0].error).not.toMatch(/ECONNREFUSED/); // the API's message, not the network's
      // Work on the branch's databases does not wait for a provider call: a database can be created meanwhile.
      await a.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/databases`, { database: { name: `meanwhile_${kind}`, owner_name: 'neondb_owner' } }).expect(201);
      await t.app.get(DataSource).query('UPDATE operations SET retry_at = now() WHERE id = $1', [ops[0].id]);
      t.app.get(OperationsReconciler).kick();
      await t.app.get(OperationsReconciler).idle();
      expect((await a.get(`/projects/${p.projectId}/operations/${ops[0].id}`).expect(200)).body.operation.status).toBe('finished');
      expect(await providerHas(kind, enabled.auth_provider_project_id)).toBe(false);
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

    it('of two concurrent enables, the second waits for the first (423, which Neon clients retry) and makes nothing', async () => {
      const p = await newProject(t);
      const path = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
      // Both requests pass the early "already enabled" check: the second meets the first's operation.
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
      expect(results.map((r) => r.status).sort()).toEqual([201, 423]);
      expect(results.find((r) => r.status === 423)!.body.message).toMatch(/operations in progress/);
      const winner = results.find((r) => r.status === 201)!.body;
      expect(await providerProjectCounts(t)).toEqual({ ...before, [kind]: before[kind] + 1 });
      expect(await providerHas(kind, winner.auth_provider_project_id)).toBe(true);
      expect(await sdkKeyWorks(kind, winner)).toBe(true);
    });
  });

  it.each(['stack', 'mock'] as const)(
    '%s: disable without delete_data keeps the rows and the provider project; enabling again reattaches it, nothing is marked deleted',
    async (kind) => {
      const { projectId, defaultBranchId, uri } = await newProject(t, a, `keep-rows-${kind}`);
      const auth = `/projects/${projectId}/branches/${defaultBranchId}/auth`;
      const first = (await a.post(auth, { auth_provider: kind }).expect(201)).body;
      const user = (await a.post(`${auth}/users`, { email: `kept-${kind}@example.com` }).expect(201)).body.id as string;
      const signedUp = kind === 'stack' ? await signUpWithClientKey(t, first, `password-${kind}@example.com`) : undefined;
      await request(t.baseUrl).delete(`/api/v2${auth}`).set('Authorization', `Bearer ${t.adminKey}`).send({ delete_data: false }).expect(200);
      await a.get(auth).expect(404);
      const rows = await withClient(uri, async (c) => (await c.query('SELECT id FROM neon_auth.users_sync WHERE deleted_at IS NULL ORDER BY id')).rows);
      expect(rows.map((r) => r.id)).toEqual([user, ...(signedUp ? [signedUp] : [])].sort());
      expect(await providerHas(kind, first.auth_provider_project_id)).toBe(true);

      const again = (await a.post(auth, { auth_provider: kind }).expect(201)).body;
      expect(again.auth_provider_project_id).toBe(first.auth_provider_project_id);
      expect(again.secret_server_key).not.toBe(first.secret_server_key);
      expect(await sdkKeyWorks(kind, again)).toBe(true);
      // Its reconcile (and a second one) finds every user in the provider: nothing is marked deleted.
      const integration = (await integrationRows(t, projectId))[0];
      await t.app.get(SyncReconcilerService).reconcile(integration);
      const after = await withClient(uri, async (c) => (await c.query('SELECT id FROM neon_auth.users_sync WHERE deleted_at IS NULL ORDER BY id')).rows);
      expect(after).toEqual(rows);
      if (signedUp) {
        // The person signs in again with the password they chose before the disable.
        const signIn = await request(`${t.baseUrl}/stack-auth/api/v1`)
          .post('/auth/password/sign-in')
          .set({ 'x-stack-access-type': 'client', 'x-stack-project-id': again.auth_provider_project_id, 'x-stack-publishable-client-key': again.pub_client_key })
          .send({ email: `password-${kind}@example.com`, password: 'correct horse battery' });
        expect(signIn.status).toBe(200);
        expect(signIn.body.user_id).toBe(signedUp);
      }
      // The provider still has the user made through the API before the disable.
      expect((await adapter(kind).getUser(t.app.get(NeonAuthIntegrationResolver).credentialsOf(integration), user)).id).toBe(user);
    },
  );

  it.each(['stack', 'mock'] as const)(
    '%s: when the kept provider project is gone, enabling again starts a new one and its reconcile never marks the old users deleted',
    async (kind) => {
      const { projectId, defaultBranchId, uri } = await newProject(t, a, `gone-kept-${kind}`);
      const auth = `/projects/${projectId}/branches/${defaultBranchId}/auth`;
      const first = (await a.post(auth, { auth_provider: kind }).expect(201)).body;
      const old = (await a.post(`${auth}/users`, { email: `old-${kind}@example.com` }).expect(201)).body.id as string;
      await a.delete(auth).send({ delete_data: false }).expect(200);
      // Someone deletes the kept project in the provider.
      const kept = (await t.app.get(DataSource).query('SELECT credentials_encrypted, integration_id FROM neon_auth_detached_projects WHERE branch_id = $1', [defaultBranchId]))[0];
      const creds = t.app.get(NeonAuthIntegrationResolver).credentialsOf({ id: kept.integration_id, credentialsEncrypted: kept.credentials_encrypted } as never);
      await adapter(kind).deleteManagedProject(creds);

      const again = (await a.post(auth, { auth_provider: kind }).expect(201)).body;
      expect(again.auth_provider_project_id).not.toBe(first.auth_provider_project_id);
      const fresh = (await a.post(`${auth}/users`, { email: `new-${kind}@example.com` }).expect(201)).body.id as string;
      const counts = await t.app.get(SyncReconcilerService).reconcile((await integrationRows(t, projectId))[0]);
      expect(counts.deleted).toBe(0);
      const live = await withClient(uri, async (c) => (await c.query('SELECT id FROM neon_auth.users_sync WHERE deleted_at IS NULL ORDER BY id')).rows);
      expect(live.map((r) => r.id).sort()).toEqual([old, fresh].sort());
      // The record of the kept project stays (deleting the branch cleans it up; deleting a gone project is a success).
      expect(await t.app.get(DataSource).query('SELECT 1 FROM neon_auth_detached_projects WHERE branch_id = $1', [defaultBranchId])).toHaveLength(1);
    },
  );

  it('a provision whose answer is lost (timeout) is undone: the same idempotency key finds the project, which is deleted', async () => {
    const p = await newProject(t, a, 'lost-answer');
    const mock = t.app.get(MockProviderAdapter);
    const original = mock.provisionManagedProject.bind(mock);
    mock.provisionManagedProject = async (request) => {
      await original(request); // made, but the answer never arrives
      throw new ProviderUnavailable('provision project: timed out after 10000 ms');
    };
    const before = await providerProjectCounts(t);
    try {
      await a.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, { auth_provider: 'mock' }).expect(503);
    } finally {
      mock.provisionManagedProject = original;
    }
    // The undo could not ask the (still unavailable) provider at once: it waits in `error`, and its retry finds the
    // project by the operation's idempotency key and deletes it.
    const db = t.app.get(DataSource);
    const [op] = await db.query(`SELECT id, status, rolling_back FROM operations WHERE project_id = $1 AND kind = 'neon_auth.enable'`, [p.projectId]);
    expect(op).toMatchObject({ status: 'error', rolling_back: true });
    expect((await providerProjectCounts(t)).mock).toBe(before.mock + 1);
    await db.query('UPDATE operations SET retry_at = now() WHERE id = $1', [op.id]);
    t.app.get(OperationsReconciler).kick();
    await t.app.get(OperationsReconciler).idle();
    expect((await db.query('SELECT status FROM operations WHERE id = $1', [op.id]))[0].status).toBe('failed');
    expect(await providerProjectCounts(t)).toEqual(before);
    expect(await integrationRows(t, p.projectId)).toEqual([]);
  });

  it('reattaching: a user deleted in the kept project while it was detached is marked deleted by the reconcile', async () => {
    const p = await newProject(t, a, 'deleted-while-kept');
    const auth = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
    await a.post(auth, { auth_provider: 'mock' }).expect(201);
    const gone = (await a.post(`${auth}/users`, { email: 'gone-while-kept@example.com' }).expect(201)).body.id as string;
    const stays = (await a.post(`${auth}/users`, { email: 'stays@example.com' }).expect(201)).body.id as string;
    const row = (await integrationRows(t, p.projectId))[0];
    const creds = t.app.get(NeonAuthIntegrationResolver).credentialsOf(row);
    await a.delete(auth).send({}).expect(200);
    await t.app.get(MockProviderAdapter).deleteUser(creds, gone); // its webhook is refused: the integration is detached
    await a.post(auth, { auth_provider: 'mock' }).expect(201);
    await t.app.get(SyncReconcilerService).reconcile((await integrationRows(t, p.projectId))[0]);
    const live = await withClient(p.uri, async (c) => (await c.query('SELECT id FROM neon_auth.users_sync WHERE deleted_at IS NULL')).rows.map((r) => r.id));
    expect(live).toEqual([stays]);
  });

  it('Private Link turned on while an enable runs: the enable is undone (400), nothing is left', async () => {
    const p = await newProject(t, a, 'private-link-race');
    const store = t.app.get((await import('../../src/neon-auth/users-sync/users-sync.store.js')).NeonAuthUsersSyncStore);
    const original = store.provision.bind(store);
    store.provision = async (target) => {
      await a.patch(`/projects/${p.projectId}`, { project: { settings: { block_public_connections: true } } }).expect(200);
      return original(target);
    };
    const before = await providerProjectCounts(t);
    try {
      const res = await a.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, { auth_provider: 'mock' }).expect(400);
      expect(res.body.code).toBe('NEON_AUTH_NOT_SUPPORTED_WITH_PRIVATE_LINK_OR_IP_ALLOW');
    } finally {
      store.provision = original;
    }
    expect(await integrationRows(t, p.projectId)).toEqual([]);
    expect(await providerProjectCounts(t)).toEqual(before);
    expect(await withClient(p.uri, async (c) => (await c.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'neon_auth'`)).rows)).toEqual([]);
  });

  it('a kept project whose transfer the person confirms afterwards is not deleted with its branch', async () => {
    const p = await newProject(t, a, 'kept-transferred');
    const child = (await a.post(`/projects/${p.projectId}/branches`, { branch: { name: 'child' } }).expect(201)).body.branch.id as string;
    const auth = `/projects/${p.projectId}/branches/${child}/auth`;
    const enabled = (await a.post(auth, { auth_provider: 'mock' }).expect(201)).body;
    // A transfer link was issued (as POST /projects/auth/transfer_ownership does for a default branch).
    const row = (await integrationRows(t, p.projectId)).find((r) => r.branchId === child)!;
    await t.app.get(MockProviderAdapter).startOwnershipTransfer(t.app.get(NeonAuthIntegrationResolver).credentialsOf(row));
    await t.app.get(DataSource).query(`UPDATE neon_auth_integrations SET transfer_status = 'initiated' WHERE branch_id = $1`, [child]);
    await a.delete(auth).send({}).expect(200);
    expect(await t.app.get(DataSource).query('SELECT transfer_status FROM neon_auth_detached_projects WHERE branch_id = $1', [child])).toEqual([{ transfer_status: 'initiated' }]);
    await t.app.get(MockProviderAdapter).confirmOwnershipTransfer(enabled.auth_provider_project_id);
    await a.delete(`/projects/${p.projectId}/branches/${child}`).expect(200);
    await t.app.get(OperationsReconciler).idle();
    const ops: { status: string }[] = await t.app.get(DataSource).query(`SELECT status FROM operations WHERE project_id = $1 AND kind = 'neon_auth.disable' AND branch_id = $2`, [p.projectId, child]);
    expect(ops.map((o) => o.status)).toEqual(['finished', 'finished']);
    expect(await providerHas('mock', enabled.auth_provider_project_id)).toBe(true);
  });

  it('connecting the same provider project again (manual setup): its users are its own, so a user deleted there is marked deleted', async () => {
    const p = await newProject(t, a, 'manual-again');
    const mock = t.app.get(MockProviderAdapter);
    const made = await mock.provisionManagedProject({ displayName: 'customer project' });
    const user = await mock.createUser(made.credentials, { email: 'own-again@example.com' });
    const connect = { auth_provider: 'mock', auth_provider_base_url: MOCK_PROVIDER_BASE_URL, auth_provider_project_id: made.providerProjectId, secret_server_key: made.credentials.secretServerKey };
    const auth = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
    await a.post(auth, connect).expect(201);
    await a.delete(auth).send({}).expect(200);
    await a.post(auth, connect).expect(201);
    await mock.deleteUser(made.credentials, user.id);
    const integration = (await integrationRows(t, p.projectId))[0];
    expect(await t.app.get(DataSource).query('SELECT user_id FROM neon_auth_foreign_users WHERE integration_id = $1', [integration.id])).toEqual([]);
    await t.app.get(SyncReconcilerService).reconcile(integration);
    const row = await withClient(p.uri, async (c) => (await c.query('SELECT deleted_at FROM neon_auth.users_sync WHERE id = $1', [user.id])).rows[0]);
    expect(row.deleted_at).toEqual(expect.any(Date));
  });

  it('reattaching after another project was connected in between keeps that project\'s users (they are foreign to the kept one)', async () => {
    const p = await newProject(t, a, 'reattach-between');
    const auth = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
    const first = (await a.post(auth, { auth_provider: 'mock' }).expect(201)).body;
    const own = (await a.post(`${auth}/users`, { email: 'p1-user@example.com' }).expect(201)).body.id as string;
    await a.delete(auth).send({}).expect(200);
    const mock = t.app.get(MockProviderAdapter);
    const made = await mock.provisionManagedProject({ displayName: 'between' });
    const between = await mock.createUser(made.credentials, { email: 'between@example.com' });
    await a.post(auth, { auth_provider: 'mock', auth_provider_base_url: MOCK_PROVIDER_BASE_URL, auth_provider_project_id: made.providerProjectId, secret_server_key: made.credentials.secretServerKey }).expect(201);
    await a.delete(auth).send({}).expect(200);
    const again = (await a.post(auth, { auth_provider: 'mock' }).expect(201)).body;
    expect(again.auth_provider_project_id).toBe(first.auth_provider_project_id);
    const counts = await t.app.get(SyncReconcilerService).reconcile((await integrationRows(t, p.projectId))[0]);
    expect(counts.deleted).toBe(0);
    const live = await withClient(p.uri, async (c) => (await c.query('SELECT id FROM neon_auth.users_sync WHERE deleted_at IS NULL ORDER BY id')).rows.map((r) => r.id));
    expect(live).toEqual([own, between.id].sort());
  });

  it('deleting a branch deletes the provider projects the product manages for it, kept or active', async () => {
    const p = await newProject(t, a, 'branch-goes');
    const child = (await a.post(`/projects/${p.projectId}/branches`, { branch: { name: 'child' } }).expect(201)).body.branch.id as string;
    const auth = `/projects/${p.projectId}/branches/${child}/auth`;
    const kept = (await a.post(auth, { auth_provider: 'stack' }).expect(201)).body;
    await a.delete(auth).send({}).expect(200);
    const active = (await a.post(auth, { auth_provider: 'mock' }).expect(201)).body;
    expect(await providerHas('stack', kept.auth_provider_project_id)).toBe(true);
    await a.delete(`/projects/${p.projectId}/branches/${child}`).expect(200);
    await t.app.get(OperationsReconciler).idle();
    expect(await providerHas('stack', kept.auth_provider_project_id)).toBe(false);
    expect(await providerHas('mock', active.auth_provider_project_id)).toBe(false);
  });

  it('provisioning twice with one idempotency key answers the same project (for both adapters); another key, another project', async () => {
    for (const kind of ['stack', 'mock'] as const) {
      const first = await adapter(kind).provisionManagedProject({ displayName: 'keyed', idempotencyKey: `k-${kind}` });
      const again = await adapter(kind).provisionManagedProject({ displayName: 'keyed', idempotencyKey: `k-${kind}` });
      const other = await adapter(kind).provisionManagedProject({ displayName: 'keyed', idempotencyKey: `other-${kind}` });
      expect(again.providerProjectId).toBe(first.providerProjectId);
      expect(other.providerProjectId).not.toBe(first.providerProjectId);
      // The repeat's admin key works on the same project.
      await adapter(kind).deleteManagedProject(again.credentials);
      expect(await providerHas(kind, first.providerProjectId)).toBe(false);
      await adapter(kind).deleteManagedProject(other.credentials);
    }
  });

  it('deleting a gone project is a success for both adapters (idempotent)', async () => {
    for (const kind of ['stack', 'mock'] as const) {
      const made = await adapter(kind).provisionManagedProject({ displayName: 'twice' });
      await adapter(kind).deleteManagedProject(made.credentials);
      await expect(adapter(kind).deleteManagedProject(made.credentials)).resolves.toBeUndefined();
      expect(await rejection(adapter(kind).listUsers(made.credentials, { limit: 1 }))).toBeInstanceOf(ProviderAuthFailed);
    }
  });
});
