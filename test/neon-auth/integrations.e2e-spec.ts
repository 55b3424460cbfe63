// Neon Auth integrations: enable / get / list / disable (branch-scoped and legacy), Quick Start with stack and mock,
// manual setup, private networking, concurrency and compensation. Real HTTP, real databases, the embedded provider.
import { createHmac } from 'node:crypto';
import { usersSync } from 'drizzle-orm/neon';
import { drizzle } from 'drizzle-orm/node-postgres';
import { asc } from 'drizzle-orm';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { SecretsService } from '../../src/common/secrets.js';
import { NeonAuthIntegrationResolver } from '../../src/neon-auth/integrations/integration-resolver.js';
import { NeonAuthUsersSyncStore } from '../../src/neon-auth/users-sync/users-sync.store.js';
import { MOCK_PROVIDER_BASE_URL, MockProviderAdapter } from '../../src/providers/mock/mock-provider.adapter.js';
import { StackProviderAdapter } from '../../src/providers/stack/stack-provider.adapter.js';
import { SyncIntegrations } from '../../src/sync/sync-integrations.js';
import { apiClient } from '../helpers/client.js';
import { api, withClient, type Api } from '../helpers/fixtures.js';
import { createStackProject, serverHeaders } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { integrationRows, neonAuthState, newProject, providerProjectCounts } from './integrations-helpers.js';
import request from 'supertest';


