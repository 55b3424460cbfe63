import type pg from 'pg';

/** Held while a process sets up its pg-boss schema and queues (see withAdvisoryLock). */
export const PGBOSS_SETUP_LOCK_KEY = 7_305_112_002;

/**
 * Runs `fn` while holding a session-level PostgreSQL advisory lock on a connection of `pool`, so that processes
 * starting together do it one at a time (pg-boss's queue creation deadlocks when two replicas run it at once).
 */
export async function withAdvisoryLock<T>(pool: pg.Pool, key: number, fn: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [key]);
    try {
      return await fn();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [key]);
    }
  } finally {
    client.release();
  }
}
