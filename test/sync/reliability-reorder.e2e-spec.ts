// Sync engine reliability (issue 5): 1,000 deliveries of real provider events, shuffled with a fixed seed,
// ~20% delivered twice (same svix id, signed again later), 16 in flight -> users_sync equals the provider.
import pg from 'pg';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { enableAuth, newAuthProject, ownerSql, type AuthProject, type EnabledAuth } from '../neon-auth/users-helpers.js';
import { inbox, integrationOf } from './receiver-helpers.js';
import {
  converge,
  disableProviderWebhooks,
  diffState,
  is2xx,
  makeProviderChanges,
  mapPool,
  postEvent,
  providerState,
  readWriteLog,
  repeatedStateProblems,
  seededRandom,
  shuffle,
  stack,
  stackServer,
  usersSyncRows,
  WRITE_LOG_SQL,
  writeLogProblems,
  type CapturedEvent,
} from './reliability-helpers.js';

const SEED = Number(process.env.RELIABILITY_SEED ?? 20261127);
const TOTAL_DELIVERIES = 1000;
const DUPLICATE_SHARE = 0.2;

describe(`sync reliability: reordered and duplicated deliveries (seed ${SEED})`, () => {
  let t: TestApp;
  let project: AuthProject;
  let auth: EnabledAuth;
  let integration: { id: string; secret: string };
  let client: pg.Client;

  beforeAll(async () => {
    t = await startTestApp({ STACK_AUTH_WEBHOOK_RETRY_DELAY_SECONDS: '1', STACK_AUTH_WEBHOOK_POLL_SECONDS: '1' });
    project = await newAuthProject(t, 'sync reliability reorder');
    auth = await enableAuth(t, project.projectId, project.defaultBranchId, 'stack');
    integration = await integrationOf(t, project.projectId, project.defaultBranchId);
    // The test's deliveries stand in for the provider's (the same events under their own message ids): its
    // own in-order deliveries would double the work of the change phase on a 2-core machine, and would write
    // every intermediate state a second time (under another message id), hiding a duplicate applied twice.
    expect(await disableProviderWebhooks(t.config.databaseUrl!, auth.auth_provider_project_id)).toBe(1);
    await ownerSql(project.uri, WRITE_LOG_SQL);
    client = new pg.Client({ connectionString: project.uri });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await t?.close();
  });

  it('1,000 deliveries in a seeded random order with ~20% duplicates, 16 in flight -> users_sync equals the provider', async () => {
    const ctx = `(seed ${SEED}; rerun with RELIABILITY_SEED=${SEED})`;
    const rand = seededRandom(SEED);
    const s = stackServer(t.baseUrl, auth);
    const distinct = Math.round(TOTAL_DELIVERIES / (1 + DUPLICATE_SHARE)); // 833
    const users = 80;
    const deletes = 16;
    let start = performance.now();
    const { events, userIds, deleted } = await makeProviderChanges(
      s,
      { users, updates: distinct - users - deletes, deletes, concurrency: 16, capture: 'response', tag: `ro${SEED}` },
      rand,
    );
    const changesMs = performance.now() - start;
    expect(events).toHaveLength(distinct);
    // Captured from the create/update answers: the provider's server user object, the very object its
    // webhook carries and GET /users/{id} answers (checked here on a sample; the final comparison below is
    // against GET-equivalent list items for every user).
    for (const e of shuffle(events.filter((x) => x.event.type !== 'user.deleted'), rand).slice(0, 3)) {
      const last = events.filter((x) => x.userId === e.userId && x.event.type !== 'user.deleted').pop()!;
      const now = await stack.getUser(s, e.userId);
      if (now) expect(now).toEqual(last.event.data);
    }

    // Each distinct event once, ~20% again (same svix id), all in one seeded random order.
    const duplicates = shuffle(events, rand).slice(0, TOTAL_DELIVERIES - distinct);
    const deliveries: CapturedEvent[] = shuffle([...events, ...duplicates], rand);
    expect(deliveries).toHaveLength(TOTAL_DELIVERIES);
    start = performance.now();
    const results = await mapPool(deliveries, 16, (e) => postEvent(t.baseUrl, integration.id, integration.secret, e));
    const deliverMs = performance.now() - start;
    const failed = results.map((r, i) => ({ r, e: deliveries[i] })).filter(({ r }) => !is2xx(r));
    expect(failed.map(({ r, e }) => `${e.messageId} ${e.event.type}: ${r.status} ${r.error ?? ''}`)).toEqual([]);

    // users_sync converges to the provider's state (live users equal, deleted ones soft-deleted).
    const expected = await providerState(s, userIds);
    expect(expected.gone).toEqual(deleted);
    start = performance.now();
    const convergedMs = await converge(
      'users_sync vs the provider',
      async () => diffState(await usersSyncRows(client), expected.live, expected.gone),
      15_000,
      ctx,
    );

    // The inbox holds one row per distinct message id, every one applied.
    const mine = new Set(events.map((e) => e.messageId));
    await converge(
      'inbox rows applied',
      async () => {
        const rows = (await inbox(t, integration.id)).filter((r) => mine.has(r.message_id));
        const problems = rows.filter((r) => r.status !== 'applied').map((r) => `${r.message_id}: ${r.status} (attempts ${r.attempts}, ${r.last_error})`);
        if (rows.length !== mine.size) problems.unshift(`${rows.length} inbox rows for ${mine.size} distinct message ids`);
        return problems;
      },
      15_000,
      ctx,
    );
    const all = await inbox(t, integration.id);
    expect(all).toHaveLength(mine.size);
    expect(all.filter((r) => r.status === 'dead' || r.status === 'pending')).toEqual([]);
    // Still equal once everything is applied (and confirmed).
    expect(diffState(await usersSyncRows(client), expected.live, expected.gone)).toEqual([]);
    // Applied once in effect: per user the versions written only increase, and no state other than the
    // provider's current one was written twice (each is carried by one message id, delivered up to twice).
    const log = await readWriteLog(client);
    expect(writeLogProblems(log)).toEqual([]);
    expect(repeatedStateProblems(log, expected.live)).toEqual([]);
    console.log(
      `reliability reorder ${ctx}: ${distinct} distinct events (${users} users, ${deletes} deleted), ${TOTAL_DELIVERIES} deliveries; ` +
        `changes ${changesMs.toFixed(0)} ms, deliveries ${deliverMs.toFixed(0)} ms, converged ${convergedMs} ms after the last answer ` +
        `(${(performance.now() - start).toFixed(0)} ms incl. checks); ${log.length} writes to users_sync`,
    );
  }, 120_000);
});
