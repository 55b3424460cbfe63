import request from 'supertest';
import { SecretsService } from '../../src/common/secrets.js';
import { integrationClientCredentials } from '../../src/stack-auth/stack-auth.config.js';
import { DELIVERY_QUEUE } from '../../src/stack-auth/webhooks/webhook-dispatcher.service.js';
import { clientHeaders, createStackProject, serverHeaders, type StackTestProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { adminQuery } from '../helpers/test-db.js';
import { registerWebhook, userOf } from './webhooks-helpers.js';
import { startWebhookReceiver } from './webhooks-receiver.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

/** `DELETE /api/v1/internal/projects/current` (Stack's dashboard call), admin access only. */
describe('embedded provider: DELETE /internal/projects/current', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ STACK_AUTH_WEBHOOK_POLL_SECONDS: '1', STACK_AUTH_WEBHOOK_RETRY_DELAY_SECONDS: '1' });
  });
  afterAll(async () => {
    await t?.close();
  });

  const api = () => request(`${t.baseUrl}/stack-auth/api/v1`);
  const admin = (p: StackTestProject) => ({
    'x-stack-access-type': 'admin',
    'x-stack-project-id': p.projectId,
    'x-stack-super-secret-admin-key': p.superSecretAdminKey,
  });

  /** Every table of schema stack_auth with how many rows belong to the project (by `project_id`, or `id` for projects). */
  async function rowsPerTable(projectId: string): Promise<Record<string, number>> {
    const tables = await adminQuery<{ table_name: string; has_project_id: boolean }>(
      `SELECT t.table_name, EXISTS (SELECT 1 FROM information_schema.columns c
                WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name AND c.column_name = 'project_id') AS has_project_id
       FROM information_schema.tables t WHERE t.table_schema = 'stack_auth' AND t.table_type = 'BASE TABLE' ORDER BY t.table_name`,
      [],
      t.database,
    );
    const out: Record<string, number> = {};
    for (const { table_name, has_project_id } of tables) {
      // A new table without project_id must be looked at (and this test taught how to find its rows).
      const column = table_name === 'projects' ? 'id' : has_project_id ? 'project_id' : undefined;
      if (!column) throw new Error(`stack_auth.${table_name} has no project_id column`);
      const [{ n }] = await adminQuery<{ n: string }>(`SELECT count(*) AS n FROM stack_auth."${table_name}" WHERE "${column}" = $1`, [projectId], t.database);
      out[table_name] = Number(n);
    }
    return out;
  }

  it('client and server keys get INSUFFICIENT_ACCESS_TYPE and delete nothing', async () => {
    const p = await createStackProject(t, 'Not with these keys');
    for (const headers of [clientHeaders(p), serverHeaders(p)]) {
      const res = await api().delete('/internal/projects/current').set(headers).expect(401);
      expect(res.headers['x-stack-known-error']).toBe('INSUFFICIENT_ACCESS_TYPE');
      expect(res.body).toMatchObject({ code: 'INSUFFICIENT_ACCESS_TYPE', details: { allowed_access_types: ['admin'] } });
    }
    // A wrong admin key is refused too.
    const wrong = await api().delete('/internal/projects/current').set({ ...admin(p), 'x-stack-super-secret-admin-key': `sak_${'0'.repeat(45)}` }).expect(401);
    expect(wrong.body.code).toBe('INVALID_SUPER_SECRET_ADMIN_KEY');
    expect((await rowsPerTable(p.projectId)).projects).toBe(1);
    await api().get('/projects/current').set(serverHeaders(p)).expect(200);
  });

  it('deletes every row of the project in every stack_auth table; its keys are dead; no user.deleted webhooks; pending deliveries end cleanly', async () => {
    const p = await createStackProject(t, 'To delete');
    const other = await createStackProject(t, 'Stays');
    const receiver = await startWebhookReceiver('/hooks/deleted');
    const otherReceiver = await startWebhookReceiver('/hooks/other');
    try {
      await registerWebhook(t, p, receiver.url);
      await registerWebhook(t, other, otherReceiver.url);
      const [{ id: endpointId }] = await adminQuery<{ id: string }>('SELECT id FROM stack_auth.webhook_endpoints WHERE project_id = $1', [p.projectId], t.database);
      // The receiver is down: the first user's event fails and waits for its retry.
      receiver.setBehaviour(() => 503);
      const a = (await api().post('/users').set(serverHeaders(p)).send({ primary_email: 'a@example.com', primary_email_auth_enabled: true, password: 'password123' }).expect(201))
        .body.id as string;
      await until('the first delivery failed', async () =>
        (await adminQuery<{ attempts: number }>('SELECT attempts FROM stack_auth.webhook_outbox WHERE ordering_key = $1 ORDER BY id LIMIT 1', [a], t.database))[0]?.attempts >= 1,
      );
      // A session (sign-in), and a started ownership transfer: every table has rows of the project.
      await api().post('/auth/password/sign-in').set(clientHeaders(p)).send({ email: 'a@example.com', password: 'password123' }).expect(200);
      const { clientId, clientSecret } = integrationClientCredentials(t.config, t.app.get(SecretsService));
      await api()
        .post('/integrations/neon/projects/transfer')
        .set({ ...admin(p), authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` })
        .send({ project_id: p.projectId })
        .expect(200);
      // A second user's delivery is in flight (the receiver holds its answer) while the project is deleted.
      receiver.setBehaviour(() => ({ status: 503, delayMs: 1500 }));
      const b = (await api().post('/users').set(serverHeaders(p)).send({ display_name: 'B' }).expect(201)).body.id as string;
      await receiver.waitFor((rs) => rs.some((r) => userOf(r) === b), 10_000);

      const before = await rowsPerTable(p.projectId);
      expect(Object.keys(before).sort()).toEqual(['api_key_sets', 'ownership_transfers', 'projects', 'sessions', 'signing_keys', 'users', 'webhook_endpoints', 'webhook_outbox']);
      for (const [table, n] of Object.entries(before)) expect([table, n > 0]).toEqual([table, true]);
      const otherBefore = await rowsPerTable(other.projectId);

      const res = await api().delete('/internal/projects/current').set(admin(p)).expect(200);
      expect(res.body).toEqual({ success: true });
      const deletedAt = Date.now();

      const after = await rowsPerTable(p.projectId);
      for (const [table, n] of Object.entries(after)) expect([table, n]).toEqual([table, 0]);
      // Nothing of the other project was touched.
      expect(await rowsPerTable(other.projectId)).toEqual(otherBefore);

      // Every key of the project is dead.
      for (const headers of [clientHeaders(p), serverHeaders(p), admin(p)]) {
        const dead = await api().get('/projects/current').set(headers).expect(400);
        expect(dead.body.code).toBe('CURRENT_PROJECT_NOT_FOUND');
      }
      const again = await api().delete('/internal/projects/current').set(admin(p)).expect(400);
      expect(again.body.code).toBe('CURRENT_PROJECT_NOT_FOUND');

      // The deliveries' jobs end (completed: their rows vanished), none is left retrying or failed.
      receiver.setBehaviour(() => 200);
      const jobsOf = () =>
        adminQuery<{ state: string; singleton_key: string }>(`SELECT state, singleton_key FROM pgboss.job WHERE name = $1 AND data->>'endpointId' = $2`, [DELIVERY_QUEUE, endpointId], t.database);
      const jobs = await until(
        'the deleted project\'s delivery jobs are done',
        async () => {
          const rows = await jobsOf();
          return rows.length >= 2 && rows.every((j) => j.state === 'completed') && rows;
        },
        20_000,
      );
      expect(new Set(jobs.map((j) => j.singleton_key))).toEqual(new Set([`${endpointId}:${a}`, `${endpointId}:${b}`]));
      // Nothing was sent after the deletion, and never a user.deleted.
      expect(receiver.requests.filter((r) => r.at > deletedAt)).toEqual([]);
      expect(receiver.requests.some((r) => r.rawBody.includes('"user.deleted"'))).toBe(false);

      // The dispatcher still delivers for other projects.
      const c = (await api().post('/users').set(serverHeaders(other)).send({ display_name: 'C' }).expect(201)).body.id as string;
      await otherReceiver.waitFor((rs) => rs.some((r) => userOf(r) === c && r.answer === 200), 10_000);
    } finally {
      await receiver.close();
      await otherReceiver.close();
    }
  });
});
