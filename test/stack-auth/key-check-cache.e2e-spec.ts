// The provider's project-and-key check is kept per process (one statement fewer on every provider request), and no
// kept answer outlives a change: a change through the provider's API is seen by the very next request (the writer
// settles first), a change made in SQL by any path is dropped by the tables' triggers (cluster events), a key close to
// its expiry is never kept, and refusals are never kept.
import request from 'supertest';
import { DataSource } from 'typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStackProject, serverHeaders, type StackTestProject } from '../helpers/stack-auth.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { ClusterEvents } from '../../src/common/cluster-events.js';
import { StackProjectsService } from '../../src/stack-auth/projects/stack-projects.service.js';

describe('embedded provider: the cached project-and-key check', () => {
  let t: TestApp;
  let sql: DataSource;

  beforeAll(async () => {
    t = await startTestApp();
    sql = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** How many key checks `run` made the service read from the database (the cache's loads). */
  async function loadsDuring(run: () => Promise<void>): Promise<number> {
    const cache = t.app.get(StackProjectsService)['keyChecks'];
    const original = cache.get.bind(cache);
    let loads = 0;
    cache.get = (key, load, keep) => original(key, () => ((loads += 1), load()), keep);
    try {
      await run();
    } finally {
      cache.get = original;
    }
    return loads;
  }
  const listUsers = (p: StackTestProject, headers: Record<string, string> = serverHeaders(p)) => request(p.baseUrl).get('/api/v1/users').set(headers);
  /** Polls until `probe` answers true (at most `ms`); answers how long it took. */
  async function within(ms: number, probe: () => Promise<boolean>): Promise<number> {
    const started = Date.now();
    while (!(await probe())) {
      if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
      await sleep(20);
    }
    return Date.now() - started;
  }

  it('a valid key is checked once, then answered from the cache (no more loads)', async () => {
    const p = await createStackProject(t, 'cached');
    // The project's creation is heard from its triggers; once heard, nothing may drop the kept answer.
    await t.app.get(ClusterEvents).settle();
    expect((await listUsers(p)).status).toBe(200);
    expect(await loadsDuring(async () => {
      for (let i = 0; i < 5; i++) expect((await listUsers(p)).status).toBe(200);
    })).toBe(0);
  });

  it('a key revoked in SQL (no API call, no settle) is refused within moments, by the trigger, not the 30 s limit', async () => {
    const p = await createStackProject(t, 'revoked in sql');
    expect((await listUsers(p)).status).toBe(200);
    await sql.query(`UPDATE stack_auth.api_key_sets SET revoked_at = now() WHERE project_id = $1`, [p.projectId]);
    const took = await within(5_000, async () => (await listUsers(p)).status === 401);
    expect(took).toBeLessThan(5_000);
    const refused = await listUsers(p);
    expect(refused.body.code).toBe('INVALID_SECRET_SERVER_KEY');
  });

  it('a project deleted through the provider API is gone for the very next request with its key', async () => {
    const p = await createStackProject(t, 'deleted');
    expect((await listUsers(p)).status).toBe(200);
    const admin = { 'x-stack-access-type': 'admin', 'x-stack-project-id': p.projectId, 'x-stack-super-secret-admin-key': p.superSecretAdminKey };
    expect((await request(p.baseUrl).delete('/api/v1/internal/projects/current').set(admin)).status).toBe(200);
    const after = await listUsers(p);
    expect(after.status).toBe(400);
    expect(after.body.code).toBe('CURRENT_PROJECT_NOT_FOUND');
  });

  it('a project setting changed through the provider API is what the very next request sees', async () => {
    const p = await createStackProject(t, 'settings');
    const client = { 'x-stack-access-type': 'client', 'x-stack-project-id': p.projectId, 'x-stack-publishable-client-key': p.publishableClientKey };
    const signUp = () => request(p.baseUrl).post('/api/v1/auth/password/sign-up').set(client).send({ email: `u-${Date.now()}-${Math.random()}@example.com`, password: 'a good password 1' });
    expect((await signUp()).status).toBe(200);
    const admin = { 'x-stack-access-type': 'admin', 'x-stack-project-id': p.projectId, 'x-stack-super-secret-admin-key': p.superSecretAdminKey };
    expect((await request(p.baseUrl).patch('/api/v1/internal/projects/current').set(admin).send({ config: { sign_up_enabled: false } })).status).toBe(200);
    const refused = await signUp();
    expect(refused.body.code).toBe('SIGN_UP_NOT_ENABLED');
  });

  it('a key that expires within a minute is never kept: refused as soon as it expires', async () => {
    const p = await createStackProject(t, 'expiring');
    await sql.query(`UPDATE stack_auth.api_key_sets SET expires_at = now() + interval '2 seconds' WHERE project_id = $1`, [p.projectId]);
    await within(2_000, async () => (await listUsers(p)).status === 200);
    const took = await within(6_000, async () => (await listUsers(p)).status === 401);
    expect(took).toBeLessThan(6_000);
  });

  it('a refused key is never kept: every refusal is read again', async () => {
    const p = await createStackProject(t, 'refused first');
    const wrong = { ...serverHeaders(p), 'x-stack-secret-server-key': 'ssk_not_this_one' };
    expect(await loadsDuring(async () => {
      for (let i = 0; i < 3; i++) expect((await listUsers(p, wrong)).status).toBe(401);
    })).toBe(3);
  });

  // Last: it empties every key set of this file's database.
  it('a TRUNCATE of the key sets (no row triggers fire) is heard too: the cached key is refused within moments', async () => {
    const p = await createStackProject(t, 'truncated');
    expect((await listUsers(p)).status).toBe(200);
    await sql.query('TRUNCATE stack_auth.api_key_sets');
    const took = await within(5_000, async () => (await listUsers(p)).status === 401);
    expect(took).toBeLessThan(5_000); // the cache's own limit is 30 s
  });
});
