// Better Auth hosted per branch, driven by the real clients: Better Auth's own (`better-auth/client`) and Neon's SDK
// (`@neondatabase/auth`), against base_url as Neon's enable answers it. Tokens verified with jose against jwks_url.
import { createAuthClient } from 'better-auth/client';
import { adminClient, emailOTPClient, jwtClient, magicLinkClient, organizationClient } from 'better-auth/client/plugins';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { api } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { usersSyncRow } from '../neon-auth/users-helpers.js';
import { betterAuthProject, CookieJar, type BetterAuthEnabled } from './better-auth-helpers.js';

describe('Better Auth per branch: real clients', () => {
  let t: TestApp;
  let auth: BetterAuthEnabled;
  let uri: string;
  let projectId: string;
  let branchId: string;

  beforeAll(async () => {
    t = await startTestApp();
    const p = await betterAuthProject(t, 'clients');
    auth = p.auth;
    uri = p.uri;
    projectId = p.projectId;
    branchId = p.defaultBranchId;
  });

  afterAll(async () => {
    await t?.close();
  });

  function client(jar: CookieJar) {
    return createAuthClient({
      baseURL: auth.base_url,
      fetchOptions: { customFetchImpl: jar.fetch },
      plugins: [jwtClient(), adminClient(), organizationClient(), emailOTPClient(), magicLinkClient()],
    });
  }

  it('answers the enable with Neon\'s better_auth shape', () => {
    expect(auth).toEqual({
      auth_provider: 'better_auth',
      auth_provider_project_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      pub_client_key: '',
      secret_server_key: '',
      jwks_url: `${t.baseUrl}/neon-auth/${branchId}/neondb/auth/.well-known/jwks.json`,
      schema_name: 'neon_auth',
      table_name: 'users_sync',
      base_url: `${t.baseUrl}/neon-auth/${branchId}/neondb/auth`,
    });
  });

  it('signs up, signs in, gets the session with a JWT that verifies against jwks_url, and signs out', async () => {
    const jar = new CookieJar(t.baseUrl);
    const c = client(jar);
    const email = `ada-${Date.now()}@example.com`;
    const signUp = await c.signUp.email({ email, password: 'correct horse battery', name: 'Ada Lovelace' });
    expect(signUp.error).toBeNull();
    const userId = signUp.data!.user.id;
    expect(userId).toMatch(/^[0-9a-f-]{36}$/);
    // users_sync has the user at once (same transaction as the sign-up).
    const row = await usersSyncRow(uri, userId);
    expect(row).toMatchObject({ id: userId, email, name: 'Ada Lovelace', deleted_at: null });
    expect(row!.created_at).toBeInstanceOf(Date);

    expect(jar.has('__Secure-neon-auth.session_token')).toBe(true);
    let jwt: string | null = null;
    const session = await c.getSession({ fetchOptions: { onSuccess: (ctx) => void (jwt = ctx.response.headers.get('set-auth-jwt')) } });
    expect(session.data?.user.email).toBe(email);
    expect(jwt).toBeTruthy();
    const keys = createRemoteJWKSet(new URL(auth.jwks_url));
    const { payload } = await jwtVerify(jwt!, keys, { issuer: t.baseUrl, audience: t.baseUrl });
    expect(payload).toMatchObject({ sub: userId, role: 'authenticated', email });
    expect(payload.exp! - payload.iat!).toBe(15 * 60);

    await c.signOut();
    expect((await c.getSession()).data).toBeNull();
    const again = new CookieJar(t.baseUrl);
    const signIn = await client(again).signIn.email({ email, password: 'correct horse battery' });
    expect(signIn.error).toBeNull();
    expect((await client(again).getSession()).data?.user.id).toBe(userId);
    const wrong = await client(new CookieJar(t.baseUrl)).signIn.email({ email, password: 'wrong password!' });
    expect(wrong.error?.status).toBe(401);
  });

  it('creates users through the management API that sign in with their password', async () => {
    const email = `mgmt-${Date.now()}@example.com`;
    const res = await api(t, t.adminKey).post(`/projects/${projectId}/branches/${branchId}/auth/users`, { email, name: 'Grace', password: 'a long password' }).expect(201);
    const row = await usersSyncRow(uri, res.body.id);
    expect(row).toMatchObject({ email, name: 'Grace' });
    const signIn = await client(new CookieJar(t.baseUrl)).signIn.email({ email, password: 'a long password' });
    expect(signIn.error).toBeNull();
  });
});
