import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../../common/logger.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { stackAuthSettings } from '../stack-auth.config.js';

/** pg_try_advisory_lock(PRUNE_LOCK_CLASS, 1): one replica prunes sessions at a time. ASCII "stka". */
export const PRUNE_LOCK_CLASS = 0x7374_6b61;
const SESSIONS_LOCK = 1;
/** Sessions deleted per statement: short statements, so a large backlog never holds many row locks for long. */
export const SESSION_PRUNE_BATCH = 1_000;
/** Statements per run; the rest waits for the next run. */
const MAX_ROUNDS = 100;

/**
 * Deletes the embedded provider's sessions that can no longer be used: expired ones (their refresh token is past its
 * `expires_at`, on the database's clock) and revoked ones (a password change revokes every session of the user).
 * Sign-out deletes its session at once, so nothing else piles up. Runs every STACK_AUTH_PRUNE_INTERVAL_SECONDS in
 * every process (API replicas and workers alike); a run takes a session advisory lock without waiting, so when
 * replicas tick together one prunes and the others skip. Deletes in batches of SESSION_PRUNE_BATCH.
 */
@Injectable()
export class SessionPrunerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private readonly intervalMs: number;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.intervalMs = stackAuthSettings(config).pruneIntervalSeconds * 1000;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.prune()
        .catch((err: unknown) => {
          // On a first start the provider's tables may not exist yet (migrations run after init): the next tick follows.
          this.logger.warn({ err }, 'stack auth: could not prune expired sessions; the next run retries');
          return 0;
        })
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Deletes expired and revoked sessions now; answers how many (0 when another process is pruning). */
  async prune(): Promise<number> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      const [lock] = (await runner.query('SELECT pg_try_advisory_lock($1, $2) AS ok', [PRUNE_LOCK_CLASS, SESSIONS_LOCK])) as { ok: boolean }[];
      if (!lock.ok) return 0;
      try {
        let total = 0;
        for (let round = 0; round < MAX_ROUNDS; round++) {
          const [, deleted] = (await runner.query(
            `DELETE FROM stack_auth.sessions WHERE id IN (
               SELECT id FROM stack_auth.sessions WHERE expires_at < clock_timestamp()
               UNION
               SELECT id FROM stack_auth.sessions WHERE revoked_at IS NOT NULL
               LIMIT $1)`,
            [SESSION_PRUNE_BATCH],
          )) as [unknown, number];
          total += deleted;
          if (deleted < SESSION_PRUNE_BATCH) break;
        }
        if (total > 0) this.logger.info({ sessions: total }, 'stack auth: pruned expired and revoked sessions');
        return total;
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1, $2)', [PRUNE_LOCK_CLASS, SESSIONS_LOCK]);
      }
    } finally {
      await runner.release();
    }
  }
}
