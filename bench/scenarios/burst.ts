// Scenario 2: a burst of signed user.created deliveries of distinct users, closed loop at a fixed
// concurrency, to the product's receiver (time until every row is in users_sync), to baseline (a) (time
// until every request is answered, which for it means applied) and to baseline (c) (same requests).
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import type { BenchContext } from '../context.js';
import { BARE_PATH, cpuMeter, NAIVE_PATH } from '../context.js';
import type { CpuShares } from '../cpu.js';
import { MemoryWatch, type MemoryPeak } from '../memory.js';
import { closedLoop, type LoopResult, type PreparedRequest } from '../load.js';
import { Deliveries } from '../product.js';
import { perSecond, sleep } from '../stats.js';
import { sampled, type QueryShare } from '../sampler.js';
import { writesPerEvent, type WritesPerEvent } from '../writes.js';

export interface BurstRun {
  events: number;
  concurrency: number;
  /** Until every request was answered. */
  answered_ms: number;
  answered_per_s: number;
  /** Write transactions and WAL bytes per event, server-wide (diagnostic). */
  writes?: WritesPerEvent;
  /** With BENCH_SAMPLE_QUERIES=1 (product): what the server was busy with meanwhile. */
  queries?: QueryShare[];
  /** Until every event was in users_sync (product; for the naive handler the same as answered). */
  applied_ms: number | null;
  events_per_s: number | null;
  failed: number;
  statuses: Record<string, number>;
  /** Cores used per process during the run (until all applied, for the product). */
  cpu?: CpuShares;
  /** The product's RSS before, at its peak and at the end of the run (product run only). */
  memory?: MemoryPeak;
}

export interface BurstResult {
  product: BurstRun;
  naive: BurstRun;
  bare: BurstRun;
  /** Baseline (d): the bare route on node:http alone, the server the product's receiver runs on ahead of Express. */
  bareHttp: BurstRun;
}

export async function burstScenario(ctx: BenchContext, log: (s: string) => void): Promise<BurstResult> {
  const { burstEvents: n, burstConcurrency: c } = ctx.config;
  log(`burst: signing ${n} deliveries`);
  const requests = signedCreates(ctx, n, 'burst');

  log(`burst: bare route (c), ${n} requests x ${c} connections`);
  const bareMeter = cpuMeter(ctx);
  const bare = run(await closedLoop(ctx.bare.http, Deliveries.readdress(requests, BARE_PATH), c), n, c, false);
  bare.cpu = bareMeter.stop();

  log(`burst: bare node:http route (d), ${n} requests x ${c} connections`);
  const bareHttp = run(await closedLoop(ctx.bareHttp.http, Deliveries.readdress(requests, BARE_PATH), c), n, c, false);
  if (bareHttp.failed > 0) throw new Error(`bare node:http route: ${bareHttp.failed} requests failed`);

  log(`burst: naive handler (a)`);
  await ctx.naive.probe.truncate();
  const naiveMeter = cpuMeter(ctx);
  const naiveRun = await writesPerEvent(ctx, n, () => closedLoop(ctx.naive.http, Deliveries.readdress(requests, NAIVE_PATH), c));
  const naive = { ...run(naiveRun.result, n, c, true), writes: naiveRun.writes, cpu: naiveMeter.stop() };
  const naiveRows = await ctx.naive.probe.count();
  if (naiveRows !== n) throw new Error(`naive handler answered ${n} but users_sync has ${naiveRows} rows`);

  log(`burst: product receiver`);
  await ctx.productUsers.truncate();
  const productRun = await writesPerEvent(ctx, n, () =>
    sampled(ctx.pg.url('postgres'), async () => {
      const memory = MemoryWatch.start(ctx.product.server.pid);
      const meter = cpuMeter(ctx);
      const started = performance.now();
      const loop = closedLoop(ctx.product.api, requests, c);
      const appliedMs = await timeUntilCount(ctx, n, started, ctx.config.visibilityTimeoutMs, userIdOf(requests[n - 1]));
      const cpu = meter.stop();
      return { loop: await loop, appliedMs, cpu, memory: memory.stop() };
    }),
  );
  const { appliedMs, loop, cpu, memory } = productRun.result.result;
  const product = { ...run(loop, n, c, false), writes: productRun.writes, queries: productRun.result.queries, cpu, memory };
  product.applied_ms = appliedMs === null ? null : Math.round(appliedMs);
  product.events_per_s = appliedMs === null ? null : perSecond(n, appliedMs);
  return { product, naive, bare, bareHttp };
}

/** `n` signed user.created deliveries of new users to the product's receiver. */
export function signedCreates(ctx: BenchContext, n: number, tag: string): PreparedRequest[] {
  const path = ctx.product.receiverPath(ctx.branch);
  return Array.from({ length: n }, (_, i) => ({
    ...ctx.deliveries.signed('user.created', ctx.deliveries.user(randomUUID(), `${tag}-${ctx.nonce}-${i}`)),
    path,
  }));
}

/**
 * ms from `started` until the product's users_sync holds `n` rows; null when the count stops growing for
 * `stallMs` (however long the whole takes while rows keep arriving). Polls for `lastId` (the row expected
 * last; an index lookup every 10 ms) and counts only once it is there, or once a second to see progress:
 * counting a table of 100,000 rows every few ms would take a core from the server being measured.
 */
export async function timeUntilCount(ctx: BenchContext, n: number, started: number, stallMs: number, lastId: string): Promise<number | null> {
  let last = -1;
  let progressAt = performance.now();
  let countedAt = 0;
  for (;;) {
    const now = performance.now();
    const lastThere = await ctx.productUsers.has(lastId);
    if (lastThere || now - countedAt >= 1000) {
      countedAt = now;
      const count = await ctx.productUsers.count();
      if (count >= n) return performance.now() - started;
      if (count !== last) [last, progressAt] = [count, now];
      else if (now - progressAt > stallMs) return null;
    }
    await sleep(10);
  }
}

/** The user id a signed user.created delivery carries. */
export function userIdOf(req: PreparedRequest): string {
  return (JSON.parse(req.body!.toString('utf8')) as { data: { id: string } }).data.id;
}

function run(r: LoopResult, n: number, concurrency: number, answeredMeansApplied: boolean): BurstRun {
  return {
    events: n,
    concurrency,
    answered_ms: Math.round(r.ms),
    answered_per_s: perSecond(n, r.ms),
    applied_ms: answeredMeansApplied ? Math.round(r.ms) : null,
    events_per_s: answeredMeansApplied ? perSecond(n, r.ms) : null,
    failed: r.failed,
    statuses: r.statuses,
  };
}
