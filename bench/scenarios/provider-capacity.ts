// Diagnostic (no target): how fast the embedded provider takes sign-ups through its server API (closed loop),
// and how fast those sign-ups reach users_sync through its webhooks and the sync engine. The product's lag
// can only be low at rates below both.
import { performance } from 'node:perf_hooks';
import { cpuMeter, type BenchContext } from '../context.js';
import type { CpuShares } from '../cpu.js';
import { closedLoop } from '../load.js';
import { perSecond, sleep } from '../stats.js';
import { writesPerEvent, type WritesPerEvent } from '../writes.js';

export interface ProviderCapacityResult {
  signups: number;
  concurrency: number;
  /** Sign-ups answered per second. */
  answered_per_s: number;
  /** Sign-ups in users_sync per second (from the first request to the last row), null if not all arrived. */
  synced_per_s: number | null;
  failed: number;
  writes: WritesPerEvent;
  /** Cores used per process from the first sign-up until the last reached users_sync. */
  cpu: CpuShares;
  /**
   * The same sign-ups (other users) with the provider project's webhook endpoint disabled first: the provider's API
   * and its database writes alone, no delivery, no sync engine. Their users never reach users_sync.
   */
  api_only: { answered_per_s: number; failed: number; cpu: CpuShares };
}

export async function providerCapacityScenario(ctx: BenchContext, log: (s: string) => void): Promise<ProviderCapacityResult> {
  const n = ctx.config.capacitySignups;
  const concurrency = ctx.config.setupConcurrency;
  log(`provider capacity: ${n} sign-ups, ${concurrency} concurrent`);
  const apiOnly = await apiOnlySignups(ctx, n, concurrency, log);
  const tag = `capacity-${ctx.nonce}-`;
  const requests = Array.from({ length: n }, (_, i) =>
    ctx.product.provider(ctx.branch, 'POST', '/users', { primary_email: `${tag}${i}@bench.example`, display_name: `${tag}${i}` }),
  );
  const { result, writes } = await writesPerEvent(ctx, n, async () => {
    const meter = cpuMeter(ctx);
    const started = performance.now();
    const loop = await closedLoop(ctx.product.api, requests, concurrency);
    let syncedMs: number | null = null;
    let last = -1;
    let progressAt = performance.now();
    for (;;) {
      const count = await ctx.productUsers.count('name LIKE $1', [`${tag}%`]);
      if (count >= n - loop.failed) {
        syncedMs = performance.now() - started;
        break;
      }
      if (count !== last) [last, progressAt] = [count, performance.now()];
      else if (performance.now() - progressAt > ctx.config.visibilityTimeoutMs) break;
      await sleep(50);
    }
    return { loop, syncedMs, cpu: meter.stop() };
  });
  ctx.providerUsers += n - result.loop.failed;
  return {
    signups: n,
    concurrency,
    answered_per_s: perSecond(n, result.loop.ms),
    synced_per_s: result.syncedMs === null ? null : perSecond(n - result.loop.failed, result.syncedMs),
    failed: result.loop.failed,
    writes,
    cpu: result.cpu,
    api_only: apiOnly,
  };
}

async function apiOnlySignups(ctx: BenchContext, n: number, concurrency: number, log: (s: string) => void): Promise<ProviderCapacityResult['api_only']> {
  log(`provider capacity: ${n} sign-ups with the webhook endpoint disabled (the provider's API alone)`);
  const tag = `capacity-api-${ctx.nonce}-`;
  const requests = Array.from({ length: n }, (_, i) =>
    ctx.product.provider(ctx.branch, 'POST', '/users', { primary_email: `${tag}${i}@bench.example`, display_name: `${tag}${i}` }),
  );
  const endpoints = (disabled: boolean) =>
    ctx.product.controlPlane((c) =>
      c.query(`UPDATE stack_auth.webhook_endpoints SET disabled_at = ${disabled ? 'now()' : 'NULL'} WHERE project_id = $1`, [ctx.branch.providerProjectId]),
    );
  await endpoints(true);
  try {
    const meter = cpuMeter(ctx);
    const loop = await closedLoop(ctx.product.api, requests, concurrency);
    return { answered_per_s: perSecond(n, loop.ms), failed: loop.failed, cpu: meter.stop() };
  } finally {
    await endpoints(false);
  }
}
