// Branching with Better Auth: a branch copied from one with Better Auth carries its users, sessions, keys and
// settings and gets its own server; servers of unrelated branches on one process stay isolated.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { api, withClient, type Api } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { newBranch, usersSyncRow } from '../neon-auth/users-helpers.js';
import { betterAuthClient, betterAuthProject, CookieJar, enableBetterAuth, type BetterAuthEnabled } from './better-auth-helpers.js';

const client = betterAuthClient;

/** get-session with a raw Cookie header (what a client holding the cookie could send anywhere). */
async function sessionWith(baseUrl: string, cookie: string): Promise<{ user?: { id: string } } | null> {
  const res = await fetch(`${baseUrl}/get-session`, { headers: { cookie } });
  expect(res.status).toBe(200);
  return (await res.json()) as { user?: { id: string } } | null;
}

async function waitReady(a: Api, projectId: string, branchId: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const res = await a.get(`/projects/${projectId}/branches/${branchId}`).expect(200);
    if (res.body.branch.current_state === 'ready') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`branch ${branchId} never became ready`);
}

describe('Better Auth and branches', () => {
  let t: TestApp;
  let admin: Api;
  let project: Awaited<ReturnType<typeof betterAuthProject>>;
  let parentJar: CookieJar;
  let userId: string;
  let parentJwt: string;
  const email = `branching-${Date.now()}@example.com`;

  beforeAll(async () => {
    t = await startTestApp();
    admin = api(t, t.adminKey);
    project = await betterAuthProject(t, 'branching');
    parentJar = new CookieJar(t.baseUrl);
    const signUp = await client(project.auth.base_url, parentJar).signUp.email({ email, password: 'parent password', name: 'Parent User' });
    expect(signUp.error).toBeNull();
    userId = signUp.data!.user.id;
    const token = await parentJar.fetch(`${project.auth.base_url}/token`);
    parentJwt = ((await token.json()) as { token: string }).token;
    // A setting of the parent, to see it carried.
    await withClient(project.uri, (c) => c.query(`UPDATE neon_auth.project_config SET trusted_origins = '["https://app.example.com"]'::jsonb`));
  });

  afterAll(async () => {
    await t?.close();
  });

  function cookieHeader(jar: CookieJar): string {
    return [...jar.cookies.entries()].map(([n, c]) => `${n}=${c.value}`).join('; ');
  }

  it('a branch copied from one with Better Auth carries its users, sessions, keys and settings, with its own server', async () => {
    const child = await newBranch(t, admin, project.projectId, 'child');
    await waitReady(admin, project.projectId, child.id);
    const integration = (await admin.get(`/projects/${project.projectId}/branches/${child.id}/auth`).expect(200)).body;
    const childBase = `${t.baseUrl}/neon-auth/${child.id}/neondb/auth`;
    expect(integration).toMatchObject({ auth_provider: 'better_auth', branch_id: child.id, db_name: 'neondb', base_url: childBase, jwks_url: `${childBase}/.well-known/jwks.json` });
    expect(integration.auth_provider_project_id).not.toBe(project.auth.auth_provider_project_id);

    // Users and sessions came with the copy; the parent's keys sign on the child too.
    expect((await sessionWith(childBase, cookieHeader(parentJar)))?.user?.id).toBe(userId);
    const signIn = await client(childBase, new CookieJar(t.baseUrl)).signIn.email({ email, password: 'parent password' });
    expect(signIn.error).toBeNull();
    const childKeys = (await (await fetch(`${childBase}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    const parentKeys = (await (await fetch(`${project.auth.base_url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(childKeys.keys.map((k) => k.kid)).toEqual(parentKeys.keys.map((k) => k.kid));
    // The keys came along, but a token says which branch issued it: the child's verifier refuses the parent's tokens.
    const childJwks = createRemoteJWKSet(new URL(`${childBase}/.well-known/jwks.json`));
    await jwtVerify(parentJwt, childJwks, { issuer: project.auth.base_url, audience: project.auth.base_url });
    await expect(jwtVerify(parentJwt, childJwks, { issuer: childBase, audience: childBase })).rejects.toThrow(/iss|aud/);
    // The copied settings row is the child's now (its id is the child's auth_provider_project_id).
    const row = await withClient(child.uri, async (c) => (await c.query('SELECT id, endpoint_id, trusted_origins FROM neon_auth.project_config')).rows);
    expect(row).toEqual([{ id: integration.auth_provider_project_id, endpoint_id: child.id, trusted_origins: ['https://app.example.com'] }]);

    // From here the two diverge: a user signed up on the child is not the parent's.
    const jar = new CookieJar(t.baseUrl);
    const childUser = await client(childBase, jar).signUp.email({ email: `child-only-${Date.now()}@example.com`, password: 'child password', name: 'Child' });
    expect(childUser.error).toBeNull();
    expect(await usersSyncRow(child.uri, childUser.data!.user.id)).toMatchObject({ name: 'Child' });
    expect(await usersSyncRow(project.uri, childUser.data!.user.id)).toBeUndefined();
    expect(await sessionWith(project.auth.base_url, cookieHeader(jar))).toBeNull();
  });

  it('servers of two unrelated branches are isolated: a session or a JWT of one is refused by the other', async () => {
    const other = await newBranch(t, admin, project.projectId, 'other');
    await waitReady(admin, project.projectId, other.id);
    // Created before Better Auth's data existed there? No: copied from the parent, so start it afresh.
    await admin.delete(`/projects/${project.projectId}/branches/${other.id}/auth`).send({ delete_data: true }).expect(200);
    const fresh: BetterAuthEnabled = await enableBetterAuth(t, project.projectId, other.id);
    expect(await sessionWith(fresh.base_url, cookieHeader(parentJar))).toBeNull();
    await expect(jwtVerify(parentJwt, createRemoteJWKSet(new URL(fresh.jwks_url)))).rejects.toThrow();
    // And the other way round.
    const jar = new CookieJar(t.baseUrl);
    expect((await client(fresh.base_url, jar).signUp.email({ email, password: 'other password', name: 'Same e-mail, other branch' })).error).toBeNull();
    expect((await sessionWith(project.auth.base_url, cookieHeader(jar)))).toBeNull();
    expect((await client(project.auth.base_url, new CookieJar(t.baseUrl)).signIn.email({ email, password: 'other password' })).error?.status).toBe(401);
  });
});
