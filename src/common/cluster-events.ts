import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { LOGGER } from './logger.js';
import { PgListener } from './pg-listener.js';

/**
 * The channel of cluster events: `{"topic": …, "key": …}` ("what `key` names in `topic` changed": sent by the
 * triggers of the tables whose rows processes cache, in the transaction of the change, so it is delivered at
 * commit; `key` null: the table was truncated, forget the whole topic) and `{"barrier": nonce, "from": replica id}`
 * (ClusterEvents.settle).
 */
export const CLUSTER_EVENTS_CHANNEL = 'neon_auth_cluster';
/** A replica's own channel for the acknowledgements of its barriers: prefix + replica id. */
const ACK_CHANNEL_PREFIX = 'neon_auth_cluster_ack_';
/** application_name of a replica's LISTEN connection once it listens: prefix + replica id. */
export const CLUSTER_LISTENER_PREFIX = 'neon-auth-cluster:';
/** application_name of that connection before it listens (no barrier waits for it). */
const CONNECTING_NAME = 'neon-auth-cluster-connecting';
const REPLICA_ID = /^[0-9a-f]{16}$/;
const NONCE = /^[0-9a-f]{24}$/;

/** Called with the key of what changed, or with null: "anything of this topic may have changed" (forget it all). */
export type ClusterEventHandler = (key: string | null) => void;

/** How a settle ended: the replicas it waited for (this one included) and those that did not confirm in time. */
export interface Settled {
  waitedFor: string[];
  missing: string[];
}

interface Barrier {
  acked: Set<string>;
  expected?: Set<string>;
  done: () => void;
}

/**
 * Cluster-wide invalidation of what processes cache of the control-plane database. Every process (API replica,
 * sync worker) holds one LISTEN connection (PgListener) named `neon-auth-cluster:<replica id>` once it listens.
 *
 * - A change: the table's trigger sends `{topic, key}` on CLUSTER_EVENTS_CHANNEL in the writing transaction, so
 *   every listening process hears it at commit (and never for a rolled-back change), whatever code path or
 *   cascade wrote the row. Each process hands it to the topic's handlers (`subscribe`), which drop the entry.
 * - Before answering, the writer calls `settle()`: a barrier notification, and the list of live listeners read
 *   in the same statement (so each of them LISTENed before the barrier commits and will receive it). PostgreSQL
 *   delivers notifications in commit order, and handlers run as each one arrives, so a replica that has taken
 *   the barrier has already dropped what the change invalidated: it then acknowledges on the writer's ack
 *   channel. settle waits for every one (this process's own listener included) for at most
 *   INVALIDATION_ACK_TIMEOUT_MS; a replica that stays silent is logged and keeps its entry until its cache's
 *   time limit (the fallback).
 * - While its LISTEN connection is down, a process cannot hear changes: the moment it is lost every handler is
 *   told to forget everything (key null), and `listening` is false until it listens again, so caches
 *   (ClusterCache) store nothing meanwhile and read through.
 */
@Injectable()
export class ClusterEvents implements OnApplicationBootstrap, OnApplicationShutdown {
  /** This process's id among the replicas (random per start). */
  readonly replicaId = randomBytes(8).toString('hex');
  private readonly handlers = new Map<string, Set<ClusterEventHandler>>();
  private readonly barriers = new Map<string, Barrier>();
  private listener?: PgListener;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  /** Whether this process hears every change now (its LISTEN connection is up): caches may keep what they read. */
  get listening(): boolean {
    return this.listener?.ready === true;
  }

  /** `handler(key)` runs for every change of `topic` (any replica's, this one's included) and on a lost connection (null). */
  subscribe(topic: string, handler: ClusterEventHandler): void {
    let set = this.handlers.get(topic);
    if (!set) this.handlers.set(topic, (set = new Set()));
    set.add(handler);
  }

  onApplicationBootstrap(): void {
    if (!this.config.databaseUrl) return;
    this.listener = new PgListener({
      connectionString: this.config.databaseUrl,
      applicationName: CONNECTING_NAME,
      channels: [CLUSTER_EVENTS_CHANNEL, ACK_CHANNEL_PREFIX + this.replicaId],
      logger: this.logger,
      name: 'cluster events',
      onNotification: (channel, payload) => this.received(channel, payload),
      // Live (visible to settle) only once it LISTENs: a barrier that waits for it is sure to reach it.
      onListening: async (listener, reconnected) => {
        await listener.query('SELECT set_config($1, $2, false)', ['application_name', CLUSTER_LISTENER_PREFIX + this.replicaId]);
        this.logger.info({ replicaId: this.replicaId, reconnected }, 'cluster events: listening for invalidations');
      },
      onLost: () => this.deliverToAll(null),
    });
    this.listener.start();
  }

