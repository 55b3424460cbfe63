import { usersCrudServerReadSchema } from '@stackframe/stack-shared/dist/interface/crud/users';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { Webhook } from 'svix';
import { SecretsService } from '../../src/common/secrets.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import {
  ProviderAuthFailed,
  ProviderDuplicateEmail,
  ProviderNotSupported,
  ProviderRequestRejected,
  ProviderTransferNotAllowed,
  ProviderUnavailable,
  ProviderUserNotFound,
  iterateProviderUsers,
  type ProviderCredentials,
  type ProvisionedProject,
} from '../../src/providers/auth-provider.port.js';
import { MockProviderAdapter } from '../../src/providers/mock/mock-provider.adapter.js';
import { AuthProviderRegistry } from '../../src/providers/providers.module.js';
import { StackProviderAdapter } from '../../src/providers/stack/stack-provider.adapter.js';
import { integrationClientCredentials } from '../../src/stack-auth/stack-auth.config.js';
import { freePort } from '../helpers/server-process.js';
import { adminQuery } from '../helpers/test-db.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { startWebhookReceiver } from '../stack-auth/webhooks-receiver.js';
import { rejection } from '../helpers/fixtures.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STACK_KEY = (prefix: string) => new RegExp(`^${prefix}_[0-9a-hjkmnp-tv-z]{45}$`);


interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

