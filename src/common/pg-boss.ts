import type pg from 'pg';
import PgBoss from 'pg-boss';
import { PGBOSS_SETUP_LOCK_KEY, withAdvisoryLock } from './advisory-lock.js';

export interface PgBossSetup {
  /** The schema pg-boss keeps its tables in (one per user of pg-boss). */
  schema: string;
  /** Queues to create (idempotent: an existing queue is kept). */
  queues: PgBoss.Queue[];
  /** pg-boss's own errors (maintenance, workers), to log. */
  onError: (err: Error) => void;
}

/**
 * Starts pg-boss on `pool` (its maintenance and cron clock on) and creates its queues, under a session advisory
 * lock: replicas starting together set pg-boss up one at a time (its queue creation deadlocks otherwise). A
 * failure stops what was started and is thrown.
 */
export async function startPgBoss(pool: pg.Pool, setup: PgBossSetup): Promise<PgBoss> {
  const boss = new PgBoss({
    db: { executeSql: (text: string, values: unknown[]) => pool.query(text, values) },
    schema: setup.schema,
    supervise: true,
    schedule: true,
  });
  boss.on('error', setup.onError);
  await withAdvisoryLock(pool, PGBOSS_SETUP_LOCK_KEY, async () => {
    await boss.start();
    try {
      for (const queue of setup.queues) await boss.createQueue(queue.name, queue);
    } catch (err) {
      await boss.stop({ graceful: false, close: false }).catch(() => undefined);
      throw err;
    }
  });
  return boss;
}
