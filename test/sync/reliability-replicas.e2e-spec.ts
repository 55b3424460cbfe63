// Sync engine reliability (issue 5): two server processes (replicas) on ONE control-plane database; every
// event of one integration is delivered to both (same svix id), at once or one after the other, alternating
// -> each message is stored once and applied once (status applied, attempts 1), users_sync is correct.
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

const SEED = Number(process.env.RELIABILITY_SEED ?? 42);
const USERS = 100;
const EVENTS = 500;
const DELETES = 10;

describe(`sync reliability: two replicas on one control-plane database (seed ${SEED})`, () => {
  let database: { name: string; url: string };
  let replicas: ServerProcess[] = [];
  const key = generateApiKeySecret();
  const secretsKey = randomBytes(32).toString('hex'); // replicas share it

  beforeAll(async () => {
    database = await createTestDatabase();
    replicas = await Promise.all(
      [0, 1].map(async () => {
        const port = await freePort();
        return startServer(replicaEnv({ databaseUrl: database.url, key, secretsKey, port }, { SYNC_RETRY_DELAY_SECONDS: '1', SYNC_POLL_SECONDS: '1' }));
      }),
    );
  });
  afterAll(async () => {
    await cleanupServers();
    if (database) await dropTestDatabase(database.name);
  });

  it('every event delivered to both replicas (same svix id) -> stored once, applied once, users_sync equals the provider', async () => {
    const ctx = `(seed ${SEED}; rerun with RELIABILITY_SEED=${SEED})`;
    const rand = seededRandom(SEED);
    const [a, b] = replicas;
    const p = await projectWithAuth(a.baseUrl, key, 'sync replicas');
    expect(await disableProviderWebhooks(database.url, p.auth.auth_provider_project_id)).toBe(1);
    const integration = await integrationFromDb(database.url, secretsKey, p.projectId, p.branchId);
    await ownerSql(p.uri, WRITE_LOG_SQL);
    // The provider's changes go through either replica (its state is in the shared database too).
    const { events, userIds, deleted } = await makeProviderChanges(
      stackServer(b.baseUrl, p.auth),
      { users: USERS, updates: EVENTS - USERS - DELETES, deletes: DELETES, concurrency: 16, capture: 'response', tag: `rep${SEED}` },
      rand,
    );
    expect(events).toHaveLength(EVENTS);
    const chains = new Map<string, CapturedEvent[]>();
    for (const e of events) chains.set(e.userId, [...(chains.get(e.userId) ?? []), e]);

    // Each user's events in order; each event to both replicas: at once, or to one and then (after its 2xx)
    // to the other, the first one alternating.
    const failures: string[] = [];
    const send = async (r: ServerProcess, e: CapturedEvent) => {
      const res = await postEvent(r.baseUrl, integration.id, integration.secret, e);
      if (!is2xx(res)) failures.push(`${e.messageId} to replica ${r === a ? 'A' : 'B'}: ${res.status} ${res.error ?? ''}`);
    };
    let n = 0;
    const t0 = performance.now();
    await mapPool(shuffle([...chains.keys()], rand), 16, async (userId) => {
      for (const e of chains.get(userId)!) {
        const mode = n++ % 3;
        if (mode === 0) await Promise.all([send(a, e), send(b, e)]);
        else if (mode === 1) {
          await send(a, e);
          await send(b, e);
        } else {
          await send(b, e);
          await send(a, e);
        }
      }
    });
    const deliverMs = performance.now() - t0;
    expect(failures).toEqual([]);

    const expected = await providerState(stackServer(a.baseUrl, p.auth), userIds);
    expect(expected.gone).toEqual(deleted);
    const client = new pg.Client({ connectionString: p.uri });
    const cp = new pg.Client({ connectionString: database.url });
    await Promise.all([client.connect(), cp.connect()]);
    try {
      const convergedMs = await converge('users_sync with two replicas', async () => diffState(await usersSyncRows(client), expected.live, expected.gone), 20_000, ctx);
      const inboxRows = async () =>
        (
          await cp.query<{ message_id: string; status: string; attempts: number; last_error: string | null }>(
            'SELECT message_id, status, attempts, last_error FROM sync_inbox WHERE integration_id = $1',
            [integration.id],
          )
        ).rows;
      await converge(
        'inbox with two replicas',
        async () => {
          const rows = await inboxRows();
          const problems = rows.filter((r) => r.status !== 'applied').map((r) => `${r.message_id}: ${r.status} (attempts ${r.attempts}, ${r.last_error})`);
          if (rows.length !== EVENTS) problems.unshift(`${rows.length} inbox rows for ${EVENTS} events`);
          return problems;
        },
        10_000,
        ctx,
      );
      const rows = await inboxRows();
      expect(new Set(rows.map((r) => r.message_id))).toEqual(new Set(events.map((e) => e.messageId)));
      const attempts: Record<string, number> = {};
      for (const r of rows) attempts[r.attempts] = (attempts[r.attempts] ?? 0) + 1;
      expect(attempts).toEqual({ 1: EVENTS });
      const log = await readWriteLog(client);
      expect(writeLogProblems(log)).toEqual([]);
      expect(repeatedStateProblems(log, expected.live)).toEqual([]);
      // Both replicas took deliveries and stayed up.
      for (const r of replicas) expect(r.running).toBe(true);
      console.log(
        `replicas ${ctx}: ${EVENTS} events x 2 replicas delivered in ${deliverMs.toFixed(0)} ms; converged ${convergedMs} ms after; ${log.length} writes to users_sync`,
      );
    } finally {
      await Promise.all([client.end(), cp.end()]);
    }
  }, 120_000);
});
