import { Module } from '@nestjs/common';
import { ProvidersModule } from '../../providers/providers.module.js';
import { NeonAuthTransferStatusService } from './transfer-status.service.js';

/**
 * The lazy ownership-transfer status refresh (NeonAuthTransferStatusService), on its own so that the
 * integrations read path can import it without importing the ownership module (which imports integrations).
 */
@Module({
  imports: [ProvidersModule],
  providers: [NeonAuthTransferStatusService],
  exports: [NeonAuthTransferStatusService],
})
export class NeonAuthTransferStatusModule {}
