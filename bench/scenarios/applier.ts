// Scenario 3: the applier alone. Pending rows inserted straight into the control plane's sync_inbox (one
// transaction; columns of src/sync/sync-inbox.entity.ts), then one signed delivery kicks the applier for the integration; time from the commit until
// users_sync holds every row. Compared with baseline (b), the raw batched upsert on one connection.
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import type { BenchContext } from '../context.js';
import { rawUpsertCeiling } from '../baselines/ceiling.js';
import { perSecond } from '../stats.js';
import { sampled, type QueryShare } from '../sampler.js';
import { writesPerEvent, type WritesPerEvent } from '../writes.js';
import { timeUntilCount, userIdOf } from './burst.js';

export interface ApplierResult {
  rows: number;
  applied_ms: number | null;
  rows_per_s: number | null;
  /** Write transactions and WAL bytes per row, server-wide (diagnostic). */
  writes: WritesPerEvent;
  /** With BENCH_SAMPLE_QUERIES=1: what the server was busy with meanwhile. */
  queries?: QueryShare[];
  ceiling: { rows: number; batch: number; ms: number; rows_per_s: number };
}

const INSERT_CHUNK = 5_000;

export async function applierScenario(ctx: BenchContext, log: (s: string) => void): Promise<ApplierResult> {
  const n = ctx.config.applierRows;
  const users = Array.from({ length: n }, (_, i) => ctx.deliveries.user(randomUUID(), `applier-${ctx.nonce}-${i}`));

  log(`applier: raw ceiling (b), ${n} rows in batches of ${ctx.config.ceilingBatch}`);
  const ceilingUrl = await ctx.pg.createUsersSyncDatabase('bench_ceiling');
  const ceiling = await rawUpsertCeiling(ceilingUrl, users, ctx.config.ceilingBatch);

  log(`applier: ${n} pending inbox rows, then one kick`);
  await ctx.productUsers.truncate();
  const kick = ctx.deliveries.signed('user.created', ctx.deliveries.user(randomUUID(), `applier-kick-${ctx.nonce}`));
  const started = await ctx.product.controlPlane(async (c) => {
    // The receiver also stores the event's user id where the inbox has that column (newer schemas).
    const { rowCount } = await c.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'sync_inbox' AND column_name = 'user_id'`);
    const userColumn = rowCount ? ', user_id' : '';
    const userValue = rowCount ? ", p::jsonb #>> '{data,id}'" : '';
    await c.query('BEGIN');
    for (let i = 0; i < n; i += INSERT_CHUNK) {
      const slice = users.slice(i, i + INSERT_CHUNK);
      await c.query(
        `INSERT INTO sync_inbox (integration_id, message_id, event_type, payload${userColumn})
         SELECT $1, m, 'user.created', p::jsonb${userValue} FROM unnest($2::text[], $3::text[]) AS x (m, p)`,
        [
          ctx.branch.integrationId,
          slice.map((_, k) => `bench-applier-${ctx.nonce}-${i + k}`),
          slice.map((u) => JSON.stringify({ type: 'user.created', data: u })),
        ],
      );
    }
    await c.query('COMMIT');
    return performance.now();
  });
  const { result: sample, writes } = await writesPerEvent(ctx, n + 1, () =>
    sampled(ctx.pg.url('postgres'), async () => {
      const answer = await ctx.product.api.send({ ...kick, path: ctx.product.receiverPath(ctx.branch) });
      if (answer.status < 200 || answer.status >= 300) throw new Error(`applier kick answered ${answer.status}`);
      // The kick is the newest inbox row, so the last one applied.
      return timeUntilCount(ctx, n + 1, started, ctx.config.visibilityTimeoutMs, userIdOf(kick));
    }),
  );
  const ms = sample.result;
  return {
    rows: n,
    applied_ms: ms === null ? null : Math.round(ms),
    rows_per_s: ms === null ? null : perSecond(n + 1, ms),
    writes,
    queries: sample.queries,
    ceiling: { ...ceiling, ms: Math.round(ceiling.ms), rows_per_s: perSecond(ceiling.rows, ceiling.ms) },
  };
}
