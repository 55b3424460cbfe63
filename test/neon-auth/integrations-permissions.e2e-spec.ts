// Permission matrix of the Neon Auth integration endpoints (reference §7.1): install/remove -> org admins only
// (admin's personal key or the org key); reads -> anyone who sees the project; outside reach -> 404; no/bad key -> 401.
import { CALLERS, row, setupCallers, type Caller, type Callers, type Expectation } from '../helpers/callers.js';
import { api } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { integrationRows } from './integrations-helpers.js';

describe('Neon Auth integrations: permission matrix', () => {
  let t: TestApp;
  let who: Callers;
  let projectId: string;
  let defaultBranchId: string;
  let uniq = 0;

  beforeAll(async () => {
    t = await startTestApp();
    who = await setupCallers(t, 'auth matrix');
    projectId = who.project.project.id;
    defaultBranchId = who.project.branch.id;
  });

  afterAll(async () => {
    await t?.close();
  });

  const call = (caller: Caller, method: 'get' | 'post' | 'delete', path: string, body?: object) => who.call(caller, method, path, body);

  const admin = () => api(t, t.adminKey);
  async function freshBranch(): Promise<string> {
    return (await admin().post(`/projects/${projectId}/branches`, { branch: { name: `m-${++uniq}` } }).expect(201)).body.branch.id;
  }
  async function enabledBranch(): Promise<string> {
    const id = await freshBranch();
    await admin().post(`/projects/${projectId}/branches/${id}/auth`, { auth_provider: 'mock' }).expect(201);
    return id;
  }
  async function defaultBranchEnabled(): Promise<void> {
    const res = await admin().get(`/projects/${projectId}/branches/${defaultBranchId}/auth`);
    if (res.status === 404) await admin().post(`/projects/${projectId}/branches/${defaultBranchId}/auth`, { auth_provider: 'mock' }).expect(201);
  }

  interface Case {
    name: string;
    method: 'get' | 'post' | 'delete';
    /** Arranges and answers the path; `branch` is the branch the call acts on (checked afterwards for denied writes). */
    arrange: () => Promise<{ path: string; body?: object; branch?: string }>;
    expect: Expectation;
    /** For writes: whether Neon Auth should be enabled on `branch` after an ALLOWED / DENIED call. */
    after?: { allowed: boolean; denied: boolean };
  }

  const cases: Case[] = [
    {
      name: 'GET …/branches/{branch_id}/auth (getNeonAuth)',
      method: 'get',
      arrange: async () => {
        await defaultBranchEnabled();
        return { path: `/projects/${projectId}/branches/${defaultBranchId}/auth` };
      },
      expect: row(200, 200, 200, 200, 200, 404),
    },
    {
      name: 'POST …/branches/{branch_id}/auth (createNeonAuth)',
      method: 'post',
      arrange: async () => {
        const branch = await freshBranch();
        return { path: `/projects/${projectId}/branches/${branch}/auth`, body: { auth_provider: 'mock' }, branch };
      },
      expect: row(201, 403, 403, 201, 403, 404),
      after: { allowed: true, denied: false },
    },
    {
      name: 'DELETE …/branches/{branch_id}/auth (disableNeonAuth)',
      method: 'delete',
      arrange: async () => {
        const branch = await enabledBranch();
        return { path: `/projects/${projectId}/branches/${branch}/auth`, body: { delete_data: true }, branch };
      },
      expect: row(200, 403, 403, 200, 403, 404),
      after: { allowed: false, denied: true },
    },
    {
      name: 'POST /projects/auth/create (createNeonAuthIntegration, project in the body)',
      method: 'post',
      arrange: async () => {
        const branch = await freshBranch();
        return { path: '/projects/auth/create', body: { auth_provider: 'mock', project_id: projectId, branch_id: branch }, branch };
      },
      expect: row(201, 403, 403, 201, 403, 404),
      after: { allowed: true, denied: false },
    },
    {
      name: 'GET /projects/{project_id}/auth/integrations (listNeonAuthIntegrations)',
      method: 'get',
      arrange: async () => ({ path: `/projects/${projectId}/auth/integrations` }),
      expect: row(200, 200, 200, 200, 200, 404),
    },
    {
      name: 'DELETE /projects/{project_id}/auth/integration/{auth_provider} (deleteNeonAuthIntegration)',
      method: 'delete',
      arrange: async () => {
        await defaultBranchEnabled();
        return { path: `/projects/${projectId}/auth/integration/mock`, body: {}, branch: defaultBranchId };
      },
      expect: row(200, 403, 403, 200, 403, 404),
      after: { allowed: false, denied: true },
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const actual = {} as Record<Caller, number>;
      for (const caller of CALLERS) {
        const { path, body, branch } = await c.arrange();
        const res = await call(caller, c.method, path, body);
        actual[caller] = res.status;
        if (res.status >= 400) expect(Object.keys(res.body).sort()).toEqual(['code', 'message', 'request_id']);
        if (c.after && branch) {
          const enabled = (await integrationRows(t, projectId)).some((r) => r.branchId === branch);
          expect([caller, enabled]).toEqual([caller, res.status < 300 ? c.after.allowed : c.after.denied]);
        }
      }
      expect(actual).toEqual(c.expect);
    });
  }

  it('a project outside the caller\'s reach answers 404 on every route, also for the body-named project of the legacy create', async () => {
    const other = who.keys.otherOrgAdmin!;
    const res = await api(t, other).post('/projects/auth/create', { auth_provider: 'mock', project_id: projectId, branch_id: defaultBranchId }).expect(404);
    expect(res.body.message).toContain(projectId);
    const nope = await api(t, t.adminKey).post('/projects/auth/create', { auth_provider: 'mock', project_id: 'no-such-project', branch_id: defaultBranchId }).expect(404);
    expect(nope.body.message).toContain('no-such-project');
  });
});
