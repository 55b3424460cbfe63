import { Module } from '@nestjs/common';
import { IamModule } from '../../iam/iam.module.js';
import { ProjectSettingsChecks } from '../../projects/project-settings-checks.js';
import { ProjectsModule } from '../../projects/projects.module.js';
import { NeonAuthUsersSyncModule } from '../users-sync/users-sync.module.js';
import { NeonAuthIntegrationResolverModule } from './integration-resolver.module.js';
import { NeonAuthBranchIntegrationController, NeonAuthLegacyIntegrationsController } from './integrations.controller.js';
import { NeonAuthIntegrationsService } from './integrations.service.js';
import { assertSettingsAllowNeonAuth } from './private-networking.js';

/**
 * Neon Auth integrations: the enable / get / list / disable endpoints of both route families. Other modules
 * use integrations through NeonAuthIntegrationResolverModule. Registers Neon Auth's rule for project settings
 * (no Private Link / IP Allow while enabled) with the projects module's hook.
 */
@Module({
  imports: [IamModule, ProjectsModule, NeonAuthIntegrationResolverModule, NeonAuthUsersSyncModule],
  controllers: [NeonAuthBranchIntegrationController, NeonAuthLegacyIntegrationsController],
  providers: [NeonAuthIntegrationsService],
})
export class NeonAuthIntegrationsModule {
  constructor(settingsChecks: ProjectSettingsChecks) {
    settingsChecks.register(assertSettingsAllowNeonAuth);
  }
}
