import type pg from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';

/**
 * The pg pool under the control-plane DataSource. Hot paths query it directly: named (prepared) statements,
 * raw rows mapped by hand, none of TypeORM's query building or entity hydration, one pool for the whole API.
 * Only valid once the DataSource is initialised (Nest has done so before any request is served).
 */
export function controlPlanePool(dataSource: DataSource): pg.Pool {
  const pool = (dataSource.driver as PostgresDriver).master as pg.Pool | undefined;
  if (!pool) throw new Error('the control-plane DataSource is not initialised');
  return pool;
}

/** A named statement: PostgreSQL parses and plans it once per connection, later executions send only the values. */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

/** Runs a prepared statement on `on` (a pool or a client inside a transaction) and answers its rows. */
export async function runPrepared<R extends pg.QueryResultRow>(on: pg.Pool | pg.PoolClient, statement: PreparedStatement, values: unknown[]): Promise<R[]> {
  const result = await on.query<R>({ name: statement.name, text: statement.text, values });
  return result.rows;
}

/**
 * Runs `fn` in a transaction on a client of `pool`: committed when it returns, rolled back when it throws. A client
 * whose ROLLBACK failed too is discarded rather than returned to the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((e: Error) => (broken = e));
    throw err;
  } finally {
    client.release(broken);
  }
}
