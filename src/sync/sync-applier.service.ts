import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { PGBOSS_SETUP_LOCK_KEY, withAdvisoryLock } from '../common/advisory-lock.js';
import pg from 'pg';
import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';
import { APP_CONFIG, type AppConfig, type SyncEngineMode } from '../config/config.js';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { NeonAuthProvisioningService } from '../neon-auth/provisioning/provisioning.service.js';
import type { PreparedRow } from '../neon-auth/provisioning/users-sync.writer.js';
import { SyncMetrics } from './sync-metrics.js';
import { SyncConfirmationService } from './sync-confirmation.service.js';
import { SyncIntegrations, type SyncIntegration } from './sync-integrations.js';
import { micros, microsToIso } from './versions.js';

/** pg-boss of the sync engine lives in its own schema (not the embedded provider's `pgboss`). */
export const SYNC_PGBOSS_SCHEMA = 'pgboss_sync';
/** "Apply this integration's pending inbox rows" (retries with backoff, work after a crash, other replicas). */
export const SYNC_APPLY_QUEUE = 'neon-auth-sync-apply';
/** Every minute: kick every integration that has pending rows, whatever happened to their jobs. */
export const SYNC_SWEEP_QUEUE = 'neon-auth-sync-sweep';
/** pg_notify channel (payload: integration id, with RETRY_NOW_SUFFIX for a replay) on which `receive` processes wake the appliers (`on` processes, workers). */
export const SYNC_NOTIFY_CHANNEL = 'neon_auth_sync';
/** Appended to a notification's integration id: apply now, even while the integration backs off (a replay). */
const RETRY_NOW_SUFFIX = ':now';
/** Reconnect delays of the LISTEN connection (ms): doubled from the first up to the last. */
const LISTEN_RETRY_MS = [250, 10_000] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface SyncSettings {
  /** Failed apply attempts of one inbox row before it parks as a dead letter (status 'dead'). */
  maxAttempts: number;
  /** First retry delay (seconds); pg-boss doubles it with jitter on every retry. */
  retryDelaySeconds: number;
  /** Idle pg-boss workers look for due retries this often. */
  pollingIntervalSeconds: number;
  /** Inbox rows per apply transaction (one multi-row upsert per branch database). */
  batchSize: number;
  /** Applied and skipped inbox rows older than this are pruned (SYNC_INBOX_RETENTION_DAYS). */
  retentionDays: number;
}

/** Settings from the validated configuration (SYNC_MAX_ATTEMPTS, SYNC_RETRY_DELAY_SECONDS, SYNC_POLL_SECONDS). */
export function syncSettings(config: AppConfig): SyncSettings {
  return {
    maxAttempts: config.syncMaxAttempts,
    retryDelaySeconds: config.syncRetryDelaySeconds,
    pollingIntervalSeconds: config.syncPollSeconds,
    batchSize: 2000,
    retentionDays: config.syncInboxRetentionDays,
  };
}

/** A pending inbox row as the applier reads it: the user object as jsonb's text (never parsed here). */
interface InboxRow {
  id: string;
  event_type: string;
  /** data.id (for rows stored before the user_id column existed, read from the payload). */
  user_id: string;
  /** JSON text of the event's `data` (the user object; checked by the receiver, held by jsonb since). */
  data: string;
  /** data.signed_up_at_millis as text, if any. */
  signed_up_at_millis: string | null;
  /** received_at in microseconds since the epoch (the full precision of the version). */
  received_us: string;
}

/** Advisory lock (APPLY_LOCK_CLASS, hashtext(integration id)): one applier of an integration at a time across replicas. ASCII "aply". */
export const APPLY_LOCK_CLASS = 0x6170_6c79;

/** A batch read for applying: its rows, those the applier writes, and their users' history. */
interface Batch {
  rows: InboxRow[];
  applicable: InboxRow[];
  history: Map<string, UserHistory>;
}

/** Integrations drained at once per process: each holds two connections (reader, writer) of the engine's pool. */
const PARALLEL_DRAINS = 4;

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

/** What the inbox knows about one user of a batch, beyond the batch. */
interface UserHistory {
  /** Events of the user in the inbox, this batch's included. */
  events: number;
  /** Arrival (µs) of the user's earliest user.deleted event, if any. */
  deletedUs: number | null;
}

