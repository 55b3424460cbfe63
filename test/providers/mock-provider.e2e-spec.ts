import { usersCrudServerReadSchema } from '@stackframe/stack-shared/dist/interface/crud/users';
import { webhookEvents } from '@stackframe/stack-shared/dist/interface/webhooks';
import { Webhook } from 'svix';
import type { DataSource } from 'typeorm';
import { createLogger } from '../../src/common/logger.js';
import { SecretsService } from '../../src/common/secrets.js';
import { createControlPlaneDataSource } from '../../src/database/data-source.js';
import {
  ProviderAuthFailed,
  ProviderDuplicateEmail,
  ProviderRequestRejected,
  ProviderTransferNotAllowed,
  ProviderUserNotFound,
  iterateProviderUsers,
  parseCredentials,
  serializeCredentials,
  type ProviderCredentials,
  type ProvisionedProject,
} from '../../src/providers/auth-provider.port.js';
import { MOCK_PROVIDER_BASE_URL, MockProviderAdapter, MockWebhookBus, nameUuid, type MockWebhookDelivery } from '../../src/providers/mock/mock-provider.adapter.js';
import { AuthProviderRegistry } from '../../src/providers/providers.module.js';
import { adminQuery } from '../helpers/test-db.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { rejection } from '../helpers/fixtures.js';

const MOCK_KEY = (prefix: string) => new RegExp(`^${prefix}_[0-9a-hjkmnp-tv-z]{45}$`);

