import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { webhookEvents } from '@stackframe/stack-shared/dist/interface/webhooks';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { SecretsService } from '../../src/common/secrets.js';
import { StackUserEntity } from '../../src/stack-auth/entities/stack-user.entity.js';
import { StackWebhookEndpointEntity, StackWebhookOutboxEntity } from '../../src/stack-auth/entities/stack-webhook.entity.js';
import { webhookSecretContext } from '../../src/stack-auth/webhooks/webhook-endpoints.service.js';
import { createStackProject, serverHeaders, type StackTestProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Every change made through the users API writes its webhook event into the outbox in the same
 * transaction: one row per enabled endpoint, `{type, data}` as Stack Auth sends it, ordered per user.
 * (Delivery of these rows is the dispatcher's, tested on its own.)
 */
describe('users API: webhook outbox', () => {
  let t: TestApp;
  let p: StackTestProject;
  let db: DataSource;
  let receiver: http.Server;
  let endpointIds: string[];

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    p = await createStackProject(t);
    // A local receiver that accepts everything, so that any dispatcher has nowhere to retry to.
    receiver = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const repo = db.getRepository(StackWebhookEndpointEntity);
    const secrets = t.app.get(SecretsService);
    endpointIds = [];
    for (const description of ['first', 'second', 'disabled']) {
      const saved = await repo.save(repo.create({ projectId: p.projectId, url, description, secretEncrypted: 'pending', disabledAt: description === 'disabled' ? new Date() : null }));
      await repo.update(saved.id, { secretEncrypted: secrets.encrypt('whsec_dGVzdC1zZWNyZXQtdGVzdC1zZWNyZXQ=', webhookSecretContext(saved.id)) });
      if (description !== 'disabled') endpointIds.push(saved.id);
    }
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  const api = () => request(`${p.baseUrl}/api/v1`);
  const rowsOf = (userId: string) =>
    db.getRepository(StackWebhookOutboxEntity).find({ where: { projectId: p.projectId, orderingKey: userId }, order: { id: 'ASC' } });
  const schemaOf = (type: string) => webhookEvents.find((e) => e.type === type)!.schema;

  async function expectEvents(userId: string, types: string[]) {
    const rows = await rowsOf(userId);
    // One row per enabled endpoint and event, none for the disabled endpoint.
    expect(rows.map((r) => r.endpointId).sort()).toEqual(types.flatMap(() => endpointIds).sort());
    for (const endpointId of endpointIds) {
      const mine = rows.filter((r) => r.endpointId === endpointId);
      expect(mine.map((r) => r.eventType)).toEqual(types);
      for (const row of mine) {
        expect(Object.keys(row.payload).sort()).toEqual(['data', 'type']);
        expect(row.payload.type).toBe(row.eventType);
        await schemaOf(row.eventType).validate(row.payload.data, { strict: true });
        expect(row.messageId).toMatch(/^msg_/);
      }
    }
    return rows.filter((r) => r.endpointId === endpointIds[0]);
  }

  it('create, update and delete each enqueue their event with Stack Auth\'s payload', async () => {
    const created = (await api().post('/users').set(serverHeaders(p)).send({ display_name: 'Hooked', server_metadata: { a: 1 } }).expect(201)).body;
    let rows = await expectEvents(created.id, ['user.created']);
    expect(rows[0].payload.data).toEqual(created);

    const updated = (await api().patch(`/users/${created.id}`).set(serverHeaders(p)).send({ server_metadata: { b: 2 } }).expect(200)).body;
    rows = await expectEvents(created.id, ['user.created', 'user.updated']);
    expect(rows[1].payload.data).toEqual(updated);
    expect((rows[1].payload.data as { server_metadata: unknown }).server_metadata).toEqual({ b: 2 });

    await api().delete(`/users/${created.id}`).set(serverHeaders(p)).send({}).expect(200);
    rows = await expectEvents(created.id, ['user.created', 'user.updated', 'user.deleted']);
    expect(rows[2].payload).toEqual({ type: 'user.deleted', data: { id: created.id, teams: [] } });
  });

  it('a change that fails writes no event', async () => {
    const a = (await api().post('/users').set(serverHeaders(p)).send({ primary_email: 'taken@hooks.example', primary_email_auth_enabled: true }).expect(201)).body;
    const b = (await api().post('/users').set(serverHeaders(p)).send({ primary_email: 'free@hooks.example', primary_email_auth_enabled: true }).expect(201)).body;
    await api().patch(`/users/${b.id}`).set(serverHeaders(p)).send({ primary_email: 'taken@hooks.example' }).expect(409);
    await api().patch(`/users/${b.id}`).set(serverHeaders(p)).send({ restricted_by_admin_reason: 'x' }).expect(400);
    await api().patch(`/users/${b.id}`).set(serverHeaders(p)).send({ unknown_field: 1 }).expect(400);
    const before = await db.getRepository(StackWebhookOutboxEntity).countBy({ projectId: p.projectId });
    await api().post('/users').set(serverHeaders(p)).send({ primary_email: 'TAKEN@hooks.example', primary_email_auth_enabled: true }).expect(409);
    expect(await db.getRepository(StackWebhookOutboxEntity).countBy({ projectId: p.projectId })).toBe(before);
    await expectEvents(a.id, ['user.created']);
    await expectEvents(b.id, ['user.created']);
  });

  it('concurrent PATCHes of one user serialise: versions count them, events follow commit order', async () => {
    const user = (await api().post('/users').set(serverHeaders(p)).send({ display_name: 'Racer' }).expect(201)).body;
    const N = 12;
    const responses = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        api()
          .patch(`/users/${user.id}`)
          .set(serverHeaders(p))
          .send({ client_metadata: { step: i }, display_name: `Racer ${i}` }),
      ),
    );
    for (const res of responses) expect(res.status).toBe(200);
    const stored = await db.getRepository(StackUserEntity).findOneByOrFail({ id: user.id });
    expect(stored.version).toBe(String(N + 1));
    const rows = await expectEvents(user.id, ['user.created', ...Array.from({ length: N }, () => 'user.updated')]);
    const steps = rows.slice(1).map((r) => (r.payload.data as { client_metadata: { step: number } }).client_metadata.step);
    // Every update's event shows that update's own state, each exactly once...
    expect([...steps].sort((x, y) => x - y)).toEqual(Array.from({ length: N }, (_, i) => i));
    // ...and the last event in outbox order is the state that won.
    const final = (await api().get(`/users/${user.id}`).set(serverHeaders(p)).expect(200)).body;
    expect(rows[rows.length - 1].payload.data).toEqual(final);
    // Each response is the state its own event reported.
    for (const res of responses) {
      const event = rows.slice(1).find((r) => (r.payload.data as { client_metadata: { step: number } }).client_metadata.step === res.body.client_metadata.step);
      expect(event!.payload.data).toEqual(res.body);
    }
  });

  it('a concurrent PATCH and DELETE: the delete is the last event, or the PATCH is 404', async () => {
    const user = (await api().post('/users').set(serverHeaders(p)).send({ display_name: 'Doomed' }).expect(201)).body;
    const [patched, deleted] = await Promise.all([
      api().patch(`/users/${user.id}`).set(serverHeaders(p)).send({ display_name: 'Doomed 2' }),
      api().delete(`/users/${user.id}`).set(serverHeaders(p)).send({}),
    ]);
    expect(deleted.status).toBe(200);
    expect([200, 404]).toContain(patched.status);
    const types = patched.status === 200 ? ['user.created', 'user.updated', 'user.deleted'] : ['user.created', 'user.deleted'];
    await expectEvents(user.id, types);
  });
});

