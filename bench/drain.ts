// Where changes wait inside the product, and waiting until nothing does: provider webhooks not yet delivered
// (stack_auth.webhook_outbox) and deliveries received but not yet applied (sync_inbox, pending). Read with SQL on
// the control plane (black box otherwise); when that query fails (the tables changed) the figures are null and the
// wait falls back to users_sync being quiet.
import { performance } from 'node:perf_hooks';
import type { BenchContext } from './context.js';
import type { VisibilityListener } from './pg.js';
import { sleep } from './stats.js';

export interface Backlog {
  /** Provider webhook deliveries not yet delivered (all endpoints). */
  outbox: number;
  /** Received deliveries not yet applied (the bench branch's integration). */
  inbox: number;
}

export async function backlog(ctx: BenchContext): Promise<Backlog | null> {
  try {
    return await ctx.product.controlPlane(async (c) => {
      const { rows } = await c.query<{ outbox: string; inbox: string }>(
        `SELECT (SELECT count(*) FROM stack_auth.webhook_outbox WHERE delivered_at IS NULL) AS outbox,
                (SELECT count(*) FROM sync_inbox WHERE integration_id = $1 AND status = 'pending') AS inbox`,
        [ctx.branch.integrationId],
      );
      return { outbox: Number(rows[0].outbox), inbox: Number(rows[0].inbox) };
    });
  } catch {
    return null;
  }
}

export interface DrainResult {
  /** Whether the product drained within the bound. */
  drained: boolean;
  /** How long the wait took. */
  ms: number;
  /** The backlog at the start of the wait, and what was left at its end (null: not readable). */
  before: Backlog | null;
  left: Backlog | null;
}

/**
 * Waits until the product has nothing left to deliver or apply (outbox and inbox empty) and, with a listener,
 * users_sync has been quiet for `quietMs`; gives up after `boundMs` (reported, not thrown: a product that falls far
 * behind must not stall the run, and the next scenario's figures say what the leftover cost).
 */
export async function waitForDrain(ctx: BenchContext, boundMs: number, listener?: VisibilityListener, quietMs = 1000): Promise<DrainResult> {
  const started = performance.now();
  const before = await backlog(ctx);
  let left = before;
  for (;;) {
    const quiet = listener === undefined || performance.now() - listener.lastNotificationAt >= quietMs;
    // Without the backlog query only the quiet of users_sync tells.
    const empty = left === null || (left.outbox === 0 && left.inbox === 0);
    if (quiet && empty) return { drained: true, ms: Math.round(performance.now() - started), before, left };
    if (performance.now() - started > boundMs) return { drained: false, ms: Math.round(performance.now() - started), before, left };
    await sleep(250);
    left = await backlog(ctx);
  }
}
