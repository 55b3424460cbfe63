import { Module } from '@nestjs/common';
import { NeonAuthIntegrationResolverModule } from '../../neon-auth/integrations/integration-resolver.module.js';
import { SyncReconcilerModule } from '../reconciler/reconciler.module.js';
import { SyncStatusController } from './sync-status.controller.js';
import { SyncStatusService } from './sync-status.service.js';

/** GET / POST /api/v2/projects/:project_id/branches/:branch_id/auth/sync (extensions): sync status and reconcile now. */
@Module({
  imports: [NeonAuthIntegrationResolverModule, SyncReconcilerModule],
  controllers: [SyncStatusController],
  providers: [SyncStatusService],
})
export class SyncStatusModule {}
