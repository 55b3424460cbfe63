// Cluster-wide invalidation (issue 14): two server processes (replicas A and B) on ONE control-plane database.
// A change made through A (a Neon Auth disable; any write of an integration row) reaches what B cached before A
// answers; a replica that never acknowledges holds the answer up for INVALIDATION_ACK_TIMEOUT_MS at most; a replica
// whose LISTEN connection was lost forgets what it cached.
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { CLUSTER_EVENTS_CHANNEL, CLUSTER_LISTENER_PREFIX } from '../../src/common/cluster-events.js';
import { SecretsService } from '../../src/common/secrets.js';
import type { AppConfig } from '../../src/config/config.js';
import { generateApiKeySecret } from '../../src/iam/api-key-secret.js';
import { cleanupServers, freePort, startServer, type ServerProcess } from '../helpers/server-process.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/test-db.js';
import { signed, type Delivery } from '../sync/receiver-helpers.js';
import {
  converge,
  disableProviderWebhooks,
  integrationFromDb,
  postDelivery,
  projectWithAuth,
  replicaEnv,
  stack,
  stackServer,
  usersSyncRows,
} from '../sync/reliability-helpers.js';

/** The bound the replicas run with (lower than the 2 s default, to keep the silent-listener case short). */
const ACK_TIMEOUT_MS = 1500;

