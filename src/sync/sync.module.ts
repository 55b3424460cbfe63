import { Module } from '@nestjs/common';
import { NeonAuthIntegrationsModule } from '../neon-auth/integrations/integrations.module.js';
import { SyncApplierService } from './sync-applier.service.js';
import { SyncConfirmationService } from './sync-confirmation.service.js';
import { SyncIntegrations } from './sync-integrations.js';
import { SyncMetricsModule } from './sync-metrics.js';
import { SyncStatusModule } from './status/sync-status.module.js';
import { WebhookIntakeService } from './webhook-intake.service.js';

/**
 * The users_sync sync engine (issue 5): webhook receiver (webhook-receiver.ts, mounted by src/app.factory.ts
 * ahead of the API pipeline) -> durable inbox (sync_inbox) -> applier
 * (in-process batching per branch database, pg-boss in schema `pgboss_sync` for retries and recovery).
 * Must not import from src/stack-auth (the provider is reached only through its webhooks and the port).
 */
@Module({
  imports: [NeonAuthIntegrationsModule, SyncStatusModule, SyncMetricsModule],
  providers: [SyncApplierService, SyncConfirmationService, SyncIntegrations, WebhookIntakeService],
  exports: [SyncApplierService, WebhookIntakeService],
})
export class SyncModule {}
