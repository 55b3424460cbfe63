import { Module } from '@nestjs/common';
import { NeonAuthIntegrationResolverModule } from '../../neon-auth/integrations/integration-resolver.module.js';
import { NeonAuthUsersSyncModule } from '../../neon-auth/users-sync/users-sync.module.js';
import { SyncReconcileOnEnableService } from './reconcile-on-enable.service.js';
import { SyncReconcilerScheduler } from './reconciler.scheduler.js';
import { SyncReconcilerService } from './reconciler.service.js';

/**
 * The users_sync reconciler (SyncReconcilerService.reconcile, on demand) and its schedule
 * (SyncReconcilerScheduler, NEON_AUTH_RECONCILE_INTERVAL_SECONDS), and a run after every manual-setup enable
 * (SyncReconcileOnEnableService). No routes.
 */
@Module({
  imports: [NeonAuthIntegrationResolverModule, NeonAuthUsersSyncModule],
  providers: [SyncReconcilerService, SyncReconcilerScheduler, SyncReconcileOnEnableService],
  exports: [SyncReconcilerService],
})
export class SyncReconcilerModule {}
