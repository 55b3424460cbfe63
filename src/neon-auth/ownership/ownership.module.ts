import { Module } from '@nestjs/common';
import { IamModule } from '../../iam/iam.module.js';
import { NeonAuthIntegrationResolverModule } from '../integrations/integration-resolver.module.js';
import { NeonAuthOwnershipController } from './ownership.controller.js';
import { NeonAuthOwnershipService } from './ownership.service.js';

/** POST /projects/auth/transfer_ownership: transfer of a Neon-managed provider project to its owner. */
@Module({
  imports: [IamModule, NeonAuthIntegrationResolverModule],
  controllers: [NeonAuthOwnershipController],
  providers: [NeonAuthOwnershipService],
})
export class NeonAuthOwnershipModule {}
