import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type pg from 'pg';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../common/logger.js';
import { NeonAuthIntegrationResolver } from '../neon-auth/integrations/integration-resolver.js';
import type { UsersSyncRow } from '../neon-auth/users-sync/users-sync.statements.js';
import { NeonAuthUsersSyncStore } from '../neon-auth/users-sync/users-sync.store.js';
import { ProviderUserNotFound } from '../providers/auth-provider.port.js';
import { databaseNow } from '../common/db-clock.js';

/** Wait this long after a user's event before confirming it, so a burst of that user's events costs one fetch. */
export const CONFIRM_DELAY_MS = 250;
/** Parallel provider.getUser calls of one confirmation round. */
const CONFIRM_CONCURRENCY = 8;
/** Users fetched per round (the rest wait for the next round). */
const CONFIRM_BATCH = 500;
/** Failed confirmations are retried in memory with doubling delays this many times; then the minute sweep takes over. */
const MAX_CONFIRM_TRIES = 6;

interface Pending {
  users: Map<string, number>; // user id -> failed tries so far
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
}

/**
 * Confirms users whose events may have arrived out of order.
 *
 * Svix (Stack Auth's webhook transport) does not order deliveries: parallel sends and retries can bring
 * an older `user.updated` after a newer one, and the payload carries no version that orders them. A
 * user with a single event cannot be reordered with anything; a user with several events can. For
 * those the applier asks for a confirmation: shortly after (CONFIRM_DELAY_MS, coalescing a burst) the
 * user is read back from the provider and that state is written with the time the read started (on the
 * control-plane database's clock, the clock of every other version), or soft-deleted at that time if the
 * provider no longer has the user. Any event that arrives later carries a later version and, if it
 * is itself stale, schedules another confirmation; so users_sync converges to the provider's state
 * within about CONFIRM_DELAY_MS plus one provider round trip of the last event, whatever the order.
 *
 * Durable: the applier records each request in `sync_confirmations` in the transaction that applies the
 * events, and a confirmation deletes only requests older than its read; a start schedules every request
 * left (a crash loses none), the minute sweep those older than a minute (a process that died, a provider
 * that stayed down past the in-memory retries).
 */
