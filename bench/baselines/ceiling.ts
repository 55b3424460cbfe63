// Baseline (b): the raw ceiling. Batched INSERT ... ON CONFLICT straight into users_sync with `pg` on one
// connection (autocommit, `batch` rows per statement), statements built before timing.
import { performance } from 'node:perf_hooks';
import { withPgClient } from '../pg.js';

export interface CeilingResult {
  rows: number;
  batch: number;
  ms: number;
}

export async function rawUpsertCeiling(url: string, users: Record<string, unknown>[], batch: number): Promise<CeilingResult> {
  const statements: { text: string; values: unknown[] }[] = [];
  for (let i = 0; i < users.length; i += batch) {
    const slice = users.slice(i, i + batch);
    statements.push({
      text: `INSERT INTO neon_auth.users_sync (raw_json, updated_at)
             VALUES ${slice.map((_, k) => `($${2 * k + 1}::jsonb, $${2 * k + 2}::timestamptz)`).join(', ')}
             ON CONFLICT (id) DO UPDATE SET raw_json = EXCLUDED.raw_json, updated_at = EXCLUDED.updated_at`,
      values: slice.flatMap((u) => [JSON.stringify(u), new Date().toISOString()]),
    });
  }
  return withPgClient(url, async (client) => {
    const started = performance.now();
    for (const s of statements) await client.query(s);
    return { rows: users.length, batch, ms: performance.now() - started };
  });
}
