// Who may call the users, SDK-keys and ownership-transfer endpoints: every endpoint x (org admin, member,
// collaborator, organization key, project-scoped key, other organization's admin, revoked key, no key).
// 401 = no or bad key, 404 = outside the caller's reach, 403 = visible but not allowed. Denied calls change nothing.
import { CALLERS, row, setupCallers, type Caller, type Callers, type Expectation } from '../helpers/callers.js';
import request from 'supertest';
import { api, createProject } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { adminQuery } from '../helpers/test-db.js';
import { enableAuth, providerUsers, usersSync, type EnabledAuth } from './users-helpers.js';

type Method = 'get' | 'post' | 'put' | 'delete';

describe('Neon Auth users, SDK keys and ownership transfer: permission matrix', () => {
  let t: TestApp;
  let who: Callers;
  let projectId: string;
  let branchId: string;
  let uri: string;
  let auth: EnabledAuth;
  let uniq = 0;
  /** Emails the callers that must be refused tried to create. */
  const refusedEmails: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    who = await setupCallers(t, 'auth matrix');
    projectId = who.project.project.id;
    branchId = who.project.branch.id;
    uri = who.project.connection_uris[0].connection_uri;
    auth = await enableAuth(t, projectId, branchId, 'mock');
  });
  afterAll(async () => {
    await t?.close();
  });

  const call = (caller: Caller, method: Method, path: string, body?: object) => who.call(caller, method, path, body);

  /** A fresh user (made by the admin) for a caller to delete or change. */
  async function victim(): Promise<string> {
    const res = await api(t, t.adminKey).post(`/projects/${projectId}/branches/${branchId}/auth/users`, { email: `victim-${++uniq}@example.com` }).expect(201);
    return res.body.id as string;
  }

  interface Case {
    name: string;
    method: Method;
    path: () => Promise<string> | string;
    body?: (caller: Caller) => object;
    expect: Expectation;
  }

  const email = (caller: Caller) => {
    const e = `matrix-${caller}-${++uniq}@example.com`;
    if (['otherOrgAdmin', 'revokedKey', 'noKey'].includes(caller)) refusedEmails.push(e);
    return e;
  };

  const cases: Case[] = [
    { name: 'POST …/branches/{id}/auth/users', method: 'post', path: () => `/projects/${projectId}/branches/${branchId}/auth/users`, body: (c) => ({ email: email(c) }), expect: row(201, 201, 201, 201, 201, 404) },
    { name: 'GET …/branches/{id}/auth/users (extension)', method: 'get', path: () => `/projects/${projectId}/branches/${branchId}/auth/users`, expect: row(200, 200, 200, 200, 200, 404) },
    { name: 'PUT …/auth/users/{id}/role', method: 'put', path: async () => `/projects/${projectId}/branches/${branchId}/auth/users/${await victim()}/role`, body: () => ({ roles: ['admin'] }), expect: row(200, 200, 200, 200, 200, 404) },
    { name: 'DELETE …/branches/{id}/auth/users/{id}', method: 'delete', path: async () => `/projects/${projectId}/branches/${branchId}/auth/users/${await victim()}`, expect: row(204, 204, 204, 204, 204, 404) },
    { name: 'POST /projects/auth/user (legacy)', method: 'post', path: () => '/projects/auth/user', body: (c) => ({ project_id: projectId, auth_provider: 'mock', email: email(c) }), expect: row(201, 201, 201, 201, 201, 404) },
    { name: 'DELETE /projects/{id}/auth/users/{id} (legacy)', method: 'delete', path: async () => `/projects/${projectId}/auth/users/${await victim()}`, expect: row(204, 204, 204, 204, 204, 404) },
    { name: 'POST /projects/auth/keys (org admins only)', method: 'post', path: () => '/projects/auth/keys', body: () => ({ project_id: projectId, auth_provider: 'mock' }), expect: row(201, 403, 403, 201, 403, 404) },
    { name: 'POST /projects/auth/transfer_ownership (org admins only)', method: 'post', path: () => '/projects/auth/transfer_ownership', body: () => ({ project_id: projectId, auth_provider: 'mock' }), expect: row(200, 403, 403, 200, 403, 404) },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const actual = {} as Record<Caller, number>;
      for (const caller of CALLERS) {
        const res = await call(caller, c.method, await c.path(), c.body?.(caller));
        actual[caller] = res.status;
        if (res.status >= 400) expect(Object.keys(res.body).sort()).toEqual(['code', 'message', 'request_id']);
      }
      expect(actual).toEqual(c.expect);
    });
  }

  it('a project-scoped key of another project is outside reach (404)', async () => {
    const admin = api(t, t.adminKey);
    const orgId = who.orgId;
    const otherProject = (await createProject(admin, { name: 'other', org_id: orgId })).project.id;
    const otherKey = (await admin.post(`/organizations/${orgId}/api_keys`, { key_name: 'other-proj', project_id: otherProject }).expect(200)).body.key as string;
    const res = await request(t.baseUrl).post('/api/v2/projects/auth/user').set('Authorization', `Bearer ${otherKey}`).send({ project_id: projectId, auth_provider: 'mock', email: 'outsider@example.com' });
    expect(res.status).toBe(404);
    refusedEmails.push('outsider@example.com');
    const keysRes = await request(t.baseUrl).post('/api/v2/projects/auth/keys').set('Authorization', `Bearer ${otherKey}`).send({ project_id: projectId, auth_provider: 'mock' });
    expect(keysRes.status).toBe(404);
  });

  it('denied calls changed nothing', async () => {
    const inProvider = (await providerUsers(t, auth)).map((u) => u.email);
    const inSync = (await usersSync(uri)).map((r) => r.email);
    for (const e of refusedEmails) {
      expect(inProvider).not.toContain(e);
      expect(inSync).not.toContain(e);
    }
    // Every allowed create landed in both places (5 callers x 2 create routes), plus the admin's victims.
    expect(inProvider.filter((e) => e?.startsWith('matrix-'))).toHaveLength(10);
    expect(inSync.filter((e) => e?.startsWith('matrix-'))).toHaveLength(10);
    // Forbidden SDK-key calls made no keys: the mock counts issued key generations (enable + admin + org key).
    const generation = await adminQuery<{ key_generation: number }>('SELECT key_generation FROM mock_provider_projects WHERE id = $1', [auth.auth_provider_project_id], t.database);
    expect(generation[0].key_generation).toBe(3);
  });
});
