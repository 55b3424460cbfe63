// Prometheus metrics of the sync engine on GET /metrics: counters, lag histogram, scrape-time gauges.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { SyncApplierService } from '../../src/sync/sync-applier.service.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import {
  BREAK_USERS_SYNC,
  enableAuth,
  newAuthProject,
  ownerSql,
  REPAIR_USERS_SYNC,
  uniqueEmail,
  usersSyncRow,
  type AuthProject,
  type EnabledAuth,
} from '../neon-auth/users-helpers.js';
import { inbox, integrationOf, providerApi, waitFor } from './receiver-helpers.js';

const COUNTERS = [
  'neon_auth_sync_events_received_total',
  'neon_auth_sync_events_applied_total',
  'neon_auth_sync_events_retried_total',
  'neon_auth_sync_events_dead_lettered_total',
] as const;

const METRICS_TOKEN = 'sync-metrics-spec-token-0123456789';

async function scrape(t: TestApp): Promise<string> {
  const res = await request(t.baseUrl).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(200);
  return res.text;
}

/** The value of an unlabelled sample (`name value`), or undefined when the scrape has none. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function snapshot(t: TestApp): Promise<Record<string, number>> {
  const text = await scrape(t);
  const out: Record<string, number> = {};
  for (const name of [...COUNTERS, 'neon_auth_sync_lag_seconds_count', 'neon_auth_sync_lag_seconds_sum', 'neon_auth_sync_queue_depth', 'neon_auth_sync_dead_letters']) {
    const v = sample(text, name);
    if (v === undefined) throw new Error(`no ${name} sample in\n${text}`);
    out[name] = v;
  }
  return out;
}

describe('sync engine metrics (GET /metrics)', () => {
  let t: TestApp;
  let project: AuthProject;
  let auth: EnabledAuth;
  let integration: { id: string; secret: string };

  beforeAll(async () => {
    t = await startTestApp({ SYNC_MAX_ATTEMPTS: '2', SYNC_RETRY_DELAY_SECONDS: '1', SYNC_POLL_SECONDS: '1', NEON_AUTH_RECONCILE_INTERVAL_SECONDS: '0', METRICS_TOKEN });
    project = await newAuthProject(t, 'sync metrics');
    auth = await enableAuth(t, project.projectId, project.defaultBranchId, 'stack');
    integration = await integrationOf(t, project.projectId, project.defaultBranchId);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('declares the counters, the lag histogram (millisecond buckets) and the gauges', async () => {
    const text = await scrape(t);
    for (const name of COUNTERS) expect(text).toContain(`# TYPE ${name} counter`);
    expect(text).toContain('# TYPE neon_auth_sync_lag_seconds histogram');
    expect(text).toContain('neon_auth_sync_lag_seconds_bucket{le="0.001"}');
    expect(text).toContain('neon_auth_sync_lag_seconds_bucket{le="5"}');
    expect(text).toContain('# TYPE neon_auth_sync_queue_depth gauge');
    expect(text).toContain('# TYPE neon_auth_sync_dead_letters gauge');
  });

  it('a user change in the provider moves received, applied and the lag histogram', async () => {
    const before = await snapshot(t);
    const provider = providerApi(t, auth);
    const created = await provider.createUser({ primary_email: uniqueEmail('metrics'), display_name: 'Metrics' }).expect(201);
    const id = created.body.id as string;
    await provider.updateUser(id, { display_name: 'Metrics renamed' }).expect(200);
    await waitFor(async () => (await usersSyncRow(project.uri, id))?.name === 'Metrics renamed', 10_000, 10);
    const after = await waitFor(async () => {
      const s = await snapshot(t);
      return s.neon_auth_sync_events_applied_total >= before.neon_auth_sync_events_applied_total + 2 ? s : undefined;
    }, 5_000, 20);
    expect(after.neon_auth_sync_events_received_total).toBeGreaterThanOrEqual(before.neon_auth_sync_events_received_total + 2);
    expect(after.neon_auth_sync_lag_seconds_count).toBeGreaterThanOrEqual(before.neon_auth_sync_lag_seconds_count + 2);
    expect(after.neon_auth_sync_lag_seconds_sum).toBeGreaterThan(before.neon_auth_sync_lag_seconds_sum);
    expect(after.neon_auth_sync_events_retried_total).toBe(before.neon_auth_sync_events_retried_total);
    expect(after.neon_auth_sync_events_dead_lettered_total).toBe(before.neon_auth_sync_events_dead_lettered_total);
  });

  it('failed attempts count as retried, parked events as dead-lettered; the dead_letters gauge reads the inbox', async () => {
    const before = await snapshot(t);
    expect(before.neon_auth_sync_dead_letters).toBe(0);
    await ownerSql(project.uri, BREAK_USERS_SYNC);
    try {
      await providerApi(t, auth).createUser({ primary_email: uniqueEmail('metrics-dead'), display_name: 'Parked' }).expect(201);
      await waitFor(async () => (await inbox(t, integration.id)).some((r) => r.status === 'dead'), 30_000, 50);
    } finally {
      await ownerSql(project.uri, REPAIR_USERS_SYNC);
    }
    const after = await snapshot(t);
    expect(after.neon_auth_sync_events_retried_total).toBeGreaterThanOrEqual(before.neon_auth_sync_events_retried_total + 2); // SYNC_MAX_ATTEMPTS
    expect(after.neon_auth_sync_events_dead_lettered_total).toBe(before.neon_auth_sync_events_dead_lettered_total + 1);
    expect(after.neon_auth_sync_dead_letters).toBe(1);
  }, 40_000);

  it('the queue_depth gauge counts pending rows at scrape time', async () => {
    const db = t.app.get(DataSource);
    // Pending rows nobody kicked (as after a crash): visible until the sweep applies (here: skips) them.
    const ghost = randomUUID();
    for (let i = 0; i < 3; i++) {
      await db.query(`INSERT INTO sync_inbox (integration_id, message_id, event_type, payload) VALUES ($1, $2, 'user.created', $3::jsonb)`, [
        ghost,
        `msg_metrics_${randomUUID()}`,
        JSON.stringify({ type: 'user.created', data: { id: randomUUID() } }),
      ]);
    }
    expect((await snapshot(t)).neon_auth_sync_queue_depth).toBe(3);
    await t.app.get(SyncApplierService).sweep();
    await waitFor(async () => (await snapshot(t)).neon_auth_sync_queue_depth === 0, 5_000, 20);
  });

  it('a failing gauge query leaves the gauge out of the scrape instead of failing it', async () => {
    const db = t.app.get(DataSource);
    await db.query('ALTER TABLE sync_inbox RENAME TO sync_inbox_away');
    try {
      const text = await scrape(t);
      expect(text).toContain('# TYPE neon_auth_sync_queue_depth gauge');
      expect(sample(text, 'neon_auth_sync_queue_depth')).toBeUndefined();
      expect(sample(text, 'neon_auth_sync_dead_letters')).toBeUndefined();
      expect(sample(text, 'neon_auth_sync_events_applied_total')).toBeGreaterThan(0);
    } finally {
      await db.query('ALTER TABLE sync_inbox_away RENAME TO sync_inbox');
    }
    expect(sample(await scrape(t), 'neon_auth_sync_queue_depth')).toBe(0);
  });
});
