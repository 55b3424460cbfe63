// `npm run worker` (dist/src/worker.js): the sync engine without HTTP, woken by SYNC_ENGINE=receive API processes.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { generateApiKeySecret } from '../../src/iam/api-key-secret.js';
import { cleanupServers, freePort, makeTempDir, spawnWorker, startServer, startWorker, type ServerProcess } from '../helpers/server-process.js';
import { createTestDatabase, dropTestDatabase, testAdminUrl } from '../helpers/test-db.js';
import type { TestApp } from '../helpers/test-app.js';
import { api } from '../helpers/fixtures.js';
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
import { providerApi, waitFor } from './receiver-helpers.js';

const METRICS_TOKEN = 'worker-spec-metrics-token-0123456789';

/** The value of an unlabelled Prometheus sample on a process's GET /metrics. */
async function metric(baseUrl: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function adminSql(database: string, sql: string): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: testAdminUrl(database) });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

async function listeners(database: string): Promise<number> {
  const c = new pg.Client({ connectionString: testAdminUrl(database) });
  await c.connect();
  try {
    const { rows } = await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'neon-auth-control-plane-sync-listen'`,
      [database],
    );
    return rows[0].n;
  } finally {
    await c.end();
  }
}

describe('sync worker process (npm run worker) with a SYNC_ENGINE=receive API process', () => {
  let db: { name: string; url: string };
  let env: Record<string, string>;
  let apiProcess: ServerProcess;
  let worker: ServerProcess;
  let t: TestApp;
  let project: AuthProject;
  let auth: EnabledAuth;

  beforeAll(async () => {
    db = await createTestDatabase();
    const port = await freePort();
    const adminKey = generateApiKeySecret();
    env = {
      DATABASE_URL: db.url,
      COMPUTE_DATABASE_URL: testAdminUrl(),
      SECRETS_KEY: randomBytes(32).toString('hex'),
      BOOTSTRAP_API_KEY: adminKey,
      BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      NEON_AUTH_RECONCILE_INTERVAL_SECONDS: '0',
      STACK_AUTH_WEBHOOK_POLL_SECONDS: '1',
      DATABASE_POOL_SIZE: '5',
      SYNC_MAX_ATTEMPTS: '1',
      METRICS_TOKEN,
    };
    apiProcess = await startServer({ ...env, PORT: String(port), DATA_DIR: makeTempDir(), SYNC_ENGINE: 'receive' });
    // The worker reads the same configuration (SYNC_ENGINE=receive included: it applies anyway).
    worker = await startWorker({ ...env, DATA_DIR: makeTempDir(), SYNC_ENGINE: 'receive' });
    // The spec helpers only need the HTTP base URL and the admin key.
    t = { baseUrl: apiProcess.baseUrl, apiUrl: `${apiProcess.baseUrl}/api/v2`, adminKey } as TestApp;
    project = await newAuthProject(t, 'sync worker');
    auth = await enableAuth(t, project.projectId, project.defaultBranchId, 'stack');
  }, 90_000);
  afterAll(async () => {
    await cleanupServers();
    if (db) await dropTestDatabase(db.name);
  });

  it('a provider user change reaches users_sync through the worker in well under a second; the API process applies nothing', async () => {
    expect(await listeners(db.name)).toBe(1); // the worker's LISTEN; the receive-only API process has none
    const provider = providerApi(t, auth);
    const lags: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const res = await provider.createUser({ primary_email: uniqueEmail('worker'), display_name: `Worker ${i}` }).expect(201);
      await waitFor(async () => (await usersSyncRow(project.uri, res.body.id as string))?.name === `Worker ${i}`, 5_000, 2);
      lags.push(Date.now() - started);
    }
    expect(Math.max(...lags)).toBeLessThan(1000);
    // Counted where the work was done: the API process received every event and applied none.
    expect(await metric(apiProcess.baseUrl, 'neon_auth_sync_events_received_total')).toBeGreaterThanOrEqual(3);
    expect(await metric(apiProcess.baseUrl, 'neon_auth_sync_events_applied_total')).toBe(0);
  });

  it('a LISTEN connection that drops is re-established, and events notified meanwhile are swept up', async () => {
    const killed = await adminSql(
      db.name,
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'neon-auth-control-plane-sync-listen'`,
    );
    expect(killed).toHaveLength(1);
    // Right after the drop (before the reconnect, at least 250 ms later): the notification finds no listener.
    const res = await providerApi(t, auth).createUser({ primary_email: uniqueEmail('worker-gap'), display_name: 'In the gap' }).expect(201);
    await waitFor(async () => (await usersSyncRow(project.uri, res.body.id as string))?.name === 'In the gap', 10_000, 10);
    await waitFor(async () => (await listeners(db.name)) === 1, 10_000, 50);
    expect(worker.logLines().some((l) => /LISTEN connection failed; reconnecting/.test(String(l.msg)))).toBe(true);
    // And the new connection wakes the worker at once again.
    const started = Date.now();
    const next = await providerApi(t, auth).createUser({ primary_email: uniqueEmail('worker-after'), display_name: 'After the gap' }).expect(201);
    await waitFor(async () => (await usersSyncRow(project.uri, next.body.id as string))?.name === 'After the gap', 5_000, 2);
    expect(Date.now() - started).toBeLessThan(1000);
  }, 30_000);

  it('a dead letter parked by the worker, replayed through the receive-only API process, is applied by the worker at once', async () => {
    const admin = api(t, t.adminKey);
    const path = `/projects/${project.projectId}/branches/${project.defaultBranchId}/auth/sync/dead_letters`;
    await ownerSql(project.uri, BREAK_USERS_SYNC);
    let id: string;
    try {
      id = (await providerApi(t, auth).createUser({ primary_email: uniqueEmail('worker-dead'), display_name: 'Parked' }).expect(201)).body.id as string;
      await waitFor(async () => ((await admin.get(path).expect(200)).body.dead_letters as { user_id: string }[]).some((l) => l.user_id === id), 10_000, 20);
    } finally {
      await ownerSql(project.uri, REPAIR_USERS_SYNC);
    }
    const started = Date.now();
    expect((await admin.post(`${path}/replay`).expect(200)).body).toEqual({ replayed: 1 });
    await waitFor(async () => (await usersSyncRow(project.uri, id))?.name === 'Parked', 5_000, 2);
    expect(Date.now() - started).toBeLessThan(1000); // the notify, not the minute sweep
    expect((await admin.get(path).expect(200)).body).toEqual({ dead_letters: [] });
  }, 30_000);

  it('serves /metrics (the sync engine\'s metrics, counted where the work is done) and /health on WORKER_PORT', async () => {
    const base = `http://127.0.0.1:${worker.port}`;
    expect(worker.port).toBeGreaterThan(0);
    expect(worker.port).not.toBe(apiProcess.port);
    // The worker applied what the API process received (earlier tests): its own counters and the shared gauges.
    expect(await metric(base, 'neon_auth_sync_events_applied_total')).toBeGreaterThanOrEqual(3);
    expect(await metric(base, 'neon_auth_sync_events_received_total')).toBe(0);
    expect(await metric(base, 'neon_auth_sync_queue_depth')).toBe(0);
    expect(await metric(base, 'neon_auth_sync_dead_letters')).toBe(0);
    const scrape = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await scrape.text();
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^neon_auth_sync_lag_seconds_count \d/m);

    // The server's rule: the metrics token, and nothing else, opens /metrics.
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789abc', `Bearer ${t.adminKey}`]) {
      const res = await fetch(`${base}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ request_id: expect.any(String), code: 'UNAUTHORIZED', message: 'send the metrics token as "Authorization: Bearer <METRICS_TOKEN>"' });
    }
    const ready = await fetch(`${base}/health`, { headers: { 'x-request-id': 'worker-ready-1' } });
    expect(ready.status).toBe(200);
    expect(ready.headers.get('x-request-id')).toBe('worker-ready-1');
    expect(await ready.json()).toMatchObject({ status: 'ok', details: { database: { status: 'up' } } });
    const live = await fetch(`${base}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ status: 'ok' });
    const unknown = await fetch(`${base}/api/v2/projects`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
  });

  it('without METRICS_TOKEN its /metrics is not served (404), as on the server; a bad or busy WORKER_PORT stops the start', async () => {
    const quiet = await startWorker({ ...env, METRICS_TOKEN: undefined, DATA_DIR: makeTempDir() });
    try {
      const base = `http://127.0.0.1:${quiet.port}`;
      expect((await fetch(`${base}/metrics`)).status).toBe(404);
      expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(404);
      expect((await fetch(`${base}/health`)).status).toBe(200);

      const busy = spawnWorker({ ...env, DATA_DIR: makeTempDir(), WORKER_PORT: String(quiet.port) });
      expect(await busy.waitForExit(30_000)).toEqual({ code: 1, signal: null });
      expect(busy.stdout).toMatch(new RegExp(`WORKER_PORT ${quiet.port} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      expect(await quiet.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }
    const bad = spawnWorker({ ...env, DATA_DIR: makeTempDir(), WORKER_PORT: 'metrics' });
    expect(await bad.waitForExit()).toEqual({ code: 78, signal: null });
    expect(bad.stderr).toMatch(/WORKER_PORT must be an integer between 0 and 65535/);
  }, 60_000);

  it('SIGTERM stops the worker with exit code 0; events stored meanwhile wait, and a new worker applies them', async () => {
    expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(worker.logLines().some((l) => l.msg === 'stopped')).toBe(true);
    const res = await providerApi(t, auth).createUser({ primary_email: uniqueEmail('worker-later'), display_name: 'While stopped' }).expect(201);
    const id = res.body.id as string;
    await new Promise((r) => setTimeout(r, 1500)); // delivered and stored by the API process, applied by nobody
    expect(await usersSyncRow(project.uri, id)).toBeUndefined();
    worker = await startWorker({ ...env, DATA_DIR: makeTempDir() });
    await waitFor(async () => (await usersSyncRow(project.uri, id))?.name === 'While stopped', 10_000, 10);
    expect(await worker.stop('SIGINT')).toEqual({ code: 0, signal: null });
  }, 30_000);

  it('exits 78 with a clear message without DATABASE_URL, or with SYNC_ENGINE=off', async () => {
    const noDb = spawnWorker({ DATA_DIR: makeTempDir() });
    expect(await noDb.waitForExit()).toEqual({ code: 78, signal: null });
    expect(noDb.stderr).toMatch(/npm run worker needs DATABASE_URL/);

    const off = spawnWorker({ ...env, DATA_DIR: makeTempDir(), SYNC_ENGINE: 'off' });
    expect(await off.waitForExit()).toEqual({ code: 78, signal: null });
    expect(off.stderr).toMatch(/SYNC_ENGINE=off/);

    const bad = spawnWorker({ ...env, DATA_DIR: makeTempDir(), SYNC_ENGINE: 'sometimes' });
    expect(await bad.waitForExit()).toEqual({ code: 78, signal: null });
    expect(bad.stderr).toMatch(/SYNC_ENGINE must be one of on, receive, off/);
  });
});
