// Sync engine, end to end: the embedded Stack provider's webhooks -> receiver -> inbox -> users_sync.
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { api } from '../helpers/fixtures.js';
import type { TestApp } from '../helpers/test-app.js';
import { enableAuth, newAuthProject, ownerSql, uniqueEmail, type AuthProject, type EnabledAuth } from '../neon-auth/users-helpers.js';
import { deliver, inbox, type InboxRow, integrationOf, percentile, providerApi, signed, syncProjectFixture, waitFor } from './receiver-helpers.js';

interface Row {
  id: string;
  name: string | null;
  email: string | null;
  raw_json: Record<string, unknown>;
  updated_at: Date | null;
  deleted_at: Date | null;
}

describe('sync engine: webhook receiver and applier (embedded Stack provider)', () => {
  let t: TestApp;
  let project: AuthProject;
  let auth: EnabledAuth;
  let integration: { id: string; secret: string };
  let client: pg.Client;

  const row = async (id: string): Promise<Row | undefined> => (await client.query<Row>('SELECT * FROM neon_auth.users_sync WHERE id = $1', [id])).rows[0];

  const fixture = syncProjectFixture('sync receiver', { STACK_AUTH_WEBHOOK_RETRY_DELAY_SECONDS: '1', STACK_AUTH_WEBHOOK_POLL_SECONDS: '1' });
  beforeAll(() => ({ t, project, auth, integration, client } = fixture));

  it('provider create / update / delete reach users_sync within milliseconds (lag measured)', async () => {
    const provider = providerApi(t, auth);
    const lags: { created: number[]; updated: number[]; deleted: number[] } = { created: [], updated: [], deleted: [] };
    for (let i = 0; i < 10; i++) {
      const email = uniqueEmail('lag');
      let start = performance.now();
      const created = await provider.createUser({ primary_email: email, display_name: `User ${i}` }).expect(201);
      const id = created.body.id as string;
      await waitFor(async () => (await row(id))?.email === email);
      lags.created.push(performance.now() - start);

      start = performance.now();
      await provider.updateUser(id, { display_name: `Renamed ${i}` }).expect(200);
      await waitFor(async () => (await row(id))?.name === `Renamed ${i}`);
      lags.updated.push(performance.now() - start);

      start = performance.now();
      await provider.deleteUser(id).expect(200);
      await waitFor(async () => (await row(id))?.deleted_at != null);
      lags.deleted.push(performance.now() - start);

      const final = (await row(id))!;
      expect(final.name).toBe(`Renamed ${i}`); // the deletion keeps the last state
      expect(final.raw_json.id).toBe(id);
    }
    const report = Object.fromEntries(
      Object.entries(lags).map(([k, v]) => [k, { p50: +percentile(v, 50).toFixed(1), max: +Math.max(...v).toFixed(1) }]),
    );
    // Provider API call sent -> row visible through the project's connection URI (includes the provider's own commit).
    console.log(`sync lag ms (provider call -> users_sync): ${JSON.stringify(report)}`);
    for (const v of Object.values(lags)) expect(percentile(v, 50)).toBeLessThan(1000);

    // users_sync (branch database) commits just before the inbox rows are marked (control-plane database).
    const rows = await waitFor(async () => {
      const all = await inbox(t, integration.id);
      return all.length === 30 && all.every((r) => r.status === 'applied') ? all : undefined;
    });
    expect(rows.length).toBe(30);
    // Inside the engine: durable in the inbox -> committed to users_sync (both on the control-plane clock).
    const engine = rows.map((r) => new Date(r.applied_at!).getTime() - new Date(r.received_at).getTime());
    console.log(`sync lag ms (inbox durable -> applied): p50 ${percentile(engine, 50)}, max ${Math.max(...engine)}`);
  });

  it('users_sync.updated_at is the event arrival time; arrival order is preserved per user', async () => {
    const provider = providerApi(t, auth);
    const created = await provider.createUser({ primary_email: uniqueEmail('order') }).expect(201);
    const id = created.body.id as string;
    for (let i = 0; i < 5; i++) await provider.updateUser(id, { display_name: `v${i}` }).expect(200);
    await waitFor(async () => (await row(id))?.name === 'v4');
    // The branch write commits before the inbox rows are marked applied (same flow, control-plane commit last).
    const rows = await waitFor(async () => {
      const mine = (await t.app.get(DataSource).query(`SELECT * FROM sync_inbox WHERE payload->'data'->>'id' = $1 ORDER BY id`, [id])) as InboxRow[];
      return mine.length === 6 && mine.every((r) => r.status === 'applied') && mine;
    });
    const last = rows[rows.length - 1];
    expect(last.event_type).toBe('user.updated');
    // The last arrival's time, or later: a user with several events is then confirmed with the provider,
    // which writes the same state stamped with the time of its read.
    const stored = (await row(id))!;
    expect(stored.updated_at!.getTime()).toBeGreaterThanOrEqual(new Date(last.received_at).getTime());
    expect(stored.name).toBe('v4');
  });

  it("user.created is stamped with the provider's sign-up time (as the users API writes it)", async () => {
    const created = await providerApi(t, auth).createUser({ primary_email: uniqueEmail('signup') }).expect(201);
    const id = created.body.id as string;
    const r = await waitFor(async () => row(id));
    expect(r.updated_at!.getTime()).toBe(created.body.signed_up_at_millis);
  });

  describe('rejected deliveries store nothing', () => {
    const user = () => ({ type: 'user.created', data: { id: randomUUID(), display_name: 'Forged', primary_email: null } });
    let before: number;
    beforeEach(async () => {
      before = (await inbox(t, integration.id)).length;
    });
    afterEach(async () => {
      expect((await inbox(t, integration.id)).length).toBe(before);
    });

    it('a compressed body -> 400 (the signed JSON is taken as sent, never inflated)', async () => {
      const d = signed(integration.secret, user());
      const res = await request(t.baseUrl).post(`/webhooks/neon-auth/${integration.id}`).set(d.headers).set('content-encoding', 'gzip').send(gzipSync(d.body)).expect(400);
      expect(res.body.code).toBe('VALIDATION_ERROR');
    });

    it('the caller\'s X-Request-ID is echoed on refusals (in Neon\'s error body) and on acceptance', async () => {
      const d = signed('whsec_' + Buffer.from('not the secret, not at all!!').toString('base64'), user());
      const res = await deliver(t, integration.id, d).set('x-request-id', 'req-receiver-1').expect(401);
      expect(res.headers['x-request-id']).toBe('req-receiver-1');
      expect(res.body.request_id).toBe('req-receiver-1');
      const ok = signed(integration.secret, { type: 'team.created', data: { id: 'team-x' } });
      const accepted = await deliver(t, integration.id, ok).set('x-request-id', 'req-receiver-2').expect(204);
      expect(accepted.headers['x-neon-ret-request-id']).toBe('req-receiver-2');
      before += 1; // that one was stored (and is skipped: not a user event)
    });

    it('other methods and longer paths are not the receiver: the API answers 404', async () => {
      const res = await request(t.baseUrl).get(`/webhooks/neon-auth/${integration.id}`).expect(404);
      expect(res.body.code).toBeDefined();
      await request(t.baseUrl).post(`/webhooks/neon-auth/${integration.id}/extra`).set(signed(integration.secret, user()).headers).send('{}').expect(404);
    });

    it('forged signature (another secret) -> 401', async () => {
      const d = signed('whsec_' + Buffer.from('not the secret, not at all!!').toString('base64'), user());
      const res = await deliver(t, integration.id, d).expect(401);
      expect(res.body.code).toBe('UNAUTHORIZED');
    });

    it('tampered body -> 401', async () => {
      const event = user();
      const d = signed(integration.secret, event);
      d.body = JSON.stringify({ ...event, data: { ...event.data, display_name: 'Tampered' } });
      await deliver(t, integration.id, d).expect(401);
    });

    it('timestamp older (or newer) than 5 minutes -> 401', async () => {
      await deliver(t, integration.id, signed(integration.secret, user(), { at: new Date(Date.now() - 6 * 60_000) })).expect(401);
      await deliver(t, integration.id, signed(integration.secret, user(), { at: new Date(Date.now() + 6 * 60_000) })).expect(401);
    });

    it('missing signature headers -> 401', async () => {
      const d = signed(integration.secret, user());
      delete d.headers['svix-signature'];
      await deliver(t, integration.id, d).expect(401);
    });

    it('unknown integration -> 404 (well-formed or not)', async () => {
      await deliver(t, randomUUID(), signed(integration.secret, user())).expect(404);
      await deliver(t, 'not-a-uuid', signed(integration.secret, user())).expect(404);
    });

    it('signed but malformed bodies -> 400', async () => {
      await deliver(t, integration.id, signed(integration.secret, null, { body: 'not json{' })).expect(400);
      await deliver(t, integration.id, signed(integration.secret, [1, 2])).expect(400);
      await deliver(t, integration.id, signed(integration.secret, { type: 'user.created', data: {} })).expect(400);
      await deliver(t, integration.id, signed(integration.secret, { type: 'user.deleted', data: { id: '' } })).expect(400);
      await deliver(t, integration.id, signed(integration.secret, { data: { id: 'x' } })).expect(400);
    });

    it('a signature of one integration does not open another', async () => {
      const other = await newAuthProject(t, 'sync other');
      await enableAuth(t, other.projectId, other.defaultBranchId, 'stack');
      const otherIntegration = await integrationOf(t, other.projectId, other.defaultBranchId);
      await deliver(t, otherIntegration.id, signed(integration.secret, user())).expect(401);
      expect(await inbox(t, otherIntegration.id)).toEqual([]);
    });
  });

  it('a duplicate delivery (same svix id) is stored once and applied once in effect', async () => {
    const id = randomUUID();
    const messageId = `msg_dup_${randomUUID()}`;
    const event = { type: 'user.created', data: { id, display_name: 'Dup', primary_email: 'dup@example.com' } };
    const results = await Promise.all([0, 1, 2].map(() => deliver(t, integration.id, signed(integration.secret, event, { messageId }))));
    for (const r of results) expect(r.status).toBe(204);
    await waitFor(async () => (await row(id))?.name === 'Dup');
    const first = (await row(id))!;
    const stored = (await inbox(t, integration.id)).filter((r) => r.message_id === messageId);
    expect(stored).toHaveLength(1);
    await waitFor(async () => (await inbox(t, integration.id)).find((r) => r.message_id === messageId)?.status === 'applied');

    // A late redelivery after it was applied (the provider retries when our 2xx got lost).
    await deliver(t, integration.id, signed(integration.secret, event, { messageId })).expect(204);
    await new Promise((r) => setTimeout(r, 100));
    const again = (await inbox(t, integration.id)).filter((r) => r.message_id === messageId);
    expect(again).toHaveLength(1);
    expect(again[0].attempts).toBe(1);
    expect((await row(id))!.updated_at!.getTime()).toBe(first.updated_at!.getTime());
  });

  it('a delete followed by a late older update stays deleted', async () => {
    const id = randomUUID();
    const created = { type: 'user.created', data: { id, display_name: 'Before', primary_email: null } };
    await deliver(t, integration.id, signed(integration.secret, created)).expect(204);
    await waitFor(async () => (await row(id))?.name === 'Before');
    await deliver(t, integration.id, signed(integration.secret, { type: 'user.deleted', data: { id, teams: [] } })).expect(204);
    await waitFor(async () => (await row(id))?.deleted_at != null);
    // A redelivery of the (older) create under its original svix id is a duplicate: no effect.
    expect((await row(id))!.name).toBe('Before');
    expect((await row(id))!.deleted_at).not.toBeNull();
  });

  it('unknown event types are stored and marked skipped (so the provider stops retrying them)', async () => {
    const d = signed(integration.secret, { type: 'team.created', data: { id: 'team-1' } });
    await deliver(t, integration.id, d).expect(204);
    await waitFor(async () => (await inbox(t, integration.id)).find((r) => r.message_id === d.headers['svix-id'])?.status === 'skipped');
  });

  it('branch database briefly unavailable -> events wait, are retried with backoff and converge', async () => {
    const provider = providerApi(t, auth);
    await ownerSql(project.uri, 'ALTER SCHEMA neon_auth RENAME TO neon_auth_away');
    const ids: string[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const res = await provider.createUser({ primary_email: uniqueEmail('outage'), display_name: `Outage ${i}` }).expect(201);
        ids.push(res.body.id as string);
      }
      // Durable and failed at least once, not applied, not dropped.
      await waitFor(
        async () => {
          const rows = (await inbox(t, integration.id)).filter((r) => r.event_type === 'user.created' && r.status === 'pending');
          return rows.length >= 3 && rows.every((r) => r.attempts >= 1 && r.last_error);
        },
        10_000,
        20,
      );
    } finally {
      await ownerSql(project.uri, 'ALTER SCHEMA neon_auth_away RENAME TO neon_auth');
    }
    const start = Date.now();
    for (const id of ids) await waitFor(async () => (await row(id))?.name?.startsWith('Outage'), 20_000, 20);
    console.log(`sync: converged ${Date.now() - start} ms after the branch database came back`);
    // The inbox rows are marked just after users_sync commits (two databases): none stays pending, none is dead.
    await waitFor(async () => (await inbox(t, integration.id)).every((r) => r.status !== 'pending'), 10_000, 20);
    const rows = await inbox(t, integration.id);
    expect(rows.filter((r) => r.status === 'pending' || r.status === 'dead')).toEqual([]);
  });

  it('a disable through this server closes the receiver at once (no cached verifier outlives it)', async () => {
    const other = await newAuthProject(t, 'sync closed');
    await enableAuth(t, other.projectId, other.defaultBranchId, 'stack');
    const closed = await integrationOf(t, other.projectId, other.defaultBranchId);
    const event = () => ({ type: 'team.created', data: { id: randomUUID() } });
    await deliver(t, closed.id, signed(closed.secret, event())).expect(204); // the verifier is cached now
    await api(t, t.adminKey).delete(`/projects/${other.projectId}/branches/${other.defaultBranchId}/auth`).send({ delete_data: true }).expect(200);
    const before = (await inbox(t, closed.id)).length;
    await deliver(t, closed.id, signed(closed.secret, event())).expect(404);
    expect(await inbox(t, closed.id)).toHaveLength(before);
  });

  it('events of an integration disabled meanwhile are marked skipped, not dropped', async () => {
    const other = await newAuthProject(t, 'sync disabled');
    const otherAuth = await enableAuth(t, other.projectId, other.defaultBranchId, 'stack');
    const otherIntegration = await integrationOf(t, other.projectId, other.defaultBranchId);
    await ownerSql(other.uri, 'ALTER SCHEMA neon_auth RENAME TO neon_auth_away');
    await providerApi(t, otherAuth).createUser({ primary_email: uniqueEmail('gone') }).expect(201);
    await waitFor(async () => (await inbox(t, otherIntegration.id)).some((r) => r.attempts >= 1), 10_000, 20);
    await t.app.get(DataSource).query('DELETE FROM neon_auth_integrations WHERE id = $1', [otherIntegration.id]);
    await waitFor(async () => (await inbox(t, otherIntegration.id)).every((r) => r.status === 'skipped'), 20_000, 50);
  });
});
