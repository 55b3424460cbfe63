import { Module } from '@nestjs/common';
import { ClusterEventsModule } from '../../common/cluster-events.js';
import { ProjectsModule } from '../../projects/projects.module.js';
import { ProvidersModule } from '../../providers/providers.module.js';
import { NeonAuthIntegrationResolver } from './integration-resolver.js';
import { NeonAuthTransferStatusService } from './transfer-status.service.js';

/**
 * NeonAuthIntegrationResolver (and the transfer-status refresh it uses): what users, SDK keys, ownership and the
 * sync engine need of integrations, without the endpoints. Import this module, not NeonAuthIntegrationsModule.
 */
@Module({
  imports: [ClusterEventsModule, ProjectsModule, ProvidersModule],
  providers: [NeonAuthIntegrationResolver, NeonAuthTransferStatusService],
  exports: [NeonAuthIntegrationResolver],
})
export class NeonAuthIntegrationResolverModule {}
