import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { LOGGER } from '../../src/common/logger.js';
import { OutboxService } from '../../src/stack-auth/webhooks/outbox.service.js';
import { WebhookDispatcherService } from '../../src/stack-auth/webhooks/webhook-dispatcher.service.js';
import { WebhookEndpointsService } from '../../src/stack-auth/webhooks/webhook-endpoints.service.js';
import { adminQuery } from '../helpers/test-db.js';
import { createStackProject, serverHeaders, type StackTestProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { registerWebhook, userOf, validateEvent, verifyReceived, type WebhookEvent } from './webhooks-helpers.js';
import { startWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from './webhooks-receiver.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries with backoff, per-user order, the sweep, and several dispatchers (replicas) on one outbox. */
describe('embedded provider: webhook retries and ordering', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ STACK_AUTH_WEBHOOK_POLL_SECONDS: '1', STACK_AUTH_WEBHOOK_RETRY_DELAY_SECONDS: '1' });
  });
  afterAll(async () => {
    await t?.close();
  });

  const api = () => request(`${t.baseUrl}/stack-auth/api/v1`);

  async function setup(name: string, path = '/hooks'): Promise<{ p: StackTestProject; receiver: WebhookReceiver; secret: string }> {
    const p = await createStackProject(t, name);
    const receiver = await startWebhookReceiver(path);
    const secret = await registerWebhook(t, p, receiver.url);
    return { p, receiver, secret };
  }

  /** The svix ids a user's events got, in outbox order. */
  async function messageIdsOf(userId: string): Promise<string[]> {
    const rows = await adminQuery<{ message_id: string }>('SELECT message_id FROM stack_auth.webhook_outbox WHERE ordering_key = $1 ORDER BY id', [userId], t.database);
    return rows.map((r) => r.message_id);
  }

  it('receiver down, then up: retried with backoff, delivered in order per user, nothing lost, duplicates harmless', async () => {
    const { p, receiver, secret } = await setup('Down then up');
    let down = true;
    let downUser = '';
    // While "down", the first user's deliveries alternate between a dropped connection (after the body was
    // read: the receiver got it, the sender cannot know) and a 503. Other users are unaffected.
    let failures = 0;
    // (Recognised by e-mail too: the first delivery may arrive before the API's answer names the user.)
    const isDownUser = (r: ReceivedRequest) => r.rawBody.includes('"down@example.com"') || userOf(r) === downUser;
    receiver.setBehaviour((_n, r) => {
      if (!down || !isDownUser(r)) return 200;
      return failures++ % 2 === 0 ? 'drop' : 503;
    });

    const created = await api().post('/users').set(serverHeaders(p)).send({ display_name: 'v0', primary_email: 'down@example.com' }).expect(201);
    downUser = created.body.id;
    await api().patch(`/users/${downUser}`).set(serverHeaders(p)).send({ display_name: 'v1' }).expect(200);
    await api().patch(`/users/${downUser}`).set(serverHeaders(p)).send({ display_name: 'v2' }).expect(200);
    await api().delete(`/users/${downUser}`).set(serverHeaders(p)).send({}).expect(200);
    // Another user's events are not held up by the failing one.
    const other = await api().post('/users').set(serverHeaders(p)).send({ display_name: 'other' }).expect(201);
    await api().patch(`/users/${other.body.id}`).set(serverHeaders(p)).send({ display_name: 'other 2' }).expect(200);
    await receiver.waitFor((rs) => rs.filter((r) => userOf(r) === other.body.id && r.answer === 200).length === 2, 5000);

    const downRequests = () => receiver.requests.filter((r) => userOf(r) === downUser);
    // At least two failed attempts of the first event...
    await receiver.waitFor(() => downRequests().filter((r) => r.answer !== 200).length >= 2, 15_000);
    down = false;
    // ...then everything arrives.
    const ids = await messageIdsOf(downUser);
    expect(ids).toHaveLength(4);
    const delivered = () => new Set(downRequests().filter((r) => r.answer === 200).map((r) => String(r.headers['svix-id'])));
    await receiver.waitFor(() => delivered().size === 4, 20_000);

    const all = downRequests();
    // Every attempt verifies, and attempts never go back in outbox order: a later event was not even tried
    // before the earlier ones had been delivered.
    const order = all.map((r) => ids.indexOf(String(r.headers['svix-id'])));
    expect(order.every((i) => i >= 0)).toBe(true);
    for (let i = 1; i < order.length; i++) expect(order[i]).toBeGreaterThanOrEqual(order[i - 1]);
    const firstSuccessOfFirst = all.findIndex((r) => r.answer === 200);
    expect(order.slice(0, firstSuccessOfFirst).every((i) => i === 0)).toBe(true);

    // The receiver deduplicates by svix-id: it ends with exactly the four events, in order.
    const seen = new Map<string, WebhookEvent>();
    for (const r of all) {
      const event = verifyReceived(secret, r);
      await validateEvent(event);
      if (!seen.has(String(r.headers['svix-id']))) seen.set(String(r.headers['svix-id']), event);
    }
    const events = [...seen.values()];
    expect(events.map((e) => e.type)).toEqual(['user.created', 'user.updated', 'user.updated', 'user.deleted']);
    expect(events.map((e) => e.data.display_name ?? null)).toEqual(['v0', 'v1', 'v2', null]);
    // The first event was received more than once (the dropped connection), always with the same svix-id.
    const firstAttempts = all.filter((r) => r.headers['svix-id'] === ids[0]);
    expect(firstAttempts.length).toBeGreaterThanOrEqual(3);

    // Exponential backoff: the retries waited about 1 s, then about 2 s (the first retry delay is 1 s).
    const gaps = firstAttempts.slice(1).map((r, i) => r.at - firstAttempts[i].at);
    expect(gaps[0]).toBeGreaterThanOrEqual(900);
    expect(gaps[1]).toBeGreaterThanOrEqual(1900);

    // The other user's events went out while this one was failing.
    const otherDone = Math.max(...receiver.requests.filter((r) => userOf(r) === other.body.id).map((r) => r.at));
    expect(otherDone).toBeLessThan(all.find((r) => r.answer === 200)!.at);

    const rows = await adminQuery<{ delivered_at: Date | null; attempts: number; last_error: string | null }>(
      'SELECT delivered_at, attempts, last_error FROM stack_auth.webhook_outbox WHERE ordering_key = $1 ORDER BY id',
      [downUser],
      t.database,
    );
    expect(rows.every((r) => r.delivered_at !== null && r.last_error === null)).toBe(true);
    expect(rows[0].attempts).toBe(firstAttempts.length);
    await receiver.close();
  }, 60_000);

  it('the sweep delivers events whose wake-up was lost (a crash between commit and enqueue)', async () => {
    const { p, receiver, secret } = await setup('Sweep');
    const userId = randomUUID();
    // An event committed without afterCommit: nothing tells the dispatcher about it.
    await t.app
      .get(DataSource)
      .transaction((tx) => t.app.get(OutboxService).enqueue(tx, p.projectId, 'user.deleted', { id: userId, teams: [] }, userId));
    await sleep(2500); // more than two polling intervals: polling alone does not find outbox rows
    expect(receiver.requests).toHaveLength(0);
    expect(await t.app.get(WebhookDispatcherService).sweep()).toBeGreaterThanOrEqual(1);
    await receiver.waitFor((rs) => rs.length === 1, 5000);
    expect(verifyReceived(secret, receiver.requests[0])).toEqual({ type: 'user.deleted', data: { id: userId, teams: [] } });
    await receiver.close();
  });

  it('two dispatchers (replicas) never send one row twice or one user\'s rows out of order', async () => {
    const { p, receiver, secret } = await setup('Replicas');
    // Slow answers, so that deliveries overlap and the replicas contend for the same keys.
    receiver.setBehaviour(() => ({ status: 200, delayMs: 40 }));
    const second = new WebhookDispatcherService(
      t.config,
      t.app.get<Logger>(LOGGER),
      t.app.get(OutboxService),
      t.app.get(WebhookEndpointsService),
    );
    await second.onApplicationBootstrap();
    const first = t.app.get(WebhookDispatcherService);
    try {
      // Through the API: both dispatchers hear every commit and compete for the jobs.
      const users = await Promise.all(
        [0, 1, 2, 3].map(async (u) => {
          const res = await api().post('/users').set(serverHeaders(p)).send({ display_name: `u${u} v0` }).expect(201);
          for (let v = 1; v <= 3; v++) await api().patch(`/users/${res.body.id}`).set(serverHeaders(p)).send({ display_name: `u${u} v${v}` }).expect(200);
          return res.body.id as string;
        }),
      );
      // Directly: a backlog of one key, drained by four concurrent deliveries across both replicas.
      const backlogUser = randomUUID();
      await t.app.get(DataSource).transaction(async (tx) => {
        for (let i = 0; i < 6; i++) {
          await t.app.get(OutboxService).enqueue(tx, p.projectId, 'user.updated', { id: backlogUser, seq: i }, backlogUser);
        }
      });
      const [endpoint] = await adminQuery<{ id: string }>('SELECT id FROM stack_auth.webhook_endpoints WHERE project_id = $1', [p.projectId], t.database);
      await Promise.all([
        first.deliverKey(endpoint.id, backlogUser, false),
        second.deliverKey(endpoint.id, backlogUser, false),
        first.deliverKey(endpoint.id, backlogUser, false),
        second.deliverKey(endpoint.id, backlogUser, false),
      ]);

      const expected = [...users, backlogUser];
      const idsByUser = new Map<string, string[]>();
      for (const u of expected) idsByUser.set(u, await messageIdsOf(u));
      const total = [...idsByUser.values()].reduce((n, ids) => n + ids.length, 0);
      expect(total).toBe(4 * 4 + 6);
      await receiver.waitFor((rs) => rs.length >= total && rs.every((r) => r.answeredAt !== undefined), 20_000);
      await sleep(300);

      const byId = new Map<string, ReceivedRequest[]>();
      for (const r of receiver.requests) byId.set(String(r.headers['svix-id']), [...(byId.get(String(r.headers['svix-id'])) ?? []), r]);
      // No failures happened, so every message arrived exactly once: no row was sent by both replicas.
      expect(receiver.requests).toHaveLength(total);
      expect([...byId.values()].every((rs) => rs.length === 1)).toBe(true);
      for (const [user, ids] of idsByUser) {
        const got = receiver.requests.filter((r) => userOf(r) === user);
        expect(got.map((r) => String(r.headers['svix-id']))).toEqual(ids);
        // One user's deliveries never overlapped in time.
        for (let i = 1; i < got.length; i++) expect(got[i].at).toBeGreaterThanOrEqual(got[i - 1].answeredAt!);
        for (const r of got) verifyReceived(secret, r);
      }
    } finally {
      await second.beforeApplicationShutdown();
      await receiver.close();
    }
  }, 60_000);
});