  /** After the HTTP server closed (a request's settle still hears its acknowledgements until then). */
  async onApplicationShutdown(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    await listener?.stop();
    for (const barrier of this.barriers.values()) barrier.done();
  }

  /**
   * Announces a change of something kept outside the control-plane database (e.g. a branch database's settings row),
   * as the tables' triggers do for their rows: every listening process (this one included) hands `key` to the topic's
   * handlers. Follow it with `settle()` to answer only once every replica took it. Throws when the notification cannot
   * be sent (callers then rely on their caches' time limits, or fail the request).
   */
  async announce(topic: string, key: string): Promise<void> {
    await this.db.query('SELECT pg_notify($1, $2)', [CLUSTER_EVENTS_CHANNEL, JSON.stringify({ topic, key })]);
  }

  /**
   * Waits until every live replica has taken every change committed before this call (see the class comment),
   * for at most INVALIDATION_ACK_TIMEOUT_MS. Never throws: the change is committed whatever happens here; a
   * replica that did not confirm in time (or a failed barrier) is logged, and caches' time limits cover it.
   */
  async settle(): Promise<Settled> {
    const timeoutMs = this.config.invalidationAckTimeoutMs;
    if (timeoutMs === 0 || !this.listener) return { waitedFor: [], missing: [] };
    if (!this.listening) {
      // The acknowledgements would come on this process's LISTEN connection.
      this.logger.warn('cluster events: cannot wait for the replicas to take a change (this process\'s LISTEN connection is down); their caches\' time limits apply');
      return { waitedFor: [], missing: [] };
    }
    const nonce = randomBytes(12).toString('hex');
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const barrier: Barrier = { acked: new Set(), done };
    this.barriers.set(nonce, barrier);
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const rows: { replicas: { id: string; pid: number; addr: string | null }[] }[] = await this.db.query(
        `SELECT pg_notify($1, $2) AS sent,
                coalesce((SELECT json_agg(json_build_object('id', substr(application_name, length($3::text) + 1), 'pid', pid, 'addr', client_addr))
                            FROM pg_stat_activity
                           WHERE datname = current_database() AND left(application_name, length($3::text)) = $3::text), '[]') AS replicas`,
        [CLUSTER_EVENTS_CHANNEL, JSON.stringify({ barrier: nonce, from: this.replicaId }), CLUSTER_LISTENER_PREFIX],
      );
      const replicas = rows[0].replicas.filter((r) => REPLICA_ID.test(r.id));
      barrier.expected = new Set(replicas.map((r) => r.id));
      if (!this.complete(barrier)) {
        timer = setTimeout(done, timeoutMs);
        await finished;
      }
      const missing = replicas.filter((r) => !barrier.acked.has(r.id));
      if (missing.length > 0) {
        this.logger.warn(
          { missing, waitedMs: Date.now() - started, timeoutMs },
          'cluster events: replicas did not confirm an invalidation in time; they keep what they cached until its time limit',
        );
      }
      return { waitedFor: [...barrier.expected], missing: missing.map((r) => r.id) };
    } catch (err) {
      this.logger.warn({ err }, 'cluster events: could not wait for the replicas to take a change; their caches\' time limits apply');
      return { waitedFor: [], missing: [] };
    } finally {
      clearTimeout(timer);
      this.barriers.delete(nonce);
    }
  }

  private received(channel: string, payload: string): void {
    if (channel !== CLUSTER_EVENTS_CHANNEL) {
      // An acknowledgement of one of this process's barriers: "<nonce> <replica id>".
      const [nonce, replica] = payload.split(' ');
      const barrier = this.barriers.get(nonce);
      if (barrier && REPLICA_ID.test(replica ?? '')) this.acknowledge(barrier, replica);
      return;
    }
    let event: { topic?: unknown; key?: unknown; barrier?: unknown; from?: unknown } | null;
    try {
      event = JSON.parse(payload) as typeof event;
    } catch {
      return;
    }
    if (typeof event !== 'object' || event === null) return;
    // A key, or null: the whole table changed at once (a TRUNCATE), so everything of the topic is forgotten.
    if (typeof event.topic === 'string' && (typeof event.key === 'string' || event.key === null)) {
      this.deliver(event.topic, event.key);
      return;
    }
    const { barrier: nonce, from } = event;
    if (typeof nonce !== 'string' || !NONCE.test(nonce) || typeof from !== 'string' || !REPLICA_ID.test(from)) return;
    // Every change committed before the barrier has been handed to the handlers above (they are synchronous).
    if (from === this.replicaId) {
      const barrier = this.barriers.get(nonce);
      if (barrier) this.acknowledge(barrier, this.replicaId);
      return;
    }
    this.listener
      ?.query('SELECT pg_notify($1, $2)', [ACK_CHANNEL_PREFIX + from, `${nonce} ${this.replicaId}`])
      .catch((err: unknown) => this.logger.debug({ err }, 'cluster events: could not acknowledge a barrier'));
  }

  private acknowledge(barrier: Barrier, replica: string): void {
    barrier.acked.add(replica);
    this.complete(barrier);
  }

  /** Ends the wait once every expected replica acknowledged; answers whether it did. */
  private complete(barrier: Barrier): boolean {
    if (!barrier.expected) return false;
    for (const id of barrier.expected) if (!barrier.acked.has(id)) return false;
    barrier.done();
    return true;
  }

  private deliver(topic: string, key: string | null): void {
    for (const handler of this.handlers.get(topic) ?? []) {
      try {
        handler(key);
      } catch (err) {
        this.logger.warn({ err, topic }, 'cluster events: a handler failed');
      }
    }
  }

  private deliverToAll(key: null): void {
    for (const topic of this.handlers.keys()) this.deliver(topic, key);
  }
}

