import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type pg from 'pg';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';
import { inCallerTransaction, inTransaction } from '../common/pg-transaction.js';
import { NeonAuthUsersSyncStore } from '../neon-auth/users-sync/users-sync.store.js';
import { SyncInboxStore, type InboxBatch } from './inbox-store.js';
import { SyncConfirmationService } from './sync-confirmation.service.js';
import { SyncIntegrations, type SyncIntegration } from './sync-integrations.js';
import { SyncMetrics } from './sync-metrics.js';
import { SyncQueue } from './sync-queue.js';
import { APPLY_LOCK_CLASS, PARALLEL_DRAINS, type SyncSettings } from './sync-settings.js';
import { APPLIED_EVENT_TYPES, planWrites, type WritePlan } from './write-plan.js';

/** A counting semaphore (drains wait for a slot, so they can never hold every pool connection between them). */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = size;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** The sweep prunes the inbox at most this often (per process). */
const PRUNE_EVERY_MS = 3_600_000;

/** The minute sweep schedules requested confirmations this old (younger ones are still scheduled in some process). */
const CONFIRMATION_SWEEP_AGE_SECONDS = 60;

/** What one drain of an integration did. */
export interface DrainResult {
  applied: number;
  skipped: number;
  /** The error of a failed attempt (rows stay pending, or dead when out of attempts). */
  error?: Error;
}

/** What a pipelined batch's branch write did: nothing (the integration is gone), or its plan, minus the users held back. */
type BranchWritten = { orphaned: true } | { orphaned: false; plan: WritePlan; heldBack: string[] };

interface Lane {
  running?: Promise<DrainResult>;
  again: boolean;
}

/**
 * The sync engine's applier: turns durable inbox rows (sync_inbox) into users_sync writes.
 *
 * Hot path: the receiver commits an event, answers 2xx and calls `kick(integrationId)`; no poll is waited for.
 * Events that arrive while an integration's apply is running are grouped into the next run (one lane per
 * integration = per branch database, in process): each run locks up to `batchSize` pending rows of the
 * integration (`FOR UPDATE SKIP LOCKED`, so replicas never apply the same row at once), writes them with
 * one multi-row `upsertUsers` (+ `markDeleted` per deletion time), and marks them applied in the same
 * control-plane transaction, which commits only after the branch write did.
 *
 * Ordering (documented decision): the provider's user object has no version that changes on every update
 * (signed_up_at_millis is fixed, last_active_at_millis moves on sign-in only), so the version written to
 * `users_sync.updated_at` is the row's `received_at` (microseconds): the control-plane clock when the event was
 * first made durable (duplicates keep the first arrival's value, so a redelivery is a no-op). Svix gives no
 * ordering guarantee, so arrival order may not be the provider's order: every user with more than one event
 * in the inbox is confirmed with the provider shortly after (SyncConfirmationService), which settles the row
 * on the provider's state. Deletions are soft and stamped with their arrival time; a create or update that
 * arrives after a user's deletion is not written (Stack never reuses ids: it is an older event delivered late).
 *
 * Failure: a failed branch write rolls back, increments `attempts` on the batch's rows (dead letter after
 * `maxAttempts`, status 'dead', kept for an admin) and leaves retries to pg-boss (SyncQueue: queue
 * SYNC_APPLY_QUEUE, exponential backoff). A start (and a cron sweep every minute) kicks every integration with pending rows,
 * which covers a crash between commit and apply. Events of an integration that no longer exists are
 * marked 'skipped'.
 *
 * Its parts: SyncQueue (pool, pg-boss, LISTEN/NOTIFY, wake), SyncInboxStore (the inbox's queries), write-plan.ts
 * (versions and what to write) and this class (lanes, backoff, drains, the transaction around each batch).
 */
