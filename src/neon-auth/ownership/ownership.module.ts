import { Module } from '@nestjs/common';
import { IamModule } from '../../iam/iam.module.js';
import { NeonAuthIntegrationsModule } from '../integrations/integrations.module.js';
import { NeonAuthOwnershipController } from './ownership.controller.js';
import { NeonAuthOwnershipService } from './ownership.service.js';
import { NeonAuthTransferStatusModule } from './transfer-status.module.js';

/** POST /projects/auth/transfer_ownership: transfer of a Neon-managed provider project to its owner. */
@Module({
  imports: [IamModule, NeonAuthIntegrationsModule, NeonAuthTransferStatusModule],
  controllers: [NeonAuthOwnershipController],
  providers: [NeonAuthOwnershipService],
})
export class NeonAuthOwnershipModule {}
