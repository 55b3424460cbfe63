// Conformance of the Neon Auth integration endpoints with Neon's own clients: @neondatabase/api-client (every
// integration method; response bodies checked against the field lists of the client's own TypeScript types) and
// neonctl 5.0.1 (`neon-auth status` and `neon-auth disable` against branches enabled with stack and with mock).
import fs from 'node:fs';
import path from 'node:path';
import { createApiClient } from '@neondatabase/api-client';
import { neonctl } from '../helpers/neonctl.js';
import { api, withClient } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { neonAuthState, newProject } from './integrations-helpers.js';

/** Fields of `export interface <name>` in the client's api.gen.d.ts: name -> {optional, type}. */
function clientInterface(name: string): Map<string, { optional: boolean; type: string }> {
  const file = fs.readFileSync(path.resolve('node_modules/@neondatabase/api-client/dist/api.gen.d.ts'), 'utf8');
  const start = file.indexOf(`export interface ${name} {`);
  if (start < 0) throw new Error(`interface ${name} not found in the client`);
  const body = file.slice(start, file.indexOf('\n}', start));
  const fields = new Map<string, { optional: boolean; type: string }>();
  for (const m of body.matchAll(/^ {4}([a-z_]+)(\?)?: ([^;]+);$/gm)) fields.set(m[1], { optional: m[2] === '?', type: m[3] });
  if (fields.size === 0) throw new Error(`no fields parsed for ${name}`);
  return fields;
}

/** Enum members of `export declare enum <name>` / union type in the client. */
function clientEnum(name: string): string[] {
  const file = fs.readFileSync(path.resolve('node_modules/@neondatabase/api-client/dist/api.gen.d.ts'), 'utf8');
  const start = file.indexOf(`export declare enum ${name} {`);
  if (start < 0) throw new Error(`enum ${name} not found in the client`);
  const body = file.slice(start, file.indexOf('\n}', start));
  return [...body.matchAll(/= "([^"]+)"/g)].map((m) => m[1]);
}

/** Our documented extension fields (OpenAPI: NeonAuthIntegration.webhook_url, NeonAuthCreateIntegrationResponse.webhook_url). */
const EXTENSIONS = new Set(['webhook_url']);

/** The body has every required field of the client's type, with the right JSON type, and no field the type lacks. */
function expectConforms(body: Record<string, unknown>, typeName: string): void {
  const fields = clientInterface(typeName);
  for (const [field, { optional, type }] of fields) {
    if (!optional) expect([typeName, field, field in body]).toEqual([typeName, field, true]);
    if (!(field in body)) continue;
    const value = body[field];
    const expected =
      type === 'string' ? 'string' : type === 'boolean' ? 'boolean' : type === 'number' ? 'number' : /\[\]$/.test(type) ? 'array' : 'string'; // enums are strings
    expect([typeName, field, Array.isArray(value) ? 'array' : typeof value]).toEqual([typeName, field, expected]);
    if (/^NeonAuth(SupportedAuthProvider|ProviderProjectOwnedBy|ProviderProjectTransferStatus)$/.test(type)) {
      expect(clientEnum(type)).toContain(value);
    }
  }
  for (const key of Object.keys(body)) {
    if (!EXTENSIONS.has(key)) expect([typeName, key, fields.has(key)]).toEqual([typeName, key, true]);
  }
}

