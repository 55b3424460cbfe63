// Sync engine reliability (issue 5): the server (a real child process of dist/src/main.js) is killed with
// SIGKILL during a burst of signed deliveries, then restarted on the same control-plane database; the
// "provider" redelivers what got no 2xx (same svix id) and some of what did -> every row converges, every
// acknowledged event was durable, and no event is applied twice in effect.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { generateApiKeySecret } from '../../src/iam/api-key-secret.js';
import { cleanupServers, freePort, startServer, type ServerProcess } from '../helpers/server-process.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/test-db.js';
import { ownerSql } from '../neon-auth/users-helpers.js';
import {
  converge,
  diffState,
  disableProviderWebhooks,
  integrationFromDb,
  is2xx,
  jsonEqual,
  makeProviderChanges,
  mapPool,
  postEvent,
  projectWithAuth,
  providerState,
  readWriteLog,
  replicaEnv,
  repeatedStateProblems,
  seededRandom,
  shuffle,
  stackServer,
  usersSyncRows,
  WRITE_LOG_SQL,
  writeLogProblems,
  type CapturedEvent,
} from './reliability-helpers.js';

const SEED = Number(process.env.RELIABILITY_SEED ?? 9);
const USERS = 200;
const EVENTS = 2000;
const DELETES = 10;
/** SIGKILL once this share of the events has been acknowledged. */
const KILL_AT = 0.4;

