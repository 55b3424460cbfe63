import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { startPgBoss } from '../../common/pg-boss.js';
import pg from 'pg';
import type PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { LOGGER } from '../../common/logger.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { OutboxService } from './outbox.service.js';
import { WebhookEndpointsService } from './webhook-endpoints.service.js';
import { DeliveryRounds, type OutboxKey } from './delivery-rounds.js';
import { sendWebhook, type Webhook } from './webhook-sender.js';

/** pg-boss lives in its own schema of the control-plane database. */
export const PGBOSS_SCHEMA = 'pgboss';
/** One job per ordering key (endpoint + user): "deliver this key's pending outbox rows, in order". */
export const DELIVERY_QUEUE = 'stack-auth-webhook-delivery';
/** A cron job (every minute) that re-enqueues keys with due rows, whatever happened to their jobs. */
export const SWEEP_QUEUE = 'stack-auth-webhook-sweep';

export interface WebhookDispatchSettings {
  /** Idle workers look for due retries this often (new events wake them at once). */
  pollingIntervalSeconds: number;
  /** First retry delay; pg-boss doubles it (with jitter) on every further retry. */
  retryDelaySeconds: number;
  /** pg-boss retries of one key's job before the sweep takes over (about 11 hours at 5 s). */
  retryLimit: number;
  /** Per-request timeout (Svix's: 15 s). */
  timeoutMs: number;
  /** Parallel deliveries per process by pg-boss workers (retries, recovery, overflow). */
  concurrency: number;
  /** Delivery rounds in flight right after commits, without pg-boss (the hot path: DeliveryRounds), in all... */
  directConcurrency: number;
  /** ...and per endpoint. */
  roundsPerEndpoint: number;
  /** Keys (requests) per round at most. */
  keysPerRound: number;
  /** Keys waiting for a hot-path round at most; beyond, pg-boss takes them. */
  maxWaitingKeys: number;
  /** A job running longer than this is presumed dead and retried (its row locks keep that safe). */
  jobExpireSeconds: number;
  /** Upper bound of a row's backoff (`next_attempt_at`), which the sweep honours. */
  maxBackoffSeconds: number;
  /** Delivered rows are pruned after this many days. */
  retentionDays: number;
}

export function webhookDispatchSettings(config: AppConfig): WebhookDispatchSettings {
  return {
    pollingIntervalSeconds: config.stackAuthWebhookPollSeconds,
    retryDelaySeconds: config.stackAuthWebhookRetryDelaySeconds,
    retryLimit: 12,
    timeoutMs: 15_000,
    concurrency: 4,
    directConcurrency: 16,
    roundsPerEndpoint: 2,
    keysPerRound: 32,
    maxWaitingKeys: 2_000,
    jobExpireSeconds: 300,
    maxBackoffSeconds: 6 * 3600,
    retentionDays: 7,
  };
}

interface DeliveryJob {
  endpointId: string;
  orderingKey: string;
}

/** Head-of-key row, locked for delivery. */
interface LockedRow {
  id: string;
  message_id: string;
  payload: { type: string; data: unknown };
  attempts: number;
  backing_off: boolean;
  url: string;
  secret_encrypted: string;
  disabled: boolean;
}

const OUTBOX = 'stack_auth.webhook_outbox';
const ENDPOINTS = 'stack_auth.webhook_endpoints';

/**
 * Delivers the webhook outbox (stack_auth.webhook_outbox):
 *
 * - After a change commits, OutboxService.afterCommit wakes this dispatcher, which delivers each affected
 *   ordering key (endpoint + user) at once, in process, in rounds of many keys per transaction
 *   (DeliveryRounds; a key already in a round picks its new rows up in a later one). Keys beyond what may
 *   wait for a round, and a key whose delivery failed, become pg-boss jobs (queue policy `short`: at most
 *   one queued job per key).
 * - A job delivers its key's pending rows strictly in outbox id order. The head row is locked
 *   (`FOR UPDATE SKIP LOCKED`) for the duration of its HTTP request, so no two workers, in this process
 *   or another replica, send it at once; a job that finds the head locked leaves the key to its holder.
 *   A later row is never tried while an earlier one is pending.
 * - The first failure is recorded on the row and thrown, so pg-boss retries the job with exponential
 *   backoff. Fresh jobs leave a head that is backing off alone (its retry owns it).
 * - Every minute (pg-boss cron) and at start, a sweep re-enqueues keys whose head row is due: that
 *   covers a crash between commit and enqueue, and keys whose pg-boss retries ran out.
 *
 * Delivery is at least once: a receiver may see a message again (same `svix-id`) if marking it delivered
 * fails after a 2xx.
 */
