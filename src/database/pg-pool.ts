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