describe(`sync reliability: SIGKILL during a burst, then restart (seed ${SEED})`, () => {
  let database: { name: string; url: string };
  let env: Record<string, string>;
  let server: ServerProcess;
  const key = generateApiKeySecret();
  const secretsKey = randomBytes(32).toString('hex');

  beforeAll(async () => {
    database = await createTestDatabase();
    const port = await freePort();
    // The same port on restart: PUBLIC_URL (the provider's base URL) names it.
    env = replicaEnv({ databaseUrl: database.url, key, secretsKey, port }, { SYNC_RETRY_DELAY_SECONDS: '1', SYNC_POLL_SECONDS: '1' });
    server = await startServer(env);
  });
  afterAll(async () => {
    await cleanupServers();
    if (database) await dropTestDatabase(database.name);
  });

  it('2,000 events over 200 users: SIGKILL mid-burst, restart, redeliver -> converged, acknowledged = durable, applied once in effect', async () => {
    const ctx = `(seed ${SEED}; rerun with RELIABILITY_SEED=${SEED})`;
    const rand = seededRandom(SEED);
    const p = await projectWithAuth(server.baseUrl, key, 'sync sigkill');
    // The test's deliveries are the only ones (the provider's own would race them to the same state).
    expect(await disableProviderWebhooks(database.url, p.auth.auth_provider_project_id)).toBe(1);
    const integration = await integrationFromDb(database.url, secretsKey, p.projectId, p.branchId);
    await ownerSql(p.uri, WRITE_LOG_SQL);
    const s = stackServer(server.baseUrl, p.auth);

    let t0 = performance.now();
    const { events, userIds, deleted } = await makeProviderChanges(
      s,
      { users: USERS, updates: EVENTS - USERS - DELETES, deletes: DELETES, concurrency: 16, capture: 'response', tag: `kill${SEED}` },
      rand,
    );
    const changesMs = performance.now() - t0;
    expect(events).toHaveLength(EVENTS);
    const chains = new Map<string, CapturedEvent[]>();
    for (const e of events) chains.set(e.userId, [...(chains.get(e.userId) ?? []), e]);

    // The burst: each user's events in order (the next only after a 2xx, as the provider sends them),
    // 32 users at a time; SIGKILL once KILL_AT of the events are acknowledged.
    const acked = new Set<string>();
    const sentUnacked = new Set<string>();
    let killedAt = -1;
    t0 = performance.now();
    await mapPool(shuffle([...chains.keys()], rand), 32, async (userId) => {
      for (const e of chains.get(userId)!) {
        if (killedAt >= 0) return;
        const r = await postEvent(server.baseUrl, integration.id, integration.secret, e, 10_000);
        if (!is2xx(r)) {
          sentUnacked.add(e.messageId);
          return; // the provider retries this one later, and sends nothing newer for the user meanwhile
        }
        acked.add(e.messageId);
        if (killedAt < 0 && acked.size >= EVENTS * KILL_AT) {
          killedAt = acked.size;
          server.signal('SIGKILL');
        }
      }
    });
    const burstMs = performance.now() - t0;
    expect(await server.waitForExit()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(killedAt).toBeGreaterThan(0);

    // Acknowledged means durable: every 2xx'd event is in the inbox although the process died.
    const stored = async () => {
      const c = new pg.Client({ connectionString: database.url });
      await c.connect();
      try {
        return (
          await c.query<{ message_id: string; status: string; attempts: number; last_error: string | null }>(
            'SELECT message_id, status, attempts, last_error FROM sync_inbox WHERE integration_id = $1',
            [integration.id],
          )
        ).rows;
      } finally {
        await c.end();
      }
    };
    const afterKill = await stored();
    const storedIds = new Set(afterKill.map((r) => r.message_id));
    expect([...acked].filter((id) => !storedIds.has(id))).toEqual([]);
    const pendingAfterKill = afterKill.filter((r) => r.status === 'pending').length;
    const storedUnacked = [...sentUnacked].filter((id) => storedIds.has(id)).length;

    // Restart on the same database; the provider redelivers every event without a 2xx (same svix id, new
    // signature), each user's in order, plus ~15% of the acknowledged ones (lost 2xx answers), concurrently.
    t0 = performance.now();
    server = await startServer(env);
    const restartMs = performance.now() - t0;
    // Recovery without any new delivery: what was durable but not applied when the process died is applied
    // by the restarted server on its own (startup sweep / queue).
    const recoveredMs = await converge(
      'rows stored before the kill, applied after the restart without new deliveries',
      async () => {
        const rows = await stored();
        return rows.filter((r) => r.status !== 'applied').map((r) => `${r.message_id}: ${r.status} (attempts ${r.attempts}, ${r.last_error})`);
      },
      15_000,
      ctx,
    );
    const redeliverAcked = shuffle([...acked], rand).slice(0, Math.round(acked.size * 0.15));
    const byId = new Map(events.map((e) => [e.messageId, e]));
    t0 = performance.now();
    const failures: string[] = [];
    await Promise.all([
      mapPool([...chains.values()], 32, async (chain) => {
        for (const e of chain.filter((x) => !acked.has(x.messageId))) {
          const r = await postEvent(server.baseUrl, integration.id, integration.secret, e);
          if (!is2xx(r)) failures.push(`${e.messageId}: ${r.status} ${r.error ?? ''}`);
        }
      }),
      mapPool(redeliverAcked, 8, async (id) => {
        const r = await postEvent(server.baseUrl, integration.id, integration.secret, byId.get(id)!);
        if (!is2xx(r)) failures.push(`${id} (redelivery of an acknowledged event): ${r.status} ${r.error ?? ''}`);
      }),
    ]);
    const redeliverMs = performance.now() - t0;
    expect(failures).toEqual([]);

    // Every row converges to the provider's state (= each user's last event).
    const expected = await providerState(s, userIds);
    expect(expected.gone).toEqual(deleted);
    for (const [id, chain] of chains) {
      const last = chain[chain.length - 1];
      if (last.event.type !== 'user.deleted') expect(jsonEqual(expected.live.get(id), last.event.data)).toBe(true);
    }
    const client = new pg.Client({ connectionString: p.uri });
    await client.connect();
    try {
      t0 = performance.now();
      const convergedMs = await converge('users_sync after the restart', async () => diffState(await usersSyncRows(client), expected.live, expected.gone), 20_000, ctx);

      // Every event is in the inbox exactly once, applied once.
      await converge(
        'inbox after the restart',
        async () => {
          const rows = await stored();
          const problems = rows.filter((r) => r.status !== 'applied').map((r) => `${r.message_id}: ${r.status} (attempts ${r.attempts}, ${r.last_error})`);
          if (rows.length !== EVENTS) problems.unshift(`${rows.length} inbox rows for ${EVENTS} events`);
          if (new Set(rows.map((r) => r.message_id)).size !== rows.length) problems.unshift('a message id is stored twice');
          const ids = new Set(rows.map((r) => r.message_id));
          const missing = events.filter((e) => !ids.has(e.messageId));
          if (missing.length > 0) problems.unshift(`${missing.length} events missing from the inbox`);
          return problems;
        },
        10_000,
        ctx,
      );
      const rows = await stored();
      const attempts: Record<string, number> = {};
      for (const r of rows) attempts[r.attempts] = (attempts[r.attempts] ?? 0) + 1;
      expect(attempts).toEqual({ 1: EVENTS });

      // Applied once in effect, as users_sync shows it: per user, the versions written only ever increase
      // (a state applied twice would write its version again; an older state over a newer one would go
      // back), and everything written is one of the user's real states (or the deletion's tombstone).
      const log = await readWriteLog(client);
      expect(writeLogProblems(log)).toEqual([]);
      expect(repeatedStateProblems(log, expected.live)).toEqual([]);
      const foreign = log.filter((w) => {
        const chain = chains.get(w.id);
        if (!chain) return true;
        if (w.deleted_at !== null) return false; // a deletion keeps the last state (or a tombstone)
        return !chain.some((e) => e.event.type !== 'user.deleted' && jsonEqual(e.event.data, w.raw_json));
      });
      expect(foreign.map((w) => `${w.id}@${w.updated_us}`)).toEqual([]);
      console.log(
        `sigkill ${ctx}: changes ${changesMs.toFixed(0)} ms; burst ${burstMs.toFixed(0)} ms, killed at ${killedAt} acknowledged ` +
          `(${sentUnacked.size} sent without a 2xx, ${storedUnacked} of them stored anyway; ${pendingAfterKill} stored rows still pending); ` +
          `restart ${restartMs.toFixed(0)} ms, leftovers applied ${recoveredMs} ms after it; redelivered ${EVENTS - acked.size} unacknowledged + ${redeliverAcked.length} acknowledged in ${redeliverMs.toFixed(0)} ms; ` +
          `converged ${convergedMs} ms after; ${log.length} writes to users_sync (${(performance.now() - t0).toFixed(0)} ms incl. checks)`,
      );
    } finally {
      await client.end();
    }
  }, 150_000);

  // Out-of-order deliveries are applied with their arrival versions and settled by a confirmation with the
  // provider about 250 ms later. A SIGKILL in between must not lose it: the requests are durable
  // (sync_confirmations, written with the applied rows) and a start schedules every one left.
  it('out-of-order deliveries applied, SIGKILL before their confirmation -> rows still converge after the restart', async () => {
    const ctx = `(seed ${SEED}; rerun with RELIABILITY_SEED=${SEED})`;
    if (!server.running) server = await startServer(env);
    const p = await projectWithAuth(server.baseUrl, key, 'sync sigkill reorder');
    expect(await disableProviderWebhooks(database.url, p.auth.auth_provider_project_id)).toBe(1);
    const integration = await integrationFromDb(database.url, secretsKey, p.projectId, p.branchId);
    const s = stackServer(server.baseUrl, p.auth);
    const { events, userIds } = await makeProviderChanges(
      s,
      { users: 30, updates: 90, deletes: 0, concurrency: 16, capture: 'response', tag: `killro${SEED}` },
      seededRandom(SEED + 1),
    );
    const chains = new Map<string, CapturedEvent[]>();
    for (const e of events) chains.set(e.userId, [...(chains.get(e.userId) ?? []), e]);
    const expected = await providerState(s, userIds);

    const cp = new pg.Client({ connectionString: database.url });
    const client = new pg.Client({ connectionString: p.uri });
    await Promise.all([cp.connect(), client.connect()]);
    try {
      // Each user's events newest first (retries can bring older events after newer ones), all acknowledged.
      const failures: string[] = [];
      await mapPool([...chains.values()], 30, async (chain) => {
        for (const e of [...chain].reverse()) {
          const r = await postEvent(server.baseUrl, integration.id, integration.secret, e);
          if (!is2xx(r)) failures.push(`${e.messageId}: ${r.status} ${r.error ?? ''}`);
        }
      });
      expect(failures).toEqual([]);
      // As soon as every event is applied (the confirmations of reordered users are due ~250 ms later), SIGKILL.
      await converge(
        'reordered events applied',
        async () => {
          const { rows } = await cp.query<{ n: number }>(`SELECT count(*)::int AS n FROM sync_inbox WHERE integration_id = $1 AND status = 'applied'`, [integration.id]);
          return rows[0].n === events.length ? [] : [`${rows[0].n} of ${events.length} applied`];
        },
        10_000,
        ctx,
        5,
      );
      server.signal('SIGKILL');
      expect(await server.waitForExit()).toEqual({ code: null, signal: 'SIGKILL' });
      const staleAtKill = diffState(await usersSyncRows(client), expected.live, expected.gone);
      console.log(`sigkill reorder ${ctx}: ${staleAtKill.length} of ${userIds.length} rows stale at the kill`);

      server = await startServer(env);
      const convergedMs = await converge(
        `users_sync after the restart (${staleAtKill.length} rows were stale when the server was killed)`,
        async () => diffState(await usersSyncRows(client), expected.live, expected.gone),
        10_000,
        ctx,
      );
      console.log(`sigkill reorder ${ctx}: ${events.length} events newest first; converged ${convergedMs} ms after the restart`);
    } finally {
      await Promise.all([cp.end(), client.end()]);
    }
  }, 90_000);
});
