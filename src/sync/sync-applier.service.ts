import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { PGBOSS_SETUP_LOCK_KEY, withAdvisoryLock } from '../common/advisory-lock.js';
import pg from 'pg';
import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';
import { APP_CONFIG, type AppConfig, type SyncEngineMode } from '../config/config.js';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { IntegrationsService } from '../neon-auth/integrations/integrations.service.js';
import { NeonAuthIntegrationEntity } from '../neon-auth/integrations/integration.entity.js';
import { NeonAuthProvisioningService } from '../neon-auth/provisioning/provisioning.service.js';
import type { UsersSyncRow } from '../neon-auth/provisioning/users-sync.writer.js';
import { SyncMetrics } from './sync-metrics.js';
import { SyncConfirmationService } from './sync-confirmation.service.js';
import { micros, microsToIso } from './versions.js';

/** pg-boss of the sync engine lives in its own schema (not the embedded provider's `pgboss`). */
export const SYNC_PGBOSS_SCHEMA = 'pgboss_sync';
/** "Apply this integration's pending inbox rows" (retries with backoff, work after a crash, other replicas). */
export const SYNC_APPLY_QUEUE = 'neon-auth-sync-apply';
/** Every minute: kick every integration that has pending rows, whatever happened to their jobs. */
export const SYNC_SWEEP_QUEUE = 'neon-auth-sync-sweep';
/** pg_notify channel (payload: integration id) on which `receive` processes wake the appliers (`on` processes, workers). */
export const SYNC_NOTIFY_CHANNEL = 'neon_auth_sync';
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
}

/** Settings from the validated configuration (SYNC_MAX_ATTEMPTS, SYNC_RETRY_DELAY_SECONDS, SYNC_POLL_SECONDS). */
export function syncSettings(config: AppConfig): SyncSettings {
  return {
    maxAttempts: config.syncMaxAttempts,
    retryDelaySeconds: config.syncRetryDelaySeconds,
    pollingIntervalSeconds: config.syncPollSeconds,
    batchSize: 1000,
  };
}

interface InboxRow {
  id: string;
  event_type: string;
  /** data.id (null only for rows stored before the column existed: then read from the payload). */
  user_id: string | null;
  payload: { type: string; data: Record<string, unknown> };
  /** received_at in microseconds since the epoch (the full precision of the version). */
  received_us: string;
}

