import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import pg from 'pg';
import type PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../common/logger.js';
import { startPgBoss } from '../common/pg-boss.js';
import { PgListener } from '../common/pg-listener.js';
import { APP_CONFIG, type AppConfig, type SyncEngineMode } from '../config/config.js';
import { PARALLEL_DRAINS, syncSettings, type SyncSettings } from './sync-settings.js';
import { isUuid } from '../common/validation.js';

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

/** What the applier does when the queue calls. */
export interface SyncQueueHandlers {
  /** A due apply job of pg-boss (a retry, or work another process enqueued); throwing makes pg-boss retry it with backoff. */
  apply(integrationId: string, retryCount: number): Promise<void>;
  /** The minute sweep (pg-boss cron), and a catch-up after the LISTEN connection came back. */
  sweep(): Promise<void>;
  /** New durable events of the integration: stored by this process (`on`), or announced by another one. */
  wake(integrationId: string, options: { retryNow: boolean }): void;
}

/**
 * The sync engine's plumbing: its own control-plane pool (the receiver's group commits and the applier's drains
 * never wait on the API's pool), pg-boss in schema `pgboss_sync` (apply retries with exponential backoff, the
 * minute sweep), and LISTEN/NOTIFY between processes: `receive` processes store events and `wake` the appliers
 * with pg_notify; `on` processes (and workers) LISTEN and hand each notification to the applier.
 *
 * SYNC_ENGINE (default on; the worker, `npm run worker`, always runs `on`): on, this process takes webhooks in and
 * applies them; receive, it takes them in (stores them durably) and wakes the appliers, applying nothing; off, it
 * neither takes webhooks in nor applies them (the receiver answers 503 and stores nothing, so the provider retries).
 *
 * Started and stopped by the applier (SyncApplierService), which owns the order: pool, pg-boss and its workers,
 * LISTEN; on shutdown the workers stop before the applier's lanes finish, and the pool closes last.
 */
