import { Module } from '@nestjs/common';
import { NeonAuthIntegrationsModule } from './integrations/integrations.module.js';
import { NeonAuthOwnershipModule } from './ownership/ownership.module.js';
import { NeonAuthProvisioningModule } from './provisioning/provisioning.module.js';
import { NeonAuthSdkKeysModule } from './sdk-keys/sdk-keys.module.js';
import { NeonAuthUsersModule } from './users/users.module.js';
import { SyncReconcilerModule } from '../sync/reconciler/reconciler.module.js';

/**
 * Neon Auth: integrations (src/neon-auth/integrations), neon_auth provisioning, and — added by their modules —
 * users, SDK keys and ownership transfer. A feature module of Neon Auth imports NeonAuthIntegrationsModule
 * (for IntegrationsService) and is listed here.
 */
@Module({
  imports: [NeonAuthProvisioningModule, NeonAuthIntegrationsModule, NeonAuthUsersModule, NeonAuthSdkKeysModule, NeonAuthOwnershipModule, SyncReconcilerModule],
  exports: [NeonAuthIntegrationsModule],
})
export class NeonAuthModule {}
