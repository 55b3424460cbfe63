import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { sealedFieldContext, type ProjectSettings } from '../../src/better-auth/project-config.js';
import { SecretsService } from '../../src/common/secrets.js';
import { ProviderAuthFailed, ProviderRequestRejected, ProviderUnavailable, type ProviderCredentials, type SdkKeys } from '../../src/providers/auth-provider.port.js';
import type { BranchDatabase } from '../../src/projects/branch-databases/branch-databases.service.js';
import { StackProviderAdapter } from '../../src/providers/stack/stack-provider.adapter.js';
import { REDACTED_SECRET, stackConfigSecretContext } from '../../src/stack-auth/projects/stack-project-config.js';
import { adminQuery } from '../helpers/test-db.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { rejection } from '../helpers/fixtures.js';

/** The stack adapter ignores the branch database (the settings live in the Stack project). */
const TARGET: BranchDatabase = { branchId: 'br-settings', name: 'neondb', physicalName: 'unused', ownerRole: 'unused' };
const PASSWORD = 'correct horse battery';


/** A local server playing a Stack Auth server's admin project API (it answers secrets in clear, as Stack does). */
async function fakeStack(initial: Record<string, unknown>) {
  let project = structuredClone(initial);
  const patches: Record<string, unknown>[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      if (req.url !== '/api/v1/internal/projects/current') return res.writeHead(404).end();
      if (req.method === 'PATCH') {
        const patch = JSON.parse(body) as { config: Record<string, unknown> };
        patches.push(patch.config);
        project = { ...project, config: { ...(project.config as object), ...patch.config } };
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-stack-request-id': 'r' }).end(JSON.stringify(project));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    patches,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('stack adapter settings against the embedded provider (real HTTP)', () => {
  let t: TestApp;
  let stack: StackProviderAdapter;
  let secrets: SecretsService;
  beforeAll(async () => {
    // The fake Stack server listens on 127.0.0.1, which outgoing calls may only reach when the operator allows it.
    t = await startTestApp({ OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' });
    stack = t.app.get(StackProviderAdapter);
    secrets = t.app.get(SecretsService);
  });
  afterAll(async () => {
    await t?.close();
  });

  const settings = () => stack.settings!;
  const api = () => request(`${t.baseUrl}/stack-auth/api/v1`);
  const admin = (c: ProviderCredentials) => ({ 'x-stack-access-type': 'admin', 'x-stack-project-id': c.projectId, 'x-stack-super-secret-admin-key': c.superSecretAdminKey! });
  const client = (c: ProviderCredentials, keys: SdkKeys) => ({ 'x-stack-access-type': 'client', 'x-stack-project-id': c.projectId, 'x-stack-publishable-client-key': keys.publishableClientKey });
  const stackConfig = async (c: ProviderCredentials) => (await api().get('/internal/projects/current').set(admin(c)).expect(200)).body.config;
  const configRow = async (c: ProviderCredentials) =>
    (await adminQuery<{ config: Record<string, unknown>; updated_at: Date }>('SELECT config, updated_at FROM stack_auth.projects WHERE id = $1', [c.projectId], t.database))[0];
  const sealSecret = (plain: string) => secrets.encrypt(plain, sealedFieldContext('social_providers.clientSecret'));
  const sealPassword = (plain: string, server: { host: string; port: number; username: string }) => secrets.encrypt(plain, sealedFieldContext('email_provider.password', server));
  const update = (c: ProviderCredentials, change: (s: ProjectSettings) => ProjectSettings | Promise<ProjectSettings>) => settings().update(c, TARGET, change);
  let seq = 0;
  const signUp = (c: ProviderCredentials, keys: SdkKeys, callback: string) =>
    api().post('/auth/password/sign-up').set(client(c, keys)).send({ email: `settings${++seq}@example.com`, password: PASSWORD, verification_callback_url: callback });

  it('offers the four sections Stack keeps, google/github/microsoft, and no partial e-mail merge', () => {
    expect([...settings().sections].sort()).toEqual(['allow_localhost', 'email_provider', 'oauth_providers', 'trusted_domains']);
    expect([...settings().oauthProviders].sort()).toEqual(['github', 'google', 'microsoft']);
    expect(settings().mergesPartialEmailProvider).toBe(false);
  });

  it("reads a new project's settings from the provider", async () => {
    const { credentials } = await stack.provisionManagedProject({ displayName: 'Fresh settings' });
    expect(await settings().read(credentials, TARGET)).toMatchObject({
      name: 'Fresh settings',
      trustedOrigins: [],
      allowLocalhost: true,
      socialProviders: [],
      emailProvider: { type: 'shared' },
    });
  });

  it('a trusted domain added is accepted by the redirect check on the next request and refused after removal; allow_localhost toggles localhost', async () => {
    const { credentials } = await stack.provisionManagedProject({ displayName: 'Live settings' });
    const keys = await stack.createSdkKeys(credentials);
    const onDomain = 'https://app.example.com/handler/email-verification';
    const onLocalhost = 'http://localhost:5173/handler/email-verification';
    expect((await signUp(credentials, keys, onDomain).expect(400)).body.code).toBe('REDIRECT_URL_NOT_WHITELISTED');

    const added = await update(credentials, (s) => ({ ...s, trustedOrigins: [...s.trustedOrigins, 'https://app.example.com'] }));
    expect(added.trustedOrigins).toEqual(['https://app.example.com']);
    expect((await stackConfig(credentials)).domains).toEqual([{ domain: 'https://app.example.com', handler_path: '/handler' }]);
    await signUp(credentials, keys, onDomain).expect(200);
    expect((await signUp(credentials, keys, 'https://other.example.com/handler/x').expect(400)).body.code).toBe('REDIRECT_URL_NOT_WHITELISTED');
    expect((await settings().read(credentials, TARGET)).trustedOrigins).toEqual(['https://app.example.com']);

    // Wildcard origins are Stack's too.
    await update(credentials, (s) => ({ ...s, trustedOrigins: [...s.trustedOrigins, 'https://*.preview.example.app'] }));
    await signUp(credentials, keys, 'https://pr-7.preview.example.app/handler/x').expect(200);

    const removed = await update(credentials, (s) => ({ ...s, trustedOrigins: s.trustedOrigins.filter((o) => o !== 'https://app.example.com') }));
    expect(removed.trustedOrigins).toEqual(['https://*.preview.example.app']);
    expect((await signUp(credentials, keys, onDomain).expect(400)).body.code).toBe('REDIRECT_URL_NOT_WHITELISTED');

    await signUp(credentials, keys, onLocalhost).expect(200);
    // Edited in place: still compared with what the provider has.
    const edited = await update(credentials, (s) => {
      s.allowLocalhost = false;
      return s;
    });
    expect(edited.allowLocalhost).toBe(false);
    expect((await signUp(credentials, keys, onLocalhost).expect(400)).body.code).toBe('REDIRECT_URL_NOT_WHITELISTED');
    expect((await api().get('/projects/current').set(client(credentials, keys)).expect(200)).body.config.allow_localhost).toBe(false);
    await update(credentials, (s) => ({ ...s, allowLocalhost: true }));
    await signUp(credentials, keys, onLocalhost).expect(200);
  });

  it('keeps the handler path of a domain set in Stack itself when other domains change', async () => {
    const { credentials } = await stack.provisionManagedProject({ displayName: 'Handler paths' });
    await api()
      .patch('/internal/projects/current')
      .set(admin(credentials))
      .send({ config: { domains: [{ domain: 'https://custom.example.com/', handler_path: '/auth' }] } })
      .expect(200);
    expect((await settings().read(credentials, TARGET)).trustedOrigins).toEqual(['https://custom.example.com']);
    await update(credentials, (s) => ({ ...s, trustedOrigins: [...s.trustedOrigins, 'https://new.example.com'] }));
    expect((await stackConfig(credentials)).domains).toEqual([
      { domain: 'https://custom.example.com/', handler_path: '/auth' },
      { domain: 'https://new.example.com', handler_path: '/handler' },
    ]);
  });

  it('OAuth providers: the client secret reaches the provider sealed at rest; an unchanged secret survives other changes; Stack-only providers are kept', async () => {
    const { credentials } = await stack.provisionManagedProject({ displayName: 'OAuth settings' });
    // A provider Neon does not have, set in Stack itself.
    await api().patch('/internal/projects/current').set(admin(credentials)).send({ config: { oauth_providers: [{ id: 'spotify', type: 'shared' }] } }).expect(200);

    const after = await update(credentials, (s) => ({
      ...s,
      socialProviders: [
        { id: 'google', isShared: true },
        { id: 'github', isShared: false, clientId: 'gh-id', clientSecret: sealSecret('gh-secret-1') },
      ],
    }));
    expect(after.socialProviders).toEqual([
      { id: 'google', isShared: true },
      { id: 'github', isShared: false, clientId: 'gh-id', clientSecret: expect.any(String) },
    ]);
    // The document holds what Stack answered for the secret, sealed: the embedded provider's redaction.
    expect(secrets.decrypt(after.socialProviders[1].clientSecret!, sealedFieldContext('social_providers.clientSecret'))).toBe(REDACTED_SECRET);
    const sealedAtProvider = () =>
      ((configRowCache.config.oauth_providers as { id: string; client_secret_sealed?: string }[]).find((p) => p.id === 'github')?.client_secret_sealed ?? '') as string;
    let configRowCache = await configRow(credentials);
    const sealed1 = sealedAtProvider();
    expect(secrets.decrypt(sealed1, stackConfigSecretContext(credentials.projectId, 'oauth_providers.github.client_secret'))).toBe('gh-secret-1');
    expect((await stackConfig(credentials)).oauth_providers.map((p: { id: string }) => p.id)).toEqual(['google', 'github', 'spotify']);

    // A new client id, the secret left as it is: the provider keeps its secret.
    await update(credentials, (s) => ({ ...s, socialProviders: s.socialProviders.map((p) => (p.id === 'github' ? { ...p, clientId: 'gh-id-2' } : p)) }));
    configRowCache = await configRow(credentials);
    expect(sealedAtProvider()).toBe(sealed1);
    expect(configRowCache.config.oauth_providers).toEqual([
      { id: 'google', type: 'shared' },
      { id: 'github', type: 'standard', client_id: 'gh-id-2', client_secret_sealed: sealed1 },
      { id: 'spotify', type: 'shared' },
    ]);

    // A new secret replaces it; microsoft with its tenant.
    await update(credentials, (s) => ({
      ...s,
      socialProviders: [
        ...s.socialProviders.map((p) => (p.id === 'github' ? { ...p, clientSecret: sealSecret('gh-secret-2') } : p)),
        { id: 'microsoft', isShared: false, clientId: 'ms-id', clientSecret: sealSecret('ms-secret'), tenantId: 'organizations' },
      ],
    }));
    configRowCache = await configRow(credentials);
    expect(secrets.decrypt(sealedAtProvider(), stackConfigSecretContext(credentials.projectId, 'oauth_providers.github.client_secret'))).toBe('gh-secret-2');
    expect((await settings().read(credentials, TARGET)).socialProviders).toEqual([
      { id: 'google', isShared: true },
      { id: 'github', isShared: false, clientId: 'gh-id-2', clientSecret: expect.any(String) },
      { id: 'microsoft', isShared: false, clientId: 'ms-id', clientSecret: expect.any(String), tenantId: 'organizations' },
    ]);

    // Removing github leaves the others (spotify included).
    await update(credentials, (s) => ({ ...s, socialProviders: s.socialProviders.filter((p) => p.id !== 'github') }));
    expect((await stackConfig(credentials)).enabled_oauth_providers).toEqual([{ id: 'google' }, { id: 'microsoft' }, { id: 'spotify' }]);
  });

  it('e-mail provider: the SMTP password reaches the provider sealed at rest, the settings read back; shared again drops them', async () => {
    const { credentials } = await stack.provisionManagedProject({ displayName: 'E-mail settings' });
    const smtp = { type: 'standard' as const, host: 'smtp.example.com', port: 587, username: 'mailer', senderEmail: 'noreply@example.com', senderName: 'Acme' };
    const after = await update(credentials, (s) => ({ ...s, emailProvider: { ...smtp, password: sealPassword('smtp-pass-1', smtp) } }));
    expect(after.emailProvider).toEqual({ ...smtp, password: expect.any(String) });
    const row = await configRow(credentials);
    const sealed = (row.config.email_config as { password_sealed: string }).password_sealed;
    expect(secrets.decrypt(sealed, stackConfigSecretContext(credentials.projectId, 'email_config.password'))).toBe('smtp-pass-1');
    expect(JSON.stringify(row.config)).not.toContain('smtp-pass-1');

    // Another host with the password as read: the sealed password opens only beside the server it was saved for, so
    // nothing is sent (the settings API asks for the password again when the server changes).
    expect(await rejection(update(credentials, (s) => ({ ...s, emailProvider: { ...(s.emailProvider as typeof smtp & { password: string }), host: 'smtp2.example.com' } })))).toBeInstanceOf(Error);
    expect((await configRow(credentials)).config.email_config).toMatchObject({ host: 'smtp.example.com', password_sealed: sealed });

    await update(credentials, (s) => ({ ...s, emailProvider: { type: 'shared' } }));
    expect((await settings().read(credentials, TARGET)).emailProvider).toEqual({ type: 'shared' });
    expect((await configRow(credentials)).config.email_config).toEqual({ type: 'shared' });
  });

  it('writes nothing for a change that changes nothing, a change that throws, or a change of a section Stack does not keep', async () => {
    const { credentials } = await stack.provisionManagedProject({ displayName: 'No-op settings' });
    await update(credentials, (s) => ({ ...s, trustedOrigins: ['https://a.example.com'] }));
    const before = await configRow(credentials);
    expect(await update(credentials, (s) => s)).toMatchObject({ trustedOrigins: ['https://a.example.com'] });
    // Same origins in another order, edited in place: still nothing to write.
    await update(credentials, (s) => {
      s.trustedOrigins.reverse();
      return s;
    });
    const refused = await rejection(update(credentials, () => Promise.reject(new Error('refused by the caller'))));
    expect(refused.message).toBe('refused by the caller');
    const foreign = await rejection(update(credentials, (s) => ({ ...s, allowLocalhost: false, webhook: { ...s.webhook, enabled: true } })));
    expect(foreign).toBeInstanceOf(ProviderRequestRejected);
    expect(foreign.message).toMatch(/does not keep webhooks/);
    const vercel = await rejection(update(credentials, (s) => ({ ...s, socialProviders: [{ id: 'vercel', isShared: true }] })));
    expect(vercel).toBeInstanceOf(ProviderRequestRejected);
    expect(await configRow(credentials)).toEqual(before);
  });

  it("maps the provider's refusals and failures to provider errors", async () => {
    const { credentials } = await stack.provisionManagedProject({ displayName: 'Errors' });
    const bad = await rejection(update(credentials, (s) => ({ ...s, trustedOrigins: ['not a url'] })));
    expect(bad).toBeInstanceOf(ProviderRequestRejected);
    expect(bad).toMatchObject({ status: 400, providerCode: 'SCHEMA_ERROR' });
    const wrongKey = await rejection(settings().read({ ...credentials, superSecretAdminKey: `sak_${'0'.repeat(45)}` }, TARGET));
    expect(wrongKey).toBeInstanceOf(ProviderAuthFailed);
    expect((wrongKey as ProviderAuthFailed).providerCode).toBe('INVALID_SUPER_SECRET_ADMIN_KEY');
    // A project connected by hand has no admin key: its settings are managed in Stack.
    const manual = await rejection(settings().read({ baseUrl: credentials.baseUrl, projectId: credentials.projectId, secretServerKey: credentials.secretServerKey }, TARGET));
    expect(manual).toBeInstanceOf(ProviderAuthFailed);
    const noConfig = await fakeStack({ id: credentials.projectId, display_name: 'x' });
    try {
      expect(await rejection(settings().read({ ...credentials, baseUrl: noConfig.baseUrl }, TARGET))).toBeInstanceOf(ProviderUnavailable);
    } finally {
      await noConfig.close();
    }
  });

  it('updates of one project in this process run one after another: concurrent additions all land', async () => {
    const { credentials } = await stack.provisionManagedProject({ displayName: 'Concurrent settings' });
    const origins = Array.from({ length: 6 }, (_, i) => `https://app${i}.example.com`);
    await Promise.all(origins.map((o) => update(credentials, (s) => ({ ...s, trustedOrigins: [...s.trustedOrigins, o] }))));
    expect([...(await settings().read(credentials, TARGET)).trustedOrigins].sort()).toEqual(origins);
  });

  it('against a Stack Auth server that answers secrets in clear: seals them, and sends them back unchanged with the part that changed', async () => {
    const fake = await fakeStack({
      id: 'p1',
      display_name: 'Real Stack',
      config: {
        allow_localhost: true,
        domains: [{ domain: 'https://a.example.com', handler_path: '/handler' }],
        oauth_providers: [
          { provider_config_id: 'github', id: 'github', type: 'standard', client_id: 'gh', client_secret: 'plain-gh-secret' },
          { provider_config_id: 'discord', id: 'discord', type: 'standard', client_id: 'dc', client_secret: 'plain-dc-secret' },
        ],
        email_config: { type: 'standard', host: 'h', port: 25, username: 'u', password: 'plain-smtp', sender_name: 'n', sender_email: 's@example.com' },
      },
    });
    try {
      const credentials: ProviderCredentials = { baseUrl: fake.baseUrl, projectId: 'p1', superSecretAdminKey: 'sak_x' };
      const read = await settings().read(credentials, TARGET);
      expect(JSON.stringify(read)).not.toContain('plain-');
      expect(secrets.decrypt(read.socialProviders[0].clientSecret!, sealedFieldContext('social_providers.clientSecret'))).toBe('plain-gh-secret');
      expect(read.socialProviders.map((p) => p.id)).toEqual(['github']);
      const smtp = read.emailProvider as Extract<ProjectSettings['emailProvider'], { type: 'standard' }>;
      expect(secrets.decrypt(smtp.password, sealedFieldContext('email_provider.password', smtp))).toBe('plain-smtp');

      await update(credentials, (s) => ({ ...s, socialProviders: [...s.socialProviders, { id: 'google', isShared: true }] }));
      expect(fake.patches).toEqual([
        {
          oauth_providers: [
            { id: 'github', type: 'standard', client_id: 'gh', client_secret: 'plain-gh-secret' },
            { id: 'google', type: 'shared' },
            { id: 'discord', type: 'standard', client_id: 'dc', client_secret: 'plain-dc-secret' },
          ],
        },
      ]);
      await update(credentials, (s) => ({ ...s, allowLocalhost: false }));
      expect(fake.patches[1]).toEqual({ allow_localhost: false });
    } finally {
      await fake.close();
    }
  });
});
