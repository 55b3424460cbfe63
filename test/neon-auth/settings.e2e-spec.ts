// Neon's configuration API for a branch (domains, OAuth providers, e-mail, localhost, plugins, webhooks, name), driven
// through @neondatabase/api-client 2.7.3, and each change observed on the branch's running Better Auth server (the
// next request follows it) and in the branch database's neon_auth.project_config row (secrets sealed).
import { createApiClient, NeonAuthOauthProviderId as Oauth, NeonAuthSupportedAuthProvider as Provider } from '@neondatabase/api-client';
import { apiClient } from '../helpers/client.js';
import { adminQuery } from '../helpers/test-db.js';
import { api, withClient, type Api, apiClientRejection } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { betterAuthProject, type BetterAuthEnabled } from '../better-auth/better-auth-helpers.js';
import { enableAuth, newAuthProject } from './users-helpers.js';


describe('Neon Auth settings: the configuration API, applied live', () => {
  let t: TestApp;
  let admin: Api;
  let neon: ReturnType<typeof createApiClient>;
  let projectId: string;
  let branchId: string;
  let uri: string;
  let auth: BetterAuthEnabled;
  let n = 0;

  const signUp = (origin: string, body: Record<string, unknown> = {}) =>
    fetch(`${auth.base_url}/sign-up/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin },
      body: JSON.stringify({ email: `user-${Date.now()}-${n++}@example.com`, password: 'a good password', name: 'Settings User', ...body }),
    });
  const preflight = (origin: string) => fetch(`${auth.base_url}/sign-in/email`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
  const configRow = () =>
    withClient(uri, async (c) => (await c.query(`SELECT trusted_origins, social_providers, email_provider, email_and_password, allow_localhost, plugin_configs, webhook_config, name FROM neon_auth.project_config`)).rows[0]);

  beforeAll(async () => {
    t = await startTestApp({ NEON_AUTH_SHARED_OAUTH_CREDENTIALS: JSON.stringify({ github: { client_id: 'shared-github-id', client_secret: 'shared-github-secret' } }) });
    admin = api(t, t.adminKey);
    neon = createApiClient({ apiKey: t.adminKey, baseURL: t.apiUrl });
    const p = await betterAuthProject(t, 'settings');
    ({ projectId, uri, auth } = p);
    branchId = p.defaultBranchId;
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('trusted domains', () => {
    it('start empty; an added origin is trusted on the next request (Origin and CORS), a removed one refused again', async () => {
      expect((await neon.listBranchNeonAuthTrustedDomains(projectId, branchId)).data).toEqual({ domains: [] });
      expect((await signUp('https://app.example.com')).status).toBe(403);

      const added = await neon.addBranchNeonAuthTrustedDomain(projectId, branchId, { domain: 'https://App.Example.com/', auth_provider: Provider.BetterAuth });
      expect(added.status).toBe(201);
      expect(added.data).toBe('');
      // Kept as given (neonctl deletes a domain by the string it lists), compared as the origin it names.
      expect((await neon.listBranchNeonAuthTrustedDomains(projectId, branchId)).data).toEqual({ domains: [{ domain: 'https://App.Example.com/', auth_provider: Provider.BetterAuth }] });
      expect((await signUp('https://app.example.com')).status).toBe(200);
      expect((await preflight('https://app.example.com')).headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      // Another origin is still refused, and the scheme is part of the origin.
      expect((await signUp('http://app.example.com')).status).toBe(403);

      // Adding it again changes nothing.
      await neon.addBranchNeonAuthTrustedDomain(projectId, branchId, { domain: 'https://app.example.com', auth_provider: Provider.BetterAuth });
      expect((await neon.listBranchNeonAuthTrustedDomains(projectId, branchId)).data.domains).toHaveLength(1);

      const deleted = await neon.deleteBranchNeonAuthTrustedDomain(projectId, branchId, { auth_provider: Provider.BetterAuth, domains: [{ domain: 'https://app.example.com' }, { domain: 'https://never-added.example.com' }] });
      expect(deleted.status).toBe(200);
      const refused = await signUp('https://app.example.com');
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { code: string }).code).toBe('INVALID_ORIGIN');
      expect((await preflight('https://app.example.com')).headers.get('access-control-allow-origin')).toBeNull();
      expect((await configRow()).trusted_origins).toEqual([]);
    });

    it('a wildcard domain trusts its subdomains, not the parent or a look-alike', async () => {
      await neon.addBranchNeonAuthTrustedDomain(projectId, branchId, { domain: 'https://*.example.app', auth_provider: Provider.BetterAuth });
      expect((await signUp('https://preview-42.example.app')).status).toBe(200);
      expect((await preflight('https://preview-42.example.app')).headers.get('access-control-allow-origin')).toBe('https://preview-42.example.app');
      expect((await signUp('https://evil-example.app')).status).toBe(403);
      expect((await signUp('https://example.app.evil.com')).status).toBe(403);
      await neon.deleteBranchNeonAuthTrustedDomain(projectId, branchId, { auth_provider: Provider.BetterAuth, domains: [{ domain: 'https://*.example.app' }] });
      expect((await signUp('https://preview-42.example.app')).status).toBe(403);
    });

    it('a callbackURL outside the trusted domains is refused (INVALID_CALLBACK_URL), inside accepted', async () => {
      const email = `cb-${Date.now()}@example.com`;
      expect((await signUp(t.baseUrl, { email })).status).toBe(200);
      const signIn = (callbackURL: string) =>
        fetch(`${auth.base_url}/sign-in/email`, { method: 'POST', headers: { 'content-type': 'application/json', origin: t.baseUrl }, body: JSON.stringify({ email, password: 'a good password', callbackURL }) });
      const refused = await signIn('https://cb.example.com/after');
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { code: string }).code).toBe('INVALID_CALLBACK_URL');
      await neon.addBranchNeonAuthTrustedDomain(projectId, branchId, { domain: 'https://cb.example.com', auth_provider: Provider.BetterAuth });
      expect((await signIn('https://cb.example.com/after')).status).toBe(200);
      await neon.deleteBranchNeonAuthTrustedDomain(projectId, branchId, { auth_provider: Provider.BetterAuth, domains: [{ domain: 'https://cb.example.com' }] });
    });

    it.each([
      ['app.example.com', 'absolute http(s) URL'],
      ['ftp://app.example.com', 'http'],
      ['https://app.example.com/path', 'no path'],
      ['https://app.example.com?x=1', 'no query'],
      ['https://user:pw@app.example.com', 'no credentials'],
      ['https://*.app', 'wildcard needs a domain'],
      ['https://a*.example.com', 'whole leading label'],
      ['https://*', 'wildcard'],
    ])('refuses the domain %s with a 400 and changes nothing', async (domain, why) => {
      const r = await apiClientRejection(neon.addBranchNeonAuthTrustedDomain(projectId, branchId, { domain, auth_provider: Provider.BetterAuth }));
      expect(r.status).toBe(400);
      expect(r.data.message).toContain(why);
      expect((await configRow()).trusted_origins).toEqual([]);
    });

    it('refuses a body whose auth_provider is not the branch\'s', async () => {
      const r = await apiClientRejection(neon.addBranchNeonAuthTrustedDomain(projectId, branchId, { domain: 'https://x.example.com', auth_provider: Provider.Stack }));
      expect(r.status).toBe(400);
      expect(r.data.message).toContain('uses better_auth');
    });
  });

  describe('allow_localhost', () => {
    it('is on by default; off, localhost origins on any port are refused; on again, accepted', async () => {
      expect((await neon.getNeonAuthAllowLocalhost(projectId, branchId)).data).toEqual({ allow_localhost: true });
      expect((await signUp('http://localhost:5173')).status).toBe(200);
      expect((await neon.updateNeonAuthAllowLocalhost(projectId, branchId, { allow_localhost: false })).data).toEqual({ allow_localhost: false });
      expect((await signUp('http://localhost:5173')).status).toBe(403);
      expect((await signUp('http://127.0.0.1:3000')).status).toBe(403);
      expect((await preflight('http://localhost:5173')).headers.get('access-control-allow-origin')).toBeNull();
      await neon.updateNeonAuthAllowLocalhost(projectId, branchId, { allow_localhost: true });
      expect((await signUp('http://localhost:8080')).status).toBe(200);
      const r = await apiClientRejection(neon.updateNeonAuthAllowLocalhost(projectId, branchId, { allow_localhost: 'yes' as unknown as boolean }));
      expect(r.status).toBe(400);
    });
  });

  describe('test e-mails', () => {
    it('answer 200 with the reason when the server cannot be reached, and are limited per project (429 with Retry-After)', async () => {
      const path = `/projects/${projectId}/branches/${branchId}/auth/send_test_email`;
      const body = { host: 'smtp.invalid', port: 587, username: 'u', password: 'p', sender_email: 'a@example.com', sender_name: 'A', recipient_email: 'b@example.com' };
      const answers = await Promise.all(Array.from({ length: 30 }, () => admin.post(path, body)));
      expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
      expect(answers[0].body).toEqual({ success: false, error_message: expect.stringContaining('does not resolve') });
      const over = await admin.post(path, body);
      expect(over.status).toBe(429);
      expect(over.body.code).toBe('RATE_LIMITED');
      expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    });
  });

  describe('email_and_password', () => {
    it('answers Neon\'s defaults', async () => {
      expect((await neon.getNeonAuthEmailAndPasswordConfig(projectId, branchId)).data).toEqual({
        enabled: true,
        email_verification_method: 'otp',
        require_email_verification: false,
        auto_sign_in_after_verification: true,
        send_verification_email_on_sign_up: false,
        send_verification_email_on_sign_in: false,
        disable_sign_up: false,
        min_password_length: 8,
        max_password_length: 128,
      });
    });

    it('disable_sign_up refuses sign-ups, enabled=false refuses password sign-ins, password bounds apply; each on the next request', async () => {
      const email = `ep-${Date.now()}@example.com`;
      expect((await signUp(t.baseUrl, { email })).status).toBe(200);
      const signIn = () =>
        fetch(`${auth.base_url}/sign-in/email`, { method: 'POST', headers: { 'content-type': 'application/json', origin: t.baseUrl }, body: JSON.stringify({ email, password: 'a good password' }) });

      const updated = await neon.updateNeonAuthEmailAndPasswordConfig(projectId, branchId, { disable_sign_up: true });
      expect(updated.data).toMatchObject({ disable_sign_up: true, enabled: true });
      expect((await signUp(t.baseUrl)).status).toBe(400);
      expect((await signIn()).status).toBe(200);

      await neon.updateNeonAuthEmailAndPasswordConfig(projectId, branchId, { disable_sign_up: false, enabled: false });
      expect((await signIn()).status).toBe(400);

      await admin.patch(`/projects/${projectId}/branches/${branchId}/auth/email_and_password`, { enabled: true, min_password_length: 20 }).expect(200);
      const short = await signUp(t.baseUrl, { password: 'fifteen chars!!' });
      expect(short.status).toBe(400);
      expect(((await short.json()) as { code: string }).code).toBe('PASSWORD_TOO_SHORT');
      expect((await signUp(t.baseUrl, { password: 'a password of twenty-five' })).status).toBe(200);
      await admin.patch(`/projects/${projectId}/branches/${branchId}/auth/email_and_password`, { min_password_length: 8 }).expect(200);

      // Neon's keys in the row (camelCase), so a copy of the branch carries them.
      expect((await configRow()).email_and_password).toMatchObject({ enabled: true, disableSignUp: false, minPasswordLength: 8 });
    });

    it('require_email_verification refuses the sign-in of an unverified user', async () => {
      const email = `unverified-${Date.now()}@example.com`;
      expect((await signUp(t.baseUrl, { email })).status).toBe(200);
      await neon.updateNeonAuthEmailAndPasswordConfig(projectId, branchId, { require_email_verification: true });
      const res = await fetch(`${auth.base_url}/sign-in/email`, { method: 'POST', headers: { 'content-type': 'application/json', origin: t.baseUrl }, body: JSON.stringify({ email, password: 'a good password' }) });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe('EMAIL_NOT_VERIFIED');
      await neon.updateNeonAuthEmailAndPasswordConfig(projectId, branchId, { require_email_verification: false });
    });

    it('the verification method picks link or code, and auto sign-in after verification decides whether verifying signs in', async () => {
      const mailbox = async (to: string) => (await admin.get(`/projects/${projectId}/branches/${branchId}/auth/mailbox?to=${encodeURIComponent(to)}`).expect(200)).body.messages as { kind: string; data: { url?: string } }[];
      const verifyByLink = async (to: string) => {
        const [message] = await mailbox(to);
        expect(message.kind).toBe('verification_link');
        const res = await fetch(message.data.url!, { redirect: 'manual' });
        return res.headers.getSetCookie().some((c) => c.startsWith('__Secure-neon-auth.session_token=') && !c.startsWith('__Secure-neon-auth.session_token=;'));
      };
      await neon.updateNeonAuthEmailAndPasswordConfig(projectId, branchId, {
        require_email_verification: true,
        send_verification_email_on_sign_up: true,
        email_verification_method: 'link' as never,
        auto_sign_in_after_verification: true,
      });
      const auto = `auto-${Date.now()}@example.com`;
      expect((await signUp(t.baseUrl, { email: auto })).status).toBe(200);
      expect(await verifyByLink(auto)).toBe(true);

      await neon.updateNeonAuthEmailAndPasswordConfig(projectId, branchId, { auto_sign_in_after_verification: false });
      const manual = `manual-${Date.now()}@example.com`;
      expect((await signUp(t.baseUrl, { email: manual })).status).toBe(200);
      expect(await verifyByLink(manual)).toBe(false);

      await neon.updateNeonAuthEmailAndPasswordConfig(projectId, branchId, { email_verification_method: 'otp' as never });
      const coded = `coded-${Date.now()}@example.com`;
      expect((await signUp(t.baseUrl, { email: coded })).status).toBe(200);
      expect((await mailbox(coded)).map((m) => m.kind)).toEqual(['email_otp']);

      await neon.updateNeonAuthEmailAndPasswordConfig(projectId, branchId, { require_email_verification: false, send_verification_email_on_sign_up: false, auto_sign_in_after_verification: true });
    });

    it.each([
      [{ email_verification_method: 'sms' }, 'email_verification_method'],
      [{ min_password_length: 0 }, 'min_password_length'],
      [{ max_password_length: 5000 }, 'max_password_length'],
      [{ min_password_length: 64, max_password_length: 32 }, 'must not exceed'],
      [{ enabled: 'yes' }, 'enabled'],
      [{ unknown_field: true }, 'unknown_field'],
    ])('refuses %j with a 400 naming it and changes nothing', async (body, field) => {
      const before = (await configRow()).email_and_password;
      const res = await admin.patch(`/projects/${projectId}/branches/${branchId}/auth/email_and_password`, body);
      expect(res.status).toBe(400);
      expect(res.body.message).toContain(field);
      expect((await configRow()).email_and_password).toEqual(before);
    });
  });

  describe('OAuth providers', () => {
    it('lists Neon\'s default (google, shared)', async () => {
      expect((await neon.listBranchNeonAuthOauthProviders(projectId, branchId)).data).toEqual({ providers: [{ id: Oauth.Google, type: 'shared', client_id: '' }] });
    });

    it('adding google with your own credentials replaces the shared default (what neonctl does after enabling); adding it again is a 409', async () => {
      const added = await neon.addBranchNeonAuthOauthProvider(projectId, branchId, { id: Oauth.Google, client_id: 'own-google', client_secret: 'own-google-secret' });
      expect(added.data).toEqual({ id: 'google', type: 'standard', client_id: 'own-google' });
      expect((await neon.listBranchNeonAuthOauthProviders(projectId, branchId)).data).toEqual({ providers: [{ id: 'google', type: 'standard', client_id: 'own-google' }] });
      expect((await apiClientRejection(neon.addBranchNeonAuthOauthProvider(projectId, branchId, { id: Oauth.Google, client_id: 'x', client_secret: 'y' }))).status).toBe(409);
    });

    it('adds a standard provider (200), never returns its secret, stores it sealed, updates and deletes it', async () => {
      const added = await neon.addBranchNeonAuthOauthProvider(projectId, branchId, { id: Oauth.Vercel, client_id: 'vercel-client', client_secret: 'vercel-secret-123' });
      expect(added.status).toBe(200);
      expect(added.data).toEqual({ id: Oauth.Vercel, type: 'standard', client_id: 'vercel-client' });
      const row = await configRow();
      const stored = (row.social_providers as { id: string; clientSecret?: string }[]).find((p) => p.id === 'vercel')!;
      expect(stored).toMatchObject({ id: Oauth.Vercel, isShared: false, clientId: 'vercel-client' });
      expect(stored.clientSecret).toMatch(/^v1\./);
      expect(JSON.stringify(row)).not.toContain('vercel-secret-123');

      const again = await apiClientRejection(neon.addBranchNeonAuthOauthProvider(projectId, branchId, { id: Oauth.Vercel, client_id: 'x', client_secret: 'y' }));
      expect(again.status).toBe(409);

      const updated = await neon.updateBranchNeonAuthOauthProvider(projectId, branchId, Oauth.Vercel, { client_id: 'vercel-client-2' });
      expect(updated.data).toEqual({ id: Oauth.Vercel, type: 'standard', client_id: 'vercel-client-2' });
      const kept = ((await configRow()).social_providers as { id: string; clientSecret?: string }[]).find((p) => p.id === 'vercel')!;
      expect(kept.clientSecret).toBe(stored.clientSecret);

      expect((await neon.deleteBranchNeonAuthOauthProvider(projectId, branchId, Oauth.Vercel)).status).toBe(200);
      expect((await neon.listBranchNeonAuthOauthProviders(projectId, branchId)).data.providers.map((p) => p.id)).toEqual(['google']);
      expect((await apiClientRejection(neon.deleteBranchNeonAuthOauthProvider(projectId, branchId, Oauth.Vercel))).status).toBe(404);
    });

    it('microsoft keeps its tenant id; microsoft_tenant_id is refused for other providers', async () => {
      const added = await neon.addBranchNeonAuthOauthProvider(projectId, branchId, { id: Oauth.Microsoft, client_id: 'ms-client', client_secret: 'ms-secret', microsoft_tenant_id: 'contoso.onmicrosoft.com' });
      expect(added.data).toEqual({ id: Oauth.Microsoft, type: 'standard', client_id: 'ms-client', microsoft_tenant_id: 'contoso.onmicrosoft.com' });
      const r = await apiClientRejection(neon.addBranchNeonAuthOauthProvider(projectId, branchId, { id: Oauth.Github, client_id: 'a', client_secret: 'b', microsoft_tenant_id: 'common' }));
      expect(r.status).toBe(400);
      await neon.deleteBranchNeonAuthOauthProvider(projectId, branchId, Oauth.Microsoft);
    });

    it('shared credentials: refused with INVALID_SHARED_OAUTH_PROVIDER where the installation has none, accepted where it has', async () => {
      await neon.deleteBranchNeonAuthOauthProvider(projectId, branchId, Oauth.Google);
      const r = await apiClientRejection(neon.addBranchNeonAuthOauthProvider(projectId, branchId, { id: Oauth.Google }));
      expect(r.status).toBe(400);
      expect(r.data.code).toBe('INVALID_SHARED_OAUTH_PROVIDER');
      expect(r.data.message).toContain('shared');
      const shared = await neon.addBranchNeonAuthOauthProvider(projectId, branchId, { id: Oauth.Github });
      expect(shared.data).toEqual({ id: Oauth.Github, type: 'shared', client_id: '' });
      await neon.deleteBranchNeonAuthOauthProvider(projectId, branchId, Oauth.Github);
    });

    it('refuses unknown ids, half credentials and unknown fields with a 400', async () => {
      expect((await admin.post(`/projects/${projectId}/branches/${branchId}/auth/oauth_providers`, { id: 'facebook', client_id: 'a', client_secret: 'b' })).status).toBe(400);
      expect((await admin.post(`/projects/${projectId}/branches/${branchId}/auth/oauth_providers`, { id: Oauth.Github, client_id: 'a' })).status).toBe(400);
      expect((await admin.post(`/projects/${projectId}/branches/${branchId}/auth/oauth_providers`, { id: Oauth.Github, client_id: 'a', client_secret: 'b', scopes: ['x'] })).status).toBe(400);
      expect((await admin.patch(`/projects/${projectId}/branches/${branchId}/auth/oauth_providers/facebook`, { client_id: 'a' })).status).toBe(400);
      expect((await neon.listBranchNeonAuthOauthProviders(projectId, branchId)).data.providers).toEqual([]);
    });
  });

  describe('email_provider', () => {
    it('answers shared by default; standard is stored with the password sealed and answered as ""; a partial standard update merges', async () => {
      expect((await neon.getNeonAuthEmailProvider(projectId, branchId)).data).toEqual({ type: 'shared' });
      const standard = { type: 'standard' as const, host: 'smtp.example.com', port: 587, username: 'mailer', password: 'smtp-password-1', sender_email: 'noreply@example.com', sender_name: 'My App' };
      const saved = await neon.updateNeonAuthEmailProvider(projectId, branchId, standard);
      expect(saved.data).toEqual({ ...standard, password: '' });
      const row = await configRow();
      expect(row.email_provider).toMatchObject({ type: 'standard', host: 'smtp.example.com', port: 587, username: 'mailer', senderEmail: 'noreply@example.com', senderName: 'My App' });
      expect(JSON.stringify(row)).not.toContain('smtp-password-1');

      const path = `/projects/${projectId}/branches/${branchId}/auth/email_provider`;
      const merged = await admin.patch(path, { type: 'standard', sender_name: 'My Shop' }).expect(200);
      expect(merged.body).toEqual({ ...standard, sender_name: 'My Shop', password: '' });
      expect(((await configRow()).email_provider as { password: string }).password).toBe((row.email_provider as { password: string }).password);
      // The password is only ever sent to the server it was saved for: another host, port or login needs it again.
      for (const change of [{ port: 465 }, { host: 'smtp.elsewhere.example' }, { username: 'someone-else' }]) {
        const refused = await admin.patch(path, { type: 'standard', ...change });
        expect([refused.status, refused.body.message]).toEqual([400, expect.stringContaining('password is required when host, port or username change')]);
      }
      await admin.patch(path, { type: 'standard', port: 465, password: 'smtp-password-2' }).expect(200);
      expect((await neon.getNeonAuthEmailProvider(projectId, branchId)).data).toEqual({ ...standard, port: 465, sender_name: 'My Shop', password: '' });

      await neon.updateNeonAuthEmailProvider(projectId, branchId, { type: 'shared', sender_email: 'noreply@example.com', sender_name: 'My App' } as never);
      expect((await neon.getNeonAuthEmailProvider(projectId, branchId)).data).toEqual({ type: 'shared', sender_email: 'noreply@example.com', sender_name: 'My App' });
    });

    it('refuses a partial standard update with nothing to merge, fields of standard on shared, bad ports and private hosts', async () => {
      const path = `/projects/${projectId}/branches/${branchId}/auth/email_provider`;
      const missing = await admin.patch(path, { type: 'standard', host: 'smtp.example.com' });
      expect(missing.status).toBe(400);
      expect(missing.body.message).toContain('password');
      expect((await admin.patch(path, { type: 'shared', host: 'smtp.example.com' })).status).toBe(400);
      expect((await admin.patch(path, { type: 'standard', host: 'smtp.example.com', port: 70000, username: 'u', password: 'p', sender_email: 'a@example.com', sender_name: 'A' })).status).toBe(400);
      expect((await admin.patch(path, { type: 'standard', host: 'smtp.example.com', port: 25, username: 'u', password: 'p', sender_email: 'not an email', sender_name: 'A' })).status).toBe(400);
      const local = await admin.patch(path, { type: 'standard', host: '127.0.0.1', port: 25, username: 'u', password: 'p', sender_email: 'a@example.com', sender_name: 'A' });
      expect(local.status).toBe(400);
      expect(local.body.message).toContain('OUTBOUND_ALLOWED_HOSTS');
      expect((await admin.patch(path, { type: 'standard', host: '169.254.169.254', port: 25, username: 'u', password: 'p', sender_email: 'a@example.com', sender_name: 'A' })).status).toBe(400);
      expect((await admin.patch(path, { type: 'mailgun' })).status).toBe(400);
      expect((await neon.getNeonAuthEmailProvider(projectId, branchId)).data.type).toBe('shared');
    });
  });

  describe('plugins', () => {
    it('GET plugins aggregates every section with Neon\'s defaults', async () => {
      const { data } = await neon.getNeonAuthPluginConfigs(projectId, branchId);
      expect(data.organization).toEqual({ enabled: true, organization_limit: 10, membership_limit: 100, creator_role: 'owner', send_invitation_email: false });
      expect(data.magic_link).toEqual({ enabled: false, expires_in: 5, disable_sign_up: false });
      expect(data.phone_number).toEqual({ enabled: false, otp_expires_in: 300 });
      expect(data.email_and_password).toMatchObject({ enabled: true, email_verification_method: 'otp' });
      expect(data.allow_localhost).toBe(true);
      expect(Array.isArray(data.oauth_providers)).toBe(true);
      expect(data.email_provider).toMatchObject({ type: 'shared' });
    });

    it('the organization plugin: its limit and creator role apply; disabled, its routes are gone', async () => {
      const jarHeaders = async () => {
        const email = `org-${Date.now()}-${n++}@example.com`;
        const res = await signUp(t.baseUrl, { email });
        const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
        return { 'content-type': 'application/json', origin: t.baseUrl, cookie };
      };
      const updated = await neon.updateNeonAuthOrganizationPlugin(projectId, branchId, { organization_limit: 1, creator_role: 'admin' });
      expect(updated.data).toEqual({ enabled: true, organization_limit: 1, membership_limit: 100, creator_role: 'admin', send_invitation_email: false });
      const headers = await jarHeaders();
      const create = (slug: string) => fetch(`${auth.base_url}/organization/create`, { method: 'POST', headers, body: JSON.stringify({ name: slug, slug }) });
      const first = await create(`org-a-${Date.now()}`);
      expect(first.status).toBe(200);
      const org = (await first.json()) as { id: string; members: { role: string }[] };
      expect(org.members[0].role).toBe('admin');
      const second = await create(`org-b-${Date.now()}`);
      expect(second.status).toBe(403);

      await neon.updateNeonAuthOrganizationPlugin(projectId, branchId, { enabled: false });
      expect((await create(`org-c-${Date.now()}`)).status).toBe(404);
      await neon.updateNeonAuthOrganizationPlugin(projectId, branchId, { enabled: true, organization_limit: 10, creator_role: 'owner' });
      expect((await admin.patch(`/projects/${projectId}/branches/${branchId}/auth/plugins/organization`, { organization_limit: 0 })).status).toBe(400);
      expect((await admin.patch(`/projects/${projectId}/branches/${branchId}/auth/plugins/organization`, { creator_role: 'member' })).status).toBe(400);
    });

    it('magic link and phone number turn their routes on and off', async () => {
      const magic = () => fetch(`${auth.base_url}/sign-in/magic-link`, { method: 'POST', headers: { 'content-type': 'application/json', origin: t.baseUrl }, body: JSON.stringify({ email: `ml-${Date.now()}@example.com` }) });
      expect((await magic()).status).toBe(404);
      expect((await neon.updateNeonAuthMagicLinkPlugin(projectId, branchId, { enabled: true, expires_in: 15 })).data).toEqual({ enabled: true, expires_in: 15, disable_sign_up: false });
      expect((await magic()).status).toBe(200);
      await neon.updateNeonAuthMagicLinkPlugin(projectId, branchId, { enabled: false });
      expect((await magic()).status).toBe(404);
      expect((await admin.patch(`/projects/${projectId}/branches/${branchId}/auth/plugins/magic-link`, { expires_in: 4 })).status).toBe(400);

      const phone = () => fetch(`${auth.base_url}/phone-number/send-otp`, { method: 'POST', headers: { 'content-type': 'application/json', origin: t.baseUrl }, body: JSON.stringify({ phoneNumber: '+15555550100' }) });
      expect((await phone()).status).toBe(404);
      expect((await neon.getNeonAuthPhoneNumberPlugin(projectId, branchId)).data).toEqual({ enabled: false, otp_expires_in: 300 });
      expect((await neon.updateNeonAuthPhoneNumberPlugin(projectId, branchId, { enabled: true, otp_expires_in: 120 })).data).toEqual({ enabled: true, otp_expires_in: 120 });
      expect((await phone()).status).toBe(200);
      await neon.updateNeonAuthPhoneNumberPlugin(projectId, branchId, { enabled: false });
      expect((await phone()).status).toBe(404);
      expect((await admin.patch(`/projects/${projectId}/branches/${branchId}/auth/plugins/phone-number`, { otp_expires_in: 30 })).status).toBe(400);
      expect((await admin.patch(`/projects/${projectId}/branches/${branchId}/auth/plugins/phone-number`, { sms_provider: 'twilio' })).status).toBe(400);
    });

    it('config name is the application name', async () => {
      expect((await neon.updateNeonAuthConfig(projectId, branchId, { name: 'Acme Shop' })).data).toEqual({ name: 'Acme Shop' });
      expect((await configRow()).name).toBe('Acme Shop');
      expect((await admin.patch(`/projects/${projectId}/branches/${branchId}/auth/config`, { name: '' })).status).toBe(400);
    });
  });

  describe('webhooks', () => {
    it('answers Neon\'s default; PUT replaces the whole object; bad input and private targets are refused', async () => {
      expect((await neon.getNeonAuthWebhookConfig(projectId, branchId)).data).toEqual({ enabled: false, webhook_url: '', enabled_events: [], timeout_seconds: 5 });
      const put = await neon.updateNeonAuthWebhookConfig(projectId, branchId, { enabled: true, webhook_url: 'https://hooks.example.com/neon', enabled_events: ['user.created', 'send.otp'], timeout_seconds: 8 });
      expect(put.data).toEqual({ enabled: true, webhook_url: 'https://hooks.example.com/neon', enabled_events: ['user.created', 'send.otp'], timeout_seconds: 8 });
      expect((await configRow()).webhook_config).toEqual({ enabled: true, webhookUrl: 'https://hooks.example.com/neon', enabledEvents: ['user.created', 'send.otp'], timeoutSeconds: 8 });
      // Full replace: omitted fields go back to their defaults.
      expect((await neon.updateNeonAuthWebhookConfig(projectId, branchId, { enabled: false })).data).toEqual({ enabled: false, webhook_url: '', enabled_events: [], timeout_seconds: 5 });

      const path = `/projects/${projectId}/branches/${branchId}/auth/webhooks`;
      for (const body of [
        { enabled: true },
        { enabled: true, webhook_url: 'http://hooks.example.com/neon' },
        { enabled: true, webhook_url: 'https://127.0.0.1/hook' },
        { enabled: true, webhook_url: 'https://10.1.2.3/hook' },
        { enabled: true, webhook_url: 'https://169.254.169.254/latest' },
        { enabled: true, webhook_url: 'https://[::1]/hook' },
        { enabled: true, webhook_url: 'https://metadata.google.internal/' },
        // The product's own origin (PUBLIC_URL, trusted for its own calls) is no tenant's webhook target.
        { enabled: true, webhook_url: `${t.baseUrl}/api/v2/projects` },
        { enabled: true, webhook_url: 'https://hooks.example.com', timeout_seconds: 11 },
        { enabled: true, webhook_url: 'https://hooks.example.com', timeout_seconds: 0 },
        { enabled: true, webhook_url: 'https://hooks.example.com', enabled_events: ['user.deleted'] },
        { webhook_url: 'https://hooks.example.com' },
      ]) {
        const res = await admin.put(path, body);
        expect({ body, status: res.status }).toEqual({ body, status: 400 });
      }
      expect((await neon.getNeonAuthWebhookConfig(projectId, branchId)).data.enabled).toBe(false);
    });
  });

  describe('the generated client (openapi/client)', () => {
    it('drives the settings operations, the extension fields and the refusals', async () => {
      const client = apiClient(t.baseUrl, t.adminKey);
      const ids = { projectId, branchId };
      expect((await client.auth.addBranchNeonAuthTrustedDomain(ids, { domain: 'https://generated.example.com', auth_provider: 'better_auth' })).status).toBe(201);
      expect((await client.auth.listBranchNeonAuthTrustedDomains(ids)).data.domains).toContainEqual({ domain: 'https://generated.example.com', auth_provider: 'better_auth' });
      expect((await client.auth.deleteBranchNeonAuthTrustedDomain(ids, { auth_provider: 'better_auth', domains: [{ domain: 'https://generated.example.com' }] })).status).toBe(200);
      const ep = await client.auth.updateNeonAuthEmailAndPasswordConfig(ids, { min_password_length: 10, max_password_length: 64 });
      expect(ep.data).toMatchObject({ min_password_length: 10, max_password_length: 64 });
      await client.auth.updateNeonAuthEmailAndPasswordConfig(ids, { min_password_length: 8, max_password_length: 128 });
      expect((await client.auth.getNeonAuthPluginConfigs(ids)).data.organization).toMatchObject({ enabled: true });
      expect((await client.auth.getNeonAuthWebhookConfig(ids)).data).toMatchObject({ enabled: false });
      // sendNeonAuthEmailProviderTest is newer than api-client 2.7.3: here through the generated client.
      const refused = await client.auth.sendNeonAuthEmailProviderTest(ids, { recipient_email: 'someone@example.com' }).catch((err: { status: number; error: { code: string } }) => err);
      expect([(refused as { status: number }).status, (refused as { error: { code: string } }).error.code]).toEqual([400, 'VALIDATION_ERROR']);
      expect((await client.extensions.listNeonAuthWebhookDeliveries(ids)).data).toEqual({ deliveries: [] });
    });
  });

  describe('legacy routes (the default branch)', () => {
    it('domains, OAuth providers and the e-mail server answer the default branch\'s settings', async () => {
      expect((await neon.addNeonAuthDomainToRedirectUriWhitelist(projectId, { domain: 'https://legacy.example.com', auth_provider: Provider.BetterAuth })).status).toBe(201);
      expect((await neon.listBranchNeonAuthTrustedDomains(projectId, branchId)).data.domains).toContainEqual({ domain: 'https://legacy.example.com', auth_provider: Provider.BetterAuth });
      expect((await neon.listNeonAuthRedirectUriWhitelistDomains(projectId)).data.domains).toContainEqual({ domain: 'https://legacy.example.com', auth_provider: Provider.BetterAuth });
      expect((await neon.deleteNeonAuthDomainFromRedirectUriWhitelist(projectId, { auth_provider: Provider.BetterAuth, domains: [{ domain: 'https://legacy.example.com' }] })).status).toBe(200);

      expect((await neon.addNeonAuthOauthProvider(projectId, { id: Oauth.Github, client_id: 'gh', client_secret: 'gh-secret' })).data).toEqual({ id: Oauth.Github, type: 'standard', client_id: 'gh' });
      expect((await neon.listNeonAuthOauthProviders(projectId)).data.providers).toContainEqual({ id: Oauth.Github, type: 'standard', client_id: 'gh' });
      expect((await neon.updateNeonAuthOauthProvider(projectId, Oauth.Github, { client_id: 'gh2' })).data).toEqual({ id: Oauth.Github, type: 'standard', client_id: 'gh2' });
      expect((await neon.deleteNeonAuthOauthProvider(projectId, Oauth.Github)).status).toBe(200);

      expect((await neon.getNeonAuthEmailServer(projectId)).data).toMatchObject({ type: 'shared' });
      expect((await neon.updateNeonAuthEmailServer(projectId, { type: 'shared' } as never)).data).toEqual({ type: 'shared' });
    });
  });

  describe('stack: the settings Stack has, in the provider project', () => {
    let stackProject: string;
    let stackBranch: string;
    beforeAll(async () => {
      const other = await newAuthProject(t, 'settings stack');
      stackProject = other.projectId;
      stackBranch = other.defaultBranchId;
      await enableAuth(t, stackProject, stackBranch, 'stack');
    });

    it('domains, allow_localhost, OAuth providers and the e-mail provider go to the Stack project', async () => {
      expect((await neon.addBranchNeonAuthTrustedDomain(stackProject, stackBranch, { domain: 'https://stack-app.example.com', auth_provider: Provider.Stack })).status).toBe(201);
      expect((await neon.listBranchNeonAuthTrustedDomains(stackProject, stackBranch)).data).toEqual({ domains: [{ domain: 'https://stack-app.example.com', auth_provider: 'stack' }] });
      expect((await neon.updateNeonAuthAllowLocalhost(stackProject, stackBranch, { allow_localhost: false })).data).toEqual({ allow_localhost: false });
      const added = await neon.addBranchNeonAuthOauthProvider(stackProject, stackBranch, { id: Oauth.Github, client_id: 'stack-gh', client_secret: 'stack-gh-secret' });
      expect(added.data).toEqual({ id: 'github', type: 'standard', client_id: 'stack-gh' });
      expect((await neon.listBranchNeonAuthOauthProviders(stackProject, stackBranch)).data.providers).toContainEqual({ id: 'github', type: 'standard', client_id: 'stack-gh' });
      const standard = { type: 'standard' as const, host: 'smtp.example.com', port: 587, username: 'u', password: 'stack-smtp-secret', sender_email: 'auth@example.com', sender_name: 'Stack App' };
      expect((await neon.updateNeonAuthEmailProvider(stackProject, stackBranch, standard)).data).toEqual({ ...standard, password: '' });
      // The client view of the provider project (what Stack's SDK reads) follows.
      const plugins = (await neon.getNeonAuthPluginConfigs(stackProject, stackBranch)).data;
      expect(Object.keys(plugins).sort()).toEqual(['allow_localhost', 'email_provider', 'oauth_providers']);
      expect(plugins.allow_localhost).toBe(false);
    });

    it('what Stack cannot do gets a 400: partial e-mail updates, vercel, Better Auth sections', async () => {
      const partial = await admin.patch(`/projects/${stackProject}/branches/${stackBranch}/auth/email_provider`, { type: 'standard', port: 2525 });
      expect(partial.status).toBe(400);
      expect(partial.body.message).toContain('all six fields');
      const vercel = await apiClientRejection(neon.addBranchNeonAuthOauthProvider(stackProject, stackBranch, { id: Oauth.Vercel, client_id: 'v', client_secret: 'v' }));
      expect(vercel.status).toBe(400);
      expect(vercel.data.message).toContain('stack supports google, github, microsoft');
      for (const call of [
        () => neon.getNeonAuthEmailAndPasswordConfig(stackProject, stackBranch),
        () => neon.updateNeonAuthOrganizationPlugin(stackProject, stackBranch, { enabled: false }),
        () => neon.getNeonAuthWebhookConfig(stackProject, stackBranch),
        () => neon.updateNeonAuthConfig(stackProject, stackBranch, { name: 'x' }),
      ]) {
        const r = await apiClientRejection(call());
        expect([r.status, r.data.code]).toEqual([400, 'AUTH_PROVIDER_NOT_SUPPORTED']);
      }
      const saved = await admin.post(`/projects/${stackProject}/branches/${stackBranch}/auth/email_provider/test`, { recipient_email: 'x@example.com' });
      expect([saved.status, saved.body.code]).toEqual([400, 'AUTH_PROVIDER_NOT_SUPPORTED']);
    });
  });

  describe('mock, and a branch without Neon Auth', () => {
    it('a mock branch keeps every setting with its mock project (Neon\'s defaults first); a branch without Neon Auth: 404', async () => {
      const other = await newAuthProject(t, 'settings mock');
      await enableAuth(t, other.projectId, other.defaultBranchId, 'mock');
      const ids = [other.projectId, other.defaultBranchId] as const;
      expect((await neon.getNeonAuthWebhookConfig(...ids)).data).toEqual({ enabled: false, webhook_url: '', enabled_events: [], timeout_seconds: 5 });
      expect((await neon.listBranchNeonAuthOauthProviders(...ids)).data).toEqual({ providers: [{ id: 'google', type: 'shared', client_id: '' }] });
      await neon.addBranchNeonAuthTrustedDomain(...ids, { domain: 'https://mock-app.example.com', auth_provider: Provider.Mock });
      await neon.updateNeonAuthOrganizationPlugin(...ids, { organization_limit: 2 });
      await neon.addBranchNeonAuthOauthProvider(...ids, { id: Oauth.Github, client_id: 'mock-gh', client_secret: 'mock-gh-secret' });
      expect((await neon.listBranchNeonAuthTrustedDomains(...ids)).data.domains).toEqual([{ domain: 'https://mock-app.example.com', auth_provider: 'mock' }]);
      expect((await neon.getNeonAuthPluginConfigs(...ids)).data.organization).toMatchObject({ organization_limit: 2 });
      const [row] = await adminQuery<{ settings: Record<string, unknown> }>(
        `SELECT p.settings FROM mock_provider_projects p JOIN neon_auth_integrations i ON i.provider_project_id = p.id::text WHERE i.branch_id = $1`,
        [other.defaultBranchId],
        t.database,
      );
      expect(row.settings).toMatchObject({ trusted_origins: ['https://mock-app.example.com'] });
      expect(JSON.stringify(row.settings)).not.toContain('mock-gh-secret');
      // A partial standard e-mail update with no stored standard provider to merge into: 400, as for better_auth.
      expect((await admin.patch(`/projects/${other.projectId}/branches/${other.defaultBranchId}/auth/email_provider`, { type: 'standard', host: 'smtp.example.com' })).status).toBe(400);

      const none = await newAuthProject(t, 'settings none');
      const missing = await apiClientRejection(neon.listBranchNeonAuthTrustedDomains(none.projectId, none.defaultBranchId));
      expect(missing.status).toBe(404);
      expect(missing.data.code).toBe('NEON_AUTH_NOT_ENABLED');
    });
  });

  describe('a branch copy carries its settings', () => {
    it('the child branch starts with the parent\'s domains and OAuth providers, and changes there stay there', async () => {
      await neon.addBranchNeonAuthTrustedDomain(projectId, branchId, { domain: 'https://carried.example.com', auth_provider: Provider.BetterAuth });
      const child = await admin.post(`/projects/${projectId}/branches`, { branch: { name: `settings-child-${Date.now()}` }, endpoints: [{ type: 'read_write' }] }).expect(201);
      const childId = child.body.branch.id as string;
      for (let i = 0; i < 100; i++) {
        const b = await admin.get(`/projects/${projectId}/branches/${childId}`);
        if (b.body.branch.current_state === 'ready') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await neon.listBranchNeonAuthTrustedDomains(projectId, childId)).data.domains).toContainEqual({ domain: 'https://carried.example.com', auth_provider: Provider.BetterAuth });
      await neon.deleteBranchNeonAuthTrustedDomain(projectId, childId, { auth_provider: Provider.BetterAuth, domains: [{ domain: 'https://carried.example.com' }] });
      expect((await neon.listBranchNeonAuthTrustedDomains(projectId, childId)).data.domains).toEqual([]);
      expect((await neon.listBranchNeonAuthTrustedDomains(projectId, branchId)).data.domains).toContainEqual({ domain: 'https://carried.example.com', auth_provider: Provider.BetterAuth });
    });
  });
});