@Injectable()
export class WebhookDispatcherService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly settings: WebhookDispatchSettings;
  private pool?: pg.Pool;
  private boss?: PgBoss;
  private workerIds: string[] = [];
  /** The hot path: keys of fresh commits, delivered in rounds in this process. */
  private rounds?: DeliveryRounds;
  private unsubscribe?: () => void;
  private running = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly outbox: OutboxService,
    private readonly endpoints: WebhookEndpointsService,
  ) {
    this.settings = webhookDispatchSettings(config);
  }

  /** Runs in app.init() (never in the OpenAPI preview build, which does not initialise the app). */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.databaseUrl) return;
    const s = this.settings;
    // Its own small pool: a delivery holds a connection (and its head row's lock) during its HTTP request,
    // which must not starve the API's pool. pg-boss shares it.
    const pool = new pg.Pool({
      connectionString: this.config.databaseUrl,
      max: s.concurrency + s.directConcurrency + 3,
      connectionTimeoutMillis: 10_000,
      application_name: 'neon-auth-control-plane-webhooks',
    });
    pool.on('error', (err) => this.logger.warn({ err }, 'webhook dispatcher: idle database connection failed'));
    this.pool = pool;
    const boss = await startPgBoss(pool, {
      schema: PGBOSS_SCHEMA,
      queues: [
        {
          name: DELIVERY_QUEUE,
          policy: 'short',
          retryLimit: s.retryLimit,
          retryDelay: s.retryDelaySeconds,
          retryBackoff: true,
          expireInSeconds: s.jobExpireSeconds,
        },
        { name: SWEEP_QUEUE, policy: 'short', retryLimit: 0 },
      ],
      onError: (err) => this.logger.warn({ err }, 'webhook dispatcher: pg-boss error'),
    });
    this.boss = boss;
    this.running = true;
    this.rounds = new DeliveryRounds({
      pool: () => this.pool,
      logger: this.logger,
      timeoutMs: s.timeoutMs,
      retryDelaySeconds: s.retryDelaySeconds,
      maxBackoffSeconds: s.maxBackoffSeconds,
      rounds: s.directConcurrency,
      roundsPerEndpoint: s.roundsPerEndpoint,
      keysPerRound: s.keysPerRound,
      maxWaiting: s.maxWaitingKeys,
      signer: (endpointId, secretEncrypted) => this.endpoints.signerOf(endpointId, secretEncrypted),
      retryLater: (keys, afterSeconds) => this.enqueue(keys, afterSeconds),
    });
    for (let i = 0; i < s.concurrency; i++) {
      let workerId = '';
      workerId = await boss.work<DeliveryJob>(
        DELIVERY_QUEUE,
        { pollingIntervalSeconds: s.pollingIntervalSeconds, includeMetadata: true, batchSize: 1 },
        async ([job]) => {
          try {
            await this.deliverKey(job.data.endpointId, job.data.orderingKey, job.retryCount > 0);
          } finally {
            // Straight on to the next queued job, if any, instead of sleeping a polling interval.
            if (this.running) boss.notifyWorker(workerId);
          }
        },
      );
      this.workerIds.push(workerId);
    }
    await boss.work(SWEEP_QUEUE, { pollingIntervalSeconds: 30 }, async () => {
      await this.sweep();
    });
    await boss.schedule(SWEEP_QUEUE, '* * * * *');
    this.unsubscribe = this.outbox.onEnqueued((projectId, orderingKey, events) => {
      // When the statement answered the rows it wrote, they need no looking up.
      const started = events ? this.deliverKeys(events.map((e) => ({ endpoint_id: e.endpointId, ordering_key: orderingKey }))) : this.kick(projectId, orderingKey);
      started.catch((err) => this.logger.warn({ err, projectId }, 'webhook dispatcher: could not enqueue new events (the sweep will)'));
    });
    // Rows left from before this start (a crash between commit and enqueue, a stop mid-delivery). On a
    // first start the provider's tables may not exist yet (migrations run after init): the cron sweep follows.
    this.sweep().catch((err) => this.logger.debug({ err }, 'webhook dispatcher: startup sweep failed; the periodic sweep will retry'));
  }

  /**
   * Stops before the data source and the HTTP server close: the hot path first (keys waiting for a round go to pg-boss,
   * rounds in flight finish and hand over what follows them), then pg-boss (running deliveries finish, up to their
   * timeout), then the pool.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.rounds?.stop();
    const boss = this.boss;
    this.boss = undefined;
    try {
      await boss?.stop({ graceful: true, wait: true, close: false, timeout: this.settings.timeoutMs + 5000 });
    } catch (err) {
      this.logger.warn({ err }, 'webhook dispatcher: pg-boss did not stop cleanly');
    }
    await this.pool?.end().catch(() => undefined);
    this.pool = undefined;
  }

  /**
   * Enqueues the keys (one per endpoint of the project) of `orderingKey`'s new, never attempted rows and wakes
   * the workers. Only the key that just changed: other keys' backlogs (say, behind an endpoint that is down)
   * belong to their retries and the sweep, so a write costs the same however long the backlog is.
   */
  async kick(projectId: string, orderingKey: string): Promise<void> {
    const pool = this.pool;
    if (!this.running || !pool) return;
    const { rows } = await pool.query<OutboxKey>(
      `SELECT e.id AS endpoint_id, $2::text AS ordering_key FROM ${ENDPOINTS} e
       WHERE e.project_id = $1 AND EXISTS (
         SELECT 1 FROM ${OUTBOX} o WHERE o.endpoint_id = e.id AND o.ordering_key = $2 AND o.delivered_at IS NULL AND o.attempts = 0
       )`,
      [projectId, orderingKey],
    );
    await this.deliverKeys(rows);
  }

  /** Delivers keys in process now (hot-path rounds); those beyond what may wait for a round become pg-boss jobs. */
  private async deliverKeys(keys: OutboxKey[]): Promise<void> {
    if (!this.running) return;
    await this.enqueue(keys.filter((k) => !(this.rounds?.schedule(k) ?? false)));
  }

  /** Re-enqueues every key whose head row is due, and prunes old delivered rows. Returns how many keys. */
  async sweep(): Promise<number> {
    const pool = this.pool;
    if (!this.running || !pool) return 0;
    const { rows } = await pool.query<OutboxKey>(
      `SELECT endpoint_id, ordering_key FROM (
         SELECT DISTINCT ON (endpoint_id, ordering_key) endpoint_id, ordering_key, next_attempt_at
         FROM ${OUTBOX} WHERE delivered_at IS NULL
         ORDER BY endpoint_id, ordering_key, id
       ) head
       WHERE next_attempt_at <= now()
       LIMIT 10000`,
    );
    await this.enqueue(rows);
    await pool.query(`DELETE FROM ${OUTBOX} WHERE delivered_at < now() - make_interval(days => $1)`, [this.settings.retentionDays]);
    return rows.length;
  }

  private async enqueue(keys: OutboxKey[], startAfterSeconds?: number): Promise<void> {
    const boss = this.boss;
    if (keys.length === 0) return;
    if (!boss) {
      this.logger.warn({ keys: keys.length }, 'webhook dispatcher: pg-boss is stopped; keys left to the sweep of a running process');
      return;
    }
    const s = this.settings;
    // A retry starts once the head's backoff has ended (+1 s for the distance between this clock and the database's).
    const startAfter = startAfterSeconds === undefined ? {} : { startAfter: new Date(Date.now() + (startAfterSeconds + 1) * 1000) };
    await boss.insert(
      keys.map((k) => ({
        name: DELIVERY_QUEUE,
        data: { endpointId: k.endpoint_id, orderingKey: k.ordering_key } satisfies DeliveryJob,
        // With the queue's `short` policy: no second queued job for a key that already has one.
        singletonKey: `${k.endpoint_id}:${k.ordering_key}`,
        retryLimit: s.retryLimit,
        retryDelay: s.retryDelaySeconds,
        retryBackoff: true,
        expireInSeconds: s.jobExpireSeconds,
        ...startAfter,
      })),
    );
    // Wake as many workers as there are new jobs (each takes one), not all of them for every job.
    if (startAfterSeconds === undefined) for (const id of this.workerIds.slice(0, keys.length)) boss.notifyWorker(id);
  }

  /**
   * Delivers one key's pending rows in id order, one locked head at a time. Returns when the key is
   * drained, when another worker holds its head, or (for a fresh job) when the head waits for a retry;
   * throws on the first failed delivery so that pg-boss retries this job.
   */
  async deliverKey(endpointId: string, orderingKey: string, isRetry: boolean): Promise<void> {
    const pool = this.pool;
    if (!pool) throw new Error('webhook dispatcher is not running');
    let skippedHead: string | undefined;
    while (this.running) {
      const client = await pool.connect();
      let failure: Error | undefined;
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        // The key's head row, locked for this delivery (one statement: the head is chosen first, so a
        // locked head is skipped, never overtaken by the row behind it).
        const locked = await client.query<LockedRow>(
          `SELECT o.id, o.message_id, o.payload, o.attempts, o.next_attempt_at > now() AS backing_off,
                  e.url, e.secret_encrypted, e.disabled_at IS NOT NULL AS disabled
           FROM ${OUTBOX} o JOIN ${ENDPOINTS} e ON e.id = o.endpoint_id
           WHERE o.id = (SELECT id FROM ${OUTBOX} WHERE endpoint_id = $1 AND ordering_key = $2 AND delivered_at IS NULL ORDER BY id LIMIT 1)
             AND o.delivered_at IS NULL
           FOR UPDATE OF o SKIP LOCKED`,
          [endpointId, orderingKey],
        );
        if (locked.rows.length === 0) {
          // Nothing pending, or the head is held by another delivery (which carries on with the rest of the
          // key), or it was delivered just now (then the next head is looked at). The same head twice means
          // it is held.
          const head = await client.query<{ id: string }>(
            `SELECT id FROM ${OUTBOX} WHERE endpoint_id = $1 AND ordering_key = $2 AND delivered_at IS NULL ORDER BY id LIMIT 1`,
            [endpointId, orderingKey],
          );
          await client.query('COMMIT');
          if (head.rows.length === 0) return;
          const headId = head.rows[0].id;
          if (skippedHead === headId) return;
          skippedHead = headId;
          continue;
        }
        const row = locked.rows[0];
        if (row.disabled) {
          await client.query(`UPDATE ${OUTBOX} SET delivered_at = now(), last_error = 'endpoint disabled: not sent' WHERE id = $1`, [row.id]);
          await client.query('COMMIT');
          continue;
        }
        if (!isRetry && row.attempts > 0 && row.backing_off) {
          // A failed head: its job's pg-boss retry (or, once those run out, the sweep) owns it.
          await client.query('COMMIT');
          return;
        }
        const body = JSON.stringify({ type: row.payload.type, data: row.payload.data });
        let signer: Webhook | undefined;
        try {
          signer = this.endpoints.signerOf(endpointId, row.secret_encrypted);
        } catch (err) {
          failure = err as Error;
        }
        const result = failure || !signer
          ? ({ ok: false, error: failure?.message ?? 'no signer' } as const)
          : await sendWebhook({ url: row.url, signer, messageId: row.message_id, body }, this.settings.timeoutMs);
        if (result.ok) {
          // Marked delivered, and whether the key has more (so a drained key costs no further transaction).
          const marked = await client.query<{ more: boolean }>(
            `UPDATE ${OUTBOX} SET delivered_at = clock_timestamp(), attempts = attempts + 1, last_error = NULL WHERE id = $1
             RETURNING EXISTS (SELECT 1 FROM ${OUTBOX} WHERE endpoint_id = $2 AND ordering_key = $3 AND delivered_at IS NULL AND id <> $1) AS more`,
            [row.id, endpointId, orderingKey],
          );
          await client.query('COMMIT');
          if (!marked.rows[0]?.more) return;
          continue;
        }
        const backoff = Math.min(this.settings.retryDelaySeconds * 2 ** Math.min(row.attempts + 1, 30), this.settings.maxBackoffSeconds);
        await client.query(
          `UPDATE ${OUTBOX} SET attempts = attempts + 1, last_error = $2, next_attempt_at = clock_timestamp() + make_interval(secs => $3) WHERE id = $1`,
          [row.id, result.error.slice(0, 1000), backoff],
        );
        await client.query('COMMIT');
        failure = new Error(`webhook ${row.message_id} to endpoint ${endpointId} failed: ${result.error}`);
      } catch (err) {
        broken = err as Error;
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        // A connection that failed mid-transaction is discarded rather than reused.
        client.release(broken);
      }
      if (failure) {
        this.logger.info({ endpointId, err: failure.message }, 'webhook delivery failed; pg-boss retries it with backoff');
        throw failure;
      }
    }
  }
}