@Injectable()
export class SyncApplierService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly lanes = new Map<string, Lane>();
  /** Integration id -> until when (epoch ms) hot-path kicks leave its rows to the pending retry. */
  private readonly backoffUntil = new Map<string, number>();
  private lastPruneAt = 0;
  private readonly drainSlots = new Slots(PARALLEL_DRAINS);

  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly queue: SyncQueue,
    private readonly inbox: SyncInboxStore,
    private readonly syncIntegrations: SyncIntegrations,
    private readonly usersSync: NeonAuthUsersSyncStore,
    private readonly confirmations: SyncConfirmationService,
    private readonly metrics: SyncMetrics,
  ) {}

  /** The sync engine's settings (the queue's, read from the configuration once). */
  get settings(): SyncSettings {
    return this.queue.settings;
  }

  async onApplicationBootstrap(): Promise<void> {
    const applies = await this.queue.start({
      apply: async (integrationId, retryCount) => {
        const result = await this.drain(integrationId);
        if (!result.error) {
          this.backoffUntil.delete(integrationId);
          return;
        }
        // pg-boss retries with exponential backoff; the hot path stays off the rows until then.
        this.backOff(integrationId, this.settings.retryDelaySeconds * 2 ** (retryCount + 1));
        throw result.error;
      },
      sweep: () => this.sweep(),
      wake: (integrationId, { retryNow }) => {
        if (retryNow) this.backoffUntil.delete(integrationId);
        void this.kick(integrationId);
      },
    });
    if (!applies) return;
    // Rows left over from before this start. On a first start the inbox may not exist yet (migrations run
    // after init): the cron sweep follows.
    this.sweep(true).catch((err) => this.logger.debug({ err }, 'sync: startup sweep failed; the periodic sweep will retry'));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.queue.stopWorkers();
    await Promise.allSettled([...this.lanes.values()].map((l) => l.running));
    await this.queue.close();
  }

  /**
   * Kicks every integration with pending rows, and schedules the confirmations requested but not done
   * (at start: all of them, since nothing survives a crash in memory; later: those older than a minute).
   * Prunes the inbox at most once an hour.
   */
  async sweep(startup = false): Promise<void> {
    if (!this.queue.running) return;
    const pending = await this.inbox.pendingIntegrations();
    await Promise.all(pending.map((id) => this.kick(id)));
    await this.confirmations.resume(this.queue.db, startup ? 0 : CONFIRMATION_SWEEP_AGE_SECONDS);
    if (Date.now() - this.lastPruneAt >= PRUNE_EVERY_MS) {
      this.lastPruneAt = Date.now();
      await this.inbox.pruneExpired();
    }
  }

  /**
   * Applies the integration's pending rows now (grouped with whatever else arrived meanwhile). Never
   * throws: a failure is recorded and handed to pg-boss for a retry with backoff.
   */
  async kick(integrationId: string): Promise<DrainResult> {
    // After a failure the integration's rows wait for their retry: new arrivals (and sweeps) do not try
    // again meanwhile, so an outage costs one attempt per retry, not one per delivery.
    if ((this.backoffUntil.get(integrationId) ?? 0) > Date.now()) return { applied: 0, skipped: 0 };
    const result = await this.drain(integrationId);
    if (!result.error) this.backoffUntil.delete(integrationId);
    if (result.error && this.queue.running) {
      this.backOff(integrationId, this.settings.retryDelaySeconds);
      await this.queue.retryLater(integrationId, this.settings.retryDelaySeconds);
    }
    return result;
  }

  /** Holds the integration's hot-path applies off for `seconds` (its pg-boss retry is due by then). */
  private backOff(integrationId: string, seconds: number): void {
    this.backoffUntil.set(integrationId, Date.now() + seconds * 1000);
  }

  /** Runs (or joins) the integration's lane until no pending row is left or a run fails. */
  drain(integrationId: string): Promise<DrainResult> {
    let lane = this.lanes.get(integrationId);
    if (!lane) {
      lane = { again: false };
      this.lanes.set(integrationId, lane);
    }
    if (lane.running) {
      // A run is in progress: its next round picks up rows that are durable by now.
      lane.again = true;
      return lane.running;
    }
    const l = lane;
    l.again = true;
    l.running = (async () => {
      const total: DrainResult = { applied: 0, skipped: 0 };
      try {
        while (l.again && this.queue.open) {
          l.again = false;
          const r = await this.drainOnce(integrationId);
          total.applied += r.applied;
          total.skipped += r.skipped;
          if (r.error) {
            total.error = r.error;
            break;
          }
        }
      } catch (err) {
        total.error = err as Error;
      } finally {
        l.running = undefined;
        this.lanes.delete(integrationId);
      }
      return total;
    })();
    return l.running;
  }

  /**
   * Applies every pending row of the integration. The first batch is read and written in one transaction
   * under a transaction advisory lock (the fewest round trips: an event on its own takes this path); a
   * full first batch means a backlog, which drainPipelined then works through.
   */
  private async drainOnce(integrationId: string): Promise<DrainResult> {
    await this.drainSlots.acquire();
    try {
      const first = await this.applyFirstBatch(integrationId);
      if (first.error || first.applied + first.skipped < this.settings.batchSize || !this.queue.open) return first;
      const rest = await this.drainPipelined(integrationId);
      return { applied: first.applied + rest.applied, skipped: first.skipped + rest.skipped, error: rest.error };
    } finally {
      this.drainSlots.release();
    }
  }

  /**
   * One transaction: the advisory lock (transaction-level) and the oldest pending batch read in one round trip, then
   * written and marked (the marks and COMMIT in one more).
   */
  private applyFirstBatch(integrationId: string): Promise<DrainResult> {
    return this.applyInTransaction(integrationId, (client) => this.inbox.takeFirstBatch(client, integrationId));
  }

  /**
   * Works through a backlog batch after batch, as a pipeline: while batch N is written to the branch database, batch
   * N+1 is read and batch N-1 is marked applied in the inbox (its own control-plane transaction, once its branch write
   * succeeded). So the branch writes follow each other with little in between, which is what bounds a backlog. One
   * drain per integration at a time across replicas: a session advisory lock on the connection that reads (the same
   * key as applyFirstBatch's transaction lock, so they exclude each other; a second applier waits for it, then reads
   * what the first left pending), held until the last batch's marks are committed. Rows are read in id order above
   * the last batch's ids; a row that commits later with a lower id (ids are taken at insert, commits land in any
   * order) is picked up by the next drain, which the kick that stored it asks for. Stops at the first failed batch
   * (its rows stay pending with one more attempt counted; the batch before it is still marked).
   *
   * A batch written to the branch database but not marked (the process stopped, or its mark failed) stays pending
   * and is written again by a later drain: the same states with the same versions, which change nothing.
   */
  private async drainPipelined(integrationId: string): Promise<DrainResult> {
    const total: DrainResult = { applied: 0, skipped: 0 };
    let reader: pg.PoolClient | undefined;
    let broken: Error | undefined;
    let marking: Promise<DrainResult> | undefined;
    /** Waits for the previous batch's marks; false when they failed. */
    const settle = async (): Promise<boolean> => {
      if (!marking) return true;
      const marked = await marking;
      marking = undefined;
      total.applied += marked.applied;
      total.skipped += marked.skipped;
      if (!marked.error) return true;
      total.error ??= marked.error;
      return false;
    };
    try {
      reader = await this.queue.db.connect();
      await reader.query('SELECT pg_advisory_lock($1, hashtext($2))', [APPLY_LOCK_CLASS, integrationId]);
      try {
        let batch = await this.inbox.readBatch(reader, integrationId, '0');
        while (batch.rows.length > 0 && this.queue.open) {
          const last = batch.rows[batch.rows.length - 1].id;
          // The next batch is read while this one is written (and the previous one marked).
          const [written, next] = await Promise.allSettled([this.writeBranchStage(integrationId, batch), this.inbox.readBatch(reader, integrationId, last)]);
          if (!(await settle())) break;
          if (written.status === 'rejected') {
            const err = written.reason as Error;
            total.error ??= err;
            await this.inbox.recordFailure(
              batch.rows.map((r) => r.id),
              err,
            );
            break;
          }
          marking = this.markStage(integrationId, batch, written.value);
          if (next.status === 'rejected') throw next.reason;
          batch = next.value;
        }
      } finally {
        await settle();
        await reader.query('SELECT pg_advisory_unlock($1, hashtext($2))', [APPLY_LOCK_CLASS, integrationId]).catch((err: Error) => (broken = err));
      }
    } catch (err) {
      total.error ??= err as Error;
    } finally {
      reader?.release(broken);
    }
    return total;
  }

  /**
   * A pipelined batch's branch write (see drainPipelined): its plan written to the branch database, or nothing when
   * the integration no longer exists. Throws when the write failed (the integration is read again on the retry).
   */
  private async writeBranchStage(integrationId: string, batch: InboxBatch): Promise<BranchWritten> {
    const destination = await this.syncIntegrations.get(integrationId);
    if (!destination) return { orphaned: true };
    const plan = planWrites(batch.applicable, batch.history);
    try {
      const heldBack = await this.writeToBranch(destination, plan);
      return { orphaned: false, plan, heldBack };
    } catch (err) {
      this.syncIntegrations.forget(integrationId); // read again on the retry (the database may have moved)
      throw err;
    }
  }

  /**
   * A pipelined batch's marks, once its branch write succeeded: applied or skipped (or skipped as orphaned), and the
   * confirmations it needs, in one control-plane transaction (one autocommit statement when there is nothing to
   * confirm). Never throws: a failure rolls back and counts an attempt on the batch's rows.
   */
  private async markStage(integrationId: string, batch: InboxBatch, written: BranchWritten): Promise<DrainResult> {
    const ids = batch.rows.map((r) => r.id);
    const skippedIds = batch.rows.filter((r) => !APPLIED_EVENT_TYPES.has(r.event_type)).map((r) => r.id);
    const toConfirm = new Set<string>();
    if (!written.orphaned) {
      for (const id of written.plan.toConfirm) toConfirm.add(id);
      for (const id of written.heldBack) toConfirm.add(id);
    }
    try {
      if (written.orphaned) {
        await this.inbox.markOrphaned(this.queue.db, ids);
        return { applied: 0, skipped: ids.length };
      }
      if (toConfirm.size === 0) await this.inbox.markDone(this.queue.db, ids, skippedIds);
      else {
        await inTransaction(this.queue.db, async (client) => {
          await this.inbox.markDone(client, ids, skippedIds);
          await this.confirmations.request(client, integrationId, toConfirm);
        });
      }
    } catch (err) {
      await this.inbox.recordFailure(ids, err as Error);
      return { applied: 0, skipped: 0, error: err as Error };
    }
    this.metrics.applied(batch.applicable.map((r) => Number(r.received_us) / 1000));
    if (toConfirm.size > 0) this.confirmations.schedule(integrationId, toConfirm);
    return { applied: ids.length - skippedIds.length, skipped: skippedIds.length };
  }

  /**
   * The batch `batchOf` answers in a transaction it opens on the client, then applyWithin (which commits, or rolls back
   * and answers the error); a failure counts one attempt on the batch's rows (dead letters after maxAttempts).
   */
  private async applyInTransaction(integrationId: string, batchOf: (client: pg.PoolClient) => Promise<InboxBatch>): Promise<DrainResult> {
    let ids: string[] = [];
    let result: DrainResult = { applied: 0, skipped: 0 };
    try {
      await inCallerTransaction(this.queue.db, async (client) => {
        const batch = await batchOf(client);
        ids = batch.rows.map((r) => r.id);
        if (ids.length === 0) return 'open'; // nothing pending: the helper commits
        result = await this.applyWithin(client, integrationId, batch);
        return 'ended';
      });
    } catch (err) {
      result = { applied: 0, skipped: 0, error: err as Error };
    }
    if (result.error && ids.length > 0) await this.inbox.recordFailure(ids, result.error);
    return result;
  }

  /**
   * Inside an open transaction: writes the batch to the branch database, then marks it and commits; a failed branch
   * write rolls back and answers the error (recorded by the caller). Throws on other failures.
   */
  private async applyWithin(client: pg.PoolClient, integrationId: string, batch: InboxBatch): Promise<DrainResult> {
    const { rows, applicable } = batch;
    const ids = rows.map((r) => r.id);
    const destination = await this.syncIntegrations.get(integrationId);
    if (!destination) {
      await this.inbox.markOrphaned(client, ids);
      await client.query('COMMIT');
      return { applied: 0, skipped: ids.length };
    }
    const skippedIds = rows.filter((r) => !APPLIED_EVENT_TYPES.has(r.event_type)).map((r) => r.id);
    const plan = planWrites(applicable, batch.history);
    let heldBack: string[];
    try {
      heldBack = await this.writeToBranch(destination, plan);
    } catch (err) {
      this.syncIntegrations.forget(integrationId); // read again on the retry (the database may have moved)
      await client.query('ROLLBACK');
      return { applied: 0, skipped: 0, error: err as Error };
    }
    // Creates and updates held back from deleted rows: the provider settles them.
    for (const id of heldBack) plan.toConfirm.add(id);
    if (plan.toConfirm.size === 0) {
      // The common case: the marks and COMMIT in one round trip.
      await this.inbox.markDoneAndCommit(client, ids, skippedIds);
    } else {
      await this.inbox.markDone(client, ids, skippedIds);
      await this.confirmations.request(client, integrationId, plan.toConfirm);
      await client.query('COMMIT');
    }
    this.metrics.applied(applicable.map((r) => Number(r.received_us) / 1000));
    if (plan.toConfirm.size > 0) this.confirmations.schedule(integrationId, plan.toConfirm);
    return { applied: ids.length - skippedIds.length, skipped: skippedIds.length };
  }

  /**
   * Writes a batch's plan to the branch database (upserts, then deletions). A create or update of a user whose
   * deletion the inbox no longer holds (pruned) but whose users_sync row is marked deleted is not written: an event
   * delivered that late is older than the deletion (Stack Auth never reuses an id). Answers those users, which the
   * caller has confirmed with the provider (a provider that did re-create the user brings it back that way).
   */
  private async writeToBranch(destination: SyncIntegration, plan: WritePlan): Promise<string[]> {
    if (plan.upserts.length === 0 && plan.deletes.size === 0) return [];
    const target = await destination.target();
    // Users whose deletion the inbox does not hold are written unless their row is deleted (one statement).
    const heldBack = plan.upserts.length > 0 ? await this.usersSync.upsertPreparedUnlessDeleted(target, plan.upserts, plan.deletionUnknown) : new Set<string>();
    for (const [at, ids] of plan.deletes) await this.usersSync.markDeleted(target, ids, at);
    return [...heldBack];
  }


}
