import { Module } from '@nestjs/common';
import { IamModule } from '../../iam/iam.module.js';
import { NeonAuthIntegrationResolverModule } from '../integrations/integration-resolver.module.js';
import { NeonAuthSdkKeysController } from './sdk-keys.controller.js';
import { NeonAuthSdkKeysService } from './sdk-keys.service.js';

/** POST /projects/auth/keys: SDK keys of a Neon-managed provider project, shown once. */
@Module({
  imports: [IamModule, NeonAuthIntegrationResolverModule],
  controllers: [NeonAuthSdkKeysController],
  providers: [NeonAuthSdkKeysService],
})
export class NeonAuthSdkKeysModule {}
