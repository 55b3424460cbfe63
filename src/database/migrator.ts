import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';

/** Advisory lock key held while migrating, so replicas starting together migrate one at a time. */
export const MIGRATION_LOCK_KEY = 7_305_112_001;

/**
 * Runs pending migrations under a session-level advisory lock, then `afterMigrate` (e.g. the
 * bootstrap of the first account) while still holding it. A replica that waits for the lock finds
 * nothing left to do.
 */
export async function migrateUnderLock(
  dataSource: DataSource,
  log: Logger,
  afterMigrate?: () => Promise<void>,
): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  const started = Date.now();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const waited = Date.now() - started;
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    log.info(
      { applied: applied.map((m) => m.name), waitedForLockMs: waited, ms: Date.now() - started },
      applied.length ? `applied ${applied.length} migration(s)` : 'database schema is up to date',
    );
    if (afterMigrate) await afterMigrate();
  } finally {
    try {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    } finally {
      await runner.release();
    }
  }
}
