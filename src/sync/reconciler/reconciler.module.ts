import { Module } from '@nestjs/common';
import { NeonAuthIntegrationsModule } from '../../neon-auth/integrations/integrations.module.js';
import { ProjectsModule } from '../../projects/projects.module.js';
import { SyncReconcilerScheduler } from './reconciler.scheduler.js';
import { SyncReconcilerService } from './reconciler.service.js';

/**
 * The users_sync reconciler (SyncReconcilerService.reconcile, on demand) and its schedule
 * (SyncReconcilerScheduler, NEON_AUTH_RECONCILE_INTERVAL_SECONDS). No routes.
 */
@Module({
  imports: [NeonAuthIntegrationsModule, ProjectsModule],
  providers: [SyncReconcilerService, SyncReconcilerScheduler],
  exports: [SyncReconcilerService],
})
export class SyncReconcilerModule {}
