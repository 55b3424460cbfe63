import { Module } from '@nestjs/common';
import { NeonAuthIntegrationsModule } from '../../neon-auth/integrations/integrations.module.js';
import { SyncReconcilerModule } from '../reconciler/reconciler.module.js';
import { SyncStatusController } from './sync-status.controller.js';
import { SyncStatusService } from './sync-status.service.js';

/** GET / POST /api/v2/projects/:project_id/branches/:branch_id/auth/sync (extensions): sync status and reconcile now. */
@Module({
  imports: [NeonAuthIntegrationsModule, SyncReconcilerModule],
  controllers: [SyncStatusController],
  providers: [SyncStatusService],
})
export class SyncStatusModule {}
