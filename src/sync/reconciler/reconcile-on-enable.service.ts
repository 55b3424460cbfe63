import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../../common/logger.js';
import { NeonAuthIntegrationResolver, type IntegrationEnabled } from '../../neon-auth/integrations/integration-resolver.js';
import { SyncReconcilerService } from './reconciler.service.js';

/**
 * Reconciles right after a manual-setup enable (an existing provider project, issue 5): the enable copied the
 * project's users, but changes made during the copy (and webhooks the provider sent before the integration
 * existed, answered 404) are only repaired by a reconciliation. Registered as an enable listener
 * (NeonAuthIntegrationResolver.onEnabled), so neon-auth does not depend on the sync engine; fire and forget: the enable
 * neither waits for it nor fails with it (logged). Shutdown waits for runs in progress.
 */
@Injectable()
export class SyncReconcileOnEnableService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly running = new Set<Promise<void>>();
  private stopping = false;

  constructor(
    private readonly integrations: NeonAuthIntegrationResolver,
    private readonly reconciler: SyncReconcilerService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.integrations.onEnabled((event) => this.start(event));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.running]);
  }

  private start(event: IntegrationEnabled): void {
    if (!event.manual || this.stopping) return; // Quick Start: a new, empty provider project
    const run: Promise<void> = this.reconcile(event.integrationId)
      .catch((err: unknown) =>
        this.logger.warn(
          { integrationId: event.integrationId, err: err instanceof Error ? err.message : String(err) },
          'reconcile after enable failed; the schedule (or POST …/auth/sync) repairs users_sync later',
        ),
      )
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  private async reconcile(integrationId: string): Promise<void> {
    const integration = await this.integrations.findById(integrationId);
    if (!integration) return; // disabled meanwhile
    const counts = await this.reconciler.reconcile(integration);
    this.logger.info({ integrationId, ...counts }, 'reconciled users_sync after a manual-setup enable');
  }
}
