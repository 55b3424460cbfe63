import { Inject, Injectable, Module } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { LOGGER } from '../common/logger.js';
import { HttpMetricsService } from '../ops/http-metrics.service.js';
import { OpsModule } from '../ops/ops.module.js';
import { withTimeout } from '../common/with-timeout.js';

/** A scrape-time gauge query that takes longer than this is abandoned (the sample is left out of that scrape). */
export const SYNC_GAUGE_TIMEOUT_MS = 2_000;

/** Lag buckets (seconds): the engine applies in milliseconds; retries and outages land in the top buckets. */
const LAG_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Prometheus metrics of the users_sync sync engine, on the application's registry (GET /metrics, see
 * src/ops): counters of events received, applied, failed attempts (retried) and dead-lettered in this
 * process, the arrival -> applied lag, and two gauges read from `sync_inbox` at scrape time (pending and dead
 * rows of every integration, so they are the same on every replica). A gauge whose query fails or is slow is
 * left out of that scrape instead of failing it.
 */
@Injectable()
export class SyncMetrics {
  private readonly receivedTotal: Counter;
  private readonly appliedTotal: Counter;
  private readonly retriedTotal: Counter;
  private readonly deadLetteredTotal: Counter;
  private readonly lag: Histogram;
  private readonly registry: Registry;

  constructor(
    http: HttpMetricsService,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.registry = http.registry;
    const registers = [this.registry];
    this.receivedTotal = new Counter({
      name: 'neon_auth_sync_events_received_total',
      help: 'Provider webhook events accepted by this process (made durable in sync_inbox; redeliveries included)',
      registers,
    });
    this.appliedTotal = new Counter({
      name: 'neon_auth_sync_events_applied_total',
      help: 'Provider events written to neon_auth.users_sync by this process',
      registers,
    });
    this.retriedTotal = new Counter({
      name: 'neon_auth_sync_events_retried_total',
      help: 'Failed apply attempts of provider events in this process (each is retried, or parked once out of attempts)',
      registers,
    });
    this.deadLetteredTotal = new Counter({
      name: 'neon_auth_sync_events_dead_lettered_total',
      help: 'Provider events this process parked as dead letters after SYNC_MAX_ATTEMPTS failed attempts',
      registers,
    });
    this.lag = new Histogram({
      name: 'neon_auth_sync_lag_seconds',
      help: 'Time from an event becoming durable in sync_inbox to its write to users_sync being committed, in seconds',
      buckets: LAG_BUCKETS,
      registers,
    });
    this.scrapeGauge('neon_auth_sync_queue_depth', 'Provider events waiting to be applied (pending rows of sync_inbox, all integrations)', 'pending');
    this.scrapeGauge('neon_auth_sync_dead_letters', 'Provider events parked as dead letters (dead rows of sync_inbox, all integrations)', 'dead');
  }

  /** One delivery accepted (stored, or a redelivery of a stored event). */
  received(n = 1): void {
    if (n > 0) this.receivedTotal.inc(n);
  }

  /** Events just committed to users_sync, with their arrival times (`received_at`: a Date or epoch milliseconds) for the lag histogram. */
  applied(receivedAt: readonly (Date | number)[]): void {
    if (receivedAt.length === 0) return;
    this.appliedTotal.inc(receivedAt.length);
    const now = Date.now();
    for (const at of receivedAt) this.lag.observe(Math.max(0, now - (typeof at === 'number' ? at : at.getTime())) / 1000);
  }

  /** Failed apply attempts (`n` events). */
  retried(n: number): void {
    if (n > 0) this.retriedTotal.inc(n);
  }

  /** Events that just parked as dead letters. */
  deadLettered(n: number): void {
    if (n > 0) this.deadLetteredTotal.inc(n);
  }

  /** The rows a failed attempt updated (`RETURNING status`): every one is a failed attempt, the 'dead' ones just parked. */
  attemptsFailed(rows: readonly { status: string }[]): void {
    this.retried(rows.length);
    this.deadLettered(rows.filter((r) => r.status === 'dead').length);
  }

  private scrapeGauge(name: string, help: string, status: 'pending' | 'dead'): void {
    const db = this.db;
    const logger = this.logger;
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        try {
          const rows = (await withTimeout(
            db.query(`SELECT count(*)::bigint AS n FROM sync_inbox WHERE status = $1`, [status]),
            SYNC_GAUGE_TIMEOUT_MS,
          )) as { n: string }[];
          this.set(Number(rows[0].n));
        } catch (err) {
          this.remove(); // no sample in this scrape rather than a stale or made-up one
          logger.debug({ err, metric: name }, 'sync metrics: gauge query failed; left out of this scrape');
        }
      },
    });
  }
}

/** SyncMetrics on the application's registry; imported by the sync engine's module. */
@Module({
  imports: [OpsModule],
  providers: [SyncMetrics],
  exports: [SyncMetrics],
})
export class SyncMetricsModule {}
