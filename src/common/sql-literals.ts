import pg from 'pg';

/**
 * Values written into SQL text, for the one place that needs it: a message of several statements (the simple query
 * protocol), which carries no parameters. It saves round trips on hot paths (`BEGIN; SELECT * FROM f(…)`, `…; COMMIT`).
 * Every value goes through one of these functions; none is written any other way.
 */

/** Sends a message of several statements and answers each one's result, in order (pg answers one result alone bare). */
export async function querySeveral<R extends pg.QueryResultRow = pg.QueryResultRow>(client: pg.ClientBase, text: string): Promise<pg.QueryResult<R>[]> {
  const results = (await client.query(text)) as unknown as pg.QueryResult<R> | pg.QueryResult<R>[];
  return Array.isArray(results) ? results : [results];
}

/** A text literal (PostgreSQL's own quoting rules; NUL, which text cannot hold, is dropped). */
export function textLiteral(value: string): string {
  return pg.escapeLiteral(value.replace(/\0/g, ''));
}

/** A text[] of the values (nulls kept). */
export function textArrayLiteral(values: (string | null)[]): string {
  return `ARRAY[${values.map((v) => (v === null ? 'NULL' : textLiteral(v))).join(',')}]::text[]`;
}

/** A bigint[] of ids given as decimal strings (digits only: anything else throws, never reaches SQL). */
export function bigintArrayLiteral(ids: string[]): string {
  for (const id of ids) if (!/^-?[0-9]{1,19}$/.test(id)) throw new Error(`not a bigint: ${JSON.stringify(id)}`);
  return `'{${ids.join(',')}}'::bigint[]`;
}

/** A boolean[]. */
export function booleanArrayLiteral(values: boolean[]): string {
  return `'{${values.map((v) => (v ? 't' : 'f')).join(',')}}'::boolean[]`;
}

/** A float8[] (finite numbers only: anything else throws). */
export function float8ArrayLiteral(values: number[]): string {
  for (const v of values) if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`not a finite number: ${String(v)}`);
  return `'{${values.map((v) => String(v)).join(',')}}'::float8[]`;
}