/**
 * The write path's statements are prepared once per pooled connection: they must survive what a rolling deploy does
 * to the tables under a running server (a migration of the new version adds a column), and their message ids must be
 * unique svix ids.
 */
describe('users API: prepared statements under a schema change', () => {
  let t: TestApp;
  let p: StackTestProject;
  beforeAll(async () => {
    t = await startTestApp();
    p = await createStackProject(t, 'Rolling deploy');
  });
  afterAll(async () => {
    await t?.close();
  });
  const api = () => request(`${p.baseUrl}/api/v1`);

  it('a column added to users and projects while the server runs breaks no request', async () => {
    const db = t.app.get(DataSource);
    // Prepare every statement on the pool's connections first (many concurrent requests spread over them).
    const warm = await Promise.all(
      Array.from({ length: 12 }, (_, i) => api().post('/users').set(serverHeaders(p)).send({ display_name: `warm ${i}`, primary_email: `warm${i}@example.com` })),
    );
    for (const res of warm) expect(res.status).toBe(201);
    await Promise.all(warm.map((res) => api().patch(`/users/${res.body.id}`).set(serverHeaders(p)).send({ display_name: 'warmer' }).expect(200)));
    await Promise.all(warm.map((res) => api().get(`/users/${res.body.id}`).set(serverHeaders(p)).expect(200)));

    await db.query('ALTER TABLE stack_auth.users ADD COLUMN rolling_deploy_note text');
    await db.query('ALTER TABLE stack_auth.projects ADD COLUMN rolling_deploy_note text');
    try {
      const after = await Promise.all(
        warm.map(async (res, i) => {
          const created = await api().post('/users').set(serverHeaders(p)).send({ display_name: `after ${i}` });
          const patched = await api().patch(`/users/${res.body.id}`).set(serverHeaders(p)).send({ display_name: `after ${i}` });
          const read = await api().get(`/users/${res.body.id}`).set(serverHeaders(p));
          const deleted = await api().delete(`/users/${created.body.id}`).set(serverHeaders(p)).send({});
          return [created.status, patched.status, read.status, deleted.status];
        }),
      );
      for (const statuses of after) expect(statuses).toEqual([201, 200, 200, 200]);
    } finally {
      await db.query('ALTER TABLE stack_auth.users DROP COLUMN rolling_deploy_note');
      await db.query('ALTER TABLE stack_auth.projects DROP COLUMN rolling_deploy_note');
    }
  });
});
