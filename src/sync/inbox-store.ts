import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';
import { SyncMetrics } from './sync-metrics.js';
import { SyncQueue } from './sync-queue.js';
import { APPLY_LOCK_CLASS, type SyncSettings } from './sync-settings.js';
import { bigintArrayLiteral, querySeveral, textLiteral } from '../common/sql-literals.js';
import { APPLIED_EVENT_TYPES, type InboxRow, type UserHistory } from './write-plan.js';

/** A batch read for applying: its rows, those the applier writes, and their users' history. */
export interface InboxBatch {
  rows: InboxRow[];
  applicable: InboxRow[];
  history: Map<string, UserHistory>;
}

/** A row of sync_read_batch: an inbox row with its user's history (no events for rows the applier does not write). */
type BatchRow = InboxRow & { events: number; deleted_us: string | null };

const READ_BATCH = 'SELECT * FROM sync_read_batch($1, $2, $3)';

function batchOf(rows: BatchRow[]): InboxBatch {
  const history = new Map<string, UserHistory>();
  for (const r of rows) {
    if (r.events > 0 && APPLIED_EVENT_TYPES.has(r.event_type)) history.set(r.user_id, { events: r.events, deletedUs: r.deleted_us === null ? null : Number(r.deleted_us) });
  }
  const plain: InboxRow[] = rows.map((r) => ({
    id: r.id,
    event_type: r.event_type,
    user_id: r.user_id,
    data: r.data,
    signed_up_at_millis: r.signed_up_at_millis,
    received_us: r.received_us,
  }));
  return { rows: plain, applicable: plain.filter((r) => APPLIED_EVENT_TYPES.has(r.event_type)), history };
}

/** Marks rows `ids` applied, or skipped for those in `skippedIds` (two SQL bigint[] expressions). */
function markDoneSql(ids: string, skippedIds: string): string {
  return `UPDATE sync_inbox SET status = CASE WHEN id = ANY(${skippedIds}) THEN 'skipped' ELSE 'applied' END,
         applied_at = clock_timestamp(), attempts = attempts + 1, last_error = NULL
       WHERE id = ANY(${ids})`;
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

  /**
   * Up to batchSize pending rows of the integration above `afterId`, in id order, with their users' history: one
   * prepared call of `sync_read_batch` (migration SyncReadBatch).
   */
  async readBatch(reader: pg.ClientBase, integrationId: string, afterId: string): Promise<InboxBatch> {
    const { rows } = await reader.query<BatchRow>({ name: 'sync_read_batch', text: READ_BATCH, values: [integrationId, this.settings.batchSize, afterId] });
    return batchOf(rows);
  }

  /**
   * Opens a transaction on `client`, takes the integration's transaction advisory lock (APPLY_LOCK_CLASS) and reads the
   * oldest pending batch: one message, one round trip (`BEGIN; SELECT pg_advisory_xact_lock(…); SELECT * FROM
   * sync_read_batch(…)`). In READ COMMITTED every statement of the message takes its own snapshot, so the read sees
   * what the lock's previous holder committed. The simple protocol carries no parameters: the values are written as
   * literals (common/sql-literals.ts). The transaction is open when this answers, also when it throws (the caller rolls back).
   */
  async takeFirstBatch(client: pg.ClientBase, integrationId: string): Promise<InboxBatch> {
    const id = textLiteral(integrationId);
    const results = await querySeveral<BatchRow>(
      client,
      `BEGIN; SELECT pg_advisory_xact_lock(${APPLY_LOCK_CLASS}, hashtext(${id})); SELECT * FROM sync_read_batch(${id}, ${this.settings.batchSize}, 0)`,
    );
    return batchOf(results[2].rows);
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
    await client.query(markDoneSql('$1::bigint[]', '$2::bigint[]'), [ids, skippedIds]);
  }

  /**
   * In the applier's transaction: the rows marked as markDone does, then COMMIT, in one message (one round trip; the
   * ids written as literals).
   */
  async markDoneAndCommit(client: pg.ClientBase, ids: string[], skippedIds: string[]): Promise<void> {
    await client.query(`${markDoneSql(bigintArrayLiteral(ids), bigintArrayLiteral(skippedIds))}; COMMIT`);
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
