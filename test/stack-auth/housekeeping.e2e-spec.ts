// The embedded provider's housekeeping: expired and revoked sessions (refresh tokens) are deleted on a schedule, in
// batches, by one replica at a time; a user's last_active_at follows their use of the product, at most once a minute.
import pg from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { WebhookEndpointsService } from '../../src/stack-auth/webhooks/webhook-endpoints.service.js';
import { PRUNE_LOCK_CLASS, SESSION_PRUNE_BATCH, SessionPrunerService } from '../../src/stack-auth/auth/session-pruner.service.js';
import { clientHeaders, createStackProject, serverHeaders, type StackTestProject } from '../helpers/stack-auth.js';
import { testAdminUrl } from '../helpers/test-db.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../sync/receiver-helpers.js';

let t: TestApp;
let p: StackTestProject;
let db: DataSource;
let seq = 0;

const api = () => request(`${p.baseUrl}/api/v1`);

/** Signs a new user up with a password; answers its id and tokens. */
async function signUp(): Promise<{ userId: string; accessToken: string; refreshToken: string }> {
  const res = await api()
    .post('/auth/password/sign-up')
    .set(clientHeaders(p))
    .send({ email: `house-${++seq}-${Date.now()}@example.com`, password: 'correct horse battery' })
    .expect(200);
  return { userId: res.body.user_id, accessToken: res.body.access_token, refreshToken: res.body.refresh_token };
}

async function sessionCount(where = 'TRUE', params: unknown[] = []): Promise<number> {
  const [row] = (await db.query(`SELECT count(*)::int AS n FROM stack_auth.sessions WHERE ${where}`, params)) as { n: number }[];
  return row.n;
}

beforeAll(async () => {
  t = await startTestApp({ STACK_AUTH_PRUNE_INTERVAL_SECONDS: '1' });
  db = t.app.get(DataSource);
  p = await createStackProject(t, 'Housekeeping');
});
afterAll(async () => {
  await t?.close();
});

describe('expired and revoked sessions are pruned', () => {
  it('on the schedule: expired and revoked refresh tokens go, live ones stay and keep working', async () => {
    const live = await signUp();
    const expired = await signUp();
    const revoked = await signUp();
    await db.query(`UPDATE stack_auth.sessions SET expires_at = clock_timestamp() - interval '1 second' WHERE user_id = $1`, [expired.userId]);
    // A password change revokes every session of the user.
    await api().patch(`/users/${revoked.userId}`).set(serverHeaders(p)).send({ password: 'another good password' }).expect(200);
    expect(await sessionCount('user_id = $1 AND revoked_at IS NOT NULL', [revoked.userId])).toBe(1);

    // STACK_AUTH_PRUNE_INTERVAL_SECONDS=1: the next run, without being asked.
    await waitFor(async () => (await sessionCount('user_id = ANY($1)', [[expired.userId, revoked.userId]])) === 0, 10_000, 100);
    expect(await sessionCount('user_id = $1', [live.userId])).toBe(1);
    await api().post('/auth/sessions/current/refresh').set(clientHeaders(p)).set('x-stack-refresh-token', live.refreshToken).send({}).expect(200);
    await api().post('/auth/sessions/current/refresh').set(clientHeaders(p)).set('x-stack-refresh-token', expired.refreshToken).send({}).expect(401);
  });

  it(`in batches of ${SESSION_PRUNE_BATCH}: a backlog larger than a batch is deleted whole by one run`, async () => {
    const user = await signUp();
    await db.query(
      `INSERT INTO stack_auth.sessions (project_id, user_id, refresh_token_hash, expires_at)
       SELECT $1, $2, 'backlog-' || g, clock_timestamp() - interval '1 day' FROM generate_series(1, $3::int) g`,
      [p.projectId, user.userId, SESSION_PRUNE_BATCH * 2 + 17],
    );
    // Whichever run takes it (the scheduled one, or this one), the backlog is gone and the live session stays.
    await t.app.get(SessionPrunerService).prune();
    await waitFor(async () => (await sessionCount(`refresh_token_hash LIKE 'backlog-%'`)) === 0, 10_000, 100);
    expect(await sessionCount('user_id = $1', [user.userId])).toBe(1);
  });

  it('one replica at a time: while another process holds the pruning lock, a run deletes nothing and says so', async () => {
    const user = await signUp();
    await db.query(`UPDATE stack_auth.sessions SET expires_at = clock_timestamp() - interval '1 second' WHERE user_id = $1`, [user.userId]);
    const other = new pg.Client({ connectionString: testAdminUrl(t.database) });
    await other.connect();
    try {
      await waitFor(async () => (await other.query('SELECT pg_try_advisory_lock($1, 1) AS ok', [PRUNE_LOCK_CLASS])).rows[0].ok as boolean, 10_000, 20);
      expect(await t.app.get(SessionPrunerService).prune()).toBe(0);
      await new Promise((r) => setTimeout(r, 1_500)); // a scheduled run, too, skips
      expect(await sessionCount('user_id = $1', [user.userId])).toBe(1);
    } finally {
      await other.end();
    }
    await waitFor(async () => (await sessionCount('user_id = $1', [user.userId])) === 0, 10_000, 100);
  });
});

