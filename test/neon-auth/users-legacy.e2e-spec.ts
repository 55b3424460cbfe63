// Legacy users routes (tag "Auth (legacy)"): POST /projects/auth/user and DELETE /projects/{project_id}/auth/users/{id}
// act on the project's default branch.
import { api, type Api } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { enableAuth, newAuthProject, newBranch, providerUser, uniqueEmail, usersSync, usersSyncRow, type AuthProject, type EnabledAuth } from './users-helpers.js';

describe('Neon Auth users (legacy routes)', () => {
  let t: TestApp;
  let admin: Api;
  let project: AuthProject;
  let branch: { id: string; uri: string };
  let stack: EnabledAuth;

  beforeAll(async () => {
    t = await startTestApp();
    admin = api(t, t.adminKey);
    project = await newAuthProject(t, 'legacy users');
    branch = await newBranch(t, admin, project.projectId, 'feature');
    stack = await enableAuth(t, project.projectId, project.defaultBranchId, 'stack');
    await enableAuth(t, project.projectId, branch.id, 'mock');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('POST /projects/auth/user creates the user on the default branch (provider + users_sync), 201 {id}', async () => {
    const email = uniqueEmail('legacy');
    const res = await admin.post('/projects/auth/user', { project_id: project.projectId, auth_provider: 'stack', email, name: 'Legacy Person' }).expect(201);
    expect(res.body).toEqual({ id: expect.any(String) });
    const row = await usersSyncRow(project.uri, res.body.id);
    expect(row).toMatchObject({ email, name: 'Legacy Person', deleted_at: null });
    expect(row!.raw_json).toEqual(await providerUser(t, stack, res.body.id));
    // Not on the other branch (it has its own integration and users_sync).
    expect(await usersSync(branch.uri, 'email = $1', [email])).toEqual([]);
    // name defaults to the email; a duplicate is 409.
    const noName = await admin.post('/projects/auth/user', { project_id: project.projectId, auth_provider: 'stack', email: uniqueEmail('legacy-noname') }).expect(201);
    expect((await usersSyncRow(project.uri, noName.body.id))!.name).toMatch(/^legacy-noname-/);
    expect((await admin.post('/projects/auth/user', { project_id: project.projectId, auth_provider: 'stack', email }).expect(409)).body.code).toBe('AUTH_USER_ALREADY_EXISTS');
  });

  it('DELETE /projects/{id}/auth/users/{id}: 204, soft delete in users_sync; unknown -> 404', async () => {
    const id = (await admin.post('/projects/auth/user', { project_id: project.projectId, auth_provider: 'stack', email: uniqueEmail('legacy-del') }).expect(201)).body.id as string;
    const res = await admin.delete(`/projects/${project.projectId}/auth/users/${id}`).expect(204);
    expect(res.text).toBe('');
    expect((await usersSyncRow(project.uri, id))!.deleted_at).toBeInstanceOf(Date);
    expect(await providerUser(t, stack, id)).toBeUndefined();
    expect((await admin.delete(`/projects/${project.projectId}/auth/users/${id}`).expect(404)).body.code).toBe('AUTH_USER_NOT_FOUND');
    // A user of the other branch is not the default branch's: 404 there, untouched.
    const onBranch = (await admin.post(`/projects/${project.projectId}/branches/${branch.id}/auth/users`, { email: uniqueEmail('branch-user') }).expect(201)).body.id as string;
    await admin.delete(`/projects/${project.projectId}/auth/users/${onBranch}`).expect(404);
    expect((await usersSyncRow(branch.uri, onBranch))!.deleted_at).toBeNull();
  });

  it('errors', async () => {
    const plain = await newAuthProject(t, 'legacy plain');
    const cases: [object, number, string][] = [
      [{ project_id: project.projectId, auth_provider: 'mock', email: uniqueEmail() }, 404, 'NEON_AUTH_NOT_ENABLED'],
      [{ project_id: project.projectId, auth_provider: 'better_auth', email: uniqueEmail() }, 404, 'NEON_AUTH_NOT_ENABLED'],
      [{ project_id: plain.projectId, auth_provider: 'stack', email: uniqueEmail() }, 404, 'NEON_AUTH_NOT_ENABLED'],
      [{ project_id: 'no-such-project', auth_provider: 'stack', email: uniqueEmail() }, 404, 'NOT_FOUND'],
      [{ project_id: 'Bad_Id', auth_provider: 'stack', email: uniqueEmail() }, 400, 'VALIDATION_ERROR'],
      [{ project_id: project.projectId, email: uniqueEmail() }, 400, 'VALIDATION_ERROR'],
      [{ project_id: project.projectId, auth_provider: 'stack' }, 400, 'VALIDATION_ERROR'],
      [{ project_id: project.projectId, auth_provider: 'stack', email: 'nope' }, 400, 'VALIDATION_ERROR'],
      [{ project_id: project.projectId, auth_provider: 'stack', email: uniqueEmail(), name: '' }, 400, 'VALIDATION_ERROR'],
      [{ project_id: project.projectId, auth_provider: 'stack', email: uniqueEmail(), branch_id: branch.id }, 400, 'VALIDATION_ERROR'],
    ];
    for (const [body, status, code] of cases) {
      const res = await admin.post('/projects/auth/user', body);
      expect([JSON.stringify(body), res.status, res.body.code]).toEqual([JSON.stringify(body), status, code]);
    }
    expect((await admin.delete(`/projects/${plain.projectId}/auth/users/someone`).expect(404)).body.code).toBe('NEON_AUTH_NOT_ENABLED');
    expect((await admin.delete(`/projects/BAD/auth/users/someone`).expect(400)).body.code).toBe('VALIDATION_ERROR');
    expect((await admin.delete(`/projects/no-such-project/auth/users/someone`).expect(404)).body.code).toBe('NOT_FOUND');
  });

  it('Idempotency-Key on the legacy create', async () => {
    const body = { project_id: project.projectId, auth_provider: 'stack', email: uniqueEmail('legacy-idem') };
    const first = await admin.post('/projects/auth/user', body).set('Idempotency-Key', 'legacy-1').expect(201);
    const again = await admin.post('/projects/auth/user', body).set('Idempotency-Key', 'legacy-1').expect(201);
    expect(again.body).toEqual(first.body);
    expect(await usersSync(project.uri, 'email = $1', [body.email])).toHaveLength(1);
  });
});
