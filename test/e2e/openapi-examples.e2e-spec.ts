// Every request body example of the served OpenAPI document (what Swagger UI pre-fills under "Try it out") is sent
// as it is to a real server, in the order a person would work, and must succeed. Only the ids change: those in the
// path, and the placeholder project and branch ids that the legacy routes carry in their bodies.
import request from 'supertest';
import { EXAMPLE_BRANCH_ID, EXAMPLE_PROJECT_ID, REQUEST_EXAMPLES } from '../../src/openapi/request-examples.js';
import { adminOrgId, api, createProject } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

interface Operation {
  id: string;
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  example: unknown;
}

/** The ids a path's `{name}` and a body's placeholders stand for, filled in as the walk goes. */
type Ids = Record<string, string>;

/** The body with the placeholder ids replaced (deeply; only whole string values). */
function withIds(value: unknown, replace: Map<string, string>): unknown {
  if (typeof value === 'string') return replace.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => withIds(v, replace));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withIds(v, replace)]));
  return value;
}

describe('OpenAPI: every request body example succeeds as sent', () => {
  let t: TestApp;
  let operations: Map<string, Operation>;
  let spec: { tags: { name: string }[]; paths: Record<string, Record<string, { operationId: string; tags?: string[]; requestBody?: { content: Record<string, { example?: unknown }> } }>> };
  const sent = new Set<string>();
  const ids: Ids = {};

  beforeAll(async () => {
    t = await startTestApp();
    spec = (await request(t.baseUrl).get('/api/docs-json').expect(200)).body as typeof spec;
    operations = new Map();
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const json = op.requestBody?.content['application/json'];
        if (!json) continue;
        operations.set(op.operationId, { id: op.operationId, method: method as Operation['method'], path, example: json.example });
      }
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Sends operation `id`'s example with `ids` in its path (and its body's placeholders), as `key`; answers the response. */
  async function send(id: string, key = t.adminKey, legacy?: { projectId: string; branchId: string }) {
    const op = operations.get(id);
    expect({ id, declared: op !== undefined }).toEqual({ id, declared: true });
    expect({ id, hasExample: op!.example !== undefined }).toEqual({ id, hasExample: true });
    const path = op!.path.replace(/\{([a-z_]+)\}/g, (_m, name: string) => {
      if (ids[name] === undefined) throw new Error(`${id}: no id for {${name}} yet`);
      return encodeURIComponent(ids[name]);
    });
    const body = withIds(op!.example, new Map(legacy ? [[EXAMPLE_PROJECT_ID, legacy.projectId], [EXAMPLE_BRANCH_ID, legacy.branchId]] : []));
    const res = await request(t.baseUrl)[op!.method](path).set('Authorization', `Bearer ${key}`).send(body as object);
    sent.add(id);
    // The operation id and the answer in the failure message: a refused example names itself.
    expect({ id, status: res.status, body: res.status >= 300 ? res.body : undefined }).toEqual({ id, status: expect.any(Number), body: undefined });
    return res;
  }

  // First, as a person starts: creating a project needs no org_id while the caller is in one organization (Neon's rule).
  it('a project, its branches, roles and databases', async () => {
    const project = await send('createProject');
    ids.project_id = project.body.project.id;
    ids.branch_id = project.body.branch.id;
    await send('updateProject');
    await send('createProjectBranchRole');
    await send('createProjectBranchDatabase');
    await send('createProjectBranch');
  });

  it('accounts, keys and organizations', async () => {
    const created = await send('createAccount');
    const ada = { key: created.body.api_key.key as string, id: created.body.account.id as string };
    await send('createApiKey');
    await send('createOrganization');
    ids.org_id = await adminOrgId(t);
    await send('createOrgApiKey');
    const invited = await send('createOrganizationInvitations');
    await request(t.baseUrl).post(`/api/v2/invitations/${invited.body.invitations[0].id}/accept`).set('Authorization', `Bearer ${ada.key}`).expect(200);
    const members = (await api(t, t.adminKey).get(`/organizations/${ids.org_id}/members`).expect(200)).body.members as { member: { id: string; user_id: string } }[];
    ids.member_id = members.find((m) => m.member.user_id === ada.id)!.member.id;
    await send('updateOrganizationMember');
    await send('grantPermissionToProject'); // ada, an account now
  });

  it('Neon Auth on a branch: enable, every setting, users, disable', async () => {
    await send('createNeonAuth');
    await send('updateNeonAuthConfig');
    await send('updateNeonAuthAllowLocalhost');
    await send('addBranchNeonAuthTrustedDomain');
    await send('deleteBranchNeonAuthTrustedDomain');
    await send('addBranchNeonAuthOauthProvider');
    ids.oauth_provider_id = 'github';
    await send('updateBranchNeonAuthOauthProvider');
    await send('updateNeonAuthEmailAndPasswordConfig');
    await send('updateNeonAuthEmailProvider');
    // No such SMTP server here: the tests answer 200 and say why the conversation failed.
    expect((await send('sendNeonAuthEmailProviderTest')).body).toEqual({ success: false, error_message: expect.any(String) });
    expect((await send('sendNeonAuthTestEmail')).body).toEqual({ success: false, error_message: expect.any(String) });
    await send('updateNeonAuthMagicLinkPlugin');
    await send('updateNeonAuthOrganizationPlugin');
    await send('updateNeonAuthPhoneNumberPlugin');
    await send('updateNeonAuthWebhookConfig');
    const user = await send('createBranchNeonAuthNewUser');
    ids.auth_user_id = user.body.id;
    await send('updateNeonAuthUserRole');
    await send('replayNeonAuthSyncDeadLetters');
    await send('disableNeonAuth');
  });

  it('Neon Auth, the legacy project-level routes', async () => {
    const project = await createProject(api(t, t.adminKey), { name: 'legacy', org_id: ids.org_id });
    const legacy = { projectId: project.project.id as string, branchId: project.branch.id as string };
    ids.project_id = legacy.projectId;
    ids.auth_provider = 'stack';
    await send('createNeonAuthIntegration', t.adminKey, legacy);
    await send('createNeonAuthProviderSDKKeys', t.adminKey, legacy);
    await send('createNeonAuthNewUser', t.adminKey, legacy);
    await send('addNeonAuthDomainToRedirectURIWhitelist');
    await send('deleteNeonAuthDomainFromRedirectURIWhitelist');
    await send('addNeonAuthOauthProvider');
    ids.oauth_provider_id = 'github';
    await send('updateNeonAuthOauthProvider');
    await send('updateNeonAuthEmailServer');
    await send('transferNeonAuthProviderProject', t.adminKey, legacy);
    await send('deleteNeonAuthIntegration');
  });

  it('covered every operation that takes a body, and every example names an operation of the document', () => {
    expect([...operations.keys()].filter((id) => !sent.has(id)).sort()).toEqual([]);
    const ids = new Set(Object.values(spec.paths).flatMap((item) => Object.values(item).map((op) => op.operationId)));
    expect(Object.keys(REQUEST_EXAMPLES).filter((id) => !ids.has(id))).toEqual([]);
  });

  it('lists every tag an operation uses in the document\'s tags (the order Swagger UI shows)', () => {
    const listed = new Set(spec.tags.map((tag) => tag.name));
    const used = new Set(Object.values(spec.paths).flatMap((item) => Object.values(item).flatMap((op) => op.tags ?? [])));
    expect([...used].filter((tag) => !listed.has(tag))).toEqual([]);
  });
});