/** A svix endpoint secret as Svix issues them: whsec_ and the base64 of 24 bytes. */
const SIGNING_SECRET = `whsec_${Buffer.from('my-secret-my-secret-1234').toString('base64')}`;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('Neon Auth integrations', () => {
  let t: TestApp;
  let a: Api;

  beforeAll(async () => {
    t = await startTestApp();
    a = api(t, t.adminKey);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe.each(['stack', 'mock'] as const)('Quick Start with %s', (provider) => {
    it('enable -> 201 with keys once, GET without keys, users_sync provisioned, webhook registered, credentials encrypted', async () => {
      const p = await newProject(t);
      const before = await providerProjectCounts(t);
      const res = await a.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, { auth_provider: provider }).expect(201);
      const body = res.body;
      expect(Object.keys(body).sort()).toEqual(
        ['auth_provider', 'auth_provider_project_id', 'base_url', 'jwks_url', 'pub_client_key', 'schema_name', 'secret_server_key', 'table_name'].sort(),
      );
      expect(body).toMatchObject({ auth_provider: provider, schema_name: 'neon_auth', table_name: 'users_sync' });
      expect(body.auth_provider_project_id).toMatch(UUID);
      expect(body.pub_client_key).toMatch(/^pck_/);
      expect(body.secret_server_key).toMatch(/^ssk_/);
      if (provider === 'stack') {
        expect(body.base_url).toBe(`${t.baseUrl}/stack-auth`);
        expect(body.jwks_url).toBe(`${t.baseUrl}/stack-auth/api/v1/projects/${body.auth_provider_project_id}/.well-known/jwks.json`);
        // The JWKS is really served, and the SDK keys open the provider project.
        const jwks = await request(t.baseUrl).get(new URL(body.jwks_url).pathname).expect(200);
        expect(Array.isArray(jwks.body.keys)).toBe(true);
        await request(t.baseUrl)
          .get('/stack-auth/api/v1/users')
          .set({ 'x-stack-access-type': 'server', 'x-stack-project-id': body.auth_provider_project_id, 'x-stack-secret-server-key': body.secret_server_key })
          .expect(200);
      } else {
        expect(body.base_url).toBe(MOCK_PROVIDER_BASE_URL);
      }
      expect(await providerProjectCounts(t)).toEqual({ ...before, [provider]: before[provider] + 1 });

      const got = await a.get(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`).expect(200);
      expect(got.body).toEqual({
        auth_provider: provider,
        auth_provider_project_id: body.auth_provider_project_id,
        branch_id: p.defaultBranchId,
        db_name: 'neondb',
        created_at: expect.stringMatching(ISO),
        owned_by: 'neon',
        jwks_url: body.jwks_url,
        base_url: body.base_url,
        name: 'integrations',
        webhook_url: expect.stringMatching(new RegExp(`^${t.baseUrl}/webhooks/neon-auth/[0-9a-f-]{36}$`)),
      });
      expect(JSON.stringify(got.body)).not.toContain(body.secret_server_key);
      expect(await neonAuthState(p.uri)).toEqual({ schema: true, table: true, rows: 0 });

      // The webhook is registered with the provider at ${PUBLIC_URL}/webhooks/neon-auth/{integration id}.
      const [row] = await integrationRows(t, p.projectId);
      expect(got.body.webhook_url).toBe(`${t.baseUrl}/webhooks/neon-auth/${row.id}`);
      const db = t.app.get(DataSource);
      if (provider === 'stack') {
        const hooks = await db.query('SELECT url FROM stack_auth.webhook_endpoints WHERE project_id = $1', [body.auth_provider_project_id]);
        expect(hooks).toEqual([{ url: got.body.webhook_url }]);
      } else {
        const [mock] = await db.query('SELECT webhook_urls FROM mock_provider_projects WHERE id = $1', [body.auth_provider_project_id]);
        expect(mock.webhook_urls).toEqual([got.body.webhook_url]);
      }
      // Secrets are stored encrypted, readable through the resolver, bound to the row.
      const integrations = t.app.get(NeonAuthIntegrationResolver);
      const stored = JSON.stringify(await db.query('SELECT * FROM neon_auth_integrations WHERE id = $1', [row.id]));
      const creds = integrations.credentialsOf(row);
      expect(creds.projectId).toBe(body.auth_provider_project_id);
      expect(creds.superSecretAdminKey).toBeTruthy();
      expect(stored).not.toContain(creds.superSecretAdminKey!);
      expect(stored).not.toContain(creds.secretServerKey!);
      const whsec = integrations.webhookSecretOf(row);
      expect(whsec).toMatch(/^whsec_/);
      expect(stored).not.toContain(whsec!);
      expect(() => t.app.get(SecretsService).decrypt(row.credentialsEncrypted, 'another row')).toThrow();
      // The resolver methods the other Neon Auth modules use.
      expect((await integrations.findForBranch(p.projectId, p.defaultBranchId)).id).toBe(row.id);
      expect((await integrations.findForDefaultBranch(p.projectId)).id).toBe(row.id);
      await integrations.providerOf(row).verifyConnection(creds);

      // Second enable -> 409, nothing changes.
      const again = await a.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, { auth_provider: provider }).expect(409);
      expect(again.body).toMatchObject({ code: 'NEON_AUTH_ALREADY_ENABLED', message: expect.stringContaining('already enabled') });
      expect(await integrationRows(t, p.projectId)).toHaveLength(1);
    });

    it('disable with delete_data false keeps the rows and re-enable reuses them; delete_data true drops the schema', async () => {
      const p = await newProject(t);
      const path = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
      await a.post(path, { auth_provider: provider }).expect(201);
      await withClient(p.uri, (c) =>
        c.query(`INSERT INTO neon_auth.users_sync (raw_json, updated_at) VALUES ($1, now())`, [
          { id: 'kept-user', display_name: 'Kept', primary_email: 'kept@example.com', signed_up_at_millis: 1700000000000 },
        ]),
      );
      const off = await a.delete(path).send({ delete_data: false }).expect(200);
      expect(off.body).toEqual({});
      expect(off.headers['content-type']).toMatch(/application\/json/);
      await a.get(path).expect(404);
      expect(await neonAuthState(p.uri)).toEqual({ schema: true, table: true, rows: 1 });

      const on = await a.post(path, { auth_provider: provider }).expect(201);
      expect(on.body.pub_client_key).toMatch(/^pck_/);
      expect(await neonAuthState(p.uri)).toEqual({ schema: true, table: true, rows: 1 });

      await a.delete(path).send({ delete_data: true }).expect(200);
      expect(await neonAuthState(p.uri)).toEqual({ schema: false, table: false, rows: 0 });
      await a.get(path).expect(404);
      // Disabling again: 404 not enabled.
      const gone = await a.delete(path).send({}).expect(404);
      expect(gone.body.code).toBe('NEON_AUTH_NOT_ENABLED');
    });
  });

  it('drizzle usersSync (drizzle-orm/neon) reads the provisioned table, and a todos table can reference it', async () => {
    const p = await newProject(t);
    await a.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, { auth_provider: 'mock' }).expect(201);
    const pool = new pg.Pool({ connectionString: p.uri, max: 2 });
    try {
      await pool.query(`INSERT INTO neon_auth.users_sync (raw_json, updated_at) VALUES ($1, now()), ($2, now())`, [
        { id: 'u1', display_name: 'Ada', primary_email: 'ada@example.com', signed_up_at_millis: 1700000000000 },
        { id: 'u2', display_name: 'Bob', primary_email: 'bob@example.com', signed_up_at_millis: 1700000001000 },
      ]);
      const db = drizzle(pool);
      const rows = await db.select().from(usersSync).orderBy(asc(usersSync.id));
      expect(rows.map((r) => [r.id, r.name, r.email, r.deletedAt])).toEqual([
        ['u1', 'Ada', 'ada@example.com', null],
        ['u2', 'Bob', 'bob@example.com', null],
      ]);
      expect(new Date(rows[0].createdAt!).toISOString()).toBe('2023-11-14T22:13:20.000Z');
      await pool.query(`CREATE TABLE todos (id serial PRIMARY KEY, owner_id text NOT NULL REFERENCES neon_auth.users_sync(id) ON DELETE CASCADE, task text)`);
      await pool.query(`INSERT INTO todos (owner_id, task) VALUES ('u1', 'write tests')`);
      await expect(pool.query(`INSERT INTO todos (owner_id, task) VALUES ('nobody', 'x')`)).rejects.toThrow(/foreign key/);
    } finally {
      await pool.end();
    }
  });

  it('the generated client drives getNeonAuth, createNeonAuth, disableNeonAuth and the legacy trio', async () => {
    const p = await newProject(t);
    const c = apiClient(t.baseUrl, t.adminKey);
    const ids = { projectId: p.projectId, branchId: p.defaultBranchId };
    const missing = await c.auth.getNeonAuth(ids).catch((e: Response) => e);
    expect((missing as Response).status).toBe(404);
    const created = await c.auth.createNeonAuth(ids, { auth_provider: 'mock' });
    expect(created.status).toBe(201);
    expect(created.data.secret_server_key).toMatch(/^ssk_/);
    const got = await c.auth.getNeonAuth(ids);
    expect(got.data).toMatchObject({ auth_provider: 'mock', branch_id: p.defaultBranchId, owned_by: 'neon' });
    const listed = await c.authLegacy.listNeonAuthIntegrations({ projectId: p.projectId });
    expect(listed.data.data.map((i) => i.branch_id)).toEqual([p.defaultBranchId]);
    const disabled = await c.auth.disableNeonAuth(ids, { delete_data: true });
    expect(disabled.status).toBe(200);
    const legacy = await c.authLegacy.createNeonAuthIntegration({ auth_provider: 'stack', project_id: p.projectId, branch_id: p.defaultBranchId });
    expect(legacy.status).toBe(201);
    expect(legacy.data.pub_client_key).toMatch(/^pck_/);
    const wrong = await c.authLegacy.deleteNeonAuthIntegration({ projectId: p.projectId, authProvider: 'mock' }, {}).catch((e: Response) => e);
    expect((wrong as Response).status).toBe(404);
    const deleted = await c.authLegacy.deleteNeonAuthIntegration({ projectId: p.projectId, authProvider: 'stack' }, { delete_data: false });
    expect(deleted.status).toBe(200);
    expect((await c.authLegacy.listNeonAuthIntegrations({ projectId: p.projectId })).data).toEqual({ data: [] });
    const better = await c.auth.createNeonAuth(ids, { auth_provider: 'better_auth' });
    expect(better.status).toBe(201);
    expect(better.data).toMatchObject({ auth_provider: 'better_auth', pub_client_key: '', secret_server_key: '', base_url: `${t.baseUrl}/neon-auth/${p.defaultBranchId}/neondb/auth` });
  });

  it('the generated client sees every error of this family: 404, 409, 400 (unknown provider, private networking), 403, 422', async () => {
    const p = await newProject(t);
    const c = apiClient(t.baseUrl, t.adminKey);
    const ids = { projectId: p.projectId, branchId: p.defaultBranchId };
    const fail = async (promise: Promise<unknown>) => {
      const res = (await promise.then(
        () => {
          throw new Error('expected a failure');
        },
        (e: Response & { error: { code: string; message: string } }) => e,
      )) as Response & { error: { code: string; message: string } };
      return { status: res.status, code: res.error.code, message: res.error.message };
    };
    expect(await fail(c.auth.getNeonAuth(ids))).toMatchObject({ status: 404, code: 'NEON_AUTH_NOT_ENABLED' });
    expect(await fail(c.auth.disableNeonAuth(ids, {}))).toMatchObject({ status: 404, code: 'NEON_AUTH_NOT_ENABLED' });
    expect(await fail(c.authLegacy.deleteNeonAuthIntegration({ projectId: p.projectId, authProvider: 'mock' }, {}))).toMatchObject({ status: 404 });
    expect(await fail(c.auth.createNeonAuth(ids, { auth_provider: 'auth0' as never }))).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
    const member = apiClient(t.baseUrl, (await api(t, t.adminKey).post(`/organizations/${(await a.get('/users/me/organizations').expect(200)).body.organizations[0].id}/api_keys`, { key_name: 'pk', project_id: p.projectId }).expect(200)).body.key);
    expect(await fail(member.auth.createNeonAuth(ids, { auth_provider: 'mock' }))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(await fail(member.authLegacy.createNeonAuthIntegration({ auth_provider: 'mock', project_id: p.projectId, branch_id: p.defaultBranchId }))).toMatchObject({ status: 403 });
    await c.auth.createNeonAuth(ids, { auth_provider: 'mock' }, { headers: { 'Idempotency-Key': 'gen-client-key' } });
    expect(await fail(c.auth.createNeonAuth(ids, { auth_provider: 'stack' }))).toMatchObject({ status: 409, code: 'NEON_AUTH_ALREADY_ENABLED' });
    expect(await fail(c.authLegacy.createNeonAuthIntegration({ auth_provider: 'mock', project_id: p.projectId, branch_id: p.defaultBranchId }))).toMatchObject({ status: 409 });
    expect(await fail(c.auth.createNeonAuth(ids, { auth_provider: 'stack' }, { headers: { 'Idempotency-Key': 'gen-client-key' } }))).toMatchObject({
      status: 422,
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
    expect(await fail(c.project.updateProject({ projectId: p.projectId }, { project: { settings: { block_public_connections: true } } }))).toMatchObject({
      status: 400,
      code: 'NEON_AUTH_NOT_SUPPORTED_WITH_PRIVATE_LINK_OR_IP_ALLOW',
    });
    await c.auth.disableNeonAuth(ids, { delete_data: true });
    await c.project.updateProject({ projectId: p.projectId }, { project: { settings: { allowed_ips: { ips: ['192.0.2.1'] } } } });
    expect(await fail(c.auth.createNeonAuth(ids, { auth_provider: 'mock' }))).toMatchObject({ status: 400, message: expect.stringContaining('IP Allow') });
  });

  describe('legacy routes', () => {
    it('POST /projects/auth/create resolves the branch from the body; GET integrations lists every branch; DELETE uses the default branch', async () => {
      const p = await newProject(t);
      const child = await a.post(`/projects/${p.projectId}/branches`, { branch: { name: 'child' } }).expect(201);
      const childId = child.body.branch.id as string;
      const created = await a
        .post('/projects/auth/create', { auth_provider: 'mock', project_id: p.projectId, branch_id: childId, role_name: 'neondb_owner' })
        .expect(201);
      expect(created.body).toMatchObject({ auth_provider: 'mock', schema_name: 'neon_auth', table_name: 'users_sync' });
      expect((await a.get(`/projects/${p.projectId}/branches/${childId}/auth`).expect(200)).body.branch_id).toBe(childId);
      await a.get(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`).expect(404);

      await a.post('/projects/auth/create', { auth_provider: 'stack', project_id: p.projectId, branch_id: p.defaultBranchId }).expect(201);
      const dup = await a.post('/projects/auth/create', { auth_provider: 'stack', project_id: p.projectId, branch_id: p.defaultBranchId }).expect(409);
      expect(dup.body.code).toBe('NEON_AUTH_ALREADY_ENABLED');

      const list = await a.get(`/projects/${p.projectId}/auth/integrations`).expect(200);
      expect(Object.keys(list.body)).toEqual(['data']);
      expect(list.body.data.map((i: { branch_id: string; auth_provider: string }) => [i.branch_id, i.auth_provider])).toEqual([
        [childId, 'mock'],
        [p.defaultBranchId, 'stack'],
      ]);

      // The legacy delete acts on the default branch only, and only for the provider named.
      const wrongProvider = await a.delete(`/projects/${p.projectId}/auth/integration/mock`).expect(404);
      expect(wrongProvider.body.code).toBe('NEON_AUTH_NOT_ENABLED');
      await a.delete(`/projects/${p.projectId}/auth/integration/nope`).expect(400);
      const del = await a.delete(`/projects/${p.projectId}/auth/integration/stack`).send({ delete_data: true }).expect(200);
      expect(del.body).toEqual({});
      expect((await a.get(`/projects/${p.projectId}/auth/integrations`).expect(200)).body.data).toHaveLength(1);
      await a.delete(`/projects/${p.projectId}/auth/integration/stack`).expect(404);
    });

    it('legacy create validates its body and answers 404 for an unknown project or branch', async () => {
      const p = await newProject(t);
      await a.post('/projects/auth/create', { auth_provider: 'mock', project_id: 'nope-404', branch_id: p.defaultBranchId }).expect(404);
      await a.post('/projects/auth/create', { auth_provider: 'mock', project_id: p.projectId, branch_id: 'br-none-none-000000' }).expect(404);
      const bad = await a.post('/projects/auth/create', { auth_provider: 'mock', project_id: 'BAD ID', branch_id: p.defaultBranchId }).expect(400);
      expect(bad.body.message).toContain('project_id');
      await a.post('/projects/auth/create', { auth_provider: 'mock', project_id: p.projectId }).expect(400);
      await a.post('/projects/auth/create', { auth_provider: 'github', project_id: p.projectId, branch_id: p.defaultBranchId }).expect(400);
      expect(await integrationRows(t, p.projectId)).toEqual([]);
    });
  });

  describe('errors of enable', () => {
    it('unknown provider, missing body, unknown fields, manual setup for better_auth -> 400', async () => {
      const p = await newProject(t);
      const path = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
      await a.post(path, { auth_provider: 'auth0' }).expect(400);
      const manualBetter = await a
        .post(path, { auth_provider: 'better_auth', auth_provider_base_url: 'https://auth.example.com', auth_provider_project_id: 'p', secret_server_key: 'ssk_x' })
        .expect(400);
      expect(manualBetter.body.message).toMatch(/better_auth is hosted/);
      await a.post(path, {}).expect(400);
      await a.post(path, { auth_provider: 'mock', extra: 1 }).expect(400);
      expect(await neonAuthState(p.uri)).toEqual({ schema: false, table: false, rows: 0 });
      expect(await integrationRows(t, p.projectId)).toEqual([]);
    });

    it('database_name: another database of the branch is used; unknown -> 404, invalid -> 400; unknown branch -> 404', async () => {
      const p = await newProject(t);
      const path = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
      await a.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/databases`, { database: { name: 'appdb', owner_name: 'neondb_owner' } }).expect(201);
      await a.post(path, { auth_provider: 'mock', database_name: 'nodb' }).expect(404);
      const bad = await a.post(path, { auth_provider: 'mock', database_name: 'x'.repeat(64) }).expect(400);
      expect(bad.body.message).toContain('database_name');
      await a.post(path, { auth_provider: 'mock', database_name: '' }).expect(400);
      await a.post(`/projects/${p.projectId}/branches/br-none-none-000000/auth`, { auth_provider: 'mock' }).expect(404);
      await a.get(`/projects/${p.projectId}/branches/br-none-none-000000/auth`).expect(404);
      await a.post(`/projects/${p.projectId}/branches/BAD/auth`, { auth_provider: 'mock' }).expect(400);
      expect(await integrationRows(t, p.projectId)).toEqual([]);

      await a.post(path, { auth_provider: 'mock', database_name: 'appdb' }).expect(201);
      expect((await a.get(path).expect(200)).body.db_name).toBe('appdb');
      expect(await neonAuthState(p.uri)).toMatchObject({ schema: false });
      const appUri = p.uri.replace(/\/neondb\.([^/?]+)(\?|$)/, '/appdb.$1$2');
      expect(appUri).not.toBe(p.uri);
      expect(await neonAuthState(appUri)).toEqual({ schema: true, table: true, rows: 0 });
    });

    it('GET of a branch without Neon Auth -> 404 NEON_AUTH_NOT_ENABLED "Neon Auth is not enabled"', async () => {
      const p = await newProject(t);
      const res = await a.get(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`).expect(404);
      expect(res.body).toEqual({ request_id: expect.any(String), code: 'NEON_AUTH_NOT_ENABLED', message: expect.stringMatching(/^Neon Auth is not enabled/) });
      await expect(t.app.get(NeonAuthIntegrationResolver).findForDefaultBranch(p.projectId)).rejects.toMatchObject({ code: 'NEON_AUTH_NOT_ENABLED' });
    });
  });

  describe('private networking', () => {
    it.each([
      [{ block_public_connections: true }, 'Private Link'],
      [{ allowed_ips: { ips: ['203.0.113.7'] } }, 'IP Allow'],
    ])('enabling on a project with %j -> 400 naming %s; nothing is created', async (settings, feature) => {
      const p = await newProject(t);
      await a.patch(`/projects/${p.projectId}`, { project: { settings } }).expect(200);
      const before = await providerProjectCounts(t);
      const res = await a.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, { auth_provider: 'stack' }).expect(400);
      expect(res.body.code).toBe('NEON_AUTH_NOT_SUPPORTED_WITH_PRIVATE_LINK_OR_IP_ALLOW');
      expect(res.body.message).toContain(feature);
      await a.post('/projects/auth/create', { auth_provider: 'mock', project_id: p.projectId, branch_id: p.defaultBranchId }).expect(400);
      expect(await providerProjectCounts(t)).toEqual(before);
      expect(await integrationRows(t, p.projectId)).toEqual([]);
      expect(await neonAuthState(p.uri)).toEqual({ schema: false, table: false, rows: 0 });
    });

    it('turning Private Link or IP Allow on while Neon Auth is enabled -> 400, settings unchanged; an empty allow list and other changes pass', async () => {
      const p = await newProject(t);
      await a.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, { auth_provider: 'mock' }).expect(201);
      const link = await a.patch(`/projects/${p.projectId}`, { project: { settings: { block_public_connections: true } } }).expect(400);
      expect(link.body).toMatchObject({ code: 'NEON_AUTH_NOT_SUPPORTED_WITH_PRIVATE_LINK_OR_IP_ALLOW', message: expect.stringContaining('Private Link') });
      const ips = await a.patch(`/projects/${p.projectId}`, { project: { name: 'renamed', settings: { allowed_ips: { ips: ['198.51.100.0/24'] } } } }).expect(400);
      expect(ips.body.message).toContain('IP Allow');
      const project = (await a.get(`/projects/${p.projectId}`).expect(200)).body.project;
      expect(project.name).toBe('integrations');
      expect(project.settings?.block_public_connections ?? false).toBe(false);
      await a.patch(`/projects/${p.projectId}`, { project: { name: 'renamed', settings: { allowed_ips: { ips: [] }, block_public_connections: false } } }).expect(200);
      // After disabling Neon Auth the settings can be turned on.
      await a.delete(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`).send({}).expect(200);
      await a.patch(`/projects/${p.projectId}`, { project: { settings: { block_public_connections: true } } }).expect(200);
    });
  });

  describe('concurrency and compensation', () => {
    it('two concurrent enables of one branch: one 201, one 423 (the first one\'s operation is in progress); one integration; the second makes nothing, not even a provider project', async () => {
      // users_sync provisioning is slowed down so that both requests are past the early "already enabled" check
      // and the second meets the first's unfinished operation.
      const provisioning = t.app.get(NeonAuthUsersSyncStore);
      const original = provisioning.provision.bind(provisioning);
      provisioning.provision = async (target) => {
        await new Promise((r) => setTimeout(r, 400));
        return original(target);
      };
      try {
        for (const provider of ['stack', 'mock'] as const) {
          const p = await newProject(t);
          const path = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
          const before = await providerProjectCounts(t);
          const results = await Promise.all([a.post(path, { auth_provider: provider }), a.post(path, { auth_provider: provider })]);
          expect(results.map((r) => r.status).sort()).toEqual([201, 423]);
          // Only the first made a provider project.
          expect((await providerProjectCounts(t))[provider]).toBe(before[provider] + 1);
          const winner = results.find((r) => r.status === 201)!;
          expect(results.find((r) => r.status === 423)!.body.code).toBe('LOCKED');
          // Retried once the first is done (as neonctl does on 423): Neon's 409.
          expect((await a.post(path, { auth_provider: provider })).body.code).toBe('NEON_AUTH_ALREADY_ENABLED');
          const rows = await integrationRows(t, p.projectId);
          expect(rows.map((r) => r.providerProjectId)).toEqual([winner.body.auth_provider_project_id]);
          expect((await a.get(path).expect(200)).body.auth_provider_project_id).toBe(winner.body.auth_provider_project_id);
          expect(await neonAuthState(p.uri)).toEqual({ schema: true, table: true, rows: 0 });
        }
      } finally {
        provisioning.provision = original;
      }
    });

    it('provisioning fails after the provider project was made: no integration, the schema it created is dropped, the provider project deleted', async () => {
      const p = await newProject(t);
      const provisioning = t.app.get(NeonAuthUsersSyncStore);
      const original = provisioning.provision.bind(provisioning);
      const before = await providerProjectCounts(t);
      provisioning.provision = async (target) => {
        await original(target);
        throw new Error('injected fault after provisioning');
      };
      try {
        const res = await a.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, { auth_provider: 'stack' }).expect(500);
        expect(res.body.message).not.toContain('injected');
      } finally {
        provisioning.provision = original;
      }
      expect(await integrationRows(t, p.projectId)).toEqual([]);
      await a.get(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`).expect(404);
      expect(await neonAuthState(p.uri)).toEqual({ schema: false, table: false, rows: 0 });
      expect((await providerProjectCounts(t)).stack).toBe(before.stack);
      // And the branch can be enabled afterwards.
      await a.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, { auth_provider: 'stack' }).expect(201);
    });

    it('a foreign neon_auth.users_sync in the database -> 409, left alone, no integration', async () => {
      const p = await newProject(t);
      await withClient(p.uri, async (c) => {
        await c.query('CREATE SCHEMA neon_auth');
        await c.query('CREATE TABLE neon_auth.users_sync (id int PRIMARY KEY, note text)');
        await c.query(`INSERT INTO neon_auth.users_sync VALUES (1, 'mine')`);
      });
      const res = await a.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, { auth_provider: 'mock' }).expect(409);
      expect(res.body.message).toContain('not Neon Auth');
      expect(await integrationRows(t, p.projectId)).toEqual([]);
      expect(await withClient(p.uri, async (c) => (await c.query('SELECT note FROM neon_auth.users_sync')).rows)).toEqual([{ note: 'mine' }]);
    });

    it('the provider is down -> 503 AUTH_PROVIDER_UNAVAILABLE, nothing created', async () => {
      const p = await newProject(t);
      const stack = t.app.get(StackProviderAdapter);
      const original = stack.provisionManagedProject.bind(stack);
      const { ProviderUnavailable } = await import('../../src/providers/auth-provider.port.js');
      stack.provisionManagedProject = async () => {
        throw new ProviderUnavailable('connect ECONNREFUSED');
      };
      try {
        const res = await a.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, { auth_provider: 'stack' }).expect(503);
        expect(res.body.code).toBe('AUTH_PROVIDER_UNAVAILABLE');
      } finally {
        stack.provisionManagedProject = original;
      }
      expect(await integrationRows(t, p.projectId)).toEqual([]);
      expect(await neonAuthState(p.uri)).toEqual({ schema: false, table: false, rows: 0 });
    });
  });

  describe('manual setup (existing provider project)', () => {
    it('stack: verified, owned_by user, existing users copied into users_sync, no SDK keys, no provider project made', async () => {
      const p = await newProject(t);
      const sp = await createStackProject(t, 'customer project');
      for (const [email, name] of [['ann@example.com', 'Ann'], ['ben@example.com', null]] as const) {
        await request(t.baseUrl).post('/stack-auth/api/v1/users').set(serverHeaders(sp)).send({ primary_email: email, display_name: name, primary_email_auth_enabled: true }).expect(201);
      }
      const before = await providerProjectCounts(t);
      const res = await a
        .post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, {
          auth_provider: 'stack',
          auth_provider_base_url: sp.baseUrl,
          auth_provider_project_id: sp.projectId,
          secret_server_key: sp.secretServerKey,
          webhook_signing_secret: SIGNING_SECRET,
        })
        .expect(201);
      expect(res.body).toMatchObject({
        auth_provider: 'stack',
        auth_provider_project_id: sp.projectId,
        pub_client_key: '',
        secret_server_key: '',
        base_url: sp.baseUrl,
        jwks_url: `${sp.baseUrl}/api/v1/projects/${sp.projectId}/.well-known/jwks.json`,
        webhook_url: expect.stringContaining('/webhooks/neon-auth/'),
      });
      expect(await providerProjectCounts(t)).toEqual(before);
      const got = (await a.get(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`).expect(200)).body;
      expect(got.owned_by).toBe('user');
      expect(got.webhook_url).toBe(res.body.webhook_url);
      const rows = await withClient(p.uri, async (c) => (await c.query('SELECT email, name, raw_json FROM neon_auth.users_sync ORDER BY email')).rows);
      expect(rows.map((r) => [r.email, r.name])).toEqual([
        ['ann@example.com', 'Ann'],
        ['ben@example.com', null],
      ]);
      expect(rows[0].raw_json).toMatchObject({ primary_email: 'ann@example.com', signed_up_at_millis: expect.any(Number) });
      const [row] = await integrationRows(t, p.projectId);
      expect(t.app.get(NeonAuthIntegrationResolver).webhookSecretOf(row)).toBe(SIGNING_SECRET);
      expect(t.app.get(NeonAuthIntegrationResolver).credentialsOf(row)).toEqual({ baseUrl: sp.baseUrl, projectId: sp.projectId, secretServerKey: sp.secretServerKey });
    });

    it('mock: a mock project connected by hand; its users are copied', async () => {
      const p = await newProject(t);
      const mock = t.app.get(MockProviderAdapter);
      const made = await mock.provisionManagedProject({ displayName: 'hand made' });
      await mock.createUser(made.credentials, { email: 'zed@example.com', name: 'Zed' });
      await a
        .post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, {
          auth_provider: 'mock',
          auth_provider_base_url: MOCK_PROVIDER_BASE_URL,
          auth_provider_project_id: made.providerProjectId,
          secret_server_key: made.credentials.secretServerKey,
        })
        .expect(201);
      expect(await neonAuthState(p.uri)).toEqual({ schema: true, table: true, rows: 1 });
      expect((await a.get(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`).expect(200)).body.owned_by).toBe('user');
    });

    it('wrong key -> 400 AUTH_PROVIDER_AUTH_FAILED; partial fields -> 400; nothing created', async () => {
      const p = await newProject(t);
      const sp = await createStackProject(t, 'customer project 2');
      const path = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
      const wrong = await a
        .post(path, { auth_provider: 'stack', auth_provider_base_url: sp.baseUrl, auth_provider_project_id: sp.projectId, secret_server_key: 'ssk_wrong' })
        .expect(400);
      expect(wrong.body.code).toBe('AUTH_PROVIDER_AUTH_FAILED');
      expect(wrong.body.message).toContain('secret server key');
      const partial = await a.post(path, { auth_provider: 'stack', auth_provider_project_id: sp.projectId }).expect(400);
      expect(partial.body.message).toContain('auth_provider_base_url');
      await a.post(path, { auth_provider: 'stack', webhook_signing_secret: 'whsec_x' }).expect(400);
      await a
        .post(path, { auth_provider: 'stack', auth_provider_base_url: 'ftp://x', auth_provider_project_id: sp.projectId, secret_server_key: sp.secretServerKey })
        .expect(400);
      // A query, a fragment or credentials would steer the paths the adapter appends (e.g. `${PUBLIC_URL}/metrics#`).
      for (const steered of [`${t.baseUrl}/metrics#`, `${t.baseUrl}/stack-auth?x=`, `http://user:pw@127.0.0.1:${new URL(t.baseUrl).port}/stack-auth`]) {
        const res = await a.post(path, { auth_provider: 'stack', auth_provider_base_url: steered, auth_provider_project_id: sp.projectId, secret_server_key: sp.secretServerKey }).expect(400);
        expect(res.body.message).toContain('[auth_provider_base_url] must be a plain http(s) URL');
      }
      expect(await integrationRows(t, p.projectId)).toEqual([]);
      expect(await neonAuthState(p.uri)).toEqual({ schema: false, table: false, rows: 0 });
    });

    describe('webhook_signing_secret must be a svix secret', () => {
      const b64 = (bytes: number) => Buffer.alloc(bytes, 0xa7).toString('base64');
      // Refused bodies change nothing, so one project serves every refusal.
      let refused: Awaited<ReturnType<typeof newProject>> | undefined;
      let refusedProvider: Awaited<ReturnType<typeof createStackProject>> | undefined;
      it.each([
        ['whsec_ alone (an empty key)', 'whsec_'],
        ['one character', 'whsec_x'],
        ['three characters', 'whsec_abc'],
        ['no prefix', b64(24)],
        ['another prefix', `whsec-${b64(24)}`],
        ['9 bytes', 'whsec_bXktc2VjcmV0'],
        ['23 bytes', `whsec_${b64(23)}`],
        ['65 bytes', `whsec_${b64(65)}`],
        ['1 KB', `whsec_${b64(768)}`],
        ['base64url characters', `whsec_${b64(24).slice(0, -4)}-_-_`],
        ['missing padding', `whsec_${b64(25).replace(/=+$/, '')}`],
        ['whitespace inside', `whsec_${b64(24).slice(0, 16)} ${b64(24).slice(16)}`],
        ['non-base64 text', `whsec_${'!'.repeat(32)}`],
        ['a number', 123456],
      ])('%s -> 400 naming the field, nothing created', async (_name, secret) => {
        const p = (refused ??= await newProject(t));
        const sp = (refusedProvider ??= await createStackProject(t, 'customer project secrets'));
        const before = await providerProjectCounts(t);
        const res = await a
          .post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, {
            auth_provider: 'stack',
            auth_provider_base_url: sp.baseUrl,
            auth_provider_project_id: sp.projectId,
            secret_server_key: sp.secretServerKey,
            webhook_signing_secret: secret,
          })
          .expect(400);
        expect(res.body).toEqual({ request_id: expect.any(String), code: 'VALIDATION_ERROR', message: expect.stringContaining('[webhook_signing_secret] must be whsec_ followed by the standard base64') });
        expect(await integrationRows(t, p.projectId)).toEqual([]);
        expect(await neonAuthState(p.uri)).toEqual({ schema: false, table: false, rows: 0 });
        expect(await providerProjectCounts(t)).toEqual(before);
      });

      it.each([
        ['24 bytes (what Svix issues)', `whsec_${b64(24)}`],
        ['25 bytes, padded', `whsec_${b64(25)}`],
        ['64 bytes', `whsec_${b64(64)}`],
      ])('%s -> accepted', async (_name, secret) => {
        const p = await newProject(t);
        const sp = await createStackProject(t, 'customer project good secret');
        await a
          .post('/projects/auth/create', {
            auth_provider: 'stack',
            project_id: p.projectId,
            branch_id: p.defaultBranchId,
            auth_provider_base_url: sp.baseUrl,
            auth_provider_project_id: sp.projectId,
            secret_server_key: sp.secretServerKey,
            webhook_signing_secret: secret,
          })
          .expect(201);
        const [row] = await integrationRows(t, p.projectId);
        expect(t.app.get(NeonAuthIntegrationResolver).webhookSecretOf(row)).toBe(secret);
      });

      it('an empty key stored before this check signs nothing: a delivery signed with it -> 401, nothing stored', async () => {
        const p = await newProject(t);
        const sp = await createStackProject(t, 'customer project empty key');
        const body = {
          auth_provider: 'stack',
          auth_provider_base_url: sp.baseUrl,
          auth_provider_project_id: sp.projectId,
          secret_server_key: sp.secretServerKey,
          webhook_signing_secret: SIGNING_SECRET,
        };
        await a.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, body).expect(201);
        const [row] = await integrationRows(t, p.projectId);
        const resolver = t.app.get(NeonAuthIntegrationResolver);
        const planted = resolver.sealSecrets(row.id, resolver.credentialsOf(row), 'whsec_').webhookSecretEncrypted;
        await t.app.get(DataSource).query('UPDATE neon_auth_integrations SET webhook_secret_encrypted = $1 WHERE id = $2', [planted, row.id]);
        t.app.get(SyncIntegrations).forget(row.id);
        const event = JSON.stringify({ type: 'user.created', data: { id: '7c9e6679-7425-40de-944b-e07fc1f90ae7', display_name: 'Forged', primary_email: null } });
        const at = Math.floor(Date.now() / 1000);
        const signature = createHmac('sha256', Buffer.alloc(0)).update(`msg_empty.${at}.${event}`).digest('base64');
        const res = await request(t.baseUrl)
          .post(`/webhooks/neon-auth/${row.id}`)
          .set({ 'content-type': 'application/json', 'svix-id': 'msg_empty', 'svix-timestamp': String(at), 'svix-signature': `v1,${signature}` })
          .send(event)
          .expect(401);
        expect(res.body.message).toContain('signing secret is empty');
        expect(await t.app.get(DataSource).query('SELECT 1 FROM sync_inbox WHERE integration_id = $1', [row.id])).toEqual([]);
      });
    });

    it('the copy fails half-way -> no integration, the schema it created is dropped', async () => {
      const p = await newProject(t);
      const sp = await createStackProject(t, 'customer project 3');
      await request(t.baseUrl).post('/stack-auth/api/v1/users').set(serverHeaders(sp)).send({ primary_email: 'c@example.com' }).expect(201);
      const provisioning = t.app.get(NeonAuthUsersSyncStore);
      const original = provisioning.upsertUsers.bind(provisioning);
      provisioning.upsertUsers = async () => {
        throw new Error('injected write fault');
      };
      try {
        await a
          .post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, {
            auth_provider: 'stack',
            auth_provider_base_url: sp.baseUrl,
            auth_provider_project_id: sp.projectId,
            secret_server_key: sp.secretServerKey,
          })
          .expect(500);
      } finally {
        provisioning.upsertUsers = original;
      }
      expect(await integrationRows(t, p.projectId)).toEqual([]);
      expect(await neonAuthState(p.uri)).toEqual({ schema: false, table: false, rows: 0 });
    });
  });
});