@Module({ providers: [ClusterEvents], exports: [ClusterEvents] })
export class ClusterEventsModule {}

/**
 * A cache of control-plane rows kept coherent across replicas by ClusterEvents: an entry is dropped when its
 * topic announces a change of its key (on any replica), everything is dropped when the LISTEN connection is
 * lost, and nothing is kept while it is down. `ttlMs` remains as the fallback for a replica that misses an
 * event. A read that overlaps an invalidation answers what it read but does not keep it (it may predate the change).
 */
export class ClusterCache<V> {
  /** In Map order from the least to the most recently used (a hit moves its entry to the end). */
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  /**
   * Reads in flight, by the event key that invalidates them: an invalidation of that key (or of everything) marks them
   * stale, and a stale read does not store its (maybe older) answer. Only the reads of the key that changed are
   * affected, not every read of the cache.
   */
  private readonly inFlight = new Map<string, Set<{ stale: boolean }>>();

  /**
   * `scope` maps an entry's key to the event key that invalidates it, when entries are finer than what the topic
   * announces (e.g. entries per project and API key, events per project); without it the two are the same.
   */
  constructor(
    private readonly events: ClusterEvents,
    topic: string,
    private readonly options: { ttlMs: number; maxEntries: number; scope?: (entryKey: string) => string },
  ) {
    events.subscribe(topic, (key) => (key === null ? this.clear() : this.forget(key)));
  }

  /**
   * The cached value, or what `load` answers: kept unless undefined, refused by `keep`, or an invalidation of its key
   * overlapped the read. A full cache makes room by dropping its least recently used entry.
   */
  async get(key: string, load: () => Promise<V | undefined>, keep: (value: V) => boolean = () => true): Promise<V | undefined> {
    const now = Date.now();
    const cached = this.entries.get(key);
    if (cached && cached.expiresAt > now) {
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached.value;
    }
    const scopeKey = this.scopeOf(key);
    const read = { stale: false };
    let reads = this.inFlight.get(scopeKey);
    if (!reads) this.inFlight.set(scopeKey, (reads = new Set()));
    reads.add(read);
    const trusted = this.events.listening;
    let value: V | undefined;
    try {
      value = await load();
    } finally {
      reads.delete(read);
      if (reads.size === 0 && this.inFlight.get(scopeKey) === reads) this.inFlight.delete(scopeKey);
    }
    if (value === undefined || !trusted || read.stale || !keep(value)) {
      this.entries.delete(key);
      return value;
    }
    this.entries.delete(key);
    if (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAt: now + this.options.ttlMs });
    return value;
  }

  /** Drops what the event key `key` names (with `scope`: every entry in that scope), and spoils its reads in flight. */
  forget(key: string): void {
    for (const read of this.inFlight.get(key) ?? []) read.stale = true;
    const scope = this.options.scope;
    if (!scope) {
      this.entries.delete(key);
      return;
    }
    for (const entryKey of this.entries.keys()) if (scope(entryKey) === key) this.entries.delete(entryKey);
  }

  clear(): void {
    for (const reads of this.inFlight.values()) for (const read of reads) read.stale = true;
    this.entries.clear();
  }

  private scopeOf(key: string): string {
    return this.options.scope ? this.options.scope(key) : key;
  }
}