/** The sweep prunes the inbox at most this often (per process). */
const PRUNE_EVERY_MS = 3_600_000;
/** Rows deleted per prune statement (a sweep runs up to PRUNE_ROUNDS of them). */
const PRUNE_BATCH = 10_000;
const PRUNE_ROUNDS = 20;

/** The minute sweep schedules requested confirmations this old (younger ones are still scheduled in some process). */
const CONFIRMATION_SWEEP_AGE_SECONDS = 60;

/** Webhook event types the applier understands; others are stored and marked skipped. */
export const APPLIED_EVENT_TYPES = new Set(['user.created', 'user.updated', 'user.deleted']);

/** What one drain of an integration did. */
export interface DrainResult {
  applied: number;
  skipped: number;
  /** The error of a failed attempt (rows stay pending, or dead when out of attempts). */
  error?: Error;
}

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
 * `maxAttempts`, status 'dead', kept for an admin) and leaves retries to pg-boss (queue SYNC_APPLY_QUEUE,
 * exponential backoff). A start (and a cron sweep every minute) kicks every integration with pending rows,
 * which covers a crash between commit and apply. Events of an integration that no longer exists are
 * marked 'skipped'.
 */
@Injectable()
export class SyncApplierService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly settings: SyncSettings;
  /**
   * SYNC_ENGINE (default on; the worker, `npm run worker`, always runs `on`): on, this process takes webhooks in and
   * applies them, and LISTENs on SYNC_NOTIFY_CHANNEL for events other processes stored; receive, it takes them in
   * (stores them durably) and wakes the appliers with pg_notify, applying nothing; off, it neither takes webhooks
   * in nor applies them (the receiver answers 503 and stores nothing, so the provider retries later).
   */
  readonly mode: SyncEngineMode;
  /** Whether this process takes webhooks in (on, receive). */
  readonly enabled: boolean;
  /** Whether this process applies events (on). */
  readonly applies: boolean;
  private listener?: pg.Client;
  private listenRetry?: NodeJS.Timeout;
  private pool?: pg.Pool;
  private boss?: PgBoss;
  private running = false;
  private readonly lanes = new Map<string, Lane>();
  /** Integration id -> until when (epoch ms) hot-path kicks leave its rows to the pending retry. */
  private readonly backoffUntil = new Map<string, number>();
  private lastPruneAt = 0;
  private readonly drainSlots = new Slots(PARALLEL_DRAINS);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly syncIntegrations: SyncIntegrations,
    private readonly provisioning: NeonAuthProvisioningService,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly confirmations: SyncConfirmationService,
    private readonly metrics: SyncMetrics,
  ) {
    this.settings = syncSettings(config);
    this.mode = config.syncEngine;
    this.enabled = this.mode !== 'off';
    this.applies = this.mode === 'on';
  }

  /** The control-plane pool of the receiver and the applier (its own: the hot path never waits on the API's pool). */
  get db(): pg.Pool {
    if (!this.pool) throw new Error('sync engine is not started');
    return this.pool;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.databaseUrl || !this.enabled) return;
    const pool = new pg.Pool({
      connectionString: this.config.databaseUrl,
      // Drains (two each), the receiver's group commits (InboxWriter: four), sweeps and notifications.
      max: PARALLEL_DRAINS * 2 + 6,
      connectionTimeoutMillis: 10_000,
      application_name: 'neon-auth-control-plane-sync',
    });
    pool.on('error', (err) => this.logger.warn({ err }, 'sync: idle database connection failed'));
    this.pool = pool;
    if (!this.applies) return; // receive: the intake's pool only; wake() notifies the appliers
    this.running = true;
    const s = this.settings;
    const boss = new PgBoss({
      db: { executeSql: (text: string, values: unknown[]) => pool.query(text, values) },
      schema: SYNC_PGBOSS_SCHEMA,
      supervise: true,
      schedule: true,
    });
    boss.on('error', (err) => this.logger.warn({ err }, 'sync: pg-boss error'));
    // Replicas starting together set pg-boss up one at a time (its queue creation deadlocks otherwise).
    await withAdvisoryLock(pool, PGBOSS_SETUP_LOCK_KEY, async () => {
      await boss.start();
      this.boss = boss;
      await boss.createQueue(SYNC_APPLY_QUEUE, {
        name: SYNC_APPLY_QUEUE,
        policy: 'short',
        retryLimit: s.maxAttempts + 2,
        retryDelay: s.retryDelaySeconds,
        retryBackoff: true,
        expireInSeconds: 300,
      });
      await boss.createQueue(SYNC_SWEEP_QUEUE, { name: SYNC_SWEEP_QUEUE, policy: 'short', retryLimit: 0 });
    });
    await boss.work<{ integrationId: string }>(
      SYNC_APPLY_QUEUE,
      { pollingIntervalSeconds: s.pollingIntervalSeconds, batchSize: 1, includeMetadata: true },
      async ([job]) => {
        const id = job.data.integrationId;
        const result = await this.drain(id);
        if (!result.error) {
          this.backoffUntil.delete(id);
          return;
        }
        // pg-boss retries with exponential backoff; the hot path stays off the rows until then.
        this.backOff(id, s.retryDelaySeconds * 2 ** (job.retryCount + 1));
        throw result.error;
      },
    );
    await boss.work(SYNC_SWEEP_QUEUE, { pollingIntervalSeconds: 30 }, async () => {
      await this.sweep();
    });
    await boss.schedule(SYNC_SWEEP_QUEUE, '* * * * *');
    this.listen();
    // Rows left over from before this start. On a first start the inbox may not exist yet (migrations run
    // after init): the cron sweep follows.
    this.sweep(true).catch((err) => this.logger.debug({ err }, 'sync: startup sweep failed; the periodic sweep will retry'));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    await this.stopListening();
    const boss = this.boss;
    this.boss = undefined;
    try {
      await boss?.stop({ graceful: true, wait: true, close: false, timeout: 10_000 });
    } catch (err) {
      this.logger.warn({ err }, 'sync: pg-boss did not stop cleanly');
    }
    await Promise.allSettled([...this.lanes.values()].map((l) => l.running));
    await this.pool?.end().catch(() => undefined);
    this.pool = undefined;
  }

  /**
   * "New durable events of this integration": applied now in this process (on), or announced with pg_notify to
   * the processes that apply (receive, off; a lost notification is covered by their sweep). Never throws.
   */
  wake(integrationId: string, options: { retryNow?: boolean } = {}): void {
    if (this.applies) {
      if (options.retryNow) this.backoffUntil.delete(integrationId);
      void this.kick(integrationId);
      return;
    }
    const notify = 'SELECT pg_notify($1, $2)';
    const params = [SYNC_NOTIFY_CHANNEL, options.retryNow ? `${integrationId}${RETRY_NOW_SUFFIX}` : integrationId];
    (this.pool ? this.pool.query(notify, params) : this.dataSource.query(notify, params))
      .catch((err) => this.logger.warn({ err, integrationId }, 'sync: could not notify the workers (their sweep will apply the events)'));
  }

  /**
   * LISTENs on SYNC_NOTIFY_CHANNEL on a dedicated connection (a pool cannot hold a LISTEN) and kicks the
   * integration each notification names. Reconnects with backoff when the connection fails, then sweeps for
   * what was notified meanwhile.
   */
  private listen(attempt = 0): void {
    if (!this.running || !this.config.databaseUrl) return;
    const client = new pg.Client({ connectionString: this.config.databaseUrl, application_name: 'neon-auth-control-plane-sync-listen' });
    this.listener = client;
    let failed = false;
    const retry = (err: unknown): void => {
      if (failed || this.listener !== client) return;
      failed = true;
      this.listener = undefined;
      client.end().catch(() => undefined);
      if (!this.running) return;
      const delay = Math.min(LISTEN_RETRY_MS[0] * 2 ** attempt, LISTEN_RETRY_MS[1]);
      this.logger.warn({ err, delayMs: delay }, 'sync: the LISTEN connection failed; reconnecting');
      this.listenRetry = setTimeout(() => this.listen(attempt + 1), delay);
      this.listenRetry.unref();
    };
    client.on('error', retry);
    client.on('end', () => retry(new Error('connection ended')));
    client.on('notification', (msg) => {
      if (msg.channel !== SYNC_NOTIFY_CHANNEL || !msg.payload || !this.running) return;
      const retryNow = msg.payload.endsWith(RETRY_NOW_SUFFIX);
      const integrationId = retryNow ? msg.payload.slice(0, -RETRY_NOW_SUFFIX.length) : msg.payload;
      if (!UUID.test(integrationId)) return;
      if (retryNow) this.backoffUntil.delete(integrationId);
      void this.kick(integrationId);
    });
    client
      .connect()
      .then(() => client.query(`LISTEN ${client.escapeIdentifier(SYNC_NOTIFY_CHANNEL)}`))
      .then(() => {
        // Notifications sent while disconnected are lost: sweep for their events.
        if (attempt > 0) this.sweep().catch((err) => this.logger.debug({ err }, 'sync: sweep after reconnecting failed; the periodic sweep will retry'));
        attempt = 0;
      })
      .catch(retry);
  }

  private async stopListening(): Promise<void> {
    if (this.listenRetry) clearTimeout(this.listenRetry);
    const client = this.listener;
    this.listener = undefined;
    await client?.end().catch(() => undefined);
  }

  /**
   * Kicks every integration with pending rows, and schedules the confirmations requested but not done
   * (at start: all of them, since nothing survives a crash in memory; later: those older than a minute).
   */
  async sweep(startup = false): Promise<void> {
    if (!this.running) return;
    const { rows } = await this.db.query<{ integration_id: string }>(`SELECT DISTINCT integration_id FROM sync_inbox WHERE status = 'pending'`);
    await Promise.all(rows.map((r) => this.kick(r.integration_id)));
    await this.confirmations.resume(this.db, startup ? 0 : CONFIRMATION_SWEEP_AGE_SECONDS);
    if (Date.now() - this.lastPruneAt >= PRUNE_EVERY_MS) {
      this.lastPruneAt = Date.now();
      let rounds = 0;
      while (rounds++ < PRUNE_ROUNDS && (await this.prune()) === PRUNE_BATCH) {
        // a full batch: there may be more
      }
    }
  }

  /**
   * Deletes up to PRUNE_BATCH applied or skipped inbox rows older than the retention, oldest first; answers
   * how many. Kept: pending rows, dead letters (an admin's to replay) and deletions (the ordering rule reads
   * a user's deletion to refuse late events; one small row per deleted user).
   */
  async prune(): Promise<number> {
    const { rowCount } = await this.db.query(
      `DELETE FROM sync_inbox WHERE id IN (
         SELECT id FROM sync_inbox
          WHERE status IN ('applied', 'skipped') AND event_type <> 'user.deleted'
            AND received_at < clock_timestamp() - make_interval(days => $1)
          ORDER BY id LIMIT $2)`,
      [this.settings.retentionDays, PRUNE_BATCH],
    );
    return rowCount ?? 0;
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
    if (result.error && this.running) {
      this.backOff(integrationId, this.settings.retryDelaySeconds);
      await this.boss
        ?.send(SYNC_APPLY_QUEUE, { integrationId }, { singletonKey: integrationId, startAfter: this.settings.retryDelaySeconds })
        .catch((err) => this.logger.warn({ err, integrationId }, 'sync: could not enqueue a retry (the sweep will)'));
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
        while (l.again && this.pool) {
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
      if (first.error || first.applied + first.skipped < this.settings.batchSize || !this.pool) return first;
      const rest = await this.drainPipelined(integrationId);
      return { applied: first.applied + rest.applied, skipped: first.skipped + rest.skipped, error: rest.error };
    } finally {
      this.drainSlots.release();
    }
  }

  /** One transaction: the advisory lock (transaction-level), the oldest pending batch read, written and marked. */
  private applyFirstBatch(integrationId: string): Promise<DrainResult> {
    return this.applyInTransaction(integrationId, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [APPLY_LOCK_CLASS, integrationId]);
      return this.readBatch(client, integrationId, '0');
    });
  }

  /**
   * Works through a backlog batch after batch, reading batch N+1 while batch N is written. One drain per
   * integration at a time across replicas: a session advisory lock on the connection that reads (the same
   * key as applyFirstBatch's transaction lock, so they exclude each other; a second applier waits for it,
   * then reads what the first left pending). Rows are read in id order above the last batch's ids; a row
   * that commits later with a lower id (ids are taken at insert, commits land in any order) is picked up by
   * the next drain, which the kick that stored it asks for. Stops at the first failed batch (its rows stay
   * pending with one more attempt counted).
   */
  private async drainPipelined(integrationId: string): Promise<DrainResult> {
    const total: DrainResult = { applied: 0, skipped: 0 };
    let reader: pg.PoolClient | undefined;
    let broken: Error | undefined;
    try {
      reader = await this.db.connect();
      await reader.query('SELECT pg_advisory_lock($1, hashtext($2))', [APPLY_LOCK_CLASS, integrationId]);
      try {
        let batch = await this.readBatch(reader, integrationId, '0');
        while (batch.rows.length > 0 && this.pool) {
          const last = batch.rows[batch.rows.length - 1].id;
          // The next batch is read while this one is written.
          const [written, next] = await Promise.allSettled([this.writeBatch(integrationId, batch), this.readBatch(reader, integrationId, last)]);
          if (written.status === 'rejected') throw written.reason;
          total.applied += written.value.applied;
          total.skipped += written.value.skipped;
          if (written.value.error) {
            total.error = written.value.error;
            break;
          }
          if (next.status === 'rejected') throw next.reason;
          batch = next.value;
        }
      } finally {
        await reader.query('SELECT pg_advisory_unlock($1, hashtext($2))', [APPLY_LOCK_CLASS, integrationId]).catch((err: Error) => (broken = err));
      }
    } catch (err) {
      total.error ??= err as Error;
    } finally {
      reader?.release(broken);
    }
    return total;
  }

  /** Up to batchSize pending rows above `afterId`, in id order, with their users' history. */
  private async readBatch(reader: pg.ClientBase, integrationId: string, afterId: string): Promise<Batch> {
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

  /** One transaction: the batch written to the branch database and marked in the inbox, or neither. */
  private writeBatch(integrationId: string, batch: Batch): Promise<DrainResult> {
    return this.applyInTransaction(integrationId, async () => batch);
  }

  /**
   * BEGIN, the batch `batchOf` answers on that transaction, then applyWithin (which commits); a failure
   * rolls back and counts one attempt on the batch's rows (dead letters after maxAttempts).
   */
  private async applyInTransaction(integrationId: string, batchOf: (client: pg.PoolClient) => Promise<Batch>): Promise<DrainResult> {
    const client = await this.db.connect();
    let ids: string[] = [];
    let failure: Error | undefined;
    try {
      await client.query('BEGIN');
      const batch = await batchOf(client);
      ids = batch.rows.map((r) => r.id);
      if (ids.length === 0) {
        await client.query('COMMIT');
        return { applied: 0, skipped: 0 };
      }
      const applied = await this.applyWithin(client, integrationId, batch);
      failure = applied.error;
      return applied;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      failure ??= err as Error;
      return { applied: 0, skipped: 0, error: failure };
    } finally {
      client.release();
      if (failure && ids.length > 0) await this.recordFailure(ids, failure);
    }
  }

  /**
   * Inside an open transaction: writes the batch to the branch database and marks it, then commits; a failed
   * branch write rolls the marks back and answers the error (recorded by the caller). Throws on other failures.
   */
  private async applyWithin(client: pg.PoolClient, integrationId: string, batch: Batch): Promise<DrainResult> {
    const { rows, applicable } = batch;
    const ids = rows.map((r) => r.id);
    const destination = await this.syncIntegrations.get(integrationId);
    if (!destination) {
      await client.query(`UPDATE sync_inbox SET status = 'skipped', applied_at = clock_timestamp(), last_error = 'integration no longer exists' WHERE id = ANY($1::bigint[])`, [ids]);
      await client.query('COMMIT');
      return { applied: 0, skipped: ids.length };
    }
    const skippedIds = rows.filter((r) => !APPLIED_EVENT_TYPES.has(r.event_type)).map((r) => r.id);
    const plan = planWrites(applicable, batch.history);
    try {
      // The branch write and the marking overlap; the marks commit only if the branch write succeeded.
      const marking = (async () => {
        await client.query(
          `UPDATE sync_inbox SET status = CASE WHEN id = ANY($2::bigint[]) THEN 'skipped' ELSE 'applied' END,
             applied_at = clock_timestamp(), attempts = attempts + 1, last_error = NULL
           WHERE id = ANY($1::bigint[])`,
          [ids, skippedIds],
        );
        if (plan.toConfirm.size > 0) await this.confirmations.request(client, integrationId, plan.toConfirm);
      })();
      const [written] = await Promise.allSettled([this.writeToBranch(destination, plan), marking]);
      if (written.status === 'rejected') throw written.reason;
      await marking;
    } catch (err) {
      this.syncIntegrations.forget(integrationId); // read again on the retry (the database may have moved)
      await client.query('ROLLBACK');
      return { applied: 0, skipped: 0, error: err as Error };
    }
    await client.query('COMMIT');
    this.metrics.applied(applicable.map((r) => Number(r.received_us) / 1000));
    if (plan.toConfirm.size > 0) this.confirmations.schedule(integrationId, plan.toConfirm);
    return { applied: ids.length - skippedIds.length, skipped: skippedIds.length };
  }

  /** Per user of the batch: how many events the inbox holds for it and when its first deletion arrived. */
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

  /** Writes a batch's plan to the branch database (upserts, then deletions). */
  private async writeToBranch(destination: SyncIntegration, plan: WritePlan): Promise<void> {
    if (plan.upserts.length === 0 && plan.deletes.size === 0) return;
    const target = await destination.target();
    if (plan.upserts.length > 0) await this.provisioning.upsertPrepared(target, plan.upserts);
    for (const [at, ids] of plan.deletes) await this.provisioning.markDeleted(target, ids, at);
  }

  /** Counts the failed attempt on the rows; rows out of attempts park as dead letters. */
  private async recordFailure(ids: string[], err: Error): Promise<void> {
    await this.db
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
}

/** What one batch writes to users_sync, and which users it leaves to confirm. */
interface WritePlan {
  upserts: PreparedRow[];
  /** Deletion time -> ids. */
  deletes: Map<string, string[]>;
  toConfirm: Set<string>;
}

/**
 * Plans a batch's writes; answers the users to confirm with the provider (see SyncConfirmationService):
 * those with more than one event, whose order the transport does not guarantee. A create or update that
 * arrived after the user's deletion is not written: Stack Auth never reuses a user id, so it is an older
 * event delivered late (the confirmation settles it either way).
 */
function planWrites(rows: InboxRow[], history: Map<string, UserHistory>): WritePlan {
  const plan: WritePlan = { upserts: [], deletes: new Map(), toConfirm: new Set() };
  for (const r of rows) {
    const userId = r.user_id;
    const h = history.get(userId);
    if (r.event_type === 'user.deleted') {
      const at = microsToIso(Number(r.received_us));
      const list = plan.deletes.get(at) ?? [];
      list.push(userId);
      plan.deletes.set(at, list);
      continue;
    }
    if (h && h.events > 1) plan.toConfirm.add(userId);
    if (h?.deletedUs != null && Number(r.received_us) > h.deletedUs) continue;
    plan.upserts.push({ id: userId, json: r.data, updatedAt: versionOf(r), deletedAt: null });
  }
  return plan;
}

/**
 * users_sync.updated_at of a user.created / user.updated event (see the class comment):
 * - user.created: the provider's sign-up time (`signed_up_at_millis`), as the users API writes it, so a
 *   create made through the API and its webhook write the same state (the second is a no-op); never later
 *   than the arrival time, so an update that arrives after it is always newer, whatever the provider's clock;
 * - user.updated: the arrival time, but after the sign-up time (as the users API stamps its changes).
 * Arrival times keep the database's microseconds, so two events never tie on a rounded millisecond.
 */
export function versionOf(r: { event_type: string; signed_up_at_millis: string | number | null; received_us: string | number }): string {
  const received = Number(r.received_us);
  const millis = r.signed_up_at_millis === null ? NaN : Number(r.signed_up_at_millis);
  if (!Number.isFinite(millis)) return microsToIso(received);
  const signedUp = Math.trunc(millis) * 1000;
  const at = r.event_type === 'user.created' ? Math.min(signedUp, received) : Math.max(received, signedUp + 1000);
  return microsToIso(at);
}
