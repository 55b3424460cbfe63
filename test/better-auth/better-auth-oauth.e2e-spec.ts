// OAuth providers (social sign-in) of Better Auth hosted per branch, end to end against a local OAuth 2.0 / OpenID
// Connect server (oauth2-mock-server on 127.0.0.1) that the installation points google and github at
// (NEON_AUTH_OAUTH_ENDPOINTS): Better Auth's own authorize redirect, code exchange (PKCE), user read, account row and
// session; Neon's session verifier (challenge cookie, one-time verifier, get-session exchange) driven by raw HTTP and
// by Neon's SDK (@neondatabase/auth: the client for the sign-in start, its server middleware for the exchange).
import { createAuthClient as createNeonAuthClient } from '@neondatabase/auth';
import { processAuthMiddleware } from '@neondatabase/auth/server';
import { BetterAuthVanillaAdapter } from '@neondatabase/auth/vanilla/adapters';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { OAuth2Server } from 'oauth2-mock-server';
import { SecretsService } from '../../src/common/secrets.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { BetterAuthServers, type BranchAuthTenant } from '../../src/better-auth/better-auth-servers.js';
import { sealedFieldContext, type SocialProviderConfig } from '../../src/better-auth/project-config.js';
import { hasSharedOAuthCredentials } from '../../src/better-auth/social-providers.js';
import { withClient } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { usersSyncRow } from '../neon-auth/users-helpers.js';
import { betterAuthProject, CookieJar, type BetterAuthEnabled, jarPlugin } from './better-auth-helpers.js';

const APP_ORIGIN = 'http://localhost:5173';
const CALLBACK_URL = `${APP_ORIGIN}/after-sign-in`;
const SESSION_COOKIE = '__Secure-neon-auth.session_token';
const CHALLENGE_COOKIE = '__Secure-neon-auth.session_challenge';
const LEGACY_CHALLENGE_COOKIE = '__Secure-neon-auth.session_challange';
const STATE_COOKIE = '__Secure-neon-auth.state';
const VERIFIER = 'neon_auth_session_verifier';
const SHARED_GOOGLE = { client_id: 'shared-google-client.apps.example', client_secret: 'shared-google-secret' };

/** What the OIDC server puts in the next tokens (ID token claims) and user-info answer. */
interface Identity {
  sub: string;
  email: string;
  name: string;
}

/** The Set-Cookie line of `name` in a response (undefined when none). */
function setCookie(res: Response, name: string): string | undefined {
  return res.headers.getSetCookie().find((line) => line.startsWith(`${name}=`));
}

