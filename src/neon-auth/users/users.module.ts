import { Module } from '@nestjs/common';
import { IamModule } from '../../iam/iam.module.js';
import { NeonAuthIntegrationResolverModule } from '../integrations/integration-resolver.module.js';
import { NeonAuthUsersSyncModule } from '../users-sync/users-sync.module.js';
import { NeonAuthBranchUsersController, NeonAuthLegacyUsersController } from './users.controller.js';
import { NeonAuthUsersService } from './users.service.js';

/** Neon Auth users: create / delete / set roles (branch and legacy routes) and the users_sync list (extension). */
@Module({
  imports: [IamModule, NeonAuthIntegrationResolverModule, NeonAuthUsersSyncModule],
  controllers: [NeonAuthBranchUsersController, NeonAuthLegacyUsersController],
  providers: [NeonAuthUsersService],
})
export class NeonAuthUsersModule {}
