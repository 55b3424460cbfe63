// Diagnostic: write transactions (each one a commit, so a WAL flush) and WAL bytes per event, server-wide.
// Read from transaction ids and the WAL position, so they count at once; the bench's own writes are in them
// (a scenario's setup is outside), and so are background writers (pg-boss maintenance), which are small.
import type { BenchContext } from './context.js';
import { round } from './stats.js';

export interface WritesPerEvent {
  write_transactions: number | null;
  wal_bytes: number | null;
}

export async function writesPerEvent<T>(ctx: BenchContext, events: number, fn: () => Promise<T>): Promise<{ result: T; writes: WritesPerEvent }> {
  const before = await ctx.pg.writeCounters();
  const result = await fn();
  const after = await ctx.pg.writeCounters();
  // Reading the counters takes one xid each time; not the events'.
  return {
    result,
    writes: {
      write_transactions: round((after.xid - before.xid - 1) / events, 2),
      wal_bytes: round((after.walBytes - before.walBytes) / events, 0),
    },
  };
}