describe('mock provider adapter (in process, state in the control-plane database)', () => {
  let t: TestApp;
  let mock: MockProviderAdapter;
  const realFetch = globalThis.fetch;
  beforeAll(async () => {
    t = await startTestApp();
    mock = t.app.get(AuthProviderRegistry).get('mock') as MockProviderAdapter;
    // No network: any fetch during these tests fails them.
    globalThis.fetch = (() => {
      throw new Error('the mock provider must not use the network');
    }) as typeof fetch;
  });
  afterAll(async () => {
    globalThis.fetch = realFetch;
    await t?.close();
  });

  const q = <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => adminQuery<T>(sql, params, t.database);

  describe('projects and keys', () => {
    it('provisions a project with ids derived from the display name and keys shaped like Stack Auth\'s', async () => {
      const first = await mock.provisionManagedProject({ displayName: 'Deterministic' });
      const second = await mock.provisionManagedProject({ displayName: 'Deterministic' });
      expect(first.providerProjectId).toBe(nameUuid('project\0Deterministic\0' + '0'));
      expect(second.providerProjectId).toBe(nameUuid('project\0Deterministic\0' + '1'));
      expect(first.providerProjectId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(first).toEqual({
        providerProjectId: first.providerProjectId,
        credentials: {
          baseUrl: MOCK_PROVIDER_BASE_URL,
          projectId: first.providerProjectId,
          superSecretAdminKey: expect.stringMatching(MOCK_KEY('sak')),
          secretServerKey: expect.stringMatching(MOCK_KEY('ssk')),
        },
        jwksUrl: `https://mock-auth.invalid/api/v1/projects/${first.providerProjectId}/.well-known/jwks.json`,
        baseUrl: 'https://mock-auth.invalid',
      });
      expect(second.credentials.secretServerKey).not.toBe(first.credentials.secretServerKey);
      expect(await q('SELECT display_name, owned_by, transfer_status FROM mock_provider_projects WHERE id = $1', [first.providerProjectId])).toEqual([
        { display_name: 'Deterministic', owned_by: 'neon', transfer_status: 'none' },
      ]);
      await mock.verifyConnection(first.credentials);
      // Credentials survive the round trip callers store them through.
      expect(parseCredentials(serializeCredentials(first.credentials))).toEqual(first.credentials);
    });

    it('refuses an empty or too long display name', async () => {
      expect(await rejection(mock.provisionManagedProject({ displayName: ' ' }))).toBeInstanceOf(ProviderRequestRejected);
      expect(await rejection(mock.provisionManagedProject({ displayName: 'x'.repeat(257) }))).toBeInstanceOf(ProviderRequestRejected);
    });

    it('concurrent provisioning with one name gives distinct projects', async () => {
      const projects = await Promise.all([1, 2, 3, 4].map(() => mock.provisionManagedProject({ displayName: 'Race' })));
      const ids = projects.map((p) => p.providerProjectId).sort();
      expect(ids).toEqual([0, 1, 2, 3].map((n) => nameUuid(`project\0Race\0${n}`)).sort());
    });

    it('SDK keys: new ones per call, the secret server key opens the project, the publishable one does not', async () => {
      const p = await mock.provisionManagedProject({ displayName: 'Keys' });
      const a = await mock.createSdkKeys(p.credentials);
      const b = await mock.createSdkKeys(p.credentials);
      expect(a.publishableClientKey).toMatch(MOCK_KEY('pck'));
      expect(a.secretServerKey).toMatch(MOCK_KEY('ssk'));
      expect(new Set([a.secretServerKey, b.secretServerKey, p.credentials.secretServerKey]).size).toBe(3);
      const via = (secretServerKey: string): ProviderCredentials => ({ baseUrl: MOCK_PROVIDER_BASE_URL, projectId: p.providerProjectId, secretServerKey });
      await mock.verifyConnection(via(a.secretServerKey));
      await mock.verifyConnection(via(b.secretServerKey));
      await mock.createUser(via(a.secretServerKey), { email: 'sdk@example.com' });
      expect(await rejection(mock.verifyConnection(via(a.publishableClientKey)))).toBeInstanceOf(ProviderAuthFailed);
      expect(await q('SELECT key_generation FROM mock_provider_projects WHERE id = $1', [p.providerProjectId])).toEqual([{ key_generation: 2 }]);
    });

    it.each([
      ['a wrong secret server key', (c: ProviderCredentials) => ({ ...c, secretServerKey: 'ssk_wrong' })],
      ['no secret server key', (c: ProviderCredentials) => ({ ...c, secretServerKey: undefined })],
      ['an unknown project', (c: ProviderCredentials) => ({ ...c, projectId: '00000000-0000-4000-8000-000000000000' })],
      ['a malformed project id', (c: ProviderCredentials) => ({ ...c, projectId: 'nope' })],
      ['the admin key as server key', (c: ProviderCredentials) => ({ ...c, secretServerKey: c.superSecretAdminKey })],
    ])('%s is ProviderAuthFailed for user operations', async (_name, change) => {
      const p = await mock.provisionManagedProject({ displayName: 'Auth' });
      const bad = change(p.credentials);
      for (const call of [() => mock.verifyConnection(bad), () => mock.createUser(bad, { email: 'x@example.com' }), () => mock.listUsers(bad, { limit: 5 })]) {
        expect(await rejection(call())).toBeInstanceOf(ProviderAuthFailed);
      }
      expect(await q('SELECT count(*)::int AS n FROM mock_provider_users WHERE project_id = $1', [p.providerProjectId])).toEqual([{ n: 0 }]);
    });

    it('admin operations need the admin key', async () => {
      const p = await mock.provisionManagedProject({ displayName: 'Admin' });
      const bad = { ...p.credentials, superSecretAdminKey: p.credentials.secretServerKey };
      for (const call of [() => mock.createSdkKeys(bad), () => mock.registerWebhook(bad, 'https://example.com/hook'), () => mock.startOwnershipTransfer(bad), () => mock.ownershipTransferStatus(bad)]) {
        expect(await rejection(call())).toBeInstanceOf(ProviderAuthFailed);
      }
    });
  });

  describe('users', () => {
    let p: ProvisionedProject;
    let c: ProviderCredentials;
    beforeAll(async () => {
      p = await mock.provisionManagedProject({ displayName: 'Users' });
      c = p.credentials;
    });

    it('creates users shaped like Stack Auth\'s server user, with ids derived from project and email', async () => {
      const user = await mock.createUser(c, { email: ' Grace@Example.com ', name: 'Grace Hopper' });
      expect(user.id).toBe(nameUuid(`user\0${p.providerProjectId}\0grace@example.com\0` + '0'));
      expect(user).toMatchObject({ email: 'grace@example.com', name: 'Grace Hopper', roles: [] });
      await usersCrudServerReadSchema.validate(user.raw, { strict: true });
      expect(user.raw).toMatchObject({ id: user.id, primary_email: 'grace@example.com', display_name: 'Grace Hopper', signed_up_at_millis: user.createdAt.getTime() });
      expect(await mock.getUser(c, user.id)).toEqual(user);
      const noName = await mock.createUser(c, { email: 'anon@example.com' });
      expect(noName.name).toBeNull();
      expect(noName.raw.display_name).toBeNull();
    });

    it('its user objects fill Neon\'s users_sync generated columns', async () => {
      const user = await mock.createUser(c, { email: 'synced@example.com', name: 'Synced' });
      await q('CREATE SCHEMA IF NOT EXISTS neon_auth_mock_check');
      await q(`CREATE TABLE neon_auth_mock_check.users_sync (
        raw_json jsonb NOT NULL,
        id text GENERATED ALWAYS AS ((raw_json ->> 'id'::text)) STORED NOT NULL PRIMARY KEY,
        name text GENERATED ALWAYS AS ((raw_json ->> 'display_name'::text)) STORED,
        email text GENERATED ALWAYS AS ((raw_json ->> 'primary_email'::text)) STORED,
        created_at timestamp with time zone GENERATED ALWAYS AS (to_timestamp((trunc((((raw_json ->> 'signed_up_at_millis'::text))::bigint)::double precision) / (1000)::double precision))) STORED,
        updated_at timestamp with time zone, deleted_at timestamp with time zone)`);
      await q('INSERT INTO neon_auth_mock_check.users_sync (raw_json) VALUES ($1)', [JSON.stringify(user.raw)]);
      const [row] = await q<{ id: string; name: string; email: string; created_at: Date }>('SELECT id, name, email, created_at FROM neon_auth_mock_check.users_sync');
      expect(row).toEqual({ id: user.id, name: 'Synced', email: 'synced@example.com', created_at: user.createdAt });
    });

    it('a duplicate email (any case) is ProviderDuplicateEmail; concurrent creates give one user', async () => {
      await mock.createUser(c, { email: 'dup@example.com' });
      expect(await rejection(mock.createUser(c, { email: 'DUP@example.com' }))).toBeInstanceOf(ProviderDuplicateEmail);
      const results = await Promise.allSettled([1, 2, 3].map(() => mock.createUser(c, { email: 'race@example.com' })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results.filter((r) => r.status === 'rejected')) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ProviderDuplicateEmail);
    });

    it('an invalid email is ProviderRequestRejected', async () => {
      expect(await rejection(mock.createUser(c, { email: 'no-at-sign' }))).toBeInstanceOf(ProviderRequestRejected);
    });

    it('deletes softly: gone for reads and lists, a second delete is ProviderUserNotFound, the email is free again with a new id', async () => {
      const user = await mock.createUser(c, { email: 'bye@example.com' });
      await mock.deleteUser(c, user.id);
      expect(await rejection(mock.getUser(c, user.id))).toBeInstanceOf(ProviderUserNotFound);
      expect(await rejection(mock.deleteUser(c, user.id))).toBeInstanceOf(ProviderUserNotFound);
      expect(await rejection(mock.setUserRoles(c, user.id, ['x']))).toBeInstanceOf(ProviderUserNotFound);
      const all = [];
      for await (const u of iterateProviderUsers(mock, c, 3)) all.push(u.id);
      expect(all).not.toContain(user.id);
      const [row] = await q<{ deleted_at: Date | null }>('SELECT deleted_at FROM mock_provider_users WHERE id = $1', [user.id]);
      expect(row.deleted_at).toBeInstanceOf(Date);
      const again = await mock.createUser(c, { email: 'bye@example.com' });
      expect(again.id).toBe(nameUuid(`user\0${p.providerProjectId}\0bye@example.com\0` + '1'));
      expect(await rejection(mock.getUser(c, 'not-a-uuid'))).toBeInstanceOf(ProviderUserNotFound);
      expect(await rejection(mock.getUser(c, '00000000-0000-4000-8000-000000000000'))).toBeInstanceOf(ProviderUserNotFound);
    });

    it('lists in pages ordered by sign-up, following the cursor to the end', async () => {
      const own = (await mock.provisionManagedProject({ displayName: 'Paging' })).credentials;
      const created = [];
      for (let i = 0; i < 5; i++) created.push(await mock.createUser(own, { email: `p${i}@example.com` }));
      const first = await mock.listUsers(own, { limit: 2 });
      const second = await mock.listUsers(own, { limit: 2, cursor: first.nextCursor! });
      const third = await mock.listUsers(own, { limit: 2, cursor: second.nextCursor! });
      expect([first, second, third].map((pg) => pg.users.map((u) => u.email))).toEqual([
        ['p0@example.com', 'p1@example.com'],
        ['p2@example.com', 'p3@example.com'],
        ['p4@example.com'],
      ]);
      expect(third.nextCursor).toBeNull();
      const all = [];
      for await (const u of iterateProviderUsers(mock, own, 2)) all.push(u.id);
      expect(all).toEqual(created.map((u) => u.id));
      expect(await rejection(mock.listUsers(own, { limit: 2, cursor: 'garbage' }))).toBeInstanceOf(ProviderRequestRejected);
      // Another project's users are invisible.
      expect(await rejection(mock.getUser(c, created[0].id))).toBeInstanceOf(ProviderUserNotFound);
    });

    it('a listing goes on after the user its cursor names is deleted', async () => {
      const own = (await mock.provisionManagedProject({ displayName: 'Paging with deletions' })).credentials;
      const created = [];
      for (let i = 0; i < 5; i++) created.push(await mock.createUser(own, { email: `d${i}@example.com` }));
      const first = await mock.listUsers(own, { limit: 2 });
      await mock.deleteUser(own, created[1].id);
      const second = await mock.listUsers(own, { limit: 2, cursor: first.nextCursor! });
      expect(second.users.map((u) => u.email)).toEqual(['d2@example.com', 'd3@example.com']);
      await mock.deleteUser(own, created[3].id);
      const third = await mock.listUsers(own, { limit: 2, cursor: second.nextCursor! });
      expect(third.users.map((u) => u.email)).toEqual(['d4@example.com']);
      expect(third.nextCursor).toBeNull();
    });

    it('sets roles in server_metadata.roles, keeping other keys', async () => {
      const user = await mock.createUser(c, { email: 'roles@example.com' });
      await q(`UPDATE mock_provider_users SET server_metadata = '{"plan":"pro"}' WHERE id = $1`, [user.id]);
      const updated = await mock.setUserRoles(c, user.id, ['admin', 'admin', ' viewer ']);
      expect(updated.roles).toEqual(['admin', 'viewer']);
      expect(updated.raw.server_metadata).toEqual({ plan: 'pro', roles: ['admin', 'viewer'] });
      expect((await mock.getUser(c, user.id)).raw.server_metadata).toEqual({ plan: 'pro', roles: ['admin', 'viewer'] });
      // Concurrent role changes are serialized: the last one wins whole.
      await Promise.all([mock.setUserRoles(c, user.id, ['a']), mock.setUserRoles(c, user.id, ['b'])]);
      const final = (await mock.getUser(c, user.id)).raw.server_metadata as { plan: string; roles: string[] };
      expect(final.plan).toBe('pro');
      expect([['a'], ['b']]).toContainEqual(final.roles);
      expect(await q('SELECT version FROM mock_provider_users WHERE id = $1', [user.id])).toEqual([{ version: 4 }]);
    });
  });

  describe('webhooks (in-process listeners)', () => {
    it('registers a URL once with a deterministic secret and hands signed deliveries of every user event to listeners', async () => {
      const p = await mock.provisionManagedProject({ displayName: 'Hooks' });
      const received: MockWebhookDelivery[] = [];
      const unsubscribe = t.app.get(MockWebhookBus).subscribe((d) => {
        if (d.providerProjectId === p.providerProjectId) received.push(d);
      });
      try {
        // Without a registered URL nothing is delivered.
        const early = await mock.createUser(p.credentials, { email: 'early@example.com' });
        expect(received).toHaveLength(0);
        const { signingSecret } = await mock.registerWebhook(p.credentials, 'http://127.0.0.1:3000/webhooks/sync');
        expect(signingSecret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
        expect((await mock.registerWebhook(p.credentials, 'http://127.0.0.1:3000/webhooks/sync')).signingSecret).toBe(signingSecret);
        expect(await q('SELECT webhook_urls FROM mock_provider_projects WHERE id = $1', [p.providerProjectId])).toEqual([{ webhook_urls: ['http://127.0.0.1:3000/webhooks/sync'] }]);

        const user = await mock.createUser(p.credentials, { email: 'hook@example.com', name: 'Hook' });
        await mock.setUserRoles(p.credentials, user.id, ['admin']);
        await mock.deleteUser(p.credentials, user.id);
        await mock.deleteUser(p.credentials, early.id);
        expect(received.map((d) => JSON.parse(d.body).type)).toEqual(['user.created', 'user.updated', 'user.deleted', 'user.deleted']);
        const events = received.map((d) => {
          expect(d.url).toBe('http://127.0.0.1:3000/webhooks/sync');
          return new Webhook(signingSecret).verify(d.body, d.headers) as { type: string; data: Record<string, unknown> };
        });
        for (const e of events) await webhookEvents.find((w) => w.type === e.type)!.schema.validate(e.data, { strict: true });
        expect(events[0].data).toEqual(user.raw);
        expect(events[1].data).toMatchObject({ id: user.id, server_metadata: { roles: ['admin'] } });
        expect(events[2].data).toEqual({ id: user.id, teams: [] });
        expect(new Set(received.map((d) => d.headers['svix-id'])).size).toBe(4);
        // A tampered body does not verify.
        expect(() => new Webhook(signingSecret).verify(received[0].body.replace('hook@', 'evil@'), received[0].headers)).toThrow();
      } finally {
        unsubscribe();
      }
    });

    it('a failing listener does not fail the change or other listeners', async () => {
      const p = await mock.provisionManagedProject({ displayName: 'Failing listener' });
      await mock.registerWebhook(p.credentials, 'https://example.com/hook');
      const bus = t.app.get(MockWebhookBus);
      const seen: string[] = [];
      const offA = bus.subscribe(() => {
        throw new Error('listener down');
      });
      const offB = bus.subscribe((d) => {
        if (d.providerProjectId === p.providerProjectId) seen.push(JSON.parse(d.body).type);
      });
      try {
        const user = await mock.createUser(p.credentials, { email: 'still@example.com' });
        expect((await mock.getUser(p.credentials, user.id)).id).toBe(user.id);
        expect(seen).toEqual(['user.created']);
      } finally {
        offA();
        offB();
      }
    });

    it('refuses a webhook URL that is not absolute http(s)', async () => {
      const p = await mock.provisionManagedProject({ displayName: 'Bad hook' });
      expect(await rejection(mock.registerWebhook(p.credentials, 'ftp://example.com/x'))).toBeInstanceOf(ProviderRequestRejected);
      expect(await rejection(mock.registerWebhook(p.credentials, '/relative'))).toBeInstanceOf(ProviderRequestRejected);
    });
  });

  describe('ownership transfer', () => {
    it('none -> initiated (a link on the unreachable mock host) -> finished once confirmed; only once', async () => {
      const p = await mock.provisionManagedProject({ displayName: 'Transfer' });
      expect(await mock.ownershipTransferStatus(p.credentials)).toBe('none');
      expect(await rejection(mock.confirmOwnershipTransfer(p.providerProjectId))).toBeInstanceOf(ProviderTransferNotAllowed);
      const { url } = await mock.startOwnershipTransfer(p.credentials);
      expect(url).toMatch(/^https:\/\/mock-auth\.invalid\/integrations\/neon\/projects\/transfer\/confirm\?code=[0-9a-hjkmnp-tv-z]{45}$/);
      expect((await mock.startOwnershipTransfer(p.credentials)).url).not.toBe(url);
      expect(await mock.ownershipTransferStatus(p.credentials)).toBe('initiated');
      await mock.confirmOwnershipTransfer(p.providerProjectId);
      expect(await mock.ownershipTransferStatus(p.credentials)).toBe('finished');
      expect(await q('SELECT owned_by FROM mock_provider_projects WHERE id = $1', [p.providerProjectId])).toEqual([{ owned_by: 'user' }]);
      expect(await rejection(mock.startOwnershipTransfer(p.credentials))).toBeInstanceOf(ProviderTransferNotAllowed);
      // Users keep working after the transfer.
      await mock.createUser(p.credentials, { email: 'after@example.com' });
    });
  });

  describe('persistence', () => {
    it('another process (own pool, own adapter) sees the same state and derives the same keys and secrets', async () => {
      const p = await mock.provisionManagedProject({ displayName: 'Persisted' });
      const user = await mock.createUser(p.credentials, { email: 'persist@example.com', name: 'Kept' });
      await mock.setUserRoles(p.credentials, user.id, ['admin']);
      const sdk = await mock.createSdkKeys(p.credentials);
      const { signingSecret } = await mock.registerWebhook(p.credentials, 'https://example.com/hook');

      let ds: DataSource | undefined;
      try {
        ds = createControlPlaneDataSource(t.config.databaseUrl!, 2);
        await ds.initialize();
        const logger = createLogger('silent');
        const secrets = new SecretsService(t.config, logger);
        const replica = new MockProviderAdapter(ds, secrets, new MockWebhookBus(logger));
        await replica.verifyConnection(p.credentials);
        await replica.verifyConnection({ ...p.credentials, secretServerKey: sdk.secretServerKey });
        expect(await replica.getUser(p.credentials, user.id)).toEqual({ ...user, roles: ['admin'], raw: { ...user.raw, server_metadata: { roles: ['admin'] } } });
        expect((await replica.registerWebhook(p.credentials, 'https://example.com/hook')).signingSecret).toBe(signingSecret);
        expect(await rejection(replica.createUser(p.credentials, { email: 'persist@example.com' }))).toBeInstanceOf(ProviderDuplicateEmail);
        const next = await replica.createSdkKeys(p.credentials);
        expect(next.secretServerKey).not.toBe(sdk.secretServerKey);
        await mock.verifyConnection({ ...p.credentials, secretServerKey: next.secretServerKey });
      } finally {
        await ds?.destroy();
      }
    });
  });

  describe('deleteManagedProject', () => {
    it('deletes the users and tombstones the project: every key opens nothing; again is a success; the id is never issued again', async () => {
      const project = await mock.provisionManagedProject({ displayName: 'Mock delete' });
      const c = project.credentials;
      const user = await mock.createUser(c, { email: 'gone@example.com' });
      const sdk = await mock.createSdkKeys(c);
      await mock.registerWebhook(c, 'https://example.com/hook');
      const deliveries: MockWebhookDelivery[] = [];
      const unsubscribe = t.app.get(MockWebhookBus).subscribe((d) => void deliveries.push(d));
      try {
        await mock.deleteManagedProject(c);
      } finally {
        unsubscribe();
      }
      expect(deliveries).toEqual([]); // no user.deleted events for a project deletion
      expect(await q('SELECT id FROM mock_provider_users WHERE project_id = $1', [project.providerProjectId])).toEqual([]);
      const [row] = await q<{ deleted_at: Date | null; webhook_urls: string[] }>('SELECT deleted_at, webhook_urls FROM mock_provider_projects WHERE id = $1', [project.providerProjectId]);
      expect(row.deleted_at).toBeInstanceOf(Date);
      expect(row.webhook_urls).toEqual([]);
      for (const creds of [c, { ...c, secretServerKey: sdk.secretServerKey }]) {
        expect(await rejection(mock.listUsers(creds, { limit: 10 }))).toBeInstanceOf(ProviderAuthFailed);
        expect(await rejection(mock.getUser(creds, user.id))).toBeInstanceOf(ProviderAuthFailed);
      }
      expect(await rejection(mock.createSdkKeys(c))).toBeInstanceOf(ProviderAuthFailed);
      expect(await rejection(mock.verifyConnection(c))).toBeInstanceOf(ProviderAuthFailed);
      await expect(mock.deleteManagedProject(c)).resolves.toBeUndefined();
      await expect(mock.deleteManagedProject({ ...c, projectId: '00000000-0000-4000-8000-000000000000' })).resolves.toBeUndefined();
      // Provisioning the same name again gives a new project (the deleted one's keys stay dead).
      const next = await mock.provisionManagedProject({ displayName: 'Mock delete' });
      expect(next.providerProjectId).not.toBe(project.providerProjectId);
      expect(await rejection(mock.listUsers(c, { limit: 1 }))).toBeInstanceOf(ProviderAuthFailed);
      expect(next.credentials.superSecretAdminKey).not.toBe(c.superSecretAdminKey);
    });

    it('a wrong or missing admin key is ProviderAuthFailed and deletes nothing', async () => {
      const project = await mock.provisionManagedProject({ displayName: 'Mock keep' });
      const c = project.credentials;
      await mock.createUser(c, { email: 'kept@example.com' });
      expect(await rejection(mock.deleteManagedProject({ ...c, superSecretAdminKey: c.secretServerKey }))).toBeInstanceOf(ProviderAuthFailed);
      const { superSecretAdminKey: _sak, ...serverOnly } = c;
      expect(await rejection(mock.deleteManagedProject(serverOnly))).toBeInstanceOf(ProviderAuthFailed);
      expect((await mock.listUsers(c, { limit: 10 })).users.map((u) => u.email)).toEqual(['kept@example.com']);
    });
  });
});
