import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../../common/logger.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { NeonAuthIntegrationEntity } from '../../neon-auth/integrations/integration.entity.js';
import { ProviderDestinationRefused } from '../../providers/auth-provider.port.js';
import { SyncReconcilerService } from './reconciler.service.js';

/**
 * Runs the reconciler on a schedule: every integration whose last run (successful or not) is older than
 * NEON_AUTH_RECONCILE_INTERVAL_SECONDS, or that was never reconciled, is reconciled. Every replica ticks
 * (every quarter interval, first tick a quarter interval after start); a run takes the integration's
 * advisory lock without waiting and re-reads whether it is still due once it holds it, so replicas share
 * the work and never run one integration twice. 0 turns the schedule off.
 */
@Injectable()
export class SyncReconcilerScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private tick?: Promise<void>;
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @InjectDataSource() private readonly db: DataSource,
    private readonly reconciler: SyncReconcilerService,
  ) {}

  get intervalSeconds(): number {
    return this.config.neonAuthReconcileIntervalSeconds;
  }

  onApplicationBootstrap(): void {
    if (this.intervalSeconds <= 0) return;
    const periodMs = Math.max(1_000, Math.floor((this.intervalSeconds * 1000) / 4));
    this.timer = setInterval(() => {
      if (this.tick || this.stopping) return;
      this.tick = this.runDue()
        .then(() => undefined)
        .catch((err: unknown) => this.logger.error({ err }, 'scheduled reconcile: tick failed'))
        .finally(() => (this.tick = undefined));
    }, periodMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.tick;
  }

  /** Reconciles every due integration (one after another); answers how many this replica ran. */
  async runDue(): Promise<number> {
    const due = await this.dueIntegrations();
    let ran = 0;
    for (const integration of due) {
      if (this.stopping) break;
      try {
        const counts = await this.reconciler.tryReconcile(integration, () => this.isDue(integration.id));
        if (counts) ran++;
      } catch (err) {
        this.logger.warn(
          {
            integrationId: integration.id,
            err: err instanceof Error ? err.message : String(err),
            // Why the outbound policy refused the provider's address (for the operator; never shown to API callers).
            ...(err instanceof ProviderDestinationRefused ? { reason: err.reason } : {}),
          },
          'scheduled reconcile failed; retried at the next interval',
        );
      }
    }
    return ran;
  }

  private async dueIntegrations(): Promise<NeonAuthIntegrationEntity[]> {
    return this.db
      .getRepository(NeonAuthIntegrationEntity)
      .createQueryBuilder('i')
      .leftJoin('neon_auth_sync_reconciliations', 'r', 'r.integration_id = i.id')
      .where(`r.last_run_at IS NULL OR r.last_run_at < now() - make_interval(secs => :secs)`, { secs: this.intervalSeconds })
      .orderBy('r.last_run_at', 'ASC', 'NULLS FIRST')
      .getMany();
  }

  private async isDue(integrationId: string): Promise<boolean> {
    const rows = (await this.db.query(
      `SELECT EXISTS (SELECT 1 FROM neon_auth_integrations i WHERE i.id = $1)
          AND NOT EXISTS (SELECT 1 FROM neon_auth_sync_reconciliations r WHERE r.integration_id = $1
                             AND r.last_run_at >= now() - make_interval(secs => $2)) AS due`,
      [integrationId, this.intervalSeconds],
    )) as { due: boolean }[];
    return rows[0].due;
  }
}