describe('Better Auth per branch: OAuth providers and the session verifier', () => {
  let oidc: OAuth2Server;
  let issuer: string;
  let t: TestApp;
  let auth: BetterAuthEnabled;
  let uri: string;
  let servers: BetterAuthServers;
  let tenant: BranchAuthTenant;
  let secrets: SecretsService;
  let keys: ReturnType<typeof createRemoteJWKSet>;
  let identity: Identity;
  let githubProfile: Record<string, unknown>;
  const tokenRequests: Array<{ clientId?: string; clientSecret?: string; codeVerifier?: string; redirectUri?: string }> = [];
  let seq = 0;

  beforeAll(async () => {
    oidc = new OAuth2Server();
    await oidc.issuer.keys.generate('RS256');
    await oidc.start(0, '127.0.0.1');
    issuer = oidc.issuer.url!.replace(/\/+$/, '');
    // The identity of the next sign-in: in the ID token (google reads it) and at /userinfo (github reads it).
    oidc.service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }) => {
      Object.assign(token.payload, { sub: identity.sub, email: identity.email, email_verified: true, name: identity.name, picture: 'https://example.com/a.png' });
    });
    oidc.service.on('beforeUserinfo', (res: { body: unknown }) => {
      res.body = githubProfile;
    });
    // What Better Auth sent to the token endpoint (client authentication, PKCE, redirect_uri).
    oidc.service.on('beforeResponse', (_res: unknown, req: { headers: Record<string, string | undefined>; body: Record<string, string> }) => {
      const basic = req.headers.authorization?.startsWith('Basic ') ? Buffer.from(req.headers.authorization.slice(6), 'base64').toString().split(':').map(decodeURIComponent) : undefined;
      tokenRequests.push({
        clientId: basic?.[0] ?? req.body.client_id,
        clientSecret: basic?.[1] ?? req.body.client_secret,
        codeVerifier: req.body.code_verifier,
        redirectUri: req.body.redirect_uri,
      });
    });

    t = await startTestApp({
      NEON_AUTH_SHARED_OAUTH_CREDENTIALS: JSON.stringify({ google: SHARED_GOOGLE }),
      NEON_AUTH_OAUTH_ENDPOINTS: JSON.stringify({
        google: { authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token` },
        github: { authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, userinfo_endpoint: `${issuer}/userinfo` },
      }),
    });
    const p = await betterAuthProject(t, 'oauth');
    auth = p.auth;
    uri = p.uri;
    servers = t.app.get(BetterAuthServers);
    secrets = t.app.get(SecretsService);
    tenant = (await servers.tenantOf(p.defaultBranchId, 'neondb'))!;
    keys = createRemoteJWKSet(new URL(auth.jwks_url));
  });

  afterAll(async () => {
    await t?.close();
    await oidc?.stop();
  });

  beforeEach(() => {
    const n = ++seq;
    identity = { sub: `oidc-subject-${n}`, email: `oauth-${n}-${Date.now()}@example.com`, name: `OAuth User ${n}` };
    githubProfile = { id: 400 + n, login: `octo${n}`, name: `Octo Cat ${n}`, email: identity.email, avatar_url: 'https://example.com/o.png' };
  });

  const seal = (secret: string) => secrets.encrypt(secret, sealedFieldContext('social_providers.clientSecret'));

  async function setProviders(socialProviders: SocialProviderConfig[]): Promise<void> {
    await servers.updateSettings(tenant, (current) => ({ ...current, socialProviders }));
  }

  async function verify(token: string): Promise<JWTPayload> {
    return (await jwtVerify(token, keys, { issuer: auth.base_url, audience: auth.base_url })).payload;
  }

  function signInSocial(jar: CookieJar, body: Record<string, unknown>): Promise<Response> {
    return jar.fetch(`${auth.base_url}/sign-in/social`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  /** The OIDC server's authorize step: its redirect to the callback (the user consents at once). */
  async function authorize(url: string): Promise<string> {
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    return res.headers.get('location')!;
  }

  /** sign-in/social, the authorize step, and the callback in `jar` (or in `callbackJar`): the callback's answer. */
  async function signInThrough(provider: string, jar: CookieJar, callbackJar = jar): Promise<{ callback: Response; location: URL; verifier: string }> {
    const started = await signInSocial(jar, { provider, callbackURL: CALLBACK_URL });
    expect(started.status).toBe(200);
    const { url } = (await started.json()) as { url: string };
    const callbackUrl = await authorize(url);
    expect(callbackUrl.startsWith(`${auth.base_url}/callback/${provider}?`)).toBe(true);
    const callback = await callbackJar.fetch(callbackUrl);
    expect(callback.status).toBe(302);
    const location = new URL(callback.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(CALLBACK_URL);
    const verifier = location.searchParams.get(VERIFIER);
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    return { callback, location, verifier: verifier! };
  }

  /** get-session with the verifier and (only) the given cookies, as the app's browser context would send it. */
  function exchange(verifier: string, cookies: Record<string, string>): Promise<Response> {
    const cookie = Object.entries(cookies).map(([n, v]) => `${n}=${v}`).join('; ');
    return fetch(`${auth.base_url}/get-session?${VERIFIER}=${encodeURIComponent(verifier)}`, { headers: { origin: APP_ORIGIN, ...(cookie ? { cookie } : {}) } });
  }

  it('validates the two OAuth variables and answers which providers have shared credentials', () => {
    expect(hasSharedOAuthCredentials(t.config, 'google')).toBe(true);
    expect(hasSharedOAuthCredentials(t.config, 'github')).toBe(false);
    expect(hasSharedOAuthCredentials(t.config, 'nope')).toBe(false);
    expect(t.config.oauthEndpoints.google).toEqual({ authorizationEndpoint: `${issuer}/authorize`, tokenEndpoint: `${issuer}/token` });
    const problems = (env: Record<string, string>): string[] => {
      try {
        loadConfig(env);
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problems({ NEON_AUTH_SHARED_OAUTH_CREDENTIALS: '{nope' })).toEqual(['NEON_AUTH_SHARED_OAUTH_CREDENTIALS is not valid JSON']);
    expect(problems({ NEON_AUTH_SHARED_OAUTH_CREDENTIALS: '{"facebook":{"client_id":"a","client_secret":"b"},"github":{"client_id":"a"}}' })).toEqual([
      expect.stringContaining('unknown provider "facebook"'),
      expect.stringContaining('github needs client_id and client_secret'),
    ]);
    expect(problems({ NEON_AUTH_OAUTH_ENDPOINTS: '{"github":{"authorization_endpoint":"https://a.example/authorize","token_endpoint":"ftp://x"}}' })).toEqual([
      expect.stringContaining('github.token_endpoint must be an http or https URL'),
      expect.stringContaining('github.userinfo_endpoint must be an http or https URL'),
    ]);
    expect(loadConfig({ NEON_AUTH_SHARED_OAUTH_CREDENTIALS: '{"microsoft":{"client_id":"a","client_secret":"b","tenant_id":"t"}}' }).sharedOAuthCredentials).toEqual({
      microsoft: { clientId: 'a', clientSecret: 'b', tenantId: 't' },
    });
  });

  it("redirects a sign-in with Neon's default row (Google, shared) to the authorize endpoint with the installation's client id, PKCE and the branch's callback", async () => {
    const jar = new CookieJar(APP_ORIGIN);
    const res = await signInSocial(jar, { provider: 'google', callbackURL: CALLBACK_URL });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { url: string; redirect: boolean };
    expect(body.redirect).toBe(true);
    expect(res.headers.get('location')).toBe(body.url);
    const url = new URL(body.url);
    expect(`${url.origin}${url.pathname}`).toBe(`${issuer}/authorize`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: SHARED_GOOGLE.client_id,
      redirect_uri: `${auth.base_url}/callback/google`,
      state: expect.stringMatching(/^.{16,}$/),
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge_method: 'S256',
      include_granted_scopes: 'true',
    });
    expect(url.searchParams.get('scope')!.split(' ')).toEqual(expect.arrayContaining(['openid', 'email', 'profile']));
    // The challenge cookie: random, HttpOnly, Secure, SameSite=None, Partitioned, the branch's path, 15 minutes.
    const challenge = setCookie(res, CHALLENGE_COOKIE)!;
    expect(challenge).toMatch(new RegExp(`^${CHALLENGE_COOKIE.replace(/\./g, '\\.')}=[A-Za-z0-9_-]{43};`));
    expect(challenge).toContain('HttpOnly');
    expect(challenge).toContain('Secure');
    expect(challenge).toContain('SameSite=None');
    expect(challenge).toContain('Partitioned');
    expect(challenge).toContain(`Path=${new URL(auth.base_url).pathname}`);
    expect(challenge).toContain('Max-Age=900');
    // A second sign-in gets another challenge.
    const again = await signInSocial(new CookieJar(APP_ORIGIN), { provider: 'google', callbackURL: CALLBACK_URL });
    expect(setCookie(again, CHALLENGE_COOKIE)).not.toBe(challenge);
  });

  it('refuses an ID-token sign-in with a shared provider (an ID token of the shared app would be valid at every branch)', async () => {
    const res = await signInSocial(new CookieJar(APP_ORIGIN), { provider: 'google', callbackURL: CALLBACK_URL, idToken: { token: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln' } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('ID_TOKEN_NOT_SUPPORTED');
  });

  it('signs in with Google through the OIDC server: user, account and users_sync rows, the verifier redirect, and the get-session exchange with a JWT', async () => {
    const jar = new CookieJar(APP_ORIGIN);
    const before = tokenRequests.length;
    const { callback, location, verifier } = await signInThrough('google', jar);
    // The same browser (it holds Better Auth's state cookie) also gets Better Auth's session cookie.
    expect(setCookie(callback, SESSION_COOKIE)).toBeDefined();

    // Better Auth exchanged the code with the installation's credentials, its PKCE verifier and the branch's callback.
    expect(tokenRequests.slice(before)).toEqual([
      { clientId: SHARED_GOOGLE.client_id, clientSecret: SHARED_GOOGLE.client_secret, codeVerifier: expect.stringMatching(/^.{43,128}$/), redirectUri: `${auth.base_url}/callback/google` },
    ]);

    // The branch database has the user, the Google account (the ID token's subject) and the users_sync row.
    const rows = await withClient(uri, async (db) => ({
      users: (await db.query(`SELECT id, email, name, "emailVerified", image FROM neon_auth."user" WHERE email = $1`, [identity.email])).rows,
      accounts: (await db.query(`SELECT a."providerId", a."accountId", a."accessToken" IS NOT NULL AS has_access_token, a."idToken" IS NOT NULL AS has_id_token FROM neon_auth.account a JOIN neon_auth."user" u ON u.id = a."userId" WHERE u.email = $1`, [identity.email])).rows,
    }));
    expect(rows.users).toEqual([{ id: expect.stringMatching(/^[0-9a-f-]{36}$/), email: identity.email, name: identity.name, emailVerified: true, image: 'https://example.com/a.png' }]);
    expect(rows.accounts).toEqual([{ providerId: 'google', accountId: identity.sub, has_access_token: true, has_id_token: true }]);
    const userId = rows.users[0].id as string;
    expect(await usersSyncRow(uri, userId)).toMatchObject({ id: userId, email: identity.email, name: identity.name, deleted_at: null });

    // The app's browser context holds only the challenge cookie: the exchange sets the session there.
    expect(location.searchParams.getAll(VERIFIER)).toHaveLength(1);
    const challenge = jar.cookies.get(CHALLENGE_COOKIE)!.value;
    const res = await exchange(verifier, { [CHALLENGE_COOKIE]: challenge });
    expect(res.status).toBe(200);
    const session = (await res.json()) as { session: { id: string; userId: string; token: string }; user: { id: string; email: string } };
    expect(session.user).toMatchObject({ id: userId, email: identity.email });
    expect(session.session.userId).toBe(userId);
    expect(await verify(res.headers.get('set-auth-jwt')!)).toMatchObject({ sub: userId, email: identity.email, role: 'authenticated', session_id: session.session.id });
    expect(res.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    const sessionCookie = setCookie(res, SESSION_COOKIE)!;
    expect(sessionCookie).toContain('HttpOnly');
    expect(setCookie(res, CHALLENGE_COOKIE)).toMatch(/Max-Age=0/);
    // The cookie it set is a working session.
    const app = new CookieJar(APP_ORIGIN);
    app.store(sessionCookie);
    const again = await app.fetch(`${auth.base_url}/get-session`);
    expect(((await again.json()) as { user: { id: string } }).user.id).toBe(userId);

    // The verifier is single-use.
    const reused = await exchange(verifier, { [CHALLENGE_COOKIE]: challenge });
    expect(reused.status).toBe(400);
    expect(await reused.json()).toMatchObject({ code: 'INVALID_SESSION_VERIFIER' });

    // Signing in again with the same Google account reaches the same user and account.
    const second = await signInThrough('google', new CookieJar(APP_ORIGIN));
    expect(second.verifier).not.toBe(verifier);
    const accounts = await withClient(uri, (db) => db.query(`SELECT count(*)::int AS n FROM neon_auth.account WHERE "userId" = $1`, [userId]));
    expect(accounts.rows[0].n).toBe(1);
  });

  it("completes a cross-site sign-in with Neon's SDK: its client starts it, its server middleware exchanges the verifier", async () => {
    // The app's cookies (its partition, or its own domain behind the SDK's proxy): the SDK's requests go through it.
    const appJar = new CookieJar(APP_ORIGIN);
    const sdk = createNeonAuthClient(auth.base_url, { adapter: BetterAuthVanillaAdapter({ fetchOptions: { plugins: [jarPlugin(appJar)] } }) });
    const started = await sdk.signIn.social({ provider: 'google', callbackURL: CALLBACK_URL });
    expect(started.error).toBeNull();
    const data = started.data as { url: string; redirect: boolean };
    expect(data.redirect).toBe(true);
    expect(appJar.has(CHALLENGE_COOKIE)).toBe(true);
    expect(appJar.has(STATE_COOKIE)).toBe(true);

    // The provider sends the browser to the callback as a top-level visit of base_url: the app's partitioned cookies
    // (the OAuth state cookie among them) do not go along. Better Auth's session cookie is then not set there.
    const callbackUrl = await authorize(data.url);
    const topLevel = new CookieJar();
    const callback = await topLevel.fetch(callbackUrl);
    expect(callback.status).toBe(302);
    expect(setCookie(callback, SESSION_COOKIE)).toBeUndefined();
    const landing = callback.headers.get('location')!;
    expect(new URL(landing).searchParams.get(VERIFIER)).toBeTruthy();

    // The app's page loads with the verifier and its cookies; the SDK's middleware exchanges them.
    const cookie = [...appJar.cookies.entries()].map(([n, c]) => `${n}=${c.value}`).join('; ');
    const result = await processAuthMiddleware({
      request: new Request(landing, { headers: { cookie } }),
      pathname: new URL(landing).pathname,
      skipRoutes: [],
      loginUrl: '/sign-in',
      baseUrl: auth.base_url,
      cookieSecret: 'an-app-cookie-secret-of-32-chars-at-least',
      logLevel: 'error',
    });
    expect(result.action).toBe('redirect_oauth');
    const { redirectUrl, cookies } = result as { redirectUrl: URL; cookies: string[] };
    expect(redirectUrl.href).toBe(CALLBACK_URL);
    const sessionLine = cookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`));
    expect(sessionLine).toBeDefined();
    const token = sessionLine!.slice(SESSION_COOKIE.length + 1).split(';')[0];
    const me = await fetch(`${auth.base_url}/get-session`, { headers: { cookie: `${SESSION_COOKIE}=${token}` } });
    expect(((await me.json()) as { user: { email: string } }).user.email).toBe(identity.email);
  });

  it('refuses a callback replayed into another browser: no session cookie there, and its verifier needs the starting browser\'s challenge', async () => {
    const attacker = new CookieJar(APP_ORIGIN);
    const victim = new CookieJar(APP_ORIGIN);
    const { callback, verifier } = await signInThrough('google', attacker, victim);
    expect(setCookie(callback, SESSION_COOKIE)).toBeUndefined();
    expect(victim.has(SESSION_COOKIE)).toBe(false);
    const missing = await exchange(verifier, {});
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ code: 'SESSION_CHALLANGE_COOKIE_NOT_FOUND' });
    // A challenge of another sign-in does not open it, and uses it up.
    const other = new CookieJar(APP_ORIGIN);
    await signInSocial(other, { provider: 'google', callbackURL: CALLBACK_URL });
    const wrong = await exchange(verifier, { [CHALLENGE_COOKIE]: other.cookies.get(CHALLENGE_COOKIE)!.value });
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ code: 'SESSION_CHALLENGE_MISMATCH' });
    const late = await exchange(verifier, { [CHALLENGE_COOKIE]: attacker.cookies.get(CHALLENGE_COOKIE)!.value });
    expect(late.status).toBe(400);
    expect(await late.json()).toMatchObject({ code: 'INVALID_SESSION_VERIFIER' });
  });

  it("accepts the challenge cookie under Neon's first spelling (session_challange), and refuses an expired verifier", async () => {
    const jar = new CookieJar(APP_ORIGIN);
    const { verifier } = await signInThrough('google', jar);
    const res = await exchange(verifier, { [LEGACY_CHALLENGE_COOKIE]: jar.cookies.get(CHALLENGE_COOKIE)!.value });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { user: { email: string } }).user.email).toBe(identity.email);
    expect(setCookie(res, LEGACY_CHALLENGE_COOKIE)).toMatch(/Max-Age=0/);

    const jar2 = new CookieJar(APP_ORIGIN);
    const second = await signInThrough('google', jar2);
    await withClient(uri, (db) => db.query(`UPDATE neon_auth.verification SET "expiresAt" = now() - interval '1 second' WHERE identifier LIKE 'neon-auth-session-verifier:%'`));
    const expired = await exchange(second.verifier, { [CHALLENGE_COOKIE]: jar2.cookies.get(CHALLENGE_COOKIE)!.value });
    expect(expired.status).toBe(400);
    expect(await expired.json()).toMatchObject({ code: 'INVALID_SESSION_VERIFIER' });
  });

  it("signs in with GitHub on the branch's own credentials (sealed in the row), its user read from the user-info endpoint", async () => {
    await setProviders([
      { id: 'google', isShared: true },
      { id: 'github', isShared: false, clientId: 'branch-github-client', clientSecret: seal('branch-github-secret') },
    ]);
    const jar = new CookieJar(APP_ORIGIN);
    const started = await signInSocial(jar, { provider: 'github', callbackURL: CALLBACK_URL });
    const url = new URL(((await started.json()) as { url: string }).url);
    expect(`${url.origin}${url.pathname}`).toBe(`${issuer}/authorize`);
    expect(url.searchParams.get('client_id')).toBe('branch-github-client');
    expect(url.searchParams.get('redirect_uri')).toBe(`${auth.base_url}/callback/github`);
    expect(url.searchParams.get('scope')).toBe('read:user user:email');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');

    const before = tokenRequests.length;
    const { verifier } = await signInThrough('github', jar);
    expect(tokenRequests.slice(before)).toEqual([expect.objectContaining({ clientId: 'branch-github-client', clientSecret: 'branch-github-secret', redirectUri: `${auth.base_url}/callback/github` })]);
    const res = await exchange(verifier, { [CHALLENGE_COOKIE]: jar.cookies.get(CHALLENGE_COOKIE)!.value });
    expect(res.status).toBe(200);
    const { user } = (await res.json()) as { user: { id: string; email: string; name: string; image: string } };
    expect(user).toMatchObject({ email: identity.email, name: githubProfile.name, image: 'https://example.com/o.png' });
    const account = await withClient(uri, (db) => db.query(`SELECT "providerId", "accountId" FROM neon_auth.account WHERE "userId" = $1`, [user.id]));
    expect(account.rows).toEqual([{ providerId: 'github', accountId: String(githubProfile.id) }]);
    expect(await usersSyncRow(uri, user.id)).toMatchObject({ email: identity.email });
  });

  it("sends Microsoft (with the row's tenant) and Vercel to their real authorize URLs, and leaves out what cannot be offered", async () => {
    await setProviders([
      { id: 'microsoft', isShared: false, clientId: 'ms-client', clientSecret: seal('ms-secret'), tenantId: 'contoso.onmicrosoft.com' },
      { id: 'vercel', isShared: false, clientId: 'vercel-client', clientSecret: seal('vercel-secret') },
      { id: 'github', isShared: true },
    ]);
    const ms = await signInSocial(new CookieJar(APP_ORIGIN), { provider: 'microsoft', callbackURL: CALLBACK_URL });
    expect(ms.status).toBe(200);
    const msUrl = new URL(((await ms.json()) as { url: string }).url);
    expect(`${msUrl.origin}${msUrl.pathname}`).toBe('https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize');
    expect(msUrl.searchParams.get('client_id')).toBe('ms-client');
    expect(msUrl.searchParams.get('redirect_uri')).toBe(`${auth.base_url}/callback/microsoft`);
    const vercel = await signInSocial(new CookieJar(APP_ORIGIN), { provider: 'vercel', callbackURL: CALLBACK_URL });
    expect(vercel.status).toBe(200);
    const vercelUrl = new URL(((await vercel.json()) as { url: string }).url);
    expect(`${vercelUrl.origin}${vercelUrl.pathname}`).toBe('https://vercel.com/oauth/authorize');
    expect(vercelUrl.searchParams.get('client_id')).toBe('vercel-client');

    // Shared GitHub: the installation has no shared GitHub app, so it is not offered; Google is no longer listed.
    for (const provider of ['github', 'google']) {
      const res = await signInSocial(new CookieJar(APP_ORIGIN), { provider, callbackURL: CALLBACK_URL });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 'PROVIDER_NOT_FOUND' });
      expect(setCookie(res, CHALLENGE_COOKIE)).toBeUndefined();
    }

    // Microsoft's tenant defaults to common; a secret that does not open (another key, a tampered row) is not offered.
    await setProviders([
      { id: 'microsoft', isShared: false, clientId: 'ms-client', clientSecret: seal('ms-secret') },
      { id: 'vercel', isShared: false, clientId: 'vercel-client', clientSecret: 'v1.not-a-sealed-value' },
    ]);
    const common = await signInSocial(new CookieJar(APP_ORIGIN), { provider: 'microsoft', callbackURL: CALLBACK_URL });
    expect(new URL(((await common.json()) as { url: string }).url).pathname).toBe('/common/oauth2/v2.0/authorize');
    const unopened = await signInSocial(new CookieJar(APP_ORIGIN), { provider: 'vercel', callbackURL: CALLBACK_URL });
    expect(unopened.status).toBe(404);
    await setProviders([{ id: 'google', isShared: true }]);
  });

  it('refuses an untrusted callback URL, and a provider removed from the settings', async () => {
    const evil = await signInSocial(new CookieJar(APP_ORIGIN), { provider: 'google', callbackURL: 'https://evil.example/steal' });
    expect(evil.status).toBe(403);
    expect(await evil.json()).toMatchObject({ code: 'INVALID_CALLBACK_URL' });
    expect(setCookie(evil, CHALLENGE_COOKIE)).toBeUndefined();

    await setProviders([{ id: 'github', isShared: false, clientId: 'branch-github-client', clientSecret: seal('branch-github-secret') }]);
    expect((await signInSocial(new CookieJar(APP_ORIGIN), { provider: 'github', callbackURL: CALLBACK_URL })).status).toBe(200);
    await setProviders([]);
    const removed = await signInSocial(new CookieJar(APP_ORIGIN), { provider: 'github', callbackURL: CALLBACK_URL });
    expect(removed.status).toBe(404);
    expect(await removed.json()).toMatchObject({ code: 'PROVIDER_NOT_FOUND' });
    await setProviders([{ id: 'google', isShared: true }]);
  });
});
