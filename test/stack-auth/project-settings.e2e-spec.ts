import { projectsCrudAdminReadSchema, projectsCrudClientReadSchema } from '@stackframe/stack-shared/dist/interface/crud/projects';
import { StackAdminApp } from '@stackframe/js';
import request from 'supertest';
import { SecretsService } from '../../src/common/secrets.js';
import { REDACTED_SECRET, stackConfigSecretContext } from '../../src/stack-auth/projects/stack-project-config.js';
import { clientHeaders, createStackProject, serverHeaders, type StackTestProject } from '../helpers/stack-auth.js';
import { adminQuery } from '../helpers/test-db.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const PASSWORD = 'correct horse battery';

/**
 * `GET` / `PATCH /api/v1/internal/projects/current` (Stack Auth's admin project API): admin keys only, partial
 * updates with Stack-style SCHEMA_ERRORs, OAuth client secrets and the SMTP password sealed at rest and never
 * answered, and the client view and the redirect check following the stored configuration on the next request.
 */
describe('embedded provider: the admin project API (internal/projects/current)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    // Stack's SDK (last test) drops its caches 5 s after their last fetch, on timers it does not unref: let them
    // run out while the app is still up, so the worker exits cleanly.
    await new Promise((resolve) => setTimeout(resolve, 5_200));
    await t?.close();
  }, 30_000);

  const api = () => request(`${t.baseUrl}/stack-auth/api/v1`);
  const admin = (p: StackTestProject) => ({ 'x-stack-access-type': 'admin', 'x-stack-project-id': p.projectId, 'x-stack-super-secret-admin-key': p.superSecretAdminKey });
  const get = (p: StackTestProject) => api().get('/internal/projects/current').set(admin(p));
  const patch = (p: StackTestProject, body: unknown) => api().patch('/internal/projects/current').set(admin(p)).send(body as object);
  const configRow = async (p: StackTestProject) =>
    (await adminQuery<{ config: Record<string, unknown>; text: string }>('SELECT config, config::text AS text FROM stack_auth.projects WHERE id = $1', [p.projectId], t.database))[0];
  let seq = 0;
  const email = () => `user${++seq}@example.com`;
  const signUp = (p: StackTestProject, callback: string) =>
    api().post('/auth/password/sign-up').set(clientHeaders(p)).send({ email: email(), password: PASSWORD, verification_callback_url: callback });

  it('answers only admin keys: client and server keys get INSUFFICIENT_ACCESS_TYPE, a wrong admin key INVALID_SUPER_SECRET_ADMIN_KEY; nothing changes', async () => {
    const p = await createStackProject(t, 'Admin only');
    const before = await configRow(p);
    for (const headers of [clientHeaders(p), serverHeaders(p)]) {
      for (const req of [api().get('/internal/projects/current'), api().patch('/internal/projects/current').send({ config: { allow_localhost: false } })]) {
        const res = await req.set(headers).expect(401);
        expect(res.body).toMatchObject({ code: 'INSUFFICIENT_ACCESS_TYPE', details: { allowed_access_types: ['admin'] } });
      }
    }
    const wrong = { ...admin(p), 'x-stack-super-secret-admin-key': `sak_${'0'.repeat(45)}` };
    expect((await api().patch('/internal/projects/current').set(wrong).send({ config: { allow_localhost: false } }).expect(401)).body.code).toBe('INVALID_SUPER_SECRET_ADMIN_KEY');
    expect((await api().get('/internal/projects/current').set({ 'x-stack-access-type': 'admin', 'x-stack-project-id': p.projectId }).expect(401)).body.code).toBe(
      'ADMIN_AUTHENTICATION_REQUIRED',
    );
    expect(await configRow(p)).toEqual(before);
  });

  it("answers Stack Auth's admin project shape (its own schema accepts it), and the client view stays the client shape", async () => {
    const p = await createStackProject(t, 'Shape project');
    const res = await get(p).expect(200);
    await projectsCrudAdminReadSchema.validate(res.body, { strict: true });
    expect(res.body).toMatchObject({
      id: p.projectId,
      display_name: 'Shape project',
      description: 'Created with Neon',
      created_at_millis: expect.any(Number),
      config: { allow_localhost: true, sign_up_enabled: true, credential_enabled: true, domains: [], oauth_providers: [], enabled_oauth_providers: [], email_config: { type: 'shared' } },
    });
    const client = await api().get('/projects/current').set(clientHeaders(p)).expect(200);
    await projectsCrudClientReadSchema.validate(client.body, { strict: true });
    expect(Object.keys(client.body.config).sort()).toEqual(
      [
        'allow_localhost',
        'allow_team_api_keys',
        'allow_user_api_keys',
        'client_team_creation_enabled',
        'client_user_deletion_enabled',
        'credential_enabled',
        'domains',
        'enabled_oauth_providers',
        'magic_link_enabled',
        'passkey_enabled',
        'sign_up_enabled',
      ].sort(),
    );
  });

  it('applies a partial update: only the fields sent change; lists are replaced whole', async () => {
    const p = await createStackProject(t, 'Partial');
    const first = await patch(p, { config: { domains: [{ domain: 'https://a.example.com', handler_path: '/handler' }], allow_localhost: false } }).expect(200);
    expect(first.body.config).toMatchObject({ allow_localhost: false, sign_up_enabled: true, domains: [{ domain: 'https://a.example.com', handler_path: '/handler' }] });
    const second = await patch(p, { display_name: 'Renamed', config: { sign_up_enabled: false } }).expect(200);
    expect(second.body).toMatchObject({ display_name: 'Renamed', config: { allow_localhost: false, sign_up_enabled: false, domains: [{ domain: 'https://a.example.com' }] } });
    const third = await patch(p, { config: { domains: [{ domain: 'https://*.b.example.org', handler_path: '/' }] } }).expect(200);
    expect(third.body.config.domains).toEqual([{ domain: 'https://*.b.example.org', handler_path: '/' }]);
    // An empty body changes nothing, and answers the project.
    expect((await patch(p, {}).expect(200)).body).toEqual((await get(p).expect(200)).body);
  });

  it('stores OAuth client secrets and the SMTP password sealed (no plaintext in the row), and answers them redacted', async () => {
    const p = await createStackProject(t, 'Secrets');
    const clientSecret = 'gh-client-secret-7f3a9c';
    const smtpPassword = 'smtp-password-51e0d2';
    const res = await patch(p, {
      config: {
        oauth_providers: [
          { id: 'google', type: 'shared' },
          { id: 'github', type: 'standard', client_id: 'gh-client-id', client_secret: clientSecret },
          { id: 'microsoft', type: 'standard', client_id: 'ms-client-id', client_secret: 'ms-secret-0a1b', microsoft_tenant_id: 'organizations' },
        ],
        email_config: { type: 'standard', host: 'smtp.example.com', port: 587, username: 'mailer', password: smtpPassword, sender_name: 'Acme', sender_email: 'noreply@example.com' },
      },
    }).expect(200);
    const body = JSON.stringify(res.body);
    expect(body).not.toContain(clientSecret);
    expect(body).not.toContain(smtpPassword);
    expect(res.body.config.oauth_providers).toEqual([
      { provider_config_id: 'google', id: 'google', type: 'shared' },
      { provider_config_id: 'github', id: 'github', type: 'standard', client_id: 'gh-client-id', client_secret: REDACTED_SECRET },
      { provider_config_id: 'microsoft', id: 'microsoft', type: 'standard', client_id: 'ms-client-id', client_secret: REDACTED_SECRET, microsoft_tenant_id: 'organizations' },
    ]);
    expect(res.body.config.email_config).toEqual({
      type: 'standard',
      host: 'smtp.example.com',
      port: 587,
      username: 'mailer',
      password: REDACTED_SECRET,
      sender_name: 'Acme',
      sender_email: 'noreply@example.com',
    });
    expect(res.body.config.enabled_oauth_providers).toEqual([{ id: 'google' }, { id: 'github' }, { id: 'microsoft' }]);
    await projectsCrudAdminReadSchema.validate(res.body, { strict: true });
    expect(JSON.stringify((await get(p).expect(200)).body)).not.toContain(clientSecret);

    // At rest: sealed with the project and field as context (it opens there, and nowhere else).
    const row = await configRow(p);
    expect(row.text).not.toContain(clientSecret);
    expect(row.text).not.toContain(smtpPassword);
    const secrets = t.app.get(SecretsService);
    const github = (row.config.oauth_providers as { id: string; client_secret_sealed: string }[]).find((o) => o.id === 'github')!;
    expect(secrets.decrypt(github.client_secret_sealed, stackConfigSecretContext(p.projectId, 'oauth_providers.github.client_secret'))).toBe(clientSecret);
    expect(() => secrets.decrypt(github.client_secret_sealed, stackConfigSecretContext(p.projectId, 'oauth_providers.microsoft.client_secret'))).toThrow();
    const sealedPassword = (row.config.email_config as { password_sealed: string }).password_sealed;
    expect(secrets.decrypt(sealedPassword, stackConfigSecretContext(p.projectId, 'email_config.password'))).toBe(smtpPassword);

    // The client view names the providers and nothing else of them.
    const client = await api().get('/projects/current').set(clientHeaders(p)).expect(200);
    expect(client.body.config.enabled_oauth_providers).toEqual([{ id: 'google' }, { id: 'github' }, { id: 'microsoft' }]);
    expect(JSON.stringify(client.body)).not.toMatch(/client_id|client_secret|smtp|sealed/);

    // Sending the redaction back keeps the stored secrets; a new one replaces it.
    const kept = await patch(p, {
      config: {
        oauth_providers: [{ id: 'github', type: 'standard', client_id: 'gh-client-id-2', client_secret: REDACTED_SECRET }],
        email_config: { ...res.body.config.email_config, host: 'smtp2.example.com' },
      },
    }).expect(200);
    expect(kept.body.config.oauth_providers).toEqual([{ provider_config_id: 'github', id: 'github', type: 'standard', client_id: 'gh-client-id-2', client_secret: REDACTED_SECRET }]);
    const after = await configRow(p);
    expect((after.config.oauth_providers as { client_secret_sealed: string }[])[0].client_secret_sealed).toBe(github.client_secret_sealed);
    expect((after.config.email_config as { password_sealed: string; host: string })).toMatchObject({ host: 'smtp2.example.com', password_sealed: sealedPassword });
    await patch(p, { config: { oauth_providers: [{ id: 'github', type: 'standard', client_id: 'gh-client-id-2', client_secret: 'rotated-secret' }] } }).expect(200);
    const rotated = (await configRow(p)).config.oauth_providers as { client_secret_sealed: string }[];
    expect(secrets.decrypt(rotated[0].client_secret_sealed, stackConfigSecretContext(p.projectId, 'oauth_providers.github.client_secret'))).toBe('rotated-secret');

    // Back to the shared sender: the SMTP settings and password are gone from the row.
    await patch(p, { config: { email_config: { type: 'shared' } } }).expect(200);
    expect((await configRow(p)).config.email_config).toEqual({ type: 'shared' });
  });

  it.each([
    ['an unknown top-level field', { is_production_mode: true }, /body contains unknown properties: is_production_mode/],
    ['an unknown config field', { config: { email_theme: 'x' } }, /body\.config contains unknown properties: email_theme/],
    ['a config that is not an object', { config: 'x' }, /body\.config/],
    ['a boolean that is a string', { config: { allow_localhost: 'yes' } }, /body\.config\.allow_localhost must be a boolean/],
    ['a domain without scheme', { config: { domains: [{ domain: 'example.com', handler_path: '/handler' }] } }, /domain must be a URL starting with http/],
    ['a domain with another scheme', { config: { domains: [{ domain: 'ftp://example.com', handler_path: '/handler' }] } }, /domain must be a URL starting with http/],
    ['a domain without handler_path', { config: { domains: [{ domain: 'https://example.com' }] } }, /handler_path/],
    ['a relative handler_path', { config: { domains: [{ domain: 'https://example.com', handler_path: 'handler' }] } }, /Handler path must start with \//],
    ['a domains list that is not a list', { config: { domains: 'https://example.com' } }, /body\.config\.domains/],
    ['a domain that is not an object', { config: { domains: ['https://example.com'] } }, /body\.config\.domains/],
    ['an unknown OAuth provider', { config: { oauth_providers: [{ id: 'vercel', type: 'shared' }] } }, /id must be one of the following values/],
    ['a standard provider without client_id', { config: { oauth_providers: [{ id: 'github', type: 'standard', client_secret: 's' }] } }, /client_id must be defined when type is "standard"/],
    ['a standard provider without client_secret', { config: { oauth_providers: [{ id: 'github', type: 'standard', client_id: 'c' }] } }, /client_secret must be defined when type is "standard"/],
    ['an empty client_secret', { config: { oauth_providers: [{ id: 'github', type: 'standard', client_id: 'c', client_secret: '' }] } }, /client_secret must not be empty/],
    ['a provider listed twice', { config: { oauth_providers: [{ id: 'github', type: 'shared' }, { id: 'github', type: 'shared' }] } }, /github is listed twice/],
    ['shared keys Stack does not have', { config: { oauth_providers: [{ id: 'discord', type: 'shared' }] } }, /discord has no shared keys/],
    ['a redacted secret with none stored', { config: { oauth_providers: [{ id: 'github', type: 'standard', client_id: 'c', client_secret: REDACTED_SECRET }] } }, /no client secret is stored for github/],
    ['an e-mail type that is unknown', { config: { email_config: { type: 'custom' } } }, /type must be one of the following values/],
    [
      'a standard e-mail server without its password',
      { config: { email_config: { type: 'standard', host: 'h', port: 25, username: 'u', sender_name: 'n', sender_email: 'a@example.com' } } },
      /password must be defined when type is "standard"/,
    ],
    [
      'a port out of range',
      { config: { email_config: { type: 'standard', host: 'h', port: 70000, username: 'u', password: 'p', sender_name: 'n', sender_email: 'a@example.com' } } },
      /port must be an integer from 0 to 65535/,
    ],
    [
      'a sender that is not an e-mail',
      { config: { email_config: { type: 'standard', host: 'h', port: 25, username: 'u', password: 'p', sender_name: 'n', sender_email: 'nope' } } },
      /sender_email must be a valid email/,
    ],
    [
      'a password over 70 characters',
      { config: { email_config: { type: 'standard', host: 'h', port: 25, username: 'u', password: 'p'.repeat(71), sender_name: 'n', sender_email: 'a@example.com' } } },
      /password must be at most 70 characters/,
    ],
    [
      'a redacted password with none stored',
      { config: { email_config: { type: 'standard', host: 'h', port: 25, username: 'u', password: REDACTED_SECRET, sender_name: 'n', sender_email: 'a@example.com' } } },
      /no password is stored/,
    ],
  ])('400 SCHEMA_ERROR for %s, and nothing changes', async (_name, body, message) => {
    const p = await createStackProject(t, 'Validation');
    const before = await configRow(p);
    const res = await patch(p, body).expect(400);
    expect(res.headers['x-stack-known-error']).toBe('SCHEMA_ERROR');
    expect(res.body.code).toBe('SCHEMA_ERROR');
    expect(res.body.error).toMatch(message);
    expect(await configRow(p)).toEqual(before);
  });

  it('a domain added is trusted by the redirect check on the next request, and refused once removed; allow_localhost toggles localhost', async () => {
    const p = await createStackProject(t, 'Live domains');
    const onDomain = 'https://app.example.com/handler/email-verification';
    const onLocalhost = 'http://localhost:3000/handler/email-verification';
    expect((await signUp(p, onDomain).expect(400)).body.code).toBe('REDIRECT_URL_NOT_WHITELISTED');
    await signUp(p, onLocalhost).expect(200);

    await patch(p, { config: { domains: [{ domain: 'https://app.example.com', handler_path: '/handler' }], allow_localhost: false } }).expect(200);
    await signUp(p, onDomain).expect(200);
    expect((await signUp(p, onLocalhost).expect(400)).body.code).toBe('REDIRECT_URL_NOT_WHITELISTED');
    const client = await api().get('/projects/current').set(clientHeaders(p)).expect(200);
    expect(client.body.config).toMatchObject({ allow_localhost: false, domains: [{ domain: 'https://app.example.com', handler_path: '/handler' }] });

    await patch(p, { config: { domains: [], allow_localhost: true } }).expect(200);
    expect((await signUp(p, onDomain).expect(400)).body.code).toBe('REDIRECT_URL_NOT_WHITELISTED');
    await signUp(p, onLocalhost).expect(200);
  });

  it("works with Stack Auth's admin SDK: getProject reads it (secrets redacted) and update() round-trips without losing the stored secret", async () => {
    const p = await createStackProject(t, 'Admin SDK');
    await patch(p, {
      config: { oauth_providers: [{ id: 'github', type: 'standard', client_id: 'gh-id', client_secret: 'gh-secret-sdk' }], domains: [{ domain: 'https://sdk.example.com', handler_path: '/handler' }] },
    }).expect(200);
    const sealedBefore = ((await configRow(p)).config.oauth_providers as { client_secret_sealed: string }[])[0].client_secret_sealed;
    const app = new StackAdminApp({
      baseUrl: p.baseUrl,
      projectId: p.projectId,
      publishableClientKey: p.publishableClientKey,
      secretServerKey: p.secretServerKey,
      superSecretAdminKey: p.superSecretAdminKey,
      tokenStore: 'memory',
    });
    const project = await app.getProject();
    expect(project.config.oauthProviders).toEqual([{ id: 'github', type: 'standard', clientId: 'gh-id', clientSecret: REDACTED_SECRET }]);
    expect(project.config.domains).toEqual([{ domain: 'https://sdk.example.com', handlerPath: '/handler' }]);
    await project.update({ config: { oauthProviders: project.config.oauthProviders, allowLocalhost: false } });
    const row = await configRow(p);
    expect(row.config).toMatchObject({ allow_localhost: false, oauth_providers: [{ id: 'github', client_id: 'gh-id', client_secret_sealed: sealedBefore }] });
  });
});
