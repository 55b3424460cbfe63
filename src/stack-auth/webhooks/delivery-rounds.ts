import type pg from 'pg';
import type { Logger } from 'pino';
import { inCallerTransaction } from '../../common/pg-transaction.js';
import { bigintArrayLiteral, booleanArrayLiteral, float8ArrayLiteral, querySeveral, textArrayLiteral, textLiteral } from '../../common/sql-literals.js';
import { runPrepared, type PreparedStatement } from '../../database/pg-pool.js';
import { sendWebhook, type SendResult, type Webhook } from './webhook-sender.js';

/** One ordering key of one endpoint: the unit that is delivered strictly in order, one row at a time. */
export interface OutboxKey {
  endpoint_id: string;
  ordering_key: string;
}

export interface DeliveryRoundsOptions {
  pool(): pg.Pool | undefined;
  logger: Logger;
  /** Per-request timeout. */
  timeoutMs: number;
  /** Backoff of a row's first failure; doubled on every further one, up to maxBackoffSeconds. */
  retryDelaySeconds: number;
  maxBackoffSeconds: number;
  /** Rounds in flight in all (each holds a pooled connection for its requests). */
  rounds: number;
  /** Rounds in flight per endpoint (several requests in flight to it at once, over kept-alive connections). */
  roundsPerEndpoint: number;
  /** Keys (= requests) per round at most. */
  keysPerRound: number;
  /** Keys waiting for a round, in all; beyond this schedule() refuses and pg-boss takes the key. */
  maxWaiting: number;
  /** The endpoint's svix signer (throws when its secret cannot be opened). */
  signer(endpointId: string, secretEncrypted: string): Webhook;
  /** Hands keys to pg-boss: at once (undefined), or once a failed head's backoff has ended. */
  retryLater(keys: OutboxKey[], afterSeconds?: number): Promise<void>;
}

/** A locked head row of a round. */
interface HeadRow {
  id: string;
  ordering_key: string;
  message_id: string;
  payload: { type: string; data: unknown };
  attempts: number;
  url: string;
  secret_encrypted: string;
  disabled: boolean;
}

/** Keys of endpoint $1 among $2 whose head is undelivered and not waiting for a retry (so: held by another delivery). */
const HELD_KEYS: PreparedStatement = {
  name: 'stack_outbox_held_keys',
  text: `SELECT h.ordering_key FROM (
      SELECT DISTINCT ON (ordering_key) ordering_key, attempts, next_attempt_at FROM stack_auth.webhook_outbox
      WHERE endpoint_id = $1 AND ordering_key = ANY($2::text[]) AND delivered_at IS NULL
      ORDER BY ordering_key, id
    ) h
    WHERE NOT (h.attempts > 0 AND h.next_attempt_at > now())`,
};

/** A key whose head another delivery holds becomes a pg-boss job due this much later (its holder usually goes on with it). */
const HELD_RETRY_SECONDS = 1;

/**
 * Keys handed to pg-boss while this process stops are due this much later: for another replica (or this one's next
 * start), not for this process's own workers, which are stopping and must not take new jobs meanwhile.
 */
const SHUTDOWN_HANDOVER_SECONDS = 5;

interface Outcome {
  id: string;
  ok: boolean;
  sent: boolean;
  error: string | null;
  backoff: number;
}

/**
 * The dispatcher's hot path: keys whose rows just committed are delivered in rounds, in this process, without a job
 * queue. A round takes up to `keysPerRound` waiting keys of one endpoint, locks their head rows in one transaction
 * (`FOR UPDATE SKIP LOCKED`: no other round, pg-boss job or replica sends them meanwhile), sends them all at once over
 * the kept-alive connections, records every outcome in one statement and commits: two round trips for the whole
 * round (BEGIN with the lock, the record with COMMIT), however many keys it carries. Several rounds per endpoint may be in flight; one key is in at most one round,
 * so a key's rows still go one at a time, in outbox order. A key with more rows, or new rows that arrived during its
 * round, goes into a later round. A failed head is recorded with its backoff and handed to pg-boss for the retry; a
 * key whose head another delivery holds becomes a pg-boss job shortly after (its holder usually delivers the rest).
 * Keys waiting beyond `maxWaiting`, and those waiting when the process stops, are handed to pg-boss too.
 */
