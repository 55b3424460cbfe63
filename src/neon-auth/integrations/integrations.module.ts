import { Module } from '@nestjs/common';
import { IamModule } from '../../iam/iam.module.js';
import { ProjectsModule } from '../../projects/projects.module.js';
import { ProvidersModule } from '../../providers/providers.module.js';
import { NeonAuthTransferStatusModule } from '../ownership/transfer-status.module.js';
import { NeonAuthProvisioningModule } from '../provisioning/provisioning.module.js';
import { BranchAuthController, LegacyAuthIntegrationsController } from './integrations.controller.js';
import { IntegrationsService } from './integrations.service.js';

/**
 * Neon Auth integrations (enable / get / list / disable, both route families). Exports IntegrationsService
 * (findForBranch, findForDefaultBranch, credentialsOf, webhookSecretOf, providerOf, branchDatabaseOf) for the
 * users, SDK keys, ownership and sync modules: import this module.
 */
@Module({
  imports: [IamModule, ProjectsModule, ProvidersModule, NeonAuthProvisioningModule, NeonAuthTransferStatusModule],
  controllers: [BranchAuthController, LegacyAuthIntegrationsController],
  providers: [IntegrationsService],
  exports: [IntegrationsService, ProvidersModule, NeonAuthProvisioningModule],
})
export class NeonAuthIntegrationsModule {}