@Injectable()
export class SyncConfirmationService implements BeforeApplicationShutdown {
  private readonly pending = new Map<string, Pending>();
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly integrations: NeonAuthIntegrationResolver,
    private readonly usersSync: NeonAuthUsersSyncStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Records (in the applier's transaction) that these users need a confirmation. */
  async request(client: pg.ClientBase, integrationId: string, userIds: Iterable<string>): Promise<void> {
    await client.query(
      `INSERT INTO sync_confirmations (integration_id, user_id) SELECT $1, u FROM unnest($2::text[]) AS u
       ON CONFLICT (integration_id, user_id) DO UPDATE SET requested_at = clock_timestamp()`,
      [integrationId, [...userIds]],
    );
  }

  /** Schedules the recorded requests at least `olderThanSeconds` old (0: all), oldest first. */
  async resume(db: pg.Pool, olderThanSeconds: number): Promise<void> {
    const { rows } = await db.query<{ integration_id: string; user_id: string }>(
      `SELECT integration_id, user_id FROM sync_confirmations
        WHERE requested_at <= clock_timestamp() - make_interval(secs => $1) ORDER BY requested_at LIMIT 100000`,
      [olderThanSeconds],
    );
    const byIntegration = new Map<string, string[]>();
    for (const r of rows) byIntegration.set(r.integration_id, [...(byIntegration.get(r.integration_id) ?? []), r.user_id]);
    for (const [integrationId, users] of byIntegration) this.schedule(integrationId, users, 0);
  }

  /** Schedules a confirmation of these users of the integration. */
  schedule(integrationId: string, userIds: Iterable<string>, delayMs = CONFIRM_DELAY_MS): void {
    if (this.stopped) return;
    let p = this.pending.get(integrationId);
    if (!p) {
      p = { users: new Map() };
      this.pending.set(integrationId, p);
    }
    for (const id of userIds) if (!p.users.has(id)) p.users.set(id, 0);
    this.arm(integrationId, p, delayMs);
  }

  /** Runs every scheduled confirmation now (tests, shutdown of a worker). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending.keys()].map((id) => this.run(id)));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    await Promise.allSettled([...this.pending.values()].map((p) => p.running));
  }

  private arm(integrationId: string, p: Pending, delayMs: number): void {
    if (p.timer || p.running || p.users.size === 0) return;
    p.timer = setTimeout(() => {
      p.timer = undefined;
      void this.run(integrationId);
    }, delayMs);
    p.timer.unref();
  }

  private async run(integrationId: string): Promise<void> {
    const p = this.pending.get(integrationId);
    if (!p) return;
    if (p.running) return p.running;
    clearTimeout(p.timer);
    p.timer = undefined;
    const batch = [...p.users].slice(0, CONFIRM_BATCH);
    for (const [id] of batch) p.users.delete(id);
    p.running = this.confirm(integrationId, batch)
      .catch((err) => {
        // Everything of this round is retried (bounded), later.
        this.retry(p, batch.map(([id, tries]) => [id, tries + 1]), err);
      })
      .finally(() => {
        p.running = undefined;
        if (p.users.size === 0) this.pending.delete(integrationId);
        else this.arm(integrationId, p, this.delayFor(p));
      });
    return p.running;
  }

  private async confirm(integrationId: string, users: [string, number][]): Promise<void> {
    const integration = await this.integrations.findById(integrationId);
    if (!integration) {
      // Disabled since: nothing to confirm.
      await this.db.query('DELETE FROM sync_confirmations WHERE integration_id = $1', [integrationId]);
      return;
    }
    const provider = this.integrations.providerOf(integration);
    const credentials = this.integrations.credentialsOf(integration);
    const target = await this.integrations.branchDatabaseOf(integration);
    const upserts: UsersSyncRow[] = [];
    const deletions: { id: string; at: string }[] = [];
    const done: { id: string; at: string }[] = [];
    const failed: [string, number][] = [];
    let firstError: unknown;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < users.length) {
        const [id, tries] = users[next++];
        const at = await databaseNow(this.db);
        try {
          const user = await provider.getUser(credentials, id);
          upserts.push({ raw_json: user.raw, updated_at: at });
          done.push({ id, at });
        } catch (err) {
          if (err instanceof ProviderUserNotFound) {
            deletions.push({ id, at });
            done.push({ id, at });
          }
          else {
            failed.push([id, tries + 1]);
            firstError ??= err;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONFIRM_CONCURRENCY, users.length) }, worker));
    if (upserts.length > 0) await this.usersSync.upsertUsers(target, upserts);
    for (const d of deletions) await this.usersSync.markDeleted(target, [d.id], d.at);
    // Only requests made before each read: a newer event's request stays for its own confirmation.
    if (done.length > 0) {
      await this.db.query(
        `DELETE FROM sync_confirmations c USING unnest($2::text[], $3::timestamptz[]) AS d (user_id, at)
          WHERE c.integration_id = $1 AND c.user_id = d.user_id AND c.requested_at <= d.at`,
        [integrationId, done.map((d) => d.id), done.map((d) => d.at)],
      );
    }
    const p = this.pending.get(integrationId);
    if (failed.length > 0 && p) this.retry(p, failed, firstError);
  }

  private retry(p: Pending, users: [string, number][], err: unknown): void {
    const kept = users.filter(([, tries]) => tries < MAX_CONFIRM_TRIES);
    for (const [id, tries] of kept) p.users.set(id, Math.max(tries, p.users.get(id) ?? 0));
    if (kept.length < users.length) {
      this.logger.warn({ err, users: users.length - kept.length }, 'sync: could not confirm users with the provider; the minute sweep tries again');
    } else {
      this.logger.debug({ err, users: kept.length }, 'sync: confirming users failed; retrying');
    }
  }

  /** Doubling delay after failures (by the most-tried user waiting), from CONFIRM_DELAY_MS up to ~16 s. */
  private delayFor(p: Pending): number {
    let tries = 0;
    for (const t of p.users.values()) tries = Math.max(tries, t);
    return CONFIRM_DELAY_MS * 2 ** tries;
  }
}
