import { Module } from '@nestjs/common';
import { NeonAuthIntegrationsModule } from '../../neon-auth/integrations/integrations.module.js';
import { ProjectsModule } from '../../projects/projects.module.js';
import { SyncReconcileOnEnableService } from './reconcile-on-enable.service.js';
import { SyncReconcilerScheduler } from './reconciler.scheduler.js';
import { SyncReconcilerService } from './reconciler.service.js';

/**
 * The users_sync reconciler (SyncReconcilerService.reconcile, on demand) and its schedule
 * (SyncReconcilerScheduler, NEON_AUTH_RECONCILE_INTERVAL_SECONDS), and a run after every manual-setup enable
 * (SyncReconcileOnEnableService). No routes.
 */
@Module({
  imports: [NeonAuthIntegrationsModule, ProjectsModule],
  providers: [SyncReconcilerService, SyncReconcilerScheduler, SyncReconcileOnEnableService],
  exports: [SyncReconcilerService],
})
export class SyncReconcilerModule {}