describe('last_active_at follows use, at most once a minute', () => {
  const lastActive = async (userId: string): Promise<{ at: Date; ageSeconds: number }> => {
    const [row] = (await db.query(
      `SELECT last_active_at AS at, extract(epoch FROM clock_timestamp() - last_active_at)::float8 AS "ageSeconds" FROM stack_auth.users WHERE id = $1`,
      [userId],
    )) as { at: Date; ageSeconds: number }[];
    return row;
  };
  const backdate = (userId: string, interval: string) => db.query(`UPDATE stack_auth.users SET last_active_at = clock_timestamp() - $2::interval WHERE id = $1`, [userId, interval]);

  it('sign-in, token refresh and a request with the access token each move it to now', async () => {
    const email = `active-${Date.now()}@example.com`;
    const signedUp = await api().post('/auth/password/sign-up').set(clientHeaders(p)).send({ email, password: 'correct horse battery' }).expect(200);
    const userId = signedUp.body.user_id as string;

    await backdate(userId, '2 hours');
    await api().post('/auth/password/sign-in').set(clientHeaders(p)).send({ email, password: 'correct horse battery' }).expect(200);
    expect((await lastActive(userId)).ageSeconds).toBeLessThan(5);

    await backdate(userId, '2 hours');
    const refreshed = await api().post('/auth/sessions/current/refresh').set(clientHeaders(p)).set('x-stack-refresh-token', signedUp.body.refresh_token).send({}).expect(200);
    expect((await lastActive(userId)).ageSeconds).toBeLessThan(5);

    await backdate(userId, '2 hours');
    // With server access, /users/me answers the server user object, which carries last_active_at_millis.
    const me = await api().get('/users/me').set(serverHeaders(p)).set('x-stack-access-token', refreshed.body.access_token).expect(200);
    expect((await lastActive(userId)).ageSeconds).toBeLessThan(5);
    // The answer shows it too.
    expect(me.body.last_active_at_millis).toBe((await lastActive(userId)).at.getTime());
  });

  it('throttled: requests within a minute of the last recorded activity write nothing', async () => {
    const user = await signUp();
    await backdate(user.userId, '30 seconds');
    const before = (await lastActive(user.userId)).at.getTime();
    for (let i = 0; i < 5; i++) await api().get('/users/me').set(clientHeaders(p)).set('x-stack-access-token', user.accessToken).expect(200);
    expect((await lastActive(user.userId)).at.getTime()).toBe(before);
    // Past the minute, the next request records it again.
    await backdate(user.userId, '61 seconds');
    await api().get('/users/me').set(clientHeaders(p)).set('x-stack-access-token', user.accessToken).expect(200);
    expect((await lastActive(user.userId)).ageSeconds).toBeLessThan(5);
  });

  it('activity is not a change of the user: no version bump, no user.updated webhook', async () => {
    // An endpoint, so that every change of a user of the project is written to the outbox (its deliveries fail: nobody listens).
    await t.app.get(WebhookEndpointsService).register(p.projectId, 'http://127.0.0.1:9/never-delivered');
    const user = await signUp();
    const [{ version }] = (await db.query(`SELECT version FROM stack_auth.users WHERE id = $1`, [user.userId])) as { version: string }[];
    const outbox = async () =>
      ((await db.query(`SELECT count(*)::int AS n FROM stack_auth.webhook_outbox WHERE payload->'data'->>'id' = $1`, [user.userId])) as { n: number }[])[0].n;
    const events = await outbox();
    expect(events).toBe(1); // its user.created
    await backdate(user.userId, '2 hours');
    await api().get('/users/me').set(clientHeaders(p)).set('x-stack-access-token', user.accessToken).expect(200);
    expect((await lastActive(user.userId)).ageSeconds).toBeLessThan(5);
    const [after] = (await db.query(`SELECT version FROM stack_auth.users WHERE id = $1`, [user.userId])) as { version: string }[];
    expect(after.version).toBe(version);
    expect(await outbox()).toBe(events);
  });
});
