// Better Auth hosted per branch, driven end to end by the clients an application uses against base_url: Neon's SDK
// (`@neondatabase/auth`, its vanilla Better Auth adapter) for e-mail and password, sessions, the JWT and the anonymous
// token; Better Auth's own client for organizations, e-mail OTP and magic links (codes and links read from the local
// mailbox). Every JWT is verified with jose against jwks_url; CORS is checked as a browser would see it.
import { createAuthClient as createNeonAuthClient, createInternalNeonAuth } from '@neondatabase/auth';
import { BetterAuthVanillaAdapter } from '@neondatabase/auth/vanilla/adapters';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { api, withClient } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { usersSyncRow } from '../neon-auth/users-helpers.js';
import { betterAuthClient, betterAuthProject, CookieJar, type BetterAuthEnabled, jarPlugin } from './better-auth-helpers.js';

const SESSION_COOKIE = '__Secure-neon-auth.session_token';
const APP_ORIGIN = 'http://localhost:5173';

interface MailboxMessage {
  id: string;
  kind: string;
  to: string;
  subject: string;
  text: string;
  data: Record<string, unknown>;
  created_at: string;
}

describe('Better Auth per branch: Neon SDK and Better Auth client flows', () => {
  let t: TestApp;
  let auth: BetterAuthEnabled;
  let uri: string;
  let projectId: string;
  let branchId: string;
  let keys: ReturnType<typeof createRemoteJWKSet>;
  let seq = 0;

  beforeAll(async () => {
    t = await startTestApp();
    const p = await betterAuthProject(t, 'sdk');
    auth = p.auth;
    uri = p.uri;
    projectId = p.projectId;
    branchId = p.defaultBranchId;

    keys = createRemoteJWKSet(new URL(auth.jwks_url));
  });

  afterAll(async () => {
    await t?.close();
  });

  const uniqueEmail = (label: string) => `${label}-${Date.now()}-${++seq}@example.com`;

  /** Neon's SDK as an application builds it (vanilla Better Auth adapter), its requests through `jar`. */
  function sdk(jar: CookieJar) {
    return createNeonAuthClient(auth.base_url, { adapter: BetterAuthVanillaAdapter({ fetchOptions: { plugins: [jarPlugin(jar)] } }) });
  }

  /** Better Auth's own client, its requests through `jar`. */
  const client = (jar: CookieJar) => betterAuthClient(auth.base_url, jar);


  async function verify(token: string): Promise<JWTPayload> {
    return (await jwtVerify(token, keys, { issuer: auth.base_url, audience: auth.base_url })).payload;
  }

  async function mailbox(to: string): Promise<MailboxMessage[]> {
    const res = await api(t, t.adminKey).get(`/projects/${projectId}/branches/${branchId}/auth/mailbox?to=${encodeURIComponent(to)}`).expect(200);
    return res.body.messages as MailboxMessage[];
  }

  describe("Neon's SDK (@neondatabase/auth)", () => {
    it('signs up, gets the session with the JWT as its token, updates the user, signs out, signs in, and falls back to the anonymous token', async () => {
      const jar = new CookieJar(t.baseUrl);
      const c = sdk(jar);
      const email = uniqueEmail('sdk');
      const signUp = await c.signUp.email({ email, password: 'correct horse battery', name: 'Ada Lovelace' });
      expect(signUp.error).toBeNull();
      const userId = signUp.data!.user.id;
      expect(userId).toMatch(/^[0-9a-f-]{36}$/);
      expect(jar.has(SESSION_COOKIE)).toBe(true);

      // The SDK puts the `set-auth-jwt` header of get-session into session.token.
      const session = await c.getSession();
      expect(session.error).toBeNull();
      expect(session.data?.user).toMatchObject({ id: userId, email, name: 'Ada Lovelace' });
      const jwt = session.data!.session.token;
      expect(jwt.split('.')).toHaveLength(3);
      const claims = await verify(jwt);
      expect(claims).toMatchObject({ sub: userId, email, name: 'Ada Lovelace', role: 'authenticated', session_id: session.data!.session.id });
      expect(claims.exp! - claims.iat!).toBe(15 * 60);

      // getJWTToken (what the SDK hands to the Data API) answers that JWT. (The SDK routes any URL containing `/token`
      // through its get-session cache, so its `token()` answers the cached session: /token is checked with Better
      // Auth's client below.)
      const neon = createInternalNeonAuth(auth.base_url, { adapter: BetterAuthVanillaAdapter({ fetchOptions: { plugins: [jarPlugin(jar)] } }) });
      expect(await neon.getJWTToken()).toBe(jwt);

      // Update the user's name: the next session (the SDK drops its cache on update) and users_sync have it.
      const updated = await c.updateUser({ name: 'Ada King' });
      expect(updated.error).toBeNull();
      const after = await c.getSession();
      expect(after.data?.user.name).toBe('Ada King');
      expect(await verify(after.data!.session.token)).toMatchObject({ sub: userId, name: 'Ada King' });
      expect(await usersSyncRow(uri, userId)).toMatchObject({ id: userId, name: 'Ada King', email });

      // Sign out: the cookie goes, and the session is revoked on the server (its old cookie no longer works).
      const oldCookie = `${SESSION_COOKIE}=${jar.cookies.get(SESSION_COOKIE)!.value}`;
      const replayed = () => fetch(`${auth.base_url}/get-session`, { headers: { cookie: oldCookie } }).then(async (r) => ({ status: r.status, body: await r.json() }));
      expect((await replayed()).body?.user?.id).toBe(userId);
      const out = await c.signOut();
      expect(out.error).toBeNull();
      expect(jar.has(SESSION_COOKIE)).toBe(false);
      expect((await c.getSession()).data).toBeNull();
      expect(await replayed()).toEqual({ status: 200, body: null });

      // Sign in again, in a new jar.
      const again = new CookieJar(t.baseUrl);
      const c2 = sdk(again);
      const signIn = await c2.signIn.email({ email, password: 'correct horse battery' });
      expect(signIn.error).toBeNull();
      expect(signIn.data?.user.id).toBe(userId);
      expect(again.has(SESSION_COOKIE)).toBe(true);
      const s2 = await c2.getSession();
      expect(s2.data?.user).toMatchObject({ id: userId, name: 'Ada King' });
      expect(await verify(s2.data!.session.token)).toMatchObject({ sub: userId, role: 'authenticated' });
      expect((await c2.signOut()).error).toBeNull();

      // With no session, getJWTToken answers the anonymous token when anonymous access is allowed.
      const anon = createInternalNeonAuth(auth.base_url, {
        adapter: BetterAuthVanillaAdapter({ fetchOptions: { plugins: [jarPlugin(new CookieJar(t.baseUrl))] } }),
        allowAnonymous: true,
      });
      const anonJwt = await anon.getJWTToken();
      expect(anonJwt).toBeTruthy();
      expect(await verify(anonJwt!)).toMatchObject({ role: 'anonymous' });
      const direct = await anon.adapter.getAnonymousToken();
      expect(direct.data).toEqual({ token: expect.any(String), expires_at: expect.any(Number) });
    });

    it('refuses a wrong password', async () => {
      const email = uniqueEmail('sdk-wrong');
      expect((await sdk(new CookieJar(t.baseUrl)).signUp.email({ email, password: 'correct horse battery', name: 'W' })).error).toBeNull();
      const jar = new CookieJar(t.baseUrl);
      // The SDK's fetch throws its AuthApiError for any answer that is not 2xx.
      await expect(sdk(jar).signIn.email({ email, password: 'wrong password!' })).rejects.toMatchObject({ name: 'AuthApiError', status: 401, code: 'invalid_credentials' });
      expect(jar.has(SESSION_COOKIE)).toBe(false);
    });
  });

  describe('tokens and keys', () => {
    it('answers GET /token/anonymous with a JWT of role anonymous that verifies against jwks_url', async () => {
      const res = await fetch(`${auth.base_url}/token/anonymous`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { token: string; expires_at: number };
      expect(body).toEqual({ token: expect.any(String), expires_at: expect.any(Number) });
      const claims = await verify(body.token);
      expect(claims.role).toBe('anonymous');
      expect(body.expires_at).toBe(claims.exp! * 1000);
      expect(claims.exp! * 1000).toBeGreaterThan(Date.now());
      expect(claims.exp! * 1000).toBeLessThanOrEqual(Date.now() + 15 * 60_000 + 5_000);
    });

    it('answers the same keys at /jwks and /.well-known/jwks.json (jwks_url)', async () => {
      expect(auth.jwks_url).toBe(`${auth.base_url}/.well-known/jwks.json`);
      const [a, b] = await Promise.all([fetch(`${auth.base_url}/jwks`), fetch(auth.jwks_url)]);
      expect(a.status).toBe(200);
      expect(b.status).toBe(200);
      const jwks = (await a.json()) as { keys: Array<Record<string, unknown>> };
      expect(await b.json()).toEqual(jwks);
      expect(jwks.keys.length).toBeGreaterThan(0);
      for (const key of jwks.keys) {
        expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: expect.any(String) });
        expect(key).not.toHaveProperty('d');
      }
      // The key of a fresh JWT is among them.
      const token = (await (await fetch(`${auth.base_url}/token/anonymous`)).json()) as { token: string };
      const kid = JSON.parse(Buffer.from(token.token.split('.')[0], 'base64url').toString()).kid;
      expect(jwks.keys.map((k) => k.kid)).toContain(kid);
    });
  });

  describe("Better Auth's client", () => {
    it('creates organizations, lists them, sets the active one, and invites a member without mailing anything', async () => {
      const ownerJar = new CookieJar(t.baseUrl);
      const owner = client(ownerJar);
      const ownerEmail = uniqueEmail('org-owner');
      const signUp = await owner.signUp.email({ email: ownerEmail, password: 'correct horse battery', name: 'Owner' });
      expect(signUp.error).toBeNull();
      const ownerId = signUp.data!.user.id;

      const suffix = `${Date.now()}-${++seq}`;
      const first = await owner.organization.create({ name: 'Acme', slug: `acme-${suffix}` });
      expect(first.error).toBeNull();
      expect(first.data).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'Acme', slug: `acme-${suffix}` });
      const second = await owner.organization.create({ name: 'Globex', slug: `globex-${suffix}` });
      expect(second.error).toBeNull();
      const firstId = first.data!.id;
      const secondId = second.data!.id;

      const list = await owner.organization.list();
      expect(list.error).toBeNull();
      expect(list.data!.map((o) => o.id).sort()).toEqual([firstId, secondId].sort());

      // Creating made the second one active; set the first.
      expect((await owner.getSession()).data?.session.activeOrganizationId).toBe(secondId);
      const active = await owner.organization.setActive({ organizationId: firstId });
      expect(active.error).toBeNull();
      expect(active.data?.id).toBe(firstId);
      expect((await owner.getSession()).data?.session.activeOrganizationId).toBe(firstId);

      // The jwt plugin's /token answers a JWT of the session's user.
      const token = await owner.token();
      expect(token.error).toBeNull();
      expect(await verify(token.data!.token)).toMatchObject({ sub: ownerId, email: ownerEmail, role: 'authenticated', o: { id: firstId, slug: expect.any(String), role: 'owner' } });

      // The creator is the owner (creatorRole).
      const members = await owner.organization.listMembers({ query: { organizationId: firstId } });
      expect(members.error).toBeNull();
      expect(members.data!.members).toEqual([expect.objectContaining({ userId: ownerId, role: 'owner' })]);

      // Invite: sendInvitationEmail is off, so nothing lands in the mailbox.
      const inviteeEmail = uniqueEmail('org-invitee');
      const invite = await owner.organization.inviteMember({ email: inviteeEmail, role: 'member', organizationId: firstId });
      expect(invite.error).toBeNull();
      expect(invite.data).toMatchObject({ email: inviteeEmail, role: 'member', status: 'pending', organizationId: firstId });
      const invitationId = invite.data!.id;
      const invitations = await owner.organization.listInvitations({ query: { organizationId: firstId } });
      expect(invitations.data!.map((i) => i.id)).toEqual([invitationId]);
      expect(await mailbox(inviteeEmail)).toEqual([]);

      // The invitee signs up with that address and accepts.
      const invitee = client(new CookieJar(t.baseUrl));
      const inviteeSignUp = await invitee.signUp.email({ email: inviteeEmail, password: 'correct horse battery', name: 'Invitee' });
      expect(inviteeSignUp.error).toBeNull();
      const accepted = await invitee.organization.acceptInvitation({ invitationId });
      expect(accepted.error).toBeNull();
      const after = await owner.organization.listMembers({ query: { organizationId: firstId } });
      expect(after.data!.members.map((m) => ({ userId: m.userId, role: m.role })).sort((a, b) => a.role.localeCompare(b.role))).toEqual([
        { userId: inviteeSignUp.data!.user.id, role: 'member' },
        { userId: ownerId, role: 'owner' },
      ]);
      const inviteeOrgs = await invitee.organization.list();
      expect(inviteeOrgs.data!.map((o) => o.id)).toEqual([firstId]);
    });

    it('signs in with an e-mail one-time code read from the mailbox', async () => {
      const email = uniqueEmail('otp');
      const jar = new CookieJar(t.baseUrl);
      const c = client(jar);
      const sent = await c.emailOtp.sendVerificationOtp({ email, type: 'sign-in' });
      expect(sent.error).toBeNull();
      expect(sent.data).toEqual({ success: true });

      const messages = await mailbox(email);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({ kind: 'email_otp', to: email, data: { otp: expect.stringMatching(/^\d{6}$/), type: 'sign-in' } });
      const otp = messages[0].data.otp as string;
      expect(messages[0].subject).toContain(otp);

      // A wrong code signs nobody in.
      const wrongOtp = otp === '000000' ? '111111' : '000000';
      const wrong = await c.signIn.emailOtp({ email, otp: wrongOtp });
      expect(wrong.error?.status).toBe(400);
      expect(jar.has(SESSION_COOKIE)).toBe(false);

      const signIn = await c.signIn.emailOtp({ email, otp });
      expect(signIn.error).toBeNull();
      expect(signIn.data?.user.email).toBe(email);
      expect(jar.has(SESSION_COOKIE)).toBe(true);
      let jwt: string | null = null;
      const session = await c.getSession({ fetchOptions: { onSuccess: (ctx) => void (jwt = ctx.response.headers.get('set-auth-jwt')) } });
      expect(session.data?.user).toMatchObject({ email, emailVerified: true });
      expect(await verify(jwt!)).toMatchObject({ sub: session.data!.user.id, email, email_verified: true, role: 'authenticated' });
      // users_sync has the user the code created.
      expect(await usersSyncRow(uri, session.data!.user.id)).toMatchObject({ email });
    });

    it('signs in with a magic link once project_config enables it', async () => {
      const email = uniqueEmail('magic');
      const callbackURL = `${APP_ORIGIN}/welcome`;

      // Off by default: the route does not exist.
      const off = await client(new CookieJar(t.baseUrl)).signIn.magicLink({ email, callbackURL });
      expect(off.error?.status).toBe(404);
      expect(await mailbox(email)).toEqual([]);

      await withClient(uri, (db) => db.query(`UPDATE neon_auth.project_config SET plugin_configs = jsonb_set(plugin_configs, '{magicLink,enabled}', 'true')`));
      await new Promise((r) => setTimeout(r, 1100));

      const jar = new CookieJar(t.baseUrl);
      const c = client(jar);
      const sent = await c.signIn.magicLink({ email, callbackURL });
      expect(sent.error).toBeNull();
      expect(sent.data).toEqual({ status: true });
      const messages = await mailbox(email);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({ kind: 'magic_link', to: email, data: { url: expect.any(String), token: expect.any(String) } });
      const link = new URL(messages[0].data.url as string);
      expect(`${link.origin}${link.pathname}`).toBe(`${auth.base_url}/magic-link/verify`);
      expect(link.searchParams.get('token')).toBe(messages[0].data.token);
      expect(link.searchParams.get('callbackURL')).toBe(callbackURL);

      // Following the link (as the browser does) sets the session and redirects to the callback.
      expect(jar.has(SESSION_COOKIE)).toBe(false);
      const verified = await jar.fetch(link.toString());
      expect(verified.status).toBe(302);
      expect(verified.headers.get('location')).toBe(callbackURL);
      expect(jar.has(SESSION_COOKIE)).toBe(true);
      const session = await c.getSession();
      expect(session.data?.user).toMatchObject({ email, emailVerified: true });

      // The link is single-use.
      const reused = await new CookieJar(t.baseUrl).fetch(link.toString());
      expect(reused.status).toBe(302);
      expect(reused.headers.get('location')).toContain('error=');
    });
  });

  describe('CORS', () => {
    it('answers a preflight from localhost (allowed by default) with its origin and credentials', async () => {
      const res = await fetch(`${auth.base_url}/get-session`, {
        method: 'OPTIONS',
        headers: { origin: APP_ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'content-type' },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      expect(res.headers.get('access-control-allow-methods')).toContain('GET');
      expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
    });

    it('grants nothing to an untrusted origin', async () => {
      const preflight = await fetch(`${auth.base_url}/sign-in/email`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(preflight.status).toBe(403);
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
      const get = await fetch(`${auth.base_url}/get-session`, { headers: { origin: 'https://evil.example' } });
      expect(get.headers.get('access-control-allow-origin')).toBeNull();
      expect(get.headers.get('access-control-expose-headers')).toBeNull();
    });

    it('exposes set-auth-jwt on a credentialed get-session from the allowed origin', async () => {
      const jar = new CookieJar(APP_ORIGIN);
      const c = client(jar);
      const email = uniqueEmail('cors');
      const signUp = await c.signUp.email({ email, password: 'correct horse battery', name: 'Cors' });
      expect(signUp.error).toBeNull();
      const res = await jar.fetch(`${auth.base_url}/get-session`);
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      const exposed = (res.headers.get('access-control-expose-headers') ?? '').split(',').map((h) => h.trim().toLowerCase());
      expect(exposed).toContain('set-auth-jwt');
      const jwt = res.headers.get('set-auth-jwt');
      expect(await verify(jwt!)).toMatchObject({ sub: signUp.data!.user.id, role: 'authenticated' });
      expect(decodeJwt(jwt!).email).toBe(email);
    });
  });
});
