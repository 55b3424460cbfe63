// Neon's own clients and ours against the users endpoints: @neondatabase/api-client (conformance), the client
// generated from this server's OpenAPI document, and neonctl (npm, child process) with printed output asserted.
import { createApiClient, NeonAuthSupportedAuthProvider, type NeonAuthCreateNewUserResponse, type UpdateNeonAuthUserRoleResponse } from '@neondatabase/api-client';
import { apiClient } from '../helpers/client.js';
import { api, type Api, apiClientRejection } from '../helpers/fixtures.js';
import { neonctl } from '../helpers/neonctl.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { enableAuth, newAuthProject, newBranch, providerUser, uniqueEmail, usersSyncRow, type AuthProject, type EnabledAuth } from './users-helpers.js';

/** Keys of a response body must be exactly those of Neon's type (compile-time list, checked at run time). */
function expectExactKeys<T extends object>(body: T, keys: (keyof T)[]): void {
  expect(Object.keys(body).sort()).toEqual([...keys].map(String).sort());
}


describe('Neon Auth users: clients', () => {
  let t: TestApp;
  let admin: Api;
  let project: AuthProject;
  let mockBranch: { id: string; uri: string };
  let stack: EnabledAuth;
  let mock: EnabledAuth;

  beforeAll(async () => {
    t = await startTestApp();
    admin = api(t, t.adminKey);
    project = await newAuthProject(t, 'clients');
    mockBranch = await newBranch(t, admin, project.projectId, 'mock-branch');
    stack = await enableAuth(t, project.projectId, project.defaultBranchId, 'stack');
    mock = await enableAuth(t, project.projectId, mockBranch.id, 'mock');
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('@neondatabase/api-client', () => {
    let neon: ReturnType<typeof createApiClient>;
    beforeAll(() => {
      neon = createApiClient({ apiKey: t.adminKey, baseURL: t.apiUrl });
    });

    it('createBranchNeonAuthNewUser, updateNeonAuthUserRole, deleteBranchNeonAuthUser (stack and mock)', async () => {
      for (const [branchId, uri, auth] of [
        [project.defaultBranchId, project.uri, stack],
        [mockBranch.id, mockBranch.uri, mock],
      ] as const) {
        const email = uniqueEmail('apiclient');
        const created = await neon.createBranchNeonAuthNewUser(project.projectId, branchId, { email, name: 'Api Client' });
        expect(created.status).toBe(201);
        expectExactKeys<NeonAuthCreateNewUserResponse>(created.data, ['id']);
        expect(await usersSyncRow(uri, created.data.id)).toMatchObject({ email, name: 'Api Client' });

        const roles = await neon.updateNeonAuthUserRole(project.projectId, branchId, created.data.id, { roles: ['admin'] });
        expect(roles.status).toBe(200);
        expectExactKeys<UpdateNeonAuthUserRoleResponse>(roles.data, ['id']);
        expect(roles.data.id).toBe(created.data.id);
        expect(((await providerUser(t, auth, created.data.id))!.server_metadata as { roles: string[] }).roles).toEqual(['admin']);

        const deleted = await neon.deleteBranchNeonAuthUser(project.projectId, branchId, created.data.id);
        expect(deleted.status).toBe(204);
        expect(deleted.data).toBe('');
        expect((await usersSyncRow(uri, created.data.id))!.deleted_at).toBeInstanceOf(Date);

        const missing = await apiClientRejection(neon.deleteBranchNeonAuthUser(project.projectId, branchId, created.data.id));
        expect(missing.status).toBe(404);
        expect(missing.data).toMatchObject({ code: 'AUTH_USER_NOT_FOUND', request_id: expect.any(String), message: expect.any(String) });
      }
    });

    it('createNeonAuthNewUser and deleteNeonAuthUser (legacy: the default branch)', async () => {
      const email = uniqueEmail('legacy-apiclient');
      const created = await neon.createNeonAuthNewUser({ project_id: project.projectId, auth_provider: NeonAuthSupportedAuthProvider.Stack, email });
      expect(created.status).toBe(201);
      expectExactKeys<NeonAuthCreateNewUserResponse>(created.data, ['id']);
      expect(await usersSyncRow(project.uri, created.data.id)).toMatchObject({ email, name: email });
      const deleted = await neon.deleteNeonAuthUser(project.projectId, created.data.id);
      expect(deleted.status).toBe(204);
      expect((await usersSyncRow(project.uri, created.data.id))!.deleted_at).toBeInstanceOf(Date);

      const dup = await apiClientRejection(neon.createBranchNeonAuthNewUser(project.projectId, project.defaultBranchId, { email: 'x' }));
      expect(dup.status).toBe(400);
      expect(dup.data.code).toBe('VALIDATION_ERROR');
    });
  });

  describe('generated client (openapi/client)', () => {
    it('every users operation, and their errors', async () => {
      const client = apiClient(t.baseUrl, t.adminKey);
      const ids = { projectId: project.projectId, branchId: mockBranch.id };
      const email = uniqueEmail('generated');
      const created = await client.auth.createBranchNeonAuthNewUser(ids, { email, name: 'Generated' });
      expect(created.status).toBe(201);
      const id = created.data.id;
      expect((await client.auth.updateNeonAuthUserRole({ ...ids, authUserId: id }, { roles: ['editor'] })).data).toEqual({ id });
      const listed = await client.auth.listBranchNeonAuthUsers({ ...ids, query: email });
      expect(listed.data.users).toEqual([expect.objectContaining({ id, email, name: 'Generated', roles: ['editor'], deleted_at: null })]);
      expect((await client.auth.deleteBranchNeonAuthUser({ ...ids, authUserId: id })).status).toBe(204);
      expect((await client.auth.listBranchNeonAuthUsers({ ...ids, query: email })).data.users).toEqual([]);
      expect((await client.auth.listBranchNeonAuthUsers({ ...ids, query: email, include_deleted: true })).data.users).toHaveLength(1);

      const legacy = await client.authLegacy.createNeonAuthNewUser({ project_id: project.projectId, auth_provider: 'stack', email: uniqueEmail('gen-legacy') });
      expect(legacy.status).toBe(201);
      expect((await client.authLegacy.deleteNeonAuthUser({ projectId: project.projectId, authUserId: legacy.data.id })).status).toBe(204);

      const errors: [() => Promise<unknown>, number, string][] = [
        [() => client.auth.createBranchNeonAuthNewUser(ids, { email: 'nope' }), 400, 'VALIDATION_ERROR'],
        [() => client.auth.createBranchNeonAuthNewUser(ids, { email: 'list-dup@example.com' }).then(() => client.auth.createBranchNeonAuthNewUser(ids, { email: 'list-dup@example.com' })), 409, 'AUTH_USER_ALREADY_EXISTS'],
        [() => client.auth.updateNeonAuthUserRole({ ...ids, authUserId: id }, { roles: ['x'] }), 404, 'AUTH_USER_NOT_FOUND'],
        [() => client.auth.updateNeonAuthUserRole({ ...ids, authUserId: id }, { roles: [] }), 400, 'VALIDATION_ERROR'],
        [() => client.auth.deleteBranchNeonAuthUser({ ...ids, authUserId: id }, { format: 'json' }), 404, 'AUTH_USER_NOT_FOUND'],
        [() => client.auth.listBranchNeonAuthUsers({ ...ids, limit: 0 }), 400, 'VALIDATION_ERROR'],
        [() => client.authLegacy.createNeonAuthNewUser({ project_id: project.projectId, auth_provider: 'mock', email: uniqueEmail() }), 404, 'NEON_AUTH_NOT_ENABLED'],
        [() => client.authLegacy.createNeonAuthNewUser({ project_id: project.projectId, auth_provider: 'better_auth', email: uniqueEmail() }), 404, 'NEON_AUTH_NOT_ENABLED'],
        [() => client.authLegacy.deleteNeonAuthUser({ projectId: project.projectId, authUserId: 'nobody' }, { format: 'json' }), 404, 'AUTH_USER_NOT_FOUND'],
      ];
      for (const [call, status, code] of errors) {
        const res = await call().then(
          () => undefined,
          (e: { status: number; error: { code: string } }) => e,
        );
        expect(res).toMatchObject({ status, error: { code } });
      }
    });
  });

  describe('neonctl', () => {
    it.each([
      ['stack', () => ({ branch: project.defaultBranchId, uri: project.uri, auth: stack, useBranchFlag: false })],
      ['mock', () => ({ branch: mockBranch.id, uri: mockBranch.uri, auth: mock, useBranchFlag: true })],
    ])('neon-auth user create / set-role / delete against a branch with %s, printed output asserted', async (_kind, target) => {
      const { branch, uri, auth, useBranchFlag } = target();
      const where = ['--project-id', project.projectId, ...(useBranchFlag ? ['--branch', branch] : [])];

      // Without --name neonctl sends the email as the name and does not print a Name line.
      const email = uniqueEmail('cli');
      const created = await neonctl(t.apiUrl, t.adminKey, ['neon-auth', 'user', 'create', '--email', email, ...where]);
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      const id = /ID: {6}(\S+)/.exec(created.stdout)?.[1];
      expect(id).toBeDefined();
      expect(created.stdout).toBe(`\nUser created\n  ID:      ${id}\n  Email:   ${email}\n\n`);
      expect(await usersSyncRow(uri, id!)).toMatchObject({ email, name: email, deleted_at: null });

      const namedEmail = uniqueEmail('cli-named');
      const named = await neonctl(t.apiUrl, t.adminKey, ['neon-auth', 'user', 'create', '--email', namedEmail, '--name', 'Cli Person', ...where]);
      expect(named.code).toBe(0);
      expect(named.stdout).toMatch(/^\nUser created\n {2}ID: {6}\S+\n {2}Email: {3}cli-named-\S+@example\.com\n {2}Name: {4}Cli Person\n\n$/);

      const roles = await neonctl(t.apiUrl, t.adminKey, ['neon-auth', 'user', 'set-role', id!, '--roles', 'admin', 'billing', ...where]);
      expect(roles.code).toBe(0);
      expect(roles.stdout).toBe(`\nRoles updated\n  User ID:   ${id}\n  Roles:     admin, billing\n\n`);
      expect(((await usersSyncRow(uri, id!))!.raw_json.server_metadata as { roles: string[] }).roles).toEqual(['admin', 'billing']);
      expect(((await providerUser(t, auth, id!))!.server_metadata as { roles: string[] }).roles).toEqual(['admin', 'billing']);

      const deleted = await neonctl(t.apiUrl, t.adminKey, ['neon-auth', 'user', 'delete', id!, ...where]);
      expect(deleted.code).toBe(0);
      expect(deleted.stdout).toBe(`\nUser "${id}" deleted\n\n`);
      expect((await usersSyncRow(uri, id!))!.deleted_at).toBeInstanceOf(Date);
      expect(await providerUser(t, auth, id!)).toBeUndefined();

      // Errors: stderr "ERROR: <message>", exit 1.
      const again = await neonctl(t.apiUrl, t.adminKey, ['neon-auth', 'user', 'delete', id!, ...where]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`ERROR: auth user ${id} not found`);
      const dup = await neonctl(t.apiUrl, t.adminKey, ['neon-auth', 'user', 'create', '--email', namedEmail, ...where]);
      expect(dup.code).toBe(1);
      expect(dup.stderr).toContain(`ERROR: a user with email ${namedEmail} already exists`);
    }, 60_000);
  });
});
