import request from 'supertest';
import { Webhook } from 'svix';
import { adminQuery } from '../helpers/test-db.js';
import { createStackProject, serverHeaders, type StackTestProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { registerWebhook, userOf, validateEvent, verifyReceived } from './webhooks-helpers.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhooks-receiver.js';

/** Idle workers poll this rarely here, so only the after-commit wake-up can explain a fast delivery. */
const POLL_SECONDS = 5;

/** Signed user webhooks from the outbox: shape, signature, and delivery right after commit. */
describe('embedded provider: webhook delivery', () => {
  let t: TestApp;
  let p: StackTestProject;
  let receiver: WebhookReceiver;
  let secret: string;
  beforeAll(async () => {
    t = await startTestApp({ STACK_AUTH_WEBHOOK_POLL_SECONDS: String(POLL_SECONDS), STACK_AUTH_WEBHOOK_RETRY_DELAY_SECONDS: '1' });
    p = await createStackProject(t, 'Webhooks');
    receiver = await startWebhookReceiver();
    secret = await registerWebhook(t, p, receiver.url);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  const api = () => request(`${t.baseUrl}/stack-auth/api/v1`);
  const forUser = (id: string) => receiver.requests.filter((r) => userOf(r) === id);

  it('sends user.created, user.updated and user.deleted, signed with svix, as {type, data}', async () => {
    const created = await api()
      .post('/users')
      .set(serverHeaders(p))
      .send({ primary_email: 'hooked@example.com', primary_email_auth_enabled: true, display_name: 'Hooked', server_metadata: { plan: 'pro' } })
      .expect(201);
    const id = created.body.id as string;
    await api().patch(`/users/${id}`).set(serverHeaders(p)).send({ display_name: 'Hooked Again' }).expect(200);
    await api().delete(`/users/${id}`).set(serverHeaders(p)).send({}).expect(200);
    await receiver.waitFor(() => forUser(id).length >= 3);

    const got = forUser(id);
    expect(got).toHaveLength(3);
    const events = got.map((r) => verifyReceived(secret, r));
    expect(events.map((e) => e.type)).toEqual(['user.created', 'user.updated', 'user.deleted']);
    for (const e of events) await validateEvent(e);
    // The created/updated data are the complete server user, as the users API answers it.
    expect(events[0].data).toEqual(created.body);
    expect(events[1].data).toMatchObject({ id, display_name: 'Hooked Again', server_metadata: { plan: 'pro' } });
    expect(events[2].data).toEqual({ id, teams: [] });

    for (const r of got) {
      expect(r.method).toBe('POST');
      expect(r.path).toBe('/hooks/stack');
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['svix-id']).toMatch(/^msg_[A-Za-z0-9_-]+$/);
      expect(r.headers['svix-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      // The unbranded Standard Webhooks twins carry the same values.
      expect(r.headers['webhook-id']).toBe(r.headers['svix-id']);
      expect(r.headers['webhook-timestamp']).toBe(r.headers['svix-timestamp']);
      expect(r.headers['webhook-signature']).toBe(r.headers['svix-signature']);
      expect(Math.abs(Number(r.headers['svix-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
      // The body is exactly JSON of {type, data}.
      const parsed = JSON.parse(r.rawBody);
      expect(Object.keys(parsed)).toEqual(['type', 'data']);
      expect(r.rawBody).toBe(JSON.stringify({ type: parsed.type, data: parsed.data }));
    }
    expect(new Set(got.map((r) => r.headers['svix-id'])).size).toBe(3);

    // Outbox rows are marked delivered.
    const rows = await adminQuery<{ delivered_at: Date | null; attempts: number }>(
      'SELECT delivered_at, attempts FROM stack_auth.webhook_outbox WHERE ordering_key = $1 ORDER BY id',
      [id],
      t.database,
    );
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.delivered_at).not.toBeNull();
      expect(row.attempts).toBe(1);
    }
  });

  it('a tampered body, an old timestamp and another secret are rejected by svix verify', async () => {
    const created = await api().post('/users').set(serverHeaders(p)).send({ display_name: 'Verify me' }).expect(201);
    await receiver.waitFor(() => forUser(created.body.id).length >= 1);
    const r = forUser(created.body.id)[0];
    expect(verifyReceived(secret, r).type).toBe('user.created');

    const tampered = { ...r, rawBody: r.rawBody.replace('Verify me', 'Verify m3') };
    expect(() => verifyReceived(secret, tampered)).toThrow(/No matching signature found/);

    // The same message signed (correctly) ten minutes ago: svix refuses it as a replay.
    const old = new Date(Date.now() - 10 * 60 * 1000);
    const oldSignature = new Webhook(secret).sign(String(r.headers['svix-id']), old, r.rawBody);
    const replayed = { ...r, headers: { ...r.headers, 'svix-timestamp': String(Math.floor(old.getTime() / 1000)), 'svix-signature': oldSignature } };
    expect(() => verifyReceived(secret, replayed)).toThrow(/timestamp too old/);
    // A current timestamp on the old signature does not match either.
    const swapped = { ...r, headers: { ...r.headers, 'svix-signature': oldSignature } };
    expect(() => verifyReceived(secret, swapped)).toThrow(/No matching signature found/);

    const otherSecret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
    expect(() => verifyReceived(otherSecret, r)).toThrow(/No matching signature found/);
  });

  it('delivers right after the change commits, well before any poll', async () => {
    // Let the workers go idle (each now sleeps a full polling interval).
    await new Promise((resolve) => setTimeout(resolve, 600));
    const latencies: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const created = await api().post('/users').set(serverHeaders(p)).send({ display_name: `Fast ${i}` }).expect(201);
      await receiver.waitFor(() => forUser(created.body.id).length >= 1, POLL_SECONDS * 1000 - 500);
      latencies.push(forUser(created.body.id)[0].at - started);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    for (const ms of latencies) expect(ms).toBeLessThan(1000);
  });

  it('signs each endpoint\'s copy with that endpoint\'s secret, and sends a project\'s events only to its endpoints', async () => {
    const second = await startWebhookReceiver('/second');
    const otherProject = await createStackProject(t, 'Webhooks elsewhere');
    const otherReceiver = await startWebhookReceiver('/other');
    try {
      const secondSecret = await registerWebhook(t, p, second.url);
      await registerWebhook(t, otherProject, otherReceiver.url);
      const created = await api().post('/users').set(serverHeaders(p)).send({ display_name: 'Two endpoints' }).expect(201);
      await receiver.waitFor(() => forUser(created.body.id).length >= 1);
      await second.waitFor((rs) => rs.some((r) => userOf(r) === created.body.id));
      const a = forUser(created.body.id)[0];
      const b = second.requests.find((r) => userOf(r) === created.body.id)!;
      expect(verifyReceived(secondSecret, b).data.id).toBe(created.body.id);
      expect(() => verifyReceived(secret, b)).toThrow();
      expect(() => verifyReceived(secondSecret, a)).toThrow();
      // One message per endpoint.
      expect(a.headers['svix-id']).not.toBe(b.headers['svix-id']);
      // The other project's endpoint heard nothing of this project.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(otherReceiver.requests).toHaveLength(0);
    } finally {
      await second.close();
      await otherReceiver.close();
    }
  });
});
