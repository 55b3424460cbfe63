import { CALLERS, row, setupCallers, type Callers, type Caller, type Expectation } from '../helpers/callers.js';
import { api, createProject } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Who may do what, end to end: every kind of caller the issue names against representative routes of each
 * policy. 401 = no or bad key, 404 = outside the caller's reach, 403 = visible but not allowed.
 * A denied write must change nothing (checked after the matrix).
 */
describe('permission matrix', () => {
  let t: TestApp;
  let who: Callers;
  let orgId: string;
  let projectId: string;
  let memberId: string;
  let uniq = 0;

  beforeAll(async () => {
    t = await startTestApp();
    who = await setupCallers(t);
    orgId = who.orgId;
    projectId = who.project.project.id;
    const members = await api(t, t.adminKey).get(`/organizations/${orgId}/members`).expect(200);
    memberId = members.body.members.find((m: { user: { email: string } }) => m.user.email === who.memberEmail).member.id;
  });

  afterAll(async () => {
    await t?.close();
  });

  const call = (caller: Caller, method: 'get' | 'post' | 'patch' | 'delete', path: string, body?: object) => who.call(caller, method, path, body);

  interface Case {
    name: string;
    method: 'get' | 'post' | 'patch' | 'delete';
    path: () => Promise<string> | string;
    body?: () => object;
    expect: Expectation;
  }

  const cases: Case[] = [
    // Projects (ProjectRead / ProjectWrite / ProjectAdmin / ProjectCreate)
    { name: 'GET project', method: 'get', path: () => `/projects/${projectId}`, expect: row(200, 200, 200, 200, 200, 404) },
    { name: 'PATCH project', method: 'patch', path: () => `/projects/${projectId}`, body: () => ({ project: { name: 'matrix' } }), expect: row(200, 200, 200, 200, 200, 404) },
    { name: 'GET branches', method: 'get', path: () => `/projects/${projectId}/branches`, expect: row(200, 200, 200, 200, 200, 404) },
    { name: 'POST branch', method: 'post', path: () => `/projects/${projectId}/branches`, body: () => ({ branch: { name: `b-${++uniq}` } }), expect: row(201, 201, 201, 201, 201, 404) },
    { name: 'GET connection_uri', method: 'get', path: () => `/projects/${projectId}/connection_uri?database_name=neondb&role_name=neondb_owner`, expect: row(200, 200, 200, 200, 200, 404) },
    { name: 'GET permissions', method: 'get', path: () => `/projects/${projectId}/permissions`, expect: row(200, 200, 200, 200, 200, 404) },
    {
      name: 'DELETE project (fresh project per call)',
      method: 'delete',
      path: async () => `/projects/${(await createProject(api(t, t.adminKey), { name: `doomed-${++uniq}`, org_id: orgId })).project.id}`,
      expect: row(200, 403, 404, 200, 404, 404),
    },
    { name: 'POST project in the org', method: 'post', path: () => '/projects', body: () => ({ project: { name: `p-${++uniq}`, org_id: orgId } }), expect: row(201, 201, 404, 201, 403, 404) },
    // Organizations (OrgMember / OrgAdmin / OrgAdminPersonal)
    { name: 'GET organization', method: 'get', path: () => `/organizations/${orgId}`, expect: row(200, 200, 404, 200, 403, 404) },
    { name: 'GET members', method: 'get', path: () => `/organizations/${orgId}/members`, expect: row(200, 200, 404, 200, 403, 404) },
    { name: 'PATCH member role', method: 'patch', path: () => `/organizations/${orgId}/members/${memberId}`, body: () => ({ role: 'member' }), expect: row(200, 403, 404, 200, 403, 404) },
    { name: 'POST invitations', method: 'post', path: () => `/organizations/${orgId}/invitations`, body: () => ({ invitations: [{ email: `inv-${++uniq}@example.com`, role: 'member' }] }), expect: row(200, 403, 404, 403, 403, 404) },
    { name: 'GET org api keys', method: 'get', path: () => `/organizations/${orgId}/api_keys`, expect: row(200, 403, 404, 200, 403, 404) },
    { name: 'POST org api key', method: 'post', path: () => `/organizations/${orgId}/api_keys`, body: () => ({ key_name: `k-${++uniq}` }), expect: row(200, 403, 404, 403, 403, 404) },
    // Users, personal keys, platform admin
    { name: 'GET /users/me', method: 'get', path: () => '/users/me', expect: row(200, 200, 200, 404, 404, 200) },
    { name: 'GET /api_keys', method: 'get', path: () => '/api_keys', expect: row(200, 200, 200, 403, 403, 200) },
    { name: 'POST /admin/accounts', method: 'post', path: () => '/admin/accounts', body: () => ({ email: `acct-${++uniq}@example.com`, name: 'x' }), expect: row(201, 403, 403, 403, 403, 403) },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const actual = {} as Record<Caller, number>;
      for (const caller of CALLERS) {
        const res = await call(caller, c.method, await c.path(), c.body?.());
        actual[caller] = res.status;
        if (res.status >= 400) expect(Object.keys(res.body).sort()).toEqual(['code', 'message', 'request_id']);
      }
      expect(actual).toEqual(c.expect);
    });
  }

  it('members, collaborators and project keys cannot delete a project they can see (403)', async () => {
    for (const caller of ['member', 'collaborator', 'projectKey'] as const) {
      const res = await call(caller, 'delete', `/projects/${projectId}`);
      expect([caller, res.status]).toEqual([caller, 403]);
    }
    await api(t, t.adminKey).get(`/projects/${projectId}`).expect(200);
  });

  it('denied writes changed nothing', async () => {
    const admin = api(t, t.adminKey);
    const branches = await admin.get(`/projects/${projectId}/branches`).expect(200);
    // One branch per allowed caller (5) plus main.
    expect(branches.body.branches).toHaveLength(6);
    const member = await admin.get(`/organizations/${orgId}/members/${memberId}`).expect(200);
    expect(member.body.role).toBe('member');
    const invitations = await admin.get(`/organizations/${orgId}/invitations`).expect(200);
    expect(invitations.body.invitations).toHaveLength(1);
    const orgKeys = await admin.get(`/organizations/${orgId}/api_keys`).expect(200);
    // org + project key from the setup, plus the one the admin created in the matrix.
    expect(orgKeys.body).toHaveLength(3);
  });
});