/** What the inbox knows about one user of a batch, beyond the batch. */
interface UserHistory {
  /** Events of the user in the inbox, this batch's included. */
  events: number;
  /** Arrival (µs) of the user's earliest user.deleted event, if any. */
  deletedUs: number | null;
}

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

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly integrations: IntegrationsService,
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
      max: 8,
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
  wake(integrationId: string): void {
    if (this.applies) {
      void this.kick(integrationId);
      return;
    }
    const notify = 'SELECT pg_notify($1, $2)';
    const params = [SYNC_NOTIFY_CHANNEL, integrationId];
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
      if (msg.channel !== SYNC_NOTIFY_CHANNEL || !msg.payload || !UUID.test(msg.payload) || !this.running) return;
      void this.kick(msg.payload);
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
          const r = await this.applyBatch(integrationId);
          total.applied += r.applied;
          total.skipped += r.skipped;
          if (r.error) {
            total.error = r.error;
            break;
          }
          if (r.applied + r.skipped >= this.settings.batchSize) l.again = true; // more rows than one batch
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

  /** One transaction: lock pending rows, write them to the branch database, mark them. */
  private async applyBatch(integrationId: string): Promise<DrainResult> {
    const client = await this.db.connect();
    let ids: string[] = [];
    let failure: Error | undefined;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<InboxRow>(
        `SELECT id, event_type, user_id, payload, ${micros('received_at')} AS received_us FROM sync_inbox
         WHERE integration_id = $1 AND status = 'pending' ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [integrationId, this.settings.batchSize],
      );
      if (rows.length === 0) {
        await client.query('COMMIT');
        return { applied: 0, skipped: 0 };
      }
      ids = rows.map((r) => r.id);
      const integration = await this.dataSource.getRepository(NeonAuthIntegrationEntity).findOneBy({ id: integrationId });
      if (!integration) {
        await client.query(`UPDATE sync_inbox SET status = 'skipped', applied_at = clock_timestamp(), last_error = 'integration no longer exists' WHERE id = ANY($1::bigint[])`, [ids]);
        await client.query('COMMIT');
        return { applied: 0, skipped: ids.length };
      }
      const skippedIds = rows.filter((r) => !APPLIED_EVENT_TYPES.has(r.event_type)).map((r) => r.id);
      const applicable = rows.filter((r) => APPLIED_EVENT_TYPES.has(r.event_type));
      let toConfirm: Set<string>;
      try {
        const history = await this.historyOf(client, integrationId, applicable);
        toConfirm = await this.writeToBranch(integration, applicable, history);
      } catch (err) {
        failure = err as Error;
        await client.query('ROLLBACK');
        return { applied: 0, skipped: 0, error: failure };
      }
      await client.query(
        `UPDATE sync_inbox SET status = CASE WHEN id = ANY($2::bigint[]) THEN 'skipped' ELSE 'applied' END,
           applied_at = clock_timestamp(), attempts = attempts + 1, last_error = NULL
         WHERE id = ANY($1::bigint[])`,
        [ids, skippedIds],
      );
      if (toConfirm.size > 0) await this.confirmations.request(client, integrationId, toConfirm);
      await client.query('COMMIT');
      this.metrics.applied(rows.filter((r) => APPLIED_EVENT_TYPES.has(r.event_type)).map((r) => Number(r.received_us) / 1000));
      if (toConfirm.size > 0) this.confirmations.schedule(integrationId, toConfirm);
      return { applied: ids.length - skippedIds.length, skipped: skippedIds.length };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      failure ??= err as Error;
      return { applied: 0, skipped: 0, error: failure };
    } finally {
      client.release();
      if (failure && ids.length > 0) await this.recordFailure(ids, failure);
    }
  }

  /** Per user of the batch: how many events the inbox holds for it and when its first deletion arrived. */
  private async historyOf(client: pg.PoolClient, integrationId: string, rows: InboxRow[]): Promise<Map<string, UserHistory>> {
    const users = [...new Set(rows.map(userIdOf))];
    const history = new Map<string, UserHistory>();
    if (users.length === 0) return history;
    const { rows: found } = await client.query<{ user_id: string; events: number; deleted_us: string | null }>(
      `SELECT user_id, count(*)::int AS events,
              min(${micros('received_at')}) FILTER (WHERE event_type = 'user.deleted') AS deleted_us
         FROM sync_inbox WHERE integration_id = $1 AND user_id = ANY($2::text[]) GROUP BY user_id`,
      [integrationId, users],
    );
    for (const r of found) history.set(r.user_id, { events: r.events, deletedUs: r.deleted_us === null ? null : Number(r.deleted_us) });
    return history;
  }

  /**
   * Writes the batch to the branch database; answers the users to confirm with the provider (see
   * SyncConfirmationService): those with more than one event, whose order the transport does not
   * guarantee. A create or update that arrived after the user's deletion is not written: Stack Auth never
   * reuses a user id, so it is an older event delivered late (the confirmation settles it either way).
   */
  private async writeToBranch(integration: NeonAuthIntegrationEntity, rows: InboxRow[], history: Map<string, UserHistory>): Promise<Set<string>> {
    const toConfirm = new Set<string>();
    if (rows.length === 0) return toConfirm;
    const target = await this.integrations.branchDatabaseOf(integration);
    const upserts: UsersSyncRow[] = [];
    const deletes = new Map<string, string[]>(); // deletion time -> ids
    for (const r of rows) {
      const userId = userIdOf(r);
      const h = history.get(userId);
      if (r.event_type === 'user.deleted') {
        const at = microsToIso(Number(r.received_us));
        const list = deletes.get(at) ?? [];
        list.push(userId);
        deletes.set(at, list);
        continue;
      }
      if (h && h.events > 1) toConfirm.add(userId);
      if (h?.deletedUs != null && Number(r.received_us) > h.deletedUs) continue;
      upserts.push({ raw_json: r.payload.data, updated_at: versionOf(r), deleted_at: null });
    }
    if (upserts.length > 0) await this.provisioning.upsertUsers(target, upserts);
    for (const [at, ids] of deletes) await this.provisioning.markDeleted(target, ids, at);
    return toConfirm;
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

/**
 * users_sync.updated_at of a user.created / user.updated event (see the class comment):
 * - user.created: the provider's sign-up time (`signed_up_at_millis`), as the users API writes it, so a
 *   create made through the API and its webhook write the same state (the second is a no-op); never later
 *   than the arrival time, so an update that arrives after it is always newer, whatever the provider's clock;
 * - user.updated: the arrival time, but after the sign-up time (as the users API stamps its changes).
 * Arrival times keep the database's microseconds, so two events never tie on a rounded millisecond.
 */
export function versionOf(r: { event_type: string; payload: { data: Record<string, unknown> }; received_us: string | number }): string {
  const received = Number(r.received_us);
  const millis = r.payload.data.signed_up_at_millis;
  const signedUp = typeof millis === 'number' && Number.isFinite(millis) ? Math.trunc(millis) * 1000 : undefined;
  if (signedUp === undefined) return microsToIso(received);
  const at = r.event_type === 'user.created' ? Math.min(signedUp, received) : Math.max(received, signedUp + 1000);
  return microsToIso(at);
}

function userIdOf(r: InboxRow): string {
  return r.user_id ?? String(r.payload.data.id);
}