/** A local HTTP server playing a Stack Auth server's answers the embedded provider never gives (429, newest codes). */
interface Scripted {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

async function scriptedServer(answer: (n: number, req: Recorded) => Scripted | 'hang') {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    const rec = { method: req.method ?? '', url: req.url ?? '', headers: req.headers };
    requests.push(rec);
    const a = answer(requests.length - 1, rec);
    if (a === 'hang') return;
    res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end(a.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const EMPTY_PAGE = JSON.stringify({ items: [], is_paginated: true, pagination: { next_cursor: null } });

describe('stack provider adapter against the embedded provider (real HTTP)', () => {
  let t: TestApp;
  let stack: StackProviderAdapter;
  beforeAll(async () => {
    // The scripted servers below listen on 127.0.0.1, which outgoing calls may only reach when the operator allows it.
    t = await startTestApp({ OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' });
    stack = t.app.get(StackProviderAdapter);
  });
  afterAll(async () => {
    await t?.close();
  });

  const api = () => request(`${t.baseUrl}/stack-auth/api/v1`);
  const server = (c: ProviderCredentials) => ({ 'x-stack-access-type': 'server', 'x-stack-project-id': c.projectId, 'x-stack-secret-server-key': c.secretServerKey! });
  const provision = (name = 'Provider test') => stack.provisionManagedProject({ displayName: name });

  describe('registry', () => {
    it('answers the stack and mock adapters, and a typed error for better_auth and unknown kinds', () => {
      const registry = t.app.get(AuthProviderRegistry);
      expect(registry.get('stack')).toBe(stack);
      expect(registry.get('mock')).toBeInstanceOf(MockProviderAdapter);
      expect(registry.supportedKinds().sort()).toEqual(['better_auth', 'mock', 'stack']);
      const better = (() => {
        try {
          registry.get('auth0');
        } catch (err) {
          return err;
        }
      })();
      expect(better).toBeInstanceOf(ProviderNotSupported);
      expect((better as Error).message).toBe('auth provider "auth0" is not supported');
      expect(() => registry.get('keycloak')).toThrow(ProviderNotSupported);
      expect(() => registry.get('__proto__')).toThrow(ProviderNotSupported);
    });
  });

  describe('provisioning, SDK keys and webhooks', () => {
    let project: ProvisionedProject;
    beforeAll(async () => {
      project = await provision('Acme auth');
    });

    it('provisions a managed project through the integration API, with an admin key and a server key', async () => {
      expect(project.providerProjectId).toMatch(UUID);
      expect(project.baseUrl).toBe(`${t.baseUrl}/stack-auth`);
      expect(project.credentials).toEqual({
        baseUrl: `${t.baseUrl}/stack-auth`,
        projectId: project.providerProjectId,
        superSecretAdminKey: expect.stringMatching(STACK_KEY('sak')),
        secretServerKey: expect.stringMatching(STACK_KEY('ssk')),
      });
      expect(project.jwksUrl).toBe(`${t.baseUrl}/stack-auth/api/v1/projects/${project.providerProjectId}/.well-known/jwks.json`);
      const jwks = await fetch(project.jwksUrl);
      expect(jwks.status).toBe(200);
      expect(((await jwks.json()) as { keys: unknown[] }).keys).toHaveLength(1);
      const row = await adminQuery('SELECT display_name, owned_by FROM stack_auth.projects WHERE id = $1', [project.providerProjectId], t.database);
      expect(row).toEqual([{ display_name: 'Acme auth', owned_by: 'neon' }]);
      // The control plane's server key works on its own.
      await api().get('/users').query({ limit: 1 }).set(server(project.credentials)).expect(200);
    });

    it('creates SDK keys that work in raw requests, new ones on every call', async () => {
      const keys = await stack.createSdkKeys(project.credentials);
      expect(keys.publishableClientKey).toMatch(STACK_KEY('pck'));
      expect(keys.secretServerKey).toMatch(STACK_KEY('ssk'));
      expect(keys.secretServerKey).not.toBe(project.credentials.secretServerKey);
      const current = await api()
        .get('/projects/current')
        .set({ 'x-stack-access-type': 'client', 'x-stack-project-id': project.providerProjectId, 'x-stack-publishable-client-key': keys.publishableClientKey })
        .expect(200);
      expect(current.body.id).toBe(project.providerProjectId);
      await api().get('/users').query({ limit: 1 }).set(server({ ...project.credentials, secretServerKey: keys.secretServerKey })).expect(200);
      const again = await stack.createSdkKeys(project.credentials);
      expect(again.secretServerKey).not.toBe(keys.secretServerKey);
      expect(again.publishableClientKey).not.toBe(keys.publishableClientKey);
      // Earlier keys stay valid.
      await api().get('/users').query({ limit: 1 }).set(server({ ...project.credentials, secretServerKey: keys.secretServerKey })).expect(200);
    });

    it('registers a webhook: its whsec_ secret verifies the signed deliveries of user events', async () => {
      const receiver = await startWebhookReceiver('/hooks/users-sync');
      try {
        const { signingSecret } = await stack.registerWebhook(project.credentials, receiver.url);
        expect(signingSecret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
        const user = await stack.createUser(project.credentials, { email: 'hooked@example.com', name: 'Hooked' });
        await receiver.waitFor((rs) => rs.some((r) => r.rawBody.includes(user.id)));
        const delivery = receiver.requests.find((r) => r.rawBody.includes(user.id))!;
        const event = new Webhook(signingSecret).verify(delivery.rawBody, {
          'svix-id': String(delivery.headers['svix-id']),
          'svix-timestamp': String(delivery.headers['svix-timestamp']),
          'svix-signature': String(delivery.headers['svix-signature']),
        }) as { type: string; data: { id: string } };
        expect(event.type).toBe('user.created');
        expect(event.data.id).toBe(user.id);
        expect(() => new Webhook(`whsec_${Buffer.alloc(24, 7).toString('base64')}`).verify(delivery.rawBody, delivery.headers as Record<string, string>)).toThrow();
      } finally {
        await receiver.close();
      }
    });

    it('refuses a webhook URL the provider rejects, as ProviderRequestRejected', async () => {
      const err = await rejection(stack.registerWebhook(project.credentials, 'ftp://example.com/hook'));
      expect(err).toBeInstanceOf(ProviderRequestRejected);
      expect((err as ProviderRequestRejected).providerCode).toBe('SCHEMA_ERROR');
    });

    it('a display name the provider refuses is ProviderRequestRejected, and creates nothing', async () => {
      const before = await adminQuery<{ n: number }>('SELECT count(*)::int AS n FROM stack_auth.projects', [], t.database);
      const err = await rejection(provision('x'.repeat(300)));
      expect(err).toBeInstanceOf(ProviderRequestRejected);
      expect((err as ProviderRequestRejected).status).toBe(400);
      expect(await adminQuery('SELECT count(*)::int AS n FROM stack_auth.projects', [], t.database)).toEqual(before);
    });
  });

  describe('users', () => {
    let c: ProviderCredentials;
    beforeAll(async () => {
      c = (await provision('Users')).credentials;
    });

    it('creates a user whose raw object is Stack Auth\'s complete server user, and reads it back', async () => {
      const user = await stack.createUser(c, { email: 'Ada@Example.com', name: 'Ada Lovelace' });
      expect(user.id).toMatch(UUID);
      expect(user).toMatchObject({ email: 'ada@example.com', name: 'Ada Lovelace', roles: [] });
      expect(Math.abs(user.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
      await usersCrudServerReadSchema.validate(user.raw, { strict: true });
      expect(user.raw).toMatchObject({ id: user.id, primary_email: 'ada@example.com', primary_email_auth_enabled: true, display_name: 'Ada Lovelace' });
      const got = await stack.getUser(c, user.id);
      expect(got).toEqual(user);
      const raw = await api().get(`/users/${user.id}`).set(server(c)).expect(200);
      expect(raw.body).toEqual(user.raw);
    });

    it('creates a user without a name (display_name null)', async () => {
      const user = await stack.createUser(c, { email: 'noname@example.com' });
      expect(user.name).toBeNull();
      expect(user.raw.display_name).toBeNull();
    });

    it('a duplicate email (any case) is ProviderDuplicateEmail', async () => {
      await stack.createUser(c, { email: 'dup@example.com' });
      const err = await rejection(stack.createUser(c, { email: 'DUP@example.com', name: 'Again' }));
      expect(err).toBeInstanceOf(ProviderDuplicateEmail);
      expect((err as ProviderDuplicateEmail).email).toBe('DUP@example.com');
      const page = await api().get('/users').query({ query: 'dup@example.com' }).set(server(c)).expect(200);
      expect(page.body.items).toHaveLength(1);
    });

    it('an invalid email is ProviderRequestRejected (SCHEMA_ERROR), not a duplicate', async () => {
      const err = await rejection(stack.createUser(c, { email: 'not an email' }));
      expect(err).toBeInstanceOf(ProviderRequestRejected);
      expect((err as ProviderRequestRejected).providerCode).toBe('SCHEMA_ERROR');
    });

    it('lists users in pages of the given size and follows the cursor to the end', async () => {
      const own = (await provision('Paging')).credentials;
      const created = [];
      for (let i = 0; i < 5; i++) created.push(await stack.createUser(own, { email: `p${i}@example.com`, name: `P ${i}` }));
      const first = await stack.listUsers(own, { limit: 2 });
      expect(first.users.map((u) => u.email)).toEqual(['p0@example.com', 'p1@example.com']);
      expect(first.nextCursor).not.toBeNull();
      const second = await stack.listUsers(own, { limit: 2, cursor: first.nextCursor! });
      expect(second.users.map((u) => u.email)).toEqual(['p2@example.com', 'p3@example.com']);
      const third = await stack.listUsers(own, { limit: 2, cursor: second.nextCursor! });
      expect(third.users.map((u) => u.email)).toEqual(['p4@example.com']);
      expect(third.nextCursor).toBeNull();
      for (const u of [...first.users, ...second.users, ...third.users]) await usersCrudServerReadSchema.validate(u.raw, { strict: true });
      const all = [];
      for await (const u of iterateProviderUsers(stack, own, 2)) all.push(u.id);
      expect(all).toEqual(created.map((u) => u.id));
      // Limits are clamped to 1..1000 (the provider refuses larger ones).
      expect((await stack.listUsers(own, { limit: 5000 })).users).toHaveLength(5);
      expect((await stack.listUsers(own, { limit: 0 })).users).toHaveLength(1);
    });

    it('a listing goes on after the user its cursor names is deleted (the cursor is a keyset position, not a lookup)', async () => {
      const own = (await provision('Paging with deletions')).credentials;
      const created = [];
      for (let i = 0; i < 5; i++) created.push(await stack.createUser(own, { email: `d${i}@example.com` }));
      const first = await stack.listUsers(own, { limit: 2 });
      await stack.deleteUser(own, created[1].id);
      const second = await stack.listUsers(own, { limit: 2, cursor: first.nextCursor! });
      expect(second.users.map((u) => u.email)).toEqual(['d2@example.com', 'd3@example.com']);
      await stack.deleteUser(own, created[3].id);
      const third = await stack.listUsers(own, { limit: 2, cursor: second.nextCursor! });
      expect(third.users.map((u) => u.email)).toEqual(['d4@example.com']);
      expect(third.nextCursor).toBeNull();
    });

    it('sets roles in server_metadata.roles and keeps the other server_metadata keys', async () => {
      const user = await stack.createUser(c, { email: 'roles@example.com' });
      await api().patch(`/users/${user.id}`).set(server(c)).send({ server_metadata: { plan: 'pro', roles: ['old'] } }).expect(200);
      const updated = await stack.setUserRoles(c, user.id, ['admin', ' editor ', 'admin']);
      expect(updated.roles).toEqual(['admin', 'editor']);
      expect(updated.raw.server_metadata).toEqual({ plan: 'pro', roles: ['admin', 'editor'] });
      const raw = await api().get(`/users/${user.id}`).set(server(c)).expect(200);
      expect(raw.body.server_metadata).toEqual({ plan: 'pro', roles: ['admin', 'editor'] });
      expect((await stack.setUserRoles(c, user.id, [])).raw.server_metadata).toEqual({ plan: 'pro', roles: [] });
      // A user without server_metadata gets an object with roles only.
      const fresh = await stack.createUser(c, { email: 'roles2@example.com' });
      expect((await stack.setUserRoles(c, fresh.id, ['member'])).raw.server_metadata).toEqual({ roles: ['member'] });
    });

    it('refuses to overwrite a server_metadata that is not an object', async () => {
      const user = await stack.createUser(c, { email: 'scalar-meta@example.com' });
      await api().patch(`/users/${user.id}`).set(server(c)).send({ server_metadata: 'keep me' }).expect(200);
      expect(await rejection(stack.setUserRoles(c, user.id, ['admin']))).toBeInstanceOf(ProviderRequestRejected);
      expect((await stack.getUser(c, user.id)).raw.server_metadata).toBe('keep me');
    });

    it('deletes a user; deleting or reading it again is ProviderUserNotFound', async () => {
      const user = await stack.createUser(c, { email: 'gone@example.com' });
      await stack.deleteUser(c, user.id);
      await api().get(`/users/${user.id}`).set(server(c)).expect(404);
      expect(await rejection(stack.getUser(c, user.id))).toBeInstanceOf(ProviderUserNotFound);
      const again = await rejection(stack.deleteUser(c, user.id));
      expect(again).toBeInstanceOf(ProviderUserNotFound);
      expect((again as ProviderUserNotFound).userId).toBe(user.id);
      expect(await rejection(stack.setUserRoles(c, user.id, ['x']))).toBeInstanceOf(ProviderUserNotFound);
      // The email is free again.
      await stack.createUser(c, { email: 'gone@example.com' });
    });

    it('unknown and malformed user ids are ProviderUserNotFound', async () => {
      expect(await rejection(stack.getUser(c, '00000000-0000-4000-8000-000000000000'))).toBeInstanceOf(ProviderUserNotFound);
      expect(await rejection(stack.getUser(c, 'not-a-uuid'))).toBeInstanceOf(ProviderUserNotFound);
      expect(await rejection(stack.deleteUser(c, '../projects/current'))).toBeInstanceOf(ProviderUserNotFound);
    });

    it('users of another project are not visible', async () => {
      const other = (await provision('Other')).credentials;
      const user = await stack.createUser(other, { email: 'other@example.com' });
      expect(await rejection(stack.getUser(c, user.id))).toBeInstanceOf(ProviderUserNotFound);
      expect(await rejection(stack.deleteUser(c, user.id))).toBeInstanceOf(ProviderUserNotFound);
      await stack.getUser(other, user.id);
    });
  });

  describe('credentials', () => {
    let project: ProvisionedProject;
    beforeAll(async () => {
      project = await provision('Credentials');
    });

    it('verifyConnection resolves for a working project id and secret server key', async () => {
      await expect(stack.verifyConnection(project.credentials)).resolves.toBeUndefined();
      const keys = await stack.createSdkKeys(project.credentials);
      await expect(stack.verifyConnection({ baseUrl: project.credentials.baseUrl, projectId: project.providerProjectId, secretServerKey: keys.secretServerKey })).resolves.toBeUndefined();
    });

    it.each([
      ['a wrong secret server key', (c: ProviderCredentials) => ({ ...c, secretServerKey: 'ssk_wrong' }), 'INVALID_SECRET_SERVER_KEY'],
      ['an unknown project id', (c: ProviderCredentials) => ({ ...c, projectId: '00000000-0000-4000-8000-000000000000' }), 'CURRENT_PROJECT_NOT_FOUND'],
      ['a project id that is not a UUID', (c: ProviderCredentials) => ({ ...c, projectId: 'proj' }), 'CURRENT_PROJECT_NOT_FOUND'],
      ['the admin key in place of the server key', (c: ProviderCredentials) => ({ ...c, secretServerKey: c.superSecretAdminKey }), 'INVALID_SECRET_SERVER_KEY'],
    ])('%s is ProviderAuthFailed', async (_name, change, code) => {
      const bad = change(project.credentials);
      for (const call of [() => stack.verifyConnection(bad), () => stack.createUser(bad, { email: 'x@example.com' }), () => stack.listUsers(bad, { limit: 10 })]) {
        const err = await rejection(call());
        expect(err).toBeInstanceOf(ProviderAuthFailed);
        expect((err as ProviderAuthFailed).providerCode).toBe(code);
      }
    });

    it('missing keys are ProviderAuthFailed without a request', async () => {
      const { secretServerKey: _s, superSecretAdminKey: _a, ...bare } = project.credentials;
      expect(await rejection(stack.verifyConnection(bare))).toBeInstanceOf(ProviderAuthFailed);
      expect(await rejection(stack.createSdkKeys(bare))).toBeInstanceOf(ProviderAuthFailed);
      expect(await rejection(stack.registerWebhook(bare, 'http://127.0.0.1:9/x'))).toBeInstanceOf(ProviderAuthFailed);
      expect(await rejection(stack.startOwnershipTransfer(bare))).toBeInstanceOf(ProviderAuthFailed);
    });

    it('a wrong admin key is ProviderAuthFailed for admin operations', async () => {
      const bad = { ...project.credentials, superSecretAdminKey: 'sak_wrong' };
      for (const call of [() => stack.createSdkKeys(bad), () => stack.registerWebhook(bad, 'http://127.0.0.1:9/x'), () => stack.startOwnershipTransfer(bad), () => stack.ownershipTransferStatus(bad)]) {
        const err = await rejection(call());
        expect(err).toBeInstanceOf(ProviderAuthFailed);
        expect((err as ProviderAuthFailed).providerCode).toBe('INVALID_SUPER_SECRET_ADMIN_KEY');
      }
    });

    it('with STACK_AUTH_URL, provisioning uses the configured integration client (a wrong secret is ProviderAuthFailed)', async () => {
      const secrets = t.app.get(SecretsService);
      const { clientSecret } = integrationClientCredentials(t.config, secrets);
      const stackAuthUrl = `${t.baseUrl}/stack-auth/`;
      const configured = new StackProviderAdapter({ ...t.config, stackAuthUrl: stackAuthUrl.replace(/\/$/, ''), stackAuthIntegrationClientSecret: clientSecret }, secrets);
      const provisioned = await configured.provisionManagedProject({ displayName: 'Via STACK_AUTH_URL' });
      expect(provisioned.credentials.baseUrl).toBe(`${t.baseUrl}/stack-auth`);
      await configured.verifyConnection(provisioned.credentials);
      const wrong = new StackProviderAdapter({ ...t.config, stackAuthUrl: `${t.baseUrl}/stack-auth`, stackAuthIntegrationClientSecret: 'not-the-integration-secret' }, secrets);
      expect(await rejection(wrong.provisionManagedProject({ displayName: 'Nope' }))).toBeInstanceOf(ProviderAuthFailed);
      // The integration client's credentials never go to a base URL a person supplied (manual setup).
      const foreign = await scriptedServer(() => ({ status: 200, body: JSON.stringify({ secret: 'whsec_x' }) }));
      try {
        await stack.registerWebhook({ ...provisioned.credentials, baseUrl: foreign.baseUrl }, 'http://127.0.0.1:9/x');
        expect(foreign.requests[0].headers.authorization).toBeUndefined();
        expect(foreign.requests[0].headers['x-stack-super-secret-admin-key']).toBe(provisioned.credentials.superSecretAdminKey);
      } finally {
        await foreign.close();
      }
    });

    it('STACK_AUTH_URL is validated and needs the integration client secret', () => {
      const base = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db' };
      expect(loadConfig(base).stackAuthUrl).toBeUndefined();
      expect(loadConfig({ ...base, STACK_AUTH_URL: 'https://api.stack-auth.com/', STACK_AUTH_INTEGRATION_CLIENT_SECRET: 'a-long-enough-secret' }).stackAuthUrl).toBe('https://api.stack-auth.com');
      const problems = (env: Record<string, string>) => {
        try {
          loadConfig({ ...base, ...env });
        } catch (err) {
          return (err as ConfigError).problems;
        }
        return [];
      };
      expect(problems({ STACK_AUTH_URL: 'https://api.stack-auth.com' })).toEqual([expect.stringContaining('STACK_AUTH_INTEGRATION_CLIENT_SECRET must be set when STACK_AUTH_URL is set')]);
      expect(problems({ STACK_AUTH_URL: 'ftp://x', STACK_AUTH_INTEGRATION_CLIENT_SECRET: 'a-long-enough-secret' })).toEqual([expect.stringContaining('STACK_AUTH_URL must use')]);
    });
  });

  describe('an unreachable or misbehaving provider', () => {
    it('a closed port is ProviderUnavailable at once, with the cause', async () => {
      const port = await freePort(); // nothing listens there
      const creds: ProviderCredentials = { baseUrl: `http://127.0.0.1:${port}/stack-auth`, projectId: '00000000-0000-4000-8000-000000000000', secretServerKey: 'ssk_x', superSecretAdminKey: 'sak_x' };
      const started = Date.now();
      const err = await rejection(stack.createUser(creds, { email: 'down@example.com' }));
      expect(Date.now() - started).toBeLessThan(2000);
      expect(err).toBeInstanceOf(ProviderUnavailable);
      expect(err.message).toMatch(/ECONNREFUSED/);
      expect((err as ProviderUnavailable).cause).toBeDefined();
      expect(await rejection(stack.verifyConnection(creds))).toBeInstanceOf(ProviderUnavailable);
      const down = new StackProviderAdapter({ ...t.config, stackAuthUrl: `http://127.0.0.1:${port}`, stackAuthIntegrationClientSecret: 'a-long-enough-secret' }, t.app.get(SecretsService));
      expect(await rejection(down.provisionManagedProject({ displayName: 'Down' }))).toBeInstanceOf(ProviderUnavailable);
    });

    it('a provider that never answers is ProviderUnavailable after the timeout', async () => {
      const hang = await scriptedServer(() => 'hang');
      try {
        const adapter = new StackProviderAdapter(t.config, t.app.get(SecretsService), { timeoutMs: 300 });
        const started = Date.now();
        const err = await rejection(adapter.listUsers({ baseUrl: hang.baseUrl, projectId: 'p', secretServerKey: 'ssk_x' }, { limit: 1 }));
        expect(err).toBeInstanceOf(ProviderUnavailable);
        expect(err.message).toMatch(/no answer within 300 ms/);
        expect(Date.now() - started).toBeLessThan(2000);
      } finally {
        await hang.close();
      }
    });

    it('sends x-stack-* server headers and limit, never override-error-status; retries a 429 after its Retry-After', async () => {
      const fake = await scriptedServer((n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: 'slow down' } : { status: 200, body: EMPTY_PAGE }));
      try {
        const started = Date.now();
        const page = await stack.listUsers({ baseUrl: fake.baseUrl, projectId: 'proj-1', secretServerKey: 'ssk_abc' }, { limit: 50, cursor: 'c1' });
        expect(page).toEqual({ users: [], nextCursor: null });
        expect(Date.now() - started).toBeGreaterThanOrEqual(950);
        expect(fake.requests).toHaveLength(2);
        for (const r of fake.requests) {
          expect(r.method).toBe('GET');
          const url = new URL(r.url, fake.baseUrl);
          expect(url.pathname).toBe('/api/v1/users');
          expect(Object.fromEntries(url.searchParams)).toEqual({ limit: '50', cursor: 'c1', order_by: 'signed_up_at', include_restricted: 'true' });
          expect(r.headers).toMatchObject({ 'x-stack-access-type': 'server', 'x-stack-project-id': 'proj-1', 'x-stack-secret-server-key': 'ssk_abc' });
          expect(Object.keys(r.headers).filter((h) => /override-error-status/.test(h))).toEqual([]);
        }
      } finally {
        await fake.close();
      }
    });

    it('gives up on 429 after a bounded number of attempts, or at once when Retry-After is too long', async () => {
      const always = await scriptedServer(() => ({ status: 429, body: '' }));
      try {
        const adapter = new StackProviderAdapter(t.config, t.app.get(SecretsService), { defaultRetryDelayMs: 50 });
        const err = await rejection(adapter.listUsers({ baseUrl: always.baseUrl, projectId: 'p', secretServerKey: 'ssk_x' }, { limit: 1 }));
        expect(err).toBeInstanceOf(ProviderUnavailable);
        expect((err as ProviderUnavailable).status).toBe(429);
        expect(always.requests).toHaveLength(3);
      } finally {
        await always.close();
      }
      const later = await scriptedServer(() => ({ status: 429, headers: { 'retry-after': '3600' }, body: '' }));
      try {
        const started = Date.now();
        const err = await rejection(stack.createUser({ baseUrl: later.baseUrl, projectId: 'p', secretServerKey: 'ssk_x' }, { email: 'a@example.com' }));
        expect(err).toBeInstanceOf(ProviderUnavailable);
        expect((err as ProviderUnavailable).retryAfterSeconds).toBe(3600);
        expect(later.requests).toHaveLength(1);
        expect(Date.now() - started).toBeLessThan(1000);
      } finally {
        await later.close();
      }
    });

    it('reads x-hexclave-known-error first, knows the newest duplicate code, honours actual-status, maps 5xx', async () => {
      const fake = await scriptedServer((n): Scripted => {
        if (n === 0) return { status: 409, headers: { 'x-hexclave-known-error': 'CONTACT_CHANNEL_ALREADY_USED_FOR_AUTH_BY_SOMEONE_ELSE', 'x-stack-known-error': 'SOMETHING_ELSE' }, body: '{"code":"CONTACT_CHANNEL_ALREADY_USED_FOR_AUTH_BY_SOMEONE_ELSE","error":"used"}' };
        if (n === 1) return { status: 200, headers: { 'x-stack-actual-status': '404', 'x-stack-known-error': 'USER_NOT_FOUND' }, body: '{"code":"USER_NOT_FOUND","error":"User not found."}' };
        if (n === 2) return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'Not Found' };
        if (n === 3) return { status: 502, body: 'bad gateway' };
        return { status: 200, body: 'not json' };
      });
      try {
        const c = { baseUrl: fake.baseUrl, projectId: 'p', secretServerKey: 'ssk_x' };
        expect(await rejection(stack.createUser(c, { email: 'a@example.com' }))).toBeInstanceOf(ProviderDuplicateEmail);
        expect(await rejection(stack.getUser(c, '00000000-0000-4000-8000-000000000001'))).toBeInstanceOf(ProviderUserNotFound);
        // A 404 without USER_NOT_FOUND (a wrong base URL) is not taken for an absent user.
        const wrongPath = await rejection(stack.deleteUser(c, '00000000-0000-4000-8000-000000000001'));
        expect(wrongPath).toBeInstanceOf(ProviderRequestRejected);
        expect((wrongPath as ProviderRequestRejected).status).toBe(404);
        const bad = await rejection(stack.listUsers(c, { limit: 1 }));
        expect(bad).toBeInstanceOf(ProviderUnavailable);
        expect((bad as ProviderUnavailable).status).toBe(502);
        expect(await rejection(stack.listUsers(c, { limit: 1 }))).toBeInstanceOf(ProviderUnavailable);
      } finally {
        await fake.close();
      }
    });

    it('does not follow redirects (they would carry the keys to another host)', async () => {
      const target = await scriptedServer(() => ({ status: 200, body: EMPTY_PAGE }));
      const redirecting = await scriptedServer(() => ({ status: 307, headers: { location: `${target.baseUrl}/api/v1/users?limit=1` } }));
      try {
        expect(await rejection(stack.listUsers({ baseUrl: redirecting.baseUrl, projectId: 'p', secretServerKey: 'ssk_secret' }, { limit: 1 }))).toBeInstanceOf(ProviderUnavailable);
        expect(target.requests).toHaveLength(0);
      } finally {
        await Promise.all([target.close(), redirecting.close()]);
      }
    });
  });

  describe('ownership transfer', () => {
    it('start answers the confirm URL; status reads none, initiated, then finished after a person confirms', async () => {
      const project = await provision('Transfer me');
      const c = project.credentials;
      expect(await stack.ownershipTransferStatus(c)).toBe('none');
      const { url } = await stack.startOwnershipTransfer(c);
      expect(url).toMatch(new RegExp(`^${t.baseUrl.replace(/\./g, '\\.')}/stack-auth/integrations/neon/projects/transfer/confirm\\?code=[0-9a-hjkmnp-tv-z]{45}$`));
      expect(await stack.ownershipTransferStatus(c)).toBe('initiated');

      // A person opens the link and confirms in a browser.
      const page = await fetch(url);
      expect(page.status).toBe(200);
      const html = await page.text();
      const nonce = /name="nonce" value="([^"]*)"/.exec(html)![1];
      const cookie = page.headers.get('set-cookie')!.split(';')[0];
      const code = new URL(url).searchParams.get('code')!;
      const done = await fetch(`${t.baseUrl}/stack-auth/integrations/neon/projects/transfer/confirm`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: new URLSearchParams({ code, nonce, email: 'owner@example.com' }).toString(),
      });
      expect(done.status).toBe(200);
      expect(await stack.ownershipTransferStatus(c)).toBe('finished');
      expect(await rejection(stack.startOwnershipTransfer(c))).toBeInstanceOf(ProviderTransferNotAllowed);
      // The control plane's keys keep working after the transfer.
      const user = await stack.createUser(c, { email: 'after-transfer@example.com' });
      expect((await stack.getUser(c, user.id)).email).toBe('after-transfer@example.com');
    });
  });

  describe('deleteManagedProject', () => {
    it('deletes the project through DELETE /internal/projects/current: its users, keys and SDK keys are gone; again is a success', async () => {
      const project = await provision('Delete me');
      const c = project.credentials;
      const user = await stack.createUser(c, { email: 'gone@example.com' });
      const keys = await stack.createSdkKeys(c);
      await stack.deleteManagedProject(c);
      expect(await adminQuery('SELECT id FROM stack_auth.projects WHERE id = $1', [project.providerProjectId], t.database)).toEqual([]);
      expect(await adminQuery('SELECT id FROM stack_auth.users WHERE project_id = $1', [project.providerProjectId], t.database)).toEqual([]);
      // The SDK keys, the control plane's server key and the admin key all name a project that is gone.
      const client = await api()
        .get('/projects/current')
        .set({ 'x-stack-access-type': 'client', 'x-stack-project-id': project.providerProjectId, 'x-stack-publishable-client-key': keys.publishableClientKey })
        .expect(400);
      expect(client.body.code).toBe('CURRENT_PROJECT_NOT_FOUND');
      await api().get('/users').set(server({ ...c, secretServerKey: keys.secretServerKey })).expect(400);
      const err = await rejection(stack.getUser(c, user.id));
      expect(err).toBeInstanceOf(ProviderAuthFailed);
      expect((err as ProviderAuthFailed).providerCode).toBe('CURRENT_PROJECT_NOT_FOUND');
      expect(await rejection(stack.createSdkKeys(c))).toBeInstanceOf(ProviderAuthFailed);
      // Idempotent: already gone is a success.
      await expect(stack.deleteManagedProject(c)).resolves.toBeUndefined();
    });

    it('needs the project\'s admin key: a wrong one is ProviderAuthFailed and deletes nothing; none makes no request', async () => {
      const project = await provision('Keep me');
      const wrong = await rejection(stack.deleteManagedProject({ ...project.credentials, superSecretAdminKey: `sak_${'0'.repeat(45)}` }));
      expect(wrong).toBeInstanceOf(ProviderAuthFailed);
      expect((wrong as ProviderAuthFailed).providerCode).toBe('INVALID_SUPER_SECRET_ADMIN_KEY');
      const { superSecretAdminKey: _sak, ...serverOnly } = project.credentials;
      expect(await rejection(stack.deleteManagedProject(serverOnly))).toBeInstanceOf(ProviderAuthFailed);
      expect(await adminQuery('SELECT id FROM stack_auth.projects WHERE id = $1', [project.providerProjectId], t.database)).toHaveLength(1);
      await stack.createUser(project.credentials, { email: 'still-here@example.com' });
    });

    it('sends admin x-stack-* headers only (no integration client); a 5xx is ProviderUnavailable', async () => {
      const scripted = await scriptedServer((n) => (n === 0 ? { status: 200, body: '{"success":true}' } : { status: 503, body: '{"error":"down"}' }));
      try {
        const c: ProviderCredentials = { baseUrl: scripted.baseUrl, projectId: '11111111-2222-4333-8444-555555555555', superSecretAdminKey: 'sak_x' };
        await stack.deleteManagedProject(c);
        expect(scripted.requests[0]).toMatchObject({ method: 'DELETE', url: '/api/v1/internal/projects/current' });
        expect(scripted.requests[0].headers).toMatchObject({
          'x-stack-access-type': 'admin',
          'x-stack-project-id': c.projectId,
          'x-stack-super-secret-admin-key': 'sak_x',
        });
        expect(scripted.requests[0].headers.authorization).toBeUndefined();
        expect(await rejection(stack.deleteManagedProject(c))).toBeInstanceOf(ProviderUnavailable);
      } finally {
        await scripted.close();
      }
    });
  });
});
