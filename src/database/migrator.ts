import type { Logger } from 'pino';
import pg from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';

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
    await closeToPublic(runner, log);
    if (afterMigrate) await afterMigrate();
  } finally {
    try {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    } finally {
      await runner.release();
    }
  }
}

/**
 * No role but the database's owner (and superusers) connects to the control-plane database: CONNECT and
 * TEMPORARY are revoked from PUBLIC, so a tenant's login role on a shared cluster cannot even open a session
 * there. Idempotent; a role that may not (not the owner) leaves the database as it is and says so.
 */
async function closeToPublic(runner: QueryRunner, log: Logger): Promise<void> {
  const [{ db }] = (await runner.query('SELECT pg_catalog.current_database() AS db')) as { db: string }[];
  try {
    await runner.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${pg.escapeIdentifier(db)} FROM PUBLIC`);
  } catch (err) {
    log.warn(
      { database: db, err: err instanceof Error ? err.message : String(err) },
      'could not revoke CONNECT on the control-plane database from PUBLIC (run it as the database owner): other roles of this cluster may connect to it',
    );
  }
}