@Injectable()
export class SyncQueue {
  readonly settings: SyncSettings;
  readonly mode: SyncEngineMode;
  /** Whether this process takes webhooks in (on, receive). */
  readonly enabled: boolean;
  /** Whether this process applies events (on). */
  readonly applies: boolean;
  private pool?: pg.Pool;
  private boss?: PgBoss;
  private handlers?: SyncQueueHandlers;
  private listener?: PgListener;
  private started = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    this.settings = syncSettings(config);
    this.mode = config.syncEngine;
    this.enabled = this.mode !== 'off';
    this.applies = this.mode === 'on';
  }

  /** The control-plane pool of the receiver and the applier. */
  get db(): pg.Pool {
    if (!this.pool) throw new Error('sync engine is not started');
    return this.pool;
  }

  /** Whether the pool is open (the sync engine was started and is not stopped). */
  get open(): boolean {
    return this.pool !== undefined;
  }

  /** Whether this process applies and has not begun to stop. */
  get running(): boolean {
    return this.started;
  }

  /**
   * Opens the pool (on, receive); in `on` mode also starts pg-boss, its apply and sweep workers and the minute
   * schedule, and LISTENs for other processes' notifications. Answers whether this process applies.
   */
  async start(handlers: SyncQueueHandlers): Promise<boolean> {
    if (!this.config.databaseUrl || !this.enabled) return false;
    const pool = new pg.Pool({
      connectionString: this.config.databaseUrl,
      // Drains (two each), the receiver's group commits (InboxWriter: INBOX_WRITE_SLOTS), sweeps and notifications.
      max: PARALLEL_DRAINS * 2 + 6,
      connectionTimeoutMillis: 10_000,
      application_name: 'neon-auth-control-plane-sync',
    });
    pool.on('error', (err) => this.logger.warn({ err }, 'sync: idle database connection failed'));
    this.pool = pool;
    if (!this.applies) return false; // receive: the intake's pool only; wake() notifies the appliers
    this.handlers = handlers;
    this.started = true;
    const s = this.settings;
    const boss = await startPgBoss(pool, {
      schema: SYNC_PGBOSS_SCHEMA,
      queues: [
        { name: SYNC_APPLY_QUEUE, policy: 'short', retryLimit: s.maxAttempts + 2, retryDelay: s.retryDelaySeconds, retryBackoff: true, expireInSeconds: 300 },
        { name: SYNC_SWEEP_QUEUE, policy: 'short', retryLimit: 0 },
      ],
      onError: (err) => this.logger.warn({ err }, 'sync: pg-boss error'),
    });
    this.boss = boss;
    await boss.work<{ integrationId: string }>(
      SYNC_APPLY_QUEUE,
      { pollingIntervalSeconds: s.pollingIntervalSeconds, batchSize: 1, includeMetadata: true },
      async ([job]) => handlers.apply(job.data.integrationId, job.retryCount),
    );
    await boss.work(SYNC_SWEEP_QUEUE, { pollingIntervalSeconds: 30 }, async () => {
      await handlers.sweep();
    });
    await boss.schedule(SYNC_SWEEP_QUEUE, '* * * * *');
    this.listen();
    return true;
  }

  /** Stops taking work: no more notifications, pg-boss workers finish their jobs (up to 10 s). The pool stays open. */
  async stopWorkers(): Promise<void> {
    this.started = false;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.stop();
    const boss = this.boss;
    this.boss = undefined;
    try {
      await boss?.stop({ graceful: true, wait: true, close: false, timeout: 10_000 });
    } catch (err) {
      this.logger.warn({ err }, 'sync: pg-boss did not stop cleanly');
    }
  }

  /** Closes the pool (after stopWorkers and the applier's lanes). */
  async close(): Promise<void> {
    await this.pool?.end().catch(() => undefined);
    this.pool = undefined;
  }

  /**
   * "New durable events of this integration": handed to this process's applier (on), or announced with pg_notify
   * to the processes that apply (receive, off; a lost notification is covered by their sweep). Never throws.
   */
  wake(integrationId: string, options: { retryNow?: boolean } = {}): void {
    if (this.applies) {
      this.handlers?.wake(integrationId, { retryNow: options.retryNow === true });
      return;
    }
    const notify = 'SELECT pg_notify($1, $2)';
    const params = [SYNC_NOTIFY_CHANNEL, options.retryNow ? `${integrationId}${RETRY_NOW_SUFFIX}` : integrationId];
    (this.pool ? this.pool.query(notify, params) : this.dataSource.query(notify, params)).catch((err) =>
      this.logger.warn({ err, integrationId }, 'sync: could not notify the workers (their sweep will apply the events)'),
    );
  }

  /** Has pg-boss apply the integration's pending rows in `seconds` (one queued job per integration). Never throws. */
  async retryLater(integrationId: string, seconds: number): Promise<void> {
    await this.boss
      ?.send(SYNC_APPLY_QUEUE, { integrationId }, { singletonKey: integrationId, startAfter: seconds })
      .catch((err) => this.logger.warn({ err, integrationId }, 'sync: could not enqueue a retry (the sweep will)'));
  }

  /**
   * LISTENs on SYNC_NOTIFY_CHANNEL on a dedicated connection (PgListener: reconnects with backoff) and wakes the
   * applier for the integration each notification names; after a reconnect, sweeps for what was notified meanwhile.
   */
  private listen(): void {
    if (!this.config.databaseUrl) return;
    this.listener = new PgListener({
      connectionString: this.config.databaseUrl,
      applicationName: 'neon-auth-control-plane-sync-listen',
      channels: [SYNC_NOTIFY_CHANNEL],
      logger: this.logger,
      name: 'sync',
      onNotification: (_channel, payload) => {
        if (!this.started) return;
        const retryNow = payload.endsWith(RETRY_NOW_SUFFIX);
        const integrationId = retryNow ? payload.slice(0, -RETRY_NOW_SUFFIX.length) : payload;
        if (!isUuid(integrationId)) return;
        this.handlers?.wake(integrationId, { retryNow });
      },
      onListening: (_listener, reconnected) => {
        // Notifications sent while disconnected are lost: sweep for their events.
        if (reconnected) this.handlers?.sweep().catch((err) => this.logger.debug({ err }, 'sync: sweep after reconnecting failed; the periodic sweep will retry'));
      },
    });
    this.listener.start();
  }
}
