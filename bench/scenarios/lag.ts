// Scenario 1: lag from a change to its row being visible in users_sync, open loop at fixed rates.
// Product: provider changes through the embedded provider's server API (sign-ups and display-name updates,
// 50/50). Baseline (a): signed webhooks straight to the naive handler (created and updated events, 50/50).
// The users the product run updates are seeded before the resync scenario (seedLagUsers), whose
// reconciliation brings them into users_sync. Every change carries a unique display name; a trigger NOTIFYs each written row and the lag is the NOTIFY's
// receipt minus the change's scheduled send time (open loop, so a slow server cannot hide its queueing).
import { randomUUID } from 'node:crypto';
import type { BenchContext } from '../context.js';
import { cpuMeter, NAIVE_PATH } from '../context.js';
import type { CpuShares } from '../cpu.js';
import { backlog, waitForDrain, type Backlog, type DrainResult } from '../drain.js';
import { closedLoop, evenly, openLoop, type HttpTarget, type PreparedRequest } from '../load.js';
import { VisibilityListener } from '../pg.js';
import { Deliveries } from '../product.js';
import { arrivalRate, summarize, type LatencySummary } from '../stats.js';
import { writesPerEvent, type WritesPerEvent } from '../writes.js';
import { sampled } from '../sampler.js';
import { seedProviderUsers } from './provider-users.js';

export interface LagResult {
  target: 'product' | 'naive';
  rate_per_s: number;
  /** Changes in the measured window (after the warm-up). */
  measured: number;
  /** Changes never seen in users_sync within the visibility timeout (measured window). */
  lost: number;
  /** Requests not answered 2xx (whole run), including those aborted. */
  failed: number;
  /** Requests still unanswered BENCH_VISIBILITY_TIMEOUT_MS after the last send, then aborted (queued ones never sent). */
  aborted: number;
  /** 2xx answers per second, from the first 2xx answer to the last (well below the rate: the target saturated). */
  answered_per_s: number | null;
  statuses: Record<string, number>;
  overall: LatencySummary;
  created: LatencySummary;
  updated: LatencySummary;
  /** Answer time of the change requests (from scheduled send), measured window. */
  response: LatencySummary;
  /** The generator's worst lateness against its schedule. */
  max_send_delay_ms: number;
  /** Write transactions and WAL bytes per change, server-wide (diagnostic; whole run incl. warm-up). */
  writes?: WritesPerEvent;
  /** Cores used per process while the changes were being sent (warm-up included). */
  cpu?: CpuShares;
  /** Product: where changes waited when the last one was sent (requests unanswered; webhooks undelivered; deliveries unapplied). */
  backlog_at_last_send?: { unanswered: number; outbox: number | null; inbox: number | null };
  /** Product: the wait for its backlog to drain before the next run (bounded by BENCH_DRAIN_TIMEOUT_MS). */
  drain?: DrainResult;
}

interface Change {
  kind: 'created' | 'updated';
  token: string;
  req: PreparedRequest;
}

/**
 * The naive baseline first, then the product: a product run the product cannot keep up with leaves a
 * backlog (changes still being delivered after the visibility timeout) that would load the machine.
 */
export async function lagScenarios(ctx: BenchContext, log: (s: string) => void): Promise<LagResult[]> {
  const results: LagResult[] = [];
  const naiveListener = await VisibilityListener.install(ctx.naive.url);
  try {
    for (const rate of ctx.config.lagRates) {
      log(`lag: naive baseline at ${rate}/s`);
      results.push(await naiveLag(ctx, naiveListener, rate));
    }
  } finally {
    await naiveListener.remove();
  }
  const productListener = await VisibilityListener.install(ctx.branch.branchDbUrl);
  try {
    for (const rate of ctx.config.lagRates) {
      log(`lag: product at ${rate}/s`);
      const result = await productLag(ctx, productListener, rate);
      // A rate beyond the product's capacity leaves webhooks and deliveries behind: the next run (and the next
      // scenario) starts once they are through, or after the bound.
      result.drain = await waitForDrain(ctx, ctx.config.drainTimeoutMs, productListener);
      if (!result.drain.drained || result.drain.ms > 2000) log(`lag: product at ${rate}/s: drain ${result.drain.drained ? 'took' : 'gave up after'} ${result.drain.ms} ms (left ${JSON.stringify(result.drain.left)})`);
      results.push(result);
    }
  } finally {
    await productListener.remove();
  }
  return results;
}

/** Seeds the provider users each product lag run updates (half its changes). */
export async function seedLagUsers(ctx: BenchContext): Promise<void> {
  for (const rate of ctx.config.lagRates) {
    const names = Array.from({ length: Math.ceil(total(ctx, rate) / 2) }, (_, i) => `pre-lag${rate}-${ctx.nonce}-${i}`);
    ctx.lagUsers.set(rate, await seedProviderUsers(ctx, names));
  }
}

function total(ctx: BenchContext, rate: number): number {
  return Math.round(rate * (ctx.config.warmupSeconds + ctx.config.lagSeconds));
}