export class DeliveryRounds {
  /** Endpoint -> its keys waiting for a round (insertion order). */
  private readonly waiting = new Map<string, Set<string>>();
  private waitingCount = 0;
  /** `endpoint key` of keys in a round now, and of those that got new rows meanwhile. */
  private readonly inRound = new Set<string>();
  private readonly again = new Set<string>();
  private readonly endpointRounds = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly o: DeliveryRoundsOptions) {}

  /** Delivers the key's pending rows soon; false when too much is waiting already (then pg-boss must take the key). */
  schedule(k: OutboxKey): boolean {
    if (this.stopped) return false;
    const id = `${k.endpoint_id} ${k.ordering_key}`;
    if (this.inRound.has(id)) {
      this.again.add(id);
      return true;
    }
    let keys = this.waiting.get(k.endpoint_id);
    if (!keys?.has(k.ordering_key)) {
      if (this.waitingCount >= this.o.maxWaiting) return false;
      if (!keys) this.waiting.set(k.endpoint_id, (keys = new Set()));
      keys.add(k.ordering_key);
      this.waitingCount++;
    }
    this.pump();
    return true;
  }

  /**
   * Stops taking keys: those waiting go to pg-boss (another replica, or this one's next start, delivers them); resolves
   * when the rounds in flight have ended (their requests within the timeout) and handed over what follows them. Call it
   * while pg-boss still runs.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const waiting: OutboxKey[] = [];
    for (const [endpointId, keys] of this.waiting) for (const key of keys) waiting.push({ endpoint_id: endpointId, ordering_key: key });
    this.waiting.clear();
    this.waitingCount = 0;
    if (waiting.length > 0) {
      await this.o.retryLater(waiting, SHUTDOWN_HANDOVER_SECONDS).catch((err) => this.o.logger.warn({ err, keys: waiting.length }, 'webhook dispatcher: could not hand waiting keys to pg-boss at shutdown (the sweep will)'));
    }
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Starts rounds while slots are free and keys wait. */
  private pump(): void {
    if (this.stopped) return;
    for (const [endpointId, keys] of this.waiting) {
      if (this.inFlight.size >= this.o.rounds) return;
      while (keys.size > 0 && (this.endpointRounds.get(endpointId) ?? 0) < this.o.roundsPerEndpoint && this.inFlight.size < this.o.rounds) {
        const taken: string[] = [];
        for (const key of keys) {
          taken.push(key);
          keys.delete(key);
          this.inRound.add(`${endpointId} ${key}`);
          if (taken.length >= this.o.keysPerRound) break;
        }
        this.waitingCount -= taken.length;
        this.endpointRounds.set(endpointId, (this.endpointRounds.get(endpointId) ?? 0) + 1);
        const round: Promise<void> = this.round(endpointId, taken).finally(() => {
          this.inFlight.delete(round);
          const left = (this.endpointRounds.get(endpointId) ?? 1) - 1;
          if (left === 0) this.endpointRounds.delete(endpointId);
          else this.endpointRounds.set(endpointId, left);
          this.pump();
        });
        this.inFlight.add(round);
      }
      if (keys.size === 0) this.waiting.delete(endpointId);
    }
  }

  private async round(endpointId: string, keys: string[]): Promise<void> {
    const next: string[] = [];
    const held: string[] = [];
    const failed: { key: string; backoff: number }[] = [];
    try {
      const pool = this.o.pool();
      if (!pool) throw new Error('webhook dispatcher is not running');
      await inCallerTransaction(pool, async (client) => {
        // BEGIN and the heads locked in one message (outbox_lock_heads, migration OutboxRoundFunctions).
        const begun = await querySeveral<HeadRow>(client, `BEGIN; SELECT * FROM stack_auth.outbox_lock_heads(${textLiteral(endpointId)}, ${textArrayLiteral(keys)})`);
        const heads = begun[1].rows;
        const returned = new Set(heads.map((h) => h.ordering_key));
        if (returned.size < keys.length) {
          // Not returned: nothing pending, a head waiting for its retry, or one held by another delivery.
          const rows = await runPrepared<{ ordering_key: string }>(client, HELD_KEYS, [endpointId, keys.filter((k) => !returned.has(k))]);
          for (const r of rows) held.push(r.ordering_key);
        }
        const outcomes = await Promise.all(heads.map((h) => this.deliver(endpointId, h)));
        if (outcomes.length === 0) return 'open';
        // Every outcome recorded and the transaction committed in one message.
        const [{ rows: recorded }] = await querySeveral<{ id: string; ordering_key: string; more: boolean }>(
          client,
          `SELECT * FROM stack_auth.outbox_record_round(${bigintArrayLiteral(outcomes.map((x) => x.id))}, ${booleanArrayLiteral(outcomes.map((x) => x.ok))}, ${booleanArrayLiteral(
            outcomes.map((x) => x.sent),
          )}, ${textArrayLiteral(outcomes.map((x) => x.error))}, ${float8ArrayLiteral(outcomes.map((x) => x.backoff))}); COMMIT`,
        );
        const outcomeOf = new Map(outcomes.map((x) => [x.id, x]));
        for (const r of recorded) {
          const outcome = outcomeOf.get(r.id)!;
          if (!outcome.ok) failed.push({ key: r.ordering_key, backoff: outcome.backoff });
          else if (r.more) next.push(r.ordering_key);
        }
        return 'ended';
      });
    } catch (err) {
      // Nothing was recorded: the keys are retried by pg-boss after the first backoff (a request may have gone out;
      // its receiver drops the duplicate by svix id).
      this.o.logger.warn({ err, endpointId, keys: keys.length }, 'webhook dispatcher: a delivery round failed; pg-boss retries its keys');
      next.length = 0;
      held.length = 0;
      failed.length = 0;
      failed.push(...keys.map((key) => ({ key, backoff: this.o.retryDelaySeconds })));
    } finally {
      for (const key of keys) {
        const id = `${endpointId} ${key}`;
        this.inRound.delete(id);
        if (this.again.delete(id) && !failed.some((f) => f.key === key)) next.push(key);
      }
    }
    for (const key of new Set(next)) {
      if (!this.schedule({ endpoint_id: endpointId, ordering_key: key })) await this.handOver(endpointId, key, this.stopped ? SHUTDOWN_HANDOVER_SECONDS : undefined);
    }
    for (const f of failed) await this.handOver(endpointId, f.key, f.backoff);
    for (const key of held) await this.handOver(endpointId, key, HELD_RETRY_SECONDS);
  }

  /** Sends one head row (or records a disabled endpoint's row as not sent). */
  private async deliver(endpointId: string, h: HeadRow): Promise<Outcome> {
    if (h.disabled) return { id: h.id, ok: true, sent: false, error: 'endpoint disabled: not sent', backoff: 0 };
    let result: SendResult;
    try {
      const signer = this.o.signer(endpointId, h.secret_encrypted);
      const body = JSON.stringify({ type: h.payload.type, data: h.payload.data });
      result = await sendWebhook({ url: h.url, signer, messageId: h.message_id, body }, this.o.timeoutMs);
    } catch (err) {
      result = { ok: false, error: (err as Error).message };
    }
    if (result.ok) return { id: h.id, ok: true, sent: true, error: null, backoff: 0 };
    const backoff = Math.min(this.o.retryDelaySeconds * 2 ** Math.min(h.attempts + 1, 30), this.o.maxBackoffSeconds);
    this.o.logger.info({ endpointId, messageId: h.message_id, err: result.error }, 'webhook delivery failed; pg-boss retries it with backoff');
    return { id: h.id, ok: false, sent: true, error: result.error.slice(0, 1000), backoff };
  }

  private async handOver(endpointId: string, key: string, afterSeconds?: number): Promise<void> {
    await this.o
      .retryLater([{ endpoint_id: endpointId, ordering_key: key }], afterSeconds)
      .catch((err) => this.o.logger.warn({ err }, 'webhook dispatcher: could not enqueue a retry (the sweep will)'));
  }
}
