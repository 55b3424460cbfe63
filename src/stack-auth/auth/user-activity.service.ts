import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../../common/logger.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import type { StackUserEntity } from '../entities/stack-user.entity.js';
import { stackAuthSettings } from '../stack-auth.config.js';

/** Users remembered by the in-process throttle before it forgets those it no longer needs. */
const MEMO_LIMIT = 10_000;

interface Touched {
  /** performance.now() when this process last recorded (or found recorded) the user's activity. */
  at: number;
  /** last_active_at (epoch ms) as it stood then. */
  lastActive: number;
}

/**
 * Records that a user used the product (sign-in, token refresh, a request with their access token): their
 * `last_active_at` moves to now on the database's clock, at most once per `activityResolutionSeconds` (a minute).
 *
 * Throttled twice. In SQL, which is what decides across replicas: the UPDATE applies only when the stored value
 * is older than the resolution, so a user's busy minute costs one row write. In process, to spare the statement:
 * a user this process recorded less than a minute ago (by the monotonic clock), whose row still shows what it
 * recorded, is not asked about again. Activity is not a change of the user object: no `user.updated` webhook and
 * no version bump, as in Stack Auth. Never fails the request it belongs to (a failure is logged).
 */
@Injectable()
export class UserActivityService {
  private readonly resolutionSeconds: number;
  private readonly memo = new Map<string, Touched>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.resolutionSeconds = stackAuthSettings(config).activityResolutionSeconds;
  }

  /** Records activity of `user` (the row as just read); updates `user.lastActiveAt` when it moved. */
  async touch(user: StackUserEntity): Promise<void> {
    const seen = this.memo.get(user.id);
    if (seen && performance.now() - seen.at < this.resolutionSeconds * 1000 && seen.lastActive === user.lastActiveAt.getTime()) return;
    try {
      const [rows] = (await this.db.query(
        `UPDATE stack_auth.users SET last_active_at = clock_timestamp()
          WHERE id = $1 AND project_id = $2 AND last_active_at < clock_timestamp() - make_interval(secs => $3)
          RETURNING last_active_at`,
        [user.id, user.projectId, this.resolutionSeconds],
      )) as [{ last_active_at: Date }[], number];
      if (rows.length > 0) user.lastActiveAt = rows[0].last_active_at;
      this.remember(user.id, { at: performance.now(), lastActive: user.lastActiveAt.getTime() });
    } catch (err) {
      this.logger.warn({ err, userId: user.id }, 'stack auth: could not record user activity');
    }
  }

  private remember(userId: string, touched: Touched): void {
    this.memo.delete(userId);
    this.memo.set(userId, touched);
    if (this.memo.size <= MEMO_LIMIT) return;
    // Oldest first (insertion order): drop those past the resolution, and the oldest half if that is not enough.
    const horizon = performance.now() - this.resolutionSeconds * 1000;
    for (const [id, t] of this.memo) if (t.at < horizon) this.memo.delete(id);
    if (this.memo.size > MEMO_LIMIT) for (const id of [...this.memo.keys()].slice(0, MEMO_LIMIT / 2)) this.memo.delete(id);
  }
}
