import { Module } from '@nestjs/common';
import { NeonAuthIntegrationResolverModule } from '../../neon-auth/integrations/integration-resolver.module.js';
import { SyncModule } from '../sync.module.js';
import { SyncDeadLettersController } from './dead-letters.controller.js';
import { SyncDeadLettersService } from './dead-letters.service.js';

/**
 * GET …/auth/sync/dead_letters and POST …/auth/sync/dead_letters/replay (extensions). Imports SyncModule for
 * the applier it wakes after a replay, so it is registered next to SyncModule (AppModule), not inside it.
 */
@Module({
  imports: [NeonAuthIntegrationResolverModule, SyncModule],
  controllers: [SyncDeadLettersController],
  providers: [SyncDeadLettersService],
})
export class SyncDeadLettersModule {}