describe('cluster-wide invalidation: two replicas on one control-plane database', () => {
  let database: { name: string; url: string };
  let a: ServerProcess;
  let b: ServerProcess;
  const key = generateApiKeySecret();
  const secretsKey = randomBytes(32).toString('hex'); // replicas share it
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

  const replicaIdOf = (r: ServerProcess): string => {
    const line = r.logLines().find((l) => l.msg === 'cluster events: listening for invalidations');
    if (!line) throw new Error(`no listening line\n${r.tail()}`);
    return String(line.replicaId);
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    [a, b] = await Promise.all(
      [0, 1].map(async () => {
        const port = await freePort();
        // Each replica has its own PUBLIC_URL here (one host, two ports), and a Stack integration's provider is the
        // embedded one of the replica that enabled it: the other replica reaches it on 127.0.0.1 only when allowed.
        return startServer(replicaEnv({ databaseUrl: database.url, key, secretsKey, port }, { INVALIDATION_ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS), OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' }));
      }),
    );
    // Both listen (until then a replica caches nothing, which would make the cases below pass for the wrong reason).
    await Promise.all([a, b].map((r) => r.waitForLog(/^cluster events: listening for invalidations$/)));
  });
  afterAll(async () => {
    await cleanupServers();
    if (database) await dropTestDatabase(database.name);
  });

  /**
   * A project with Neon Auth enabled through A (the provider's own deliveries off, so the test's are the only
   * ones), and a helper that signs a user.created event of a real provider user for it.
   */
  async function integrationWithUsers(name: string, users: number) {
    const p = await projectWithAuth(a.baseUrl, key, name);
    expect(await disableProviderWebhooks(database.url, p.auth.auth_provider_project_id)).toBe(1);
    const integration = await integrationFromDb(database.url, secretsKey, p.projectId, p.branchId);
    const s = stackServer(a.baseUrl, p.auth);
    const created: Record<string, unknown>[] = [];
    for (let i = 0; i < users; i++) created.push(await stack.createUser(s, { primary_email: `${name}-${i}-${randomUUID().slice(0, 8)}@example.com` }));
    const userCreated = (user: Record<string, unknown>): Delivery => signed(integration.secret, { type: 'user.created', data: user });
    return { ...p, integration, users: created, userCreated };
  }

  /** B takes a delivery of the integration (so it has the integration cached), and applies it. */
  async function cachedOnB(t: Awaited<ReturnType<typeof integrationWithUsers>>): Promise<void> {
    const first = t.userCreated(t.users[0]);
    expect((await postDelivery(b.baseUrl, t.integration.id, first)).status).toBe(204);
    const branch = new pg.Client({ connectionString: t.uri });
    await branch.connect();
    try {
      await converge('the first event applied through B', async () => ((await usersSyncRows(branch)).has(String(t.users[0].id)) ? [] : ['not yet']), 10_000);
    } finally {
      await branch.end();
    }
    // The same delivery again just before the change: whatever its age, B's entry is fresh (well inside its 5 s).
    expect((await postDelivery(b.baseUrl, t.integration.id, first)).status).toBe(204);
  }

  async function disable(projectId: string, branchId: string): Promise<number> {
    const started = performance.now();
    const res = await fetch(`${a.baseUrl}/api/v2/projects/${projectId}/branches/${branchId}/auth`, { method: 'DELETE', headers });
    expect(res.status).toBe(200);
    return performance.now() - started;
  }

  /** After a moment for any applier to act: neither stored nor applied. */
  async function neverApplied(t: Awaited<ReturnType<typeof integrationWithUsers>>, userId: string): Promise<void> {
    await new Promise((r) => setTimeout(r, 1000));
    const cp = new pg.Client({ connectionString: database.url });
    const branch = new pg.Client({ connectionString: t.uri });
    await Promise.all([cp.connect(), branch.connect()]);
    try {
      const stored = await cp.query(`SELECT status FROM sync_inbox WHERE integration_id = $1 AND user_id = $2 AND status <> 'skipped'`, [t.integration.id, userId]);
      expect(stored.rows).toEqual([]);
      expect((await usersSyncRows(branch)).has(userId)).toBe(false);
    } finally {
      await Promise.all([cp.end(), branch.end()]);
    }
  }

  it('a disable through A: right after its 200, B refuses a correctly signed delivery of that integration', async () => {
    const t = await integrationWithUsers('invalidate-disable', 2);
    await cachedOnB(t);
    const ms = await disable(t.projectId, t.branchId);
    const late = await postDelivery(b.baseUrl, t.integration.id, t.userCreated(t.users[1]));
    expect(late.status).toBe(404);
    await neverApplied(t, String(t.users[1].id));
    expect(ms).toBeLessThan(ACK_TIMEOUT_MS); // both replicas confirmed: no wait for the bound
  });

  it('a listener that never acknowledges holds the disable up for INVALIDATION_ACK_TIMEOUT_MS at most, and is logged; B still refuses at once', async () => {
    const t = await integrationWithUsers('invalidate-silent', 2);
    await cachedOnB(t);
    // A process that LISTENs under a replica's name but never acknowledges (hung, or partitioned after connecting).
    const silentId = randomBytes(8).toString('hex');
    const silent = new pg.Client({ connectionString: database.url, application_name: `${CLUSTER_LISTENER_PREFIX}${silentId}` });
    await silent.connect();
    try {
      await silent.query(`LISTEN ${CLUSTER_EVENTS_CHANNEL}`);
      const ms = await disable(t.projectId, t.branchId);
      expect(ms).toBeGreaterThanOrEqual(ACK_TIMEOUT_MS - 50);
      expect(ms).toBeLessThan(ACK_TIMEOUT_MS + 4000);
      const late = await postDelivery(b.baseUrl, t.integration.id, t.userCreated(t.users[1]));
      expect(late.status).toBe(404);
      const warning = await a.waitForLog(/^cluster events: replicas did not confirm/, 5000);
      expect((warning.missing as { id: string }[]).map((m) => m.id)).toEqual([silentId]); // B and A itself confirmed
      await neverApplied(t, String(t.users[1].id));
    } finally {
      await silent.end();
    }
  });

  it('a replica whose LISTEN connection is lost forgets what it cached (a change made meanwhile is not missed)', async () => {
    const t = await integrationWithUsers('invalidate-lost', 2);
    await cachedOnB(t);
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      const listenerOfB = `${CLUSTER_LISTENER_PREFIX}${replicaIdOf(b)}`;
      const { rows } = await admin.query<{ ended: boolean }>(
        'SELECT pg_terminate_backend(pid, 5000) AS ended FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
        [listenerOfB],
      );
      expect(rows).toEqual([{ ended: true }]);
      await new Promise((r) => setTimeout(r, 100)); // B sees its connection end (it reconnects after 250 ms)
      // A change B cannot hear: written while its listener is gone, by no API (the table's trigger announces it).
      await admin.query('DELETE FROM neon_auth_integrations WHERE id = $1', [t.integration.id]);
      const late = await postDelivery(b.baseUrl, t.integration.id, t.userCreated(t.users[1]));
      expect(late.status).toBe(404);
      await neverApplied(t, String(t.users[1].id));
      // B listens again under the same name.
      await b.waitForLog(/^cluster events: the LISTEN connection failed/, 5000);
      await converge('B listening again', async () => {
        const again = await admin.query('SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1', [listenerOfB]);
        return again.rowCount === 1 ? [] : ['not yet'];
      }, 10_000);
    } finally {
      await admin.end();
    }
  });

  it('a project deleted through A (its integration deleted by the cascade, announced by the trigger): B takes no delivery of it a moment later, not after its 5 s cache', async () => {
    const t = await integrationWithUsers('invalidate-cascade', 2);
    await cachedOnB(t);
    const res = await fetch(`${a.baseUrl}/api/v2/projects/${t.projectId}`, { method: 'DELETE', headers });
    expect(res.status).toBe(200);
    // Project deletion does not wait for the replicas (only Neon Auth's enable and disable do): the event is on its way.
    await new Promise((r) => setTimeout(r, 250));
    const late = await postDelivery(b.baseUrl, t.integration.id, t.userCreated(t.users[1]));
    expect(late.status).toBe(404);
  });

  it('a new webhook signing secret written to the integration row (no API rotates it yet): B verifies with it a moment later, not after its 5 s cache', async () => {
    const t = await integrationWithUsers('invalidate-secret', 2);
    await cachedOnB(t);
    const rotated = `whsec_${randomBytes(24).toString('base64')}`;
    const secrets = new SecretsService({ secretsKey } as AppConfig, pino({ level: 'silent' }));
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      await admin.query('UPDATE neon_auth_integrations SET webhook_secret_encrypted = $1 WHERE id = $2', [
        secrets.encrypt(rotated, `neon_auth_integrations.webhook_secret:${t.integration.id}`),
        t.integration.id,
      ]);
    } finally {
      await admin.end();
    }
    await new Promise((r) => setTimeout(r, 250)); // the trigger's event is on its way (no API call waits for it here)
    const user = { type: 'user.created', data: t.users[1] };
    expect((await postDelivery(b.baseUrl, t.integration.id, signed(t.integration.secret, user))).status).toBe(401);
    expect((await postDelivery(b.baseUrl, t.integration.id, signed(rotated, user))).status).toBe(204);
  });

  it('a Better Auth setting changed through A applies on B before A answers: a trusted domain added is accepted there at once, removed refused at once', async () => {
    const created = await fetch(`${a.baseUrl}/api/v2/projects`, { method: 'POST', headers, body: JSON.stringify({ project: { name: 'replica settings' } }) });
    const project = (await created.json()) as { project: { id: string }; branch: { id: string } };
    const settings = `${a.baseUrl}/api/v2/projects/${project.project.id}/branches/${project.branch.id}/auth`;
    expect((await fetch(settings, { method: 'POST', headers, body: JSON.stringify({ auth_provider: 'better_auth' }) })).status).toBe(201);
    const onB = `${b.baseUrl}/neon-auth/${project.branch.id}/neondb/auth`;
    const origin = 'https://replica-app.example.com';
    let n = 0;
    const signUpOnB = async () =>
      (
        await fetch(`${onB}/sign-up/email`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin },
          body: JSON.stringify({ email: `replica-${Date.now()}-${n++}@example.com`, password: 'a good password', name: 'Replica' }),
        })
      ).status;
    const domains = (method: 'POST' | 'DELETE') =>
      fetch(`${settings}/domains`, {
        method,
        headers,
        body: JSON.stringify(method === 'POST' ? { domain: origin, auth_provider: 'better_auth' } : { auth_provider: 'better_auth', domains: [{ domain: origin }] }),
      });

    // B built its server from the old settings just now, so for the next second it would not look at the row again:
    // only the announcement of the change (before A answers) can make B follow at once.
    expect(await signUpOnB()).toBe(403);
    let started = performance.now();
    expect((await domains('POST')).status).toBe(201);
    expect(await signUpOnB()).toBe(200);
    expect(performance.now() - started).toBeLessThan(1000);

    started = performance.now();
    expect((await domains('DELETE')).status).toBe(200);
    expect(await signUpOnB()).toBe(403);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('stack settings changed through both replicas at once lose nothing (Stack has no compare-and-set: the change is locked per integration)', async () => {
    const p = await projectWithAuth(a.baseUrl, key, 'replica stack settings');
    const path = `/api/v2/projects/${p.projectId}/branches/${p.branchId}/auth/domains`;
    const domains = Array.from({ length: 40 }, (_, i) => `https://app-${i}.replicas.example.com`);
    const answers = await Promise.all(
      domains.map((domain, i) => fetch(`${(i % 2 === 0 ? a : b).baseUrl}${path}`, { method: 'POST', headers, body: JSON.stringify({ domain, auth_provider: 'stack' }) })),
    );
    expect(answers.map((r) => r.status)).toEqual(domains.map(() => 201));
    const listed = (await (await fetch(`${b.baseUrl}${path}`, { headers })).json()) as { domains: { domain: string }[] };
    expect(listed.domains.map((d) => d.domain).sort()).toEqual([...domains].sort());
  });

  it('an API key revoked through A authenticates nobody on B right after the answer (read per request, nothing cached)', async () => {
    const created = await fetch(`${a.baseUrl}/api/v2/api_keys`, { method: 'POST', headers, body: JSON.stringify({ key_name: 'revoke-me' }) });
    expect(created.status).toBe(200);
    const { id, key: secret } = (await created.json()) as { id: number; key: string };
    const me = () => fetch(`${b.baseUrl}/api/v2/auth`, { headers: { authorization: `Bearer ${secret}` } });
    expect((await me()).status).toBe(200);
    const revoked = await fetch(`${a.baseUrl}/api/v2/api_keys/${id}`, { method: 'DELETE', headers });
    expect(revoked.status).toBe(200);
    expect((await me()).status).toBe(401);
  });

  it('junk on the events channel (anyone with access to the database can NOTIFY) is ignored: no listener breaks, waits still complete', async () => {
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      const listeners = async () =>
        (
          await admin.query<{ application_name: string; pid: number }>(
            `SELECT application_name, pid FROM pg_stat_activity WHERE datname = current_database() AND left(application_name, length($1)) = $1 ORDER BY 1`,
            [CLUSTER_LISTENER_PREFIX],
          )
        ).rows;
      const before = await listeners();
      expect(before).toHaveLength(2);
      const junk = ['null', '{', '[1]', '"x"', '{}', '{"topic":"neon_auth_integration"}', '{"topic":1,"key":2}', '{"barrier":"zz","from":"not a replica"}', `{"barrier":"${'0'.repeat(24)}","from":"${'f'.repeat(16)}"}`];
      for (const payload of junk) await admin.query('SELECT pg_notify($1, $2)', [CLUSTER_EVENTS_CHANNEL, payload]);
      const ackChannel = `neon_auth_cluster_ack_${replicaIdOf(a)}`;
      for (const payload of ['', 'x', `${'0'.repeat(24)} nobody`]) await admin.query('SELECT pg_notify($1, $2)', [ackChannel, payload]);
      const t = await integrationWithUsers('invalidate-junk', 1);
      expect(await disable(t.projectId, t.branchId)).toBeLessThan(ACK_TIMEOUT_MS);
      expect(await listeners()).toEqual(before); // the same connections: none failed and reconnected
    } finally {
      await admin.end();
    }
  });

  it('each replica names its LISTEN connection after its replica id', async () => {
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ application_name: string }>(
        `SELECT application_name FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'neon-auth-cluster:%' ORDER BY 1`,
      );
      expect(rows.map((r) => r.application_name)).toEqual([a, b].map((r) => `${CLUSTER_LISTENER_PREFIX}${replicaIdOf(r)}`).sort());
    } finally {
      await admin.end();
    }
  });
});
