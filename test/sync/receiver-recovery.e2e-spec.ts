// Sync engine: dead letters after bounded tries, and the sweep that applies work left over (e.g. after a crash).
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { SyncInboxStore } from '../../src/sync/inbox-store.js';
import { SyncApplierService } from '../../src/sync/sync-applier.service.js';
import type { TestApp } from '../helpers/test-app.js';
import { MockProviderAdapter } from '../../src/providers/mock/mock-provider.adapter.js';
import { enableAuth, mockCredentials, newAuthProject, ownerSql, uniqueEmail, type AuthProject, type EnabledAuth } from '../neon-auth/users-helpers.js';
import { inbox, integrationOf, providerApi, syncProjectFixture, waitFor } from './receiver-helpers.js';

describe('sync engine: dead letters and recovery', () => {
  let t: TestApp;
  let project: AuthProject;
  let auth: EnabledAuth;
  let integration: { id: string; secret: string };
  let client: pg.Client;

  const row = async (id: string) => (await client.query('SELECT * FROM neon_auth.users_sync WHERE id = $1', [id])).rows[0];

  const fixture = syncProjectFixture('sync recovery', { SYNC_MAX_ATTEMPTS: '2', STACK_AUTH_WEBHOOK_RETRY_DELAY_SECONDS: '1', STACK_AUTH_WEBHOOK_POLL_SECONDS: '1' });
  beforeAll(() => ({ t, project, auth, integration, client } = fixture));

  it('uses its own pg-boss schema', async () => {
    expect(t.app.get(SyncApplierService).settings.maxAttempts).toBe(2);
    const [r] = await t.app.get(DataSource).query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'pgboss_sync'`);
    expect(r.n).toBe(1);
  });

  it('an event that keeps failing parks as a dead letter after the bounded tries; nothing is dropped', async () => {
    await ownerSql(project.uri, 'ALTER SCHEMA neon_auth RENAME TO neon_auth_away');
    let userId: string;
    try {
      const res = await providerApi(t, auth).createUser({ primary_email: uniqueEmail('dead'), display_name: 'Dead letter' }).expect(201);
      userId = res.body.id as string;
      const dead = await waitFor(async () => (await inbox(t, integration.id)).find((r) => r.status === 'dead'), 20_000, 20);
      expect(dead.attempts).toBe(2);
      expect(dead.last_error).toBeTruthy();
      expect(dead.event_type).toBe('user.created');
    } finally {
      await ownerSql(project.uri, 'ALTER SCHEMA neon_auth_away RENAME TO neon_auth');
    }
    // Parked, not retried further and not lost: the payload is still there for an admin to replay.
    await t.app.get(SyncApplierService).sweep();
    const [stored] = await t.app.get(DataSource).query(`SELECT status, payload FROM sync_inbox WHERE integration_id = $1 AND status = 'dead'`, [integration.id]);
    expect(stored.payload.data.id).toBe(userId!);
    expect(await row(userId!)).toBeUndefined();
  });

  it('pending rows left over (a crash between commit and apply) are applied by the sweep', async () => {
    const id = randomUUID();
    await t.app.get(DataSource).query(
      `INSERT INTO sync_inbox (integration_id, message_id, event_type, payload) VALUES ($1, $2, 'user.created', $3::jsonb)`,
      [integration.id, `msg_left_${id}`, JSON.stringify({ type: 'user.created', data: { id, display_name: 'Left over', primary_email: null } })],
    );
    expect(await row(id)).toBeUndefined();
    await t.app.get(SyncApplierService).sweep(); // what a start (and the minute cron) runs
    await waitFor(async () => (await row(id))?.name === 'Left over', 5_000, 10);
    // The inbox row is marked just after users_sync commits (two databases).
    await waitFor(async () => (await inbox(t, integration.id)).find((x) => x.message_id === `msg_left_${id}`)?.status === 'applied', 5_000, 10);
  });

  it('pruning removes applied and skipped events past the retention, and keeps deletions, dead letters and younger events', async () => {
    const db = t.app.get(DataSource);
    const put = async (label: string, type: string, status: string, daysAgo: number): Promise<string> => {
      const id = randomUUID();
      await db.query(
        `INSERT INTO sync_inbox (integration_id, message_id, event_type, user_id, payload, status, received_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, clock_timestamp() - make_interval(days => $7))`,
        [integration.id, `msg_prune_${label}_${id}`, type, id, JSON.stringify({ type, data: { id } }), status, daysAgo],
      );
      return `msg_prune_${label}_${id}`;
    };
    const gone = [await put('old-applied', 'user.updated', 'applied', 8), await put('old-skipped', 'team.created', 'skipped', 30)];
    const kept = [
      await put('old-deletion', 'user.deleted', 'applied', 8),
      await put('old-dead', 'user.updated', 'dead', 8),
      await put('young-applied', 'user.updated', 'applied', 6),
    ];
    const inboxStore = t.app.get(SyncInboxStore);
    expect(inboxStore.settings.retentionDays).toBe(7);
    expect(await inboxStore.prune()).toBeGreaterThanOrEqual(2);
    const left = new Set((await inbox(t, integration.id)).map((r) => r.message_id));
    for (const m of gone) expect(left.has(m)).toBe(false);
    for (const m of kept) expect(left.has(m)).toBe(true);
  });

  it('the mock provider (in-process deliveries through MockWebhookBus) is synced through the same inbox', async () => {
    const other = await newAuthProject(t, 'sync mock');
    const b = { id: other.defaultBranchId, uri: other.uri };
    const mockAuth = await enableAuth(t, other.projectId, b.id, 'mock');
    const mockIntegration = await integrationOf(t, other.projectId, b.id);
    const mock = t.app.get(MockProviderAdapter);
    const user = await mock.createUser(mockCredentials(mockAuth), { email: uniqueEmail('mock'), name: 'Mock user' });
    const c = new pg.Client({ connectionString: b.uri });
    await c.connect();
    try {
      const q = async () => (await c.query('SELECT * FROM neon_auth.users_sync WHERE id = $1', [user.id])).rows[0];
      await waitFor(async () => (await q())?.name === 'Mock user', 5_000, 5);
      await mock.deleteUser(mockCredentials(mockAuth), user.id);
      await waitFor(async () => (await q())?.deleted_at != null, 5_000, 5);
    } finally {
      await c.end();
    }
    const rows = await waitFor(async () => {
      const all = await inbox(t, mockIntegration.id);
      return all.length === 2 && all.every((r) => r.status === 'applied') ? all : undefined;
    }, 5_000, 10);
    expect(rows.map((r) => [r.event_type, r.status])).toEqual([
      ['user.created', 'applied'],
      ['user.deleted', 'applied'],
    ]);
  });
});