describe('Neon Auth integrations: Neon clients', () => {
  let t: TestApp;
  let neon: ReturnType<typeof createApiClient>;

  beforeAll(async () => {
    t = await startTestApp();
    neon = createApiClient({ apiKey: t.adminKey, baseURL: t.apiUrl });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('@neondatabase/api-client: createNeonAuth, getNeonAuth, disableNeonAuth', async () => {
    for (const provider of ['stack', 'mock'] as const) {
      const p = await newProject(t);
      const missing = await neon.getNeonAuth(p.projectId, p.defaultBranchId).catch((e: { response: { status: number; data: unknown } }) => e.response);
      expect(missing.status).toBe(404);
      expectConforms(missing.data as Record<string, unknown>, 'GeneralError');

      const created = await neon.createNeonAuth(p.projectId, p.defaultBranchId, { auth_provider: provider as never });
      expect(created.status).toBe(201);
      expectConforms(created.data as unknown as Record<string, unknown>, 'NeonAuthCreateIntegrationResponse');
      expect(created.data.secret_server_key).toMatch(/^ssk_/);

      const conflict = await neon.createNeonAuth(p.projectId, p.defaultBranchId, { auth_provider: provider as never }).catch((e: { response: { status: number } }) => e.response);
      expect(conflict.status).toBe(409);

      const got = await neon.getNeonAuth(p.projectId, p.defaultBranchId);
      expect(got.status).toBe(200);
      expectConforms(got.data as unknown as Record<string, unknown>, 'NeonAuthIntegration');
      expect(got.data).toMatchObject({ auth_provider: provider, branch_id: p.defaultBranchId, db_name: 'neondb', owned_by: 'neon' });
      expect(got.data).not.toHaveProperty('secret_server_key');

      const disabled = await neon.disableNeonAuth(p.projectId, p.defaultBranchId, { delete_data: true });
      expect(disabled.status).toBe(200);
      expect(disabled.data).toEqual({});
      expect(await neonAuthState(p.uri)).toEqual({ schema: false, table: false, rows: 0 });
      const gone = await neon.getNeonAuth(p.projectId, p.defaultBranchId).catch((e: { response: { status: number } }) => e.response);
      expect(gone.status).toBe(404);
    }
  });

  it('@neondatabase/api-client: createNeonAuthIntegration, listNeonAuthIntegrations, deleteNeonAuthIntegration', async () => {
    const p = await newProject(t);
    const created = await neon.createNeonAuthIntegration({ auth_provider: 'stack' as never, project_id: p.projectId, branch_id: p.defaultBranchId, database_name: 'neondb' });
    expect(created.status).toBe(201);
    expectConforms(created.data as unknown as Record<string, unknown>, 'NeonAuthCreateIntegrationResponse');
    expect(created.data.pub_client_key).toMatch(/^pck_/);

    const listed = await neon.listNeonAuthIntegrations(p.projectId);
    expect(listed.status).toBe(200);
    expectConforms(listed.data as unknown as Record<string, unknown>, 'ListNeonAuthIntegrationsResponse');
    expect(listed.data.data).toHaveLength(1);
    expectConforms(listed.data.data[0] as unknown as Record<string, unknown>, 'NeonAuthIntegration');
    expect(listed.data.data[0]).toMatchObject({ auth_provider: 'stack', auth_provider_project_id: created.data.auth_provider_project_id, jwks_url: created.data.jwks_url });

    const deleted = await neon.deleteNeonAuthIntegration(p.projectId, 'stack' as never, { delete_data: false });
    expect(deleted.status).toBe(200);
    expect((await neon.listNeonAuthIntegrations(p.projectId)).data).toEqual({ data: [] });
    expect(await neonAuthState(p.uri)).toEqual({ schema: true, table: true, rows: 0 });
    const again = await neon.deleteNeonAuthIntegration(p.projectId, 'stack' as never, {}).catch((e: { response: { status: number } }) => e.response);
    expect(again.status).toBe(404);
  });

  describe.each(['stack', 'mock'] as const)('neonctl 5.0.1 against a branch enabled with %s', (provider) => {
    it('neon-auth status prints the integration (default branch and --branch by id and by name); not configured after disable', async () => {
      const a = api(t, t.adminKey);
      const p = await newProject(t);
      const child = (await a.post(`/projects/${p.projectId}/branches`, { branch: { name: 'auth-child' } }).expect(201)).body.branch;
      const enabled = (await a.post(`/projects/${p.projectId}/branches/${child.id}/auth`, { auth_provider: provider }).expect(201)).body;
      await a.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, { auth_provider: provider }).expect(201);
      const got = (await a.get(`/projects/${p.projectId}/branches/${child.id}/auth`).expect(200)).body;

      for (const branch of [child.id, 'auth-child']) {
        const status = await neonctl(t.apiUrl, t.adminKey, ['neon-auth', 'status', '--project-id', p.projectId, '--branch', branch]);
        expect([status.code, status.stderr]).toEqual([0, '']);
        const out = status.stdout;
        expect(out).toContain('Neon Auth status');
        expect(out).toMatch(new RegExp(`Auth Provider:\\s+${provider}`));
        expect(out).toMatch(new RegExp(`Branch ID:\\s+${child.id}`));
        expect(out).toMatch(/Database:\s+neondb/);
        expect(out).toContain(`Base URL:`);
        expect(out).toContain(enabled.base_url);
        expect(out).toContain(`Created At:`);
        expect(out).toContain(got.created_at.slice(0, 10));
        expect(out).toMatch(/JWKS URL:/);
        expect(out).toContain(enabled.jwks_url);
        expect(out).not.toContain(enabled.secret_server_key);
      }
      // Default branch (no --branch): the CLI pages the branch list and picks default: true.
      const def = await neonctl(t.apiUrl, t.adminKey, ['neon-auth', 'status', '--project-id', p.projectId]);
      expect(def.code).toBe(0);
      expect(def.stdout).toMatch(new RegExp(`Branch ID:\\s+${p.defaultBranchId}`));

      // -o json dumps the whole GET body.
      const json = await neonctl(t.apiUrl, t.adminKey, ['neon-auth', 'status', '--project-id', p.projectId, '--branch', child.id, '-o', 'json']);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual(got);

      const disable = await neonctl(t.apiUrl, t.adminKey, ['neon-auth', 'disable', '--project-id', p.projectId, '--branch', child.id]);
      expect([disable.code, disable.stderr]).toEqual([0, '']);
      expect(disable.stdout).toContain('Neon Auth has been disabled');
      // neonctl sends delete_data:false: the schema stays.
      const childUri = (await a.get(`/projects/${p.projectId}/connection_uri?branch_id=${child.id}&database_name=neondb&role_name=neondb_owner`).expect(200)).body.uri;
      expect(await neonAuthState(childUri)).toEqual({ schema: true, table: true, rows: 0 });

      const after = await neonctl(t.apiUrl, t.adminKey, ['neon-auth', 'status', '--project-id', p.projectId, '--branch', child.id]);
      expect(after.code).toBe(0);
      expect(after.stdout).toContain('Neon Auth is not configured for this branch');

      // disable --delete-data on the default branch drops the schema; disabling again -> error exit with the API's message.
      const dropped = await neonctl(t.apiUrl, t.adminKey, ['neon-auth', 'disable', '--project-id', p.projectId, '--delete-data']);
      expect(dropped.code).toBe(0);
      expect(dropped.stdout).toContain('Neon Auth has been disabled');
      expect(await neonAuthState(p.uri)).toEqual({ schema: false, table: false, rows: 0 });
      const twice = await neonctl(t.apiUrl, t.adminKey, ['neon-auth', 'disable', '--project-id', p.projectId]);
      expect(twice.code).toBe(1);
      expect(twice.stderr).toContain('ERROR: Neon Auth is not enabled');
    });

    it('a project-scoped key (member level) is refused by neonctl neon-auth disable (403 message) but reads the status; the integration stays', async () => {
      const a = api(t, t.adminKey);
      const p = await newProject(t);
      await a.post(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`, { auth_provider: provider }).expect(201);
      const projectKey = (await a.post(`/organizations/${(await a.get('/users/me/organizations').expect(200)).body.organizations[0].id}/api_keys`, { key_name: 'pk', project_id: p.projectId }).expect(200)).body.key;
      const refused = await neonctl(t.apiUrl, projectKey, ['neon-auth', 'disable', '--project-id', p.projectId]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('ERROR: only organization admins');
      const status = await neonctl(t.apiUrl, projectKey, ['neon-auth', 'status', '--project-id', p.projectId]);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(new RegExp(`Auth Provider:\\s+${provider}`));
      await withClient(p.uri, async (c) => expect((await c.query(`SELECT to_regclass('neon_auth.users_sync') IS NOT NULL AS t`)).rows[0].t).toBe(true));
    });
  });
});
