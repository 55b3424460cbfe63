import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';
import { SyncMetrics } from './sync-metrics.js';
import { SyncQueue } from './sync-queue.js';
import type { SyncSettings } from './sync-settings.js';
import { micros } from '../common/db-clock.js';
import { APPLIED_EVENT_TYPES, type InboxRow, type UserHistory } from './write-plan.js';

/** A batch read for applying: its rows, those the applier writes, and their users' history. */
export interface InboxBatch {
  rows: InboxRow[];
  applicable: InboxRow[];
  history: Map<string, UserHistory>;
}

/** Rows deleted per prune statement (a sweep runs up to PRUNE_ROUNDS of them). */
const PRUNE_BATCH = 10_000;
const PRUNE_ROUNDS = 20;

/**
 * The applier's queries of the inbox (`sync_inbox`, written by the receiver's InboxWriter): pending batches
 * with their users' history, marking rows applied or skipped, counting failed attempts (dead letters after
 * SYNC_MAX_ATTEMPTS), finding integrations with pending rows, and pruning old rows. Statements that must
 * commit with a branch write take the applier's open transaction (`client`); the rest use the sync pool.
 */
@Injectable()
export class SyncInboxStore {
  constructor(
    private readonly queue: SyncQueue,
    private readonly metrics: SyncMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The sync engine's settings (the queue's, read from the configuration once). */
  get settings(): SyncSettings {
    return this.queue.settings;
  }

  /** Up to batchSize pending rows of the integration above `afterId`, in id order, with their users' history. */
  async readBatch(reader: pg.ClientBase, integrationId: string, afterId: string): Promise<InboxBatch> {
    const { rows } = await reader.query<InboxRow>(
      // The batch's ids first (a narrow sort, whatever plan fresh statistics lead to), then its rows.
      `SELECT id, event_type, coalesce(user_id, payload->'data'->>'id') AS user_id, (payload->'data')::text AS data,
              payload->'data'->>'signed_up_at_millis' AS signed_up_at_millis, ${micros('received_at')} AS received_us
         FROM sync_inbox
        WHERE id IN (SELECT id FROM sync_inbox WHERE integration_id = $1 AND status = 'pending' AND id > $3 ORDER BY id LIMIT $2)
        ORDER BY id`,
      [integrationId, this.settings.batchSize, afterId],
    );
    const applicable = rows.filter((r) => APPLIED_EVENT_TYPES.has(r.event_type));
    return { rows, applicable, history: await this.historyOf(reader, integrationId, applicable) };
  }

  /** Per user of the rows: how many events the inbox holds for it and when its first deletion arrived. */
  private async historyOf(client: pg.ClientBase, integrationId: string, rows: InboxRow[]): Promise<Map<string, UserHistory>> {
    const users = [...new Set(rows.map((r) => r.user_id))];
    const history = new Map<string, UserHistory>();
    if (users.length === 0) return history;
    const { rows: found } = await client.query<{ user_id: string; events: number; deleted_us: string | null }>(
      // One index probe per user (LATERAL), whatever plan fresh statistics would lead a join to.
      `SELECT u.user_id, h.events, h.deleted_us
         FROM unnest($2::text[]) AS u (user_id)
        CROSS JOIN LATERAL (
          SELECT count(*)::int AS events, min(${micros('s.received_at')}) FILTER (WHERE s.event_type = 'user.deleted') AS deleted_us
            FROM sync_inbox s WHERE s.integration_id = $1 AND s.user_id = u.user_id) h
        WHERE h.events > 0`,
      [integrationId, users],
    );
    for (const r of found) history.set(r.user_id, { events: r.events, deletedUs: r.deleted_us === null ? null : Number(r.deleted_us) });
    return history;
  }

  /** In the applier's transaction (or on its own): the rows of an integration that no longer exists, marked skipped. */
  async markOrphaned(client: pg.ClientBase | pg.Pool, ids: string[]): Promise<void> {
    await client.query(
      `UPDATE sync_inbox SET status = 'skipped', applied_at = clock_timestamp(), last_error = 'integration no longer exists' WHERE id = ANY($1::bigint[])`,
      [ids],
    );
  }

  /** In the applier's transaction (or on its own): the rows marked applied, or skipped for those in `skippedIds`. */
  async markDone(client: pg.ClientBase | pg.Pool, ids: string[], skippedIds: string[]): Promise<void> {
    await client.query(
      `UPDATE sync_inbox SET status = CASE WHEN id = ANY($2::bigint[]) THEN 'skipped' ELSE 'applied' END,
         applied_at = clock_timestamp(), attempts = attempts + 1, last_error = NULL
       WHERE id = ANY($1::bigint[])`,
      [ids, skippedIds],
    );
  }

  /** Counts the failed attempt on the rows; rows out of attempts park as dead letters. Never throws (logged). */
  async recordFailure(ids: string[], err: Error): Promise<void> {
    await this.queue.db
      .query(
        `UPDATE sync_inbox SET attempts = attempts + 1, last_error = left($2, 2000),
           status = CASE WHEN attempts + 1 >= $3 THEN 'dead' ELSE status END
         WHERE id = ANY($1::bigint[]) AND status = 'pending' RETURNING status`,
        [ids, err.message, this.settings.maxAttempts],
      )
      .then((r) => this.metrics.attemptsFailed(r.rows))
      .catch((e) => this.logger.warn({ err: e }, 'sync: could not record a failed attempt'));
    this.logger.warn({ err, rows: ids.length }, 'sync: applying events failed; they will be retried');
  }

  /** Integrations with pending rows. */
  async pendingIntegrations(): Promise<string[]> {
    const { rows } = await this.queue.db.query<{ integration_id: string }>(`SELECT DISTINCT integration_id FROM sync_inbox WHERE status = 'pending'`);
    return rows.map((r) => r.integration_id);
  }

  /**
   * Deletes up to PRUNE_BATCH applied or skipped inbox rows past their retention, oldest first; answers how many.
   * A deletion (`user.deleted`) is kept for SYNC_INBOX_DELETION_RETENTION_DAYS, every other event for
   * SYNC_INBOX_RETENTION_DAYS. Kept whatever their age: pending rows and dead letters (an admin's to replay).
   *
   * While a user's deletion is in the inbox, a create or update of that user arriving after it is not written (see
   * planWrites). Once it is pruned, users_sync's soft-deleted row stands in for it: the applier writes no create or
   * update over a deleted row of a user whose deletion the inbox no longer holds, and confirms that user with the
   * provider instead (SyncApplierService.writeToBranch). So pruning deletions never lets a late event revive a user.
   */
  async prune(): Promise<number> {
    const { rowCount } = await this.queue.db.query(
      `DELETE FROM sync_inbox WHERE id IN (
         SELECT id FROM sync_inbox
          WHERE status IN ('applied', 'skipped')
            AND received_at < clock_timestamp() - make_interval(days => CASE WHEN event_type = 'user.deleted' THEN $2::int ELSE $1::int END)
          ORDER BY id LIMIT $3)`,
      [this.settings.retentionDays, this.settings.deletionRetentionDays, PRUNE_BATCH],
    );
    return rowCount ?? 0;
  }

  /** Prunes in rounds while rounds come back full (at most PRUNE_ROUNDS of them). */
  async pruneExpired(): Promise<void> {
    let rounds = 0;
    while (rounds++ < PRUNE_ROUNDS && (await this.prune()) === PRUNE_BATCH) {
      // a full batch: there may be more
    }
  }
}
