import { Module } from '@nestjs/common';
import { BetterAuthModule } from '../../better-auth/better-auth.module.js';
import { IamModule } from '../../iam/iam.module.js';
import { NeonAuthIntegrationResolverModule } from '../integrations/integration-resolver.module.js';
import { NeonAuthLegacySettingsController } from './legacy-settings.controller.js';
import { NeonAuthBranchSettingsController } from './settings.controller.js';
import { NeonAuthSettingsService } from './settings.service.js';

/** Neon Auth settings (domains, OAuth providers, e-mail, localhost, plugins, webhooks): branch and legacy routes. */
@Module({
  imports: [IamModule, NeonAuthIntegrationResolverModule, BetterAuthModule],
  controllers: [NeonAuthBranchSettingsController, NeonAuthLegacySettingsController],
  providers: [NeonAuthSettingsService],
})
export class NeonAuthSettingsModule {}
