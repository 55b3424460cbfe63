import type pg from 'pg';

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

/**
 * inTransaction for callers that save round trips by sending BEGIN and COMMIT inside their own messages (`BEGIN; SELECT
 * …`, then `…; COMMIT`): `fn` opens the transaction itself and answers 'ended' when it ended it (its last message
 * committed, or it rolled back), or 'open' to have it committed here. When `fn` throws the transaction is rolled back
 * (a no-op if none is open) and the error rethrown; a client whose ROLLBACK failed too is discarded.
 */
export async function inCallerTransaction(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<'ended' | 'open'>): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    if ((await fn(client)) === 'open') await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch((e: Error) => (broken = e));
    throw err;
  } finally {
    client.release(broken);
  }
}
