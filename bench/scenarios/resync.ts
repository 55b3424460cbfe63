// Scenario 4: resync. The provider holds every user (seeded untimed; with BENCH_SEED=api their webhooks are
// left to settle first), users_sync is truncated, then POST .../auth/sync starts a reconciliation; time
// until users_sync holds every user the provider has.
import { performance } from 'node:perf_hooks';
import { cpuMeter, type BenchContext } from '../context.js';
import type { CpuShares } from '../cpu.js';
import { MemoryWatch, type MemoryPeak } from '../memory.js';
import { sleep, until } from '../stats.js';
import { seedProviderUsers } from './provider-users.js';

export interface ResyncResult {
  /** Users seeded for this scenario. */
  seeded: number;
  seed: 'sql' | 'api';
  /** Provider users in total (what users_sync must hold). */
  provider_users: number;
  setup_ms: number;
  /** Until users_sync held every provider user. */
  visible_ms: number | null;
  /** Until POST .../auth/sync answered. */
  request_ms: number;
  status: number;
  answer: unknown;
  /** Cores used per process from the POST until users_sync was complete (or the request answered). */
  cpu: CpuShares;
  /** The product's RSS before, at its peak and at the end of the reconciliation. */
  memory: MemoryPeak;
}

const TIMEOUT_MS = 120_000;

export async function resyncScenario(ctx: BenchContext, log: (s: string) => void): Promise<ResyncResult> {
  const n = ctx.config.resyncUsers;
  const setupStarted = performance.now();
  log(`resync: seeding ${n} provider users (${ctx.config.seed}; untimed)`);
  await seedProviderUsers(ctx, Array.from({ length: n }, (_, i) => `resync-${ctx.nonce}-${i}`));
  if (ctx.config.seed === 'api') {
    log('resync: waiting for the webhooks to settle');
    const seeded = ctx.providerUsers - 1; // all but the template carry the nonce
    await until('every seeded user reaches users_sync', async () => (await ctx.productUsers.count('name LIKE $1', [`%${ctx.nonce}%`])) >= seeded, 1_800_000, 500);
    await until('the sync inbox is drained', () => inboxDrained(ctx), 120_000, 250);
    await sleep(500);
  }
  const setupMs = performance.now() - setupStarted;

  const expected = ctx.providerUsers;
  log(`resync: truncating users_sync and reconciling ${expected} provider users`);
  await ctx.productUsers.truncate();
  const memory = MemoryWatch.start(ctx.product.server.pid);
  const meter = cpuMeter(ctx);
  const started = performance.now();
  const { projectId, branchId } = ctx.branch;
  let answered = false;
  const request = ctx.product.api
    .send(ctx.product.neon('POST', `/projects/${projectId}/branches/${branchId}/auth/sync`), true)
    .then((a) => {
      answered = true;
      return { ...a, ms: performance.now() - started };
    });
  // Counted every 250 ms while the reconciliation runs (counting 100,000 rows more often would slow the
  // server being measured), and right after it answers.
  let visibleMs: number | null = null;
  while (performance.now() - started < TIMEOUT_MS) {
    const wasAnswered = answered;
    if ((await ctx.productUsers.count('deleted_at IS NULL')) >= expected) {
      visibleMs = performance.now() - started;
      break;
    }
    if (wasAnswered) break;
    await Promise.race([sleep(250), request]);
  }
  const cpu = meter.stop();
  const answer = await request;
  const peak = memory.stop();
  let body: unknown = answer.body;
  try {
    body = JSON.parse(answer.body);
  } catch {
    // keep the text
  }
  return {
    seeded: n,
    seed: ctx.config.seed,
    provider_users: expected,
    setup_ms: Math.round(setupMs),
    visible_ms: visibleMs === null ? null : Math.round(visibleMs),
    request_ms: Math.round(answer.ms),
    status: answer.status,
    answer: body,
    cpu,
    memory: peak,
  };
}

async function inboxDrained(ctx: BenchContext): Promise<boolean> {
  const { rows } = await ctx.product.controlPlane((c) =>
    c.query<{ n: string }>(`SELECT count(*) AS n FROM sync_inbox WHERE integration_id = $1 AND status = 'pending'`, [ctx.branch.integrationId]),
  );
  return Number(rows[0].n) === 0;
}
