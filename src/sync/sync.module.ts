import { Module } from '@nestjs/common';
import { ClusterEventsModule } from '../common/cluster-events.js';
import { NeonAuthIntegrationResolverModule } from '../neon-auth/integrations/integration-resolver.module.js';
import { NeonAuthUsersSyncModule } from '../neon-auth/users-sync/users-sync.module.js';
import { ProvidersModule } from '../providers/providers.module.js';
import { SyncReconcilerModule } from './reconciler/reconciler.module.js';
import { SyncInboxStore } from './inbox-store.js';
import { SyncApplierService } from './sync-applier.service.js';
import { SyncConfirmationService } from './sync-confirmation.service.js';
import { SyncIntegrations } from './sync-integrations.js';
import { SyncQueue } from './sync-queue.js';
import { SyncMetricsModule } from './sync-metrics.js';
import { SyncStatusModule } from './status/sync-status.module.js';
import { WebhookIntakeService } from './webhook-intake.service.js';

/**
 * The users_sync sync engine: webhook receiver (webhook-receiver.ts, mounted by src/app.factory.ts
 * ahead of the API pipeline) -> durable inbox (sync_inbox; InboxWriter, SyncInboxStore) -> applier (SyncApplierService:
 * in-process batching per branch database) over SyncQueue (its pool, pg-boss in schema `pgboss_sync` for retries
 * and recovery, LISTEN/NOTIFY between processes).
 * Must not import from src/stack-auth (the provider is reached only through its webhooks and the port).
 */
@Module({
  imports: [ClusterEventsModule, NeonAuthIntegrationResolverModule, NeonAuthUsersSyncModule, ProvidersModule, SyncReconcilerModule, SyncStatusModule, SyncMetricsModule],
  providers: [SyncQueue, SyncInboxStore, SyncApplierService, SyncConfirmationService, SyncIntegrations, WebhookIntakeService],
  exports: [SyncQueue, SyncApplierService, WebhookIntakeService],
})
export class SyncModule {}
