import { Module } from '@nestjs/common';
import { NeonAuthIntegrationResolverModule } from './integrations/integration-resolver.module.js';
import { NeonAuthIntegrationsModule } from './integrations/integrations.module.js';
import { NeonAuthOwnershipModule } from './ownership/ownership.module.js';
import { NeonAuthSdkKeysModule } from './sdk-keys/sdk-keys.module.js';
import { NeonAuthSettingsModule } from './settings/settings.module.js';
import { NeonAuthUsersSyncModule } from './users-sync/users-sync.module.js';
import { NeonAuthUsersModule } from './users/users.module.js';

/**
 * Neon Auth: integrations (the endpoints) over the integration resolver and the users_sync store, and beside
 * them users, SDK keys, ownership transfer and settings, each importing only the resolver (and the store) — never another's
 * service. The sync engine (src/sync) builds on the same two and is imported by the application module.
 */
@Module({
  imports: [NeonAuthUsersSyncModule, NeonAuthIntegrationResolverModule, NeonAuthIntegrationsModule, NeonAuthUsersModule, NeonAuthSdkKeysModule, NeonAuthOwnershipModule, NeonAuthSettingsModule],
  exports: [NeonAuthIntegrationResolverModule, NeonAuthUsersSyncModule],
})
export class NeonAuthModule {}