async function productLag(ctx: BenchContext, listener: VisibilityListener, rate: number): Promise<LagResult> {
  const n = total(ctx, rate);
  const tag = `lag${rate}`;
  const existing = ctx.lagUsers.get(rate);
  if (!existing) throw new Error(`no seeded users for the ${rate}/s run`);
  const changes: Change[] = Array.from({ length: n }, (_, k) => {
    const token = `${tag}-${ctx.nonce}-${k}`;
    if (k % 2 === 0) {
      return {
        kind: 'created',
        token,
        req: ctx.product.provider(ctx.branch, 'POST', '/users', { primary_email: `${token}@bench.example`, display_name: token }),
      };
    }
    return { kind: 'updated', token, req: ctx.product.provider(ctx.branch, 'PATCH', `/users/${existing[(k - 1) / 2]}`, { display_name: token }) };
  });
  const sampledRun = await sampled(ctx.pg.url('postgres'), () => writesPerEvent(ctx, n, () => measure(ctx, listener, ctx.product.api, rate, changes, 'product', true)));
  const { result, writes } = sampledRun.result;
  // With BENCH_SAMPLE_QUERIES=1: what PostgreSQL was busy with during this rate (stderr, a diagnostic).
  if (sampledRun.queries) process.stderr.write(`lag ${rate}/s, busiest statements: ${JSON.stringify(sampledRun.queries, null, 1)}\n`);
  ctx.providerUsers += result.createdOk;
  return { ...result.lag, writes };
}

async function naiveLag(ctx: BenchContext, listener: VisibilityListener, rate: number): Promise<LagResult> {
  const n = total(ctx, rate);
  const tag = `naive${rate}`;
  const existing = Array.from({ length: Math.ceil(n / 2) }, () => randomUUID());
  const pre = existing.map((id, i) => ctx.deliveries.signed('user.created', ctx.deliveries.user(id, `pre-${tag}-${ctx.nonce}-${i}`)));
  const prefill = await closedLoop(ctx.naive.http, Deliveries.readdress(pre, NAIVE_PATH), ctx.config.setupConcurrency);
  if (prefill.failed > 0) throw new Error(`naive prefill: ${JSON.stringify(prefill.statuses)}`);
  const changes: Change[] = Array.from({ length: n }, (_, k) => {
    const token = `${tag}-${ctx.nonce}-${k}`;
    const created = k % 2 === 0;
    const user = ctx.deliveries.user(created ? randomUUID() : existing[(k - 1) / 2], token);
    const req = { ...ctx.deliveries.signed(created ? 'user.created' : 'user.updated', user), path: NAIVE_PATH };
    return { kind: created ? 'created' : 'updated', token, req };
  });
  return (await measure(ctx, listener, ctx.naive.http, rate, changes, 'naive')).lag;
}

async function measure(
  ctx: BenchContext,
  listener: VisibilityListener,
  target: HttpTarget,
  rate: number,
  changes: Change[],
  name: 'product' | 'naive',
  withBacklog = false,
): Promise<{ lag: LagResult; createdOk: number }> {
  const schedule = evenly(changes, rate, (c) => c.req);
  await ctx.pg.checkpoint(); // every run starts with nothing of earlier scenarios left to flush
  const meter = cpuMeter(ctx);
  let cpu: CpuShares | undefined;
  let atLastSend: Promise<LagResult['backlog_at_last_send']> | undefined;
  let answered = 0;
  // Answers are awaited for as long as a change may take to become visible after the last send, then the rest is
  // aborted: a rate far beyond the target's capacity ends in bounded time (aborted changes count as lost).
  const run = await openLoop(target, schedule, {
    answerTimeoutMs: ctx.config.visibilityTimeoutMs,
    onAnswer: () => answered++,
    onScheduleDone: () => {
      cpu = meter.stop();
      if (withBacklog) {
        const unanswered = schedule.length - answered;
        atLastSend = backlog(ctx).then((b: Backlog | null) => ({ unanswered, outbox: b?.outbox ?? null, inbox: b?.inbox ?? null }));
      }
    },
  });
  const warmupMs = ctx.config.warmupSeconds * 1000;
  const window = changes.map((c, k) => ({ c, k })).filter(({ k }) => schedule[k].atMs >= warmupMs);
  const lost = await listener.waitForAll(window.map(({ c }) => c.token), ctx.config.visibilityTimeoutMs);
  // A change never seen counts as infinitely late, so percentiles above the seen share read as null (n/a).
  const lagOf = (kind?: Change['kind']): number[] =>
    window
      .filter(({ c }) => kind === undefined || c.kind === kind)
      .map(({ c, k }) => (listener.seen.has(c.token) ? listener.seen.get(c.token)! - (run.origin + schedule[k].atMs) : Infinity));
  const createdOk = changes.filter((c, k) => c.kind === 'created' && run.status[k] >= 200 && run.status[k] < 300).length;
  return {
    createdOk,
    lag: {
      target: name,
      rate_per_s: rate,
      measured: window.length,
      lost,
      failed: run.failed,
      aborted: run.aborted,
      answered_per_s: arrivalRate(schedule.flatMap((x, k) => (run.status[k] >= 200 && run.status[k] < 300 ? [x.atMs + run.responseMs[k]] : []))),
      statuses: run.statuses,
      overall: summarize(lagOf()),
      created: summarize(lagOf('created')),
      updated: summarize(lagOf('updated')),
      response: summarize(window.map(({ k }) => run.responseMs[k])),
      max_send_delay_ms: Math.round(run.maxSendDelayMs * 10) / 10,
      cpu,
      backlog_at_last_send: await atLastSend,
    },
  };
}
