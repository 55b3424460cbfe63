// Untimed setup: users in the embedded provider, by one of two seeders.
//  - 'api': POST /users of the provider's server API (each sign-up also sends a webhook the sync engine
//    applies). Realistic, but as fast as the provider creates and delivers.
//  - 'sql': rows cloned in one statement from a user the provider's API created (the template), with a
//    new id, display name, email and sign-up time each: no webhooks, so users_sync learns about them only
//    from a reconciliation. Depends on four column names of the provider's stack_auth.users table.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { BenchContext } from '../context.js';

const OVERRIDES: Record<string, string> = {
  id: 'x.id',
  display_name: 'x.name',
  primary_email: `x.name || '@bench.example'`,
  signed_up_at: 'clock_timestamp()',
};

/** Creates one provider user per name and answers their ids (in order). */
export async function seedProviderUsers(ctx: BenchContext, names: string[]): Promise<string[]> {
  const ids = ctx.config.seed === 'sql' ? await seedBySql(ctx, names) : await seedByApi(ctx, names);
  ctx.providerUsers += names.length;
  return ids;
}

async function seedByApi(ctx: BenchContext, names: string[]): Promise<string[]> {
  const ids = new Array<string>(names.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const i = next++;
      const user = await ctx.product.api.json<{ id: string }>(
        ctx.product.provider(ctx.branch, 'POST', '/users', { primary_email: `${names[i]}@bench.example`, display_name: names[i] }),
      );
      ids[i] = user.id;
    }
  };
  await Promise.all(Array.from({ length: Math.min(ctx.config.setupConcurrency, names.length) }, worker));
  return ids;
}

async function seedBySql(ctx: BenchContext, names: string[]): Promise<string[]> {
  const ids = names.map(() => randomUUID());
  await ctx.product.controlPlane(async (c) => {
    const { rows } = await c.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = 'stack_auth' AND table_name = 'users' ORDER BY ordinal_position`,
    );
    const columns = rows.map((r) => r.column_name);
    for (const required of Object.keys(OVERRIDES)) {
      if (!columns.includes(required)) throw new Error(`stack_auth.users has no column ${required}: use BENCH_SEED=api`);
    }
    const select = columns.map((col) => OVERRIDES[col] ?? `t.${pg.escapeIdentifier(col)}`);
    await c.query(
      `INSERT INTO stack_auth.users (${columns.map((col) => pg.escapeIdentifier(col)).join(', ')})
       SELECT ${select.join(', ')}
         FROM stack_auth.users t, unnest($2::uuid[], $3::text[]) AS x (id, name)
        WHERE t.id = $1`,
      [ctx.templateUserId, ids, names],
    );
  });
  return ids;
}
