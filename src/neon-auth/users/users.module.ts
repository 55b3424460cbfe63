import { Module } from '@nestjs/common';
import { IamModule } from '../../iam/iam.module.js';
import { ProjectsModule } from '../../projects/projects.module.js';
import { NeonAuthIntegrationsModule } from '../integrations/integrations.module.js';
import { NeonAuthBranchUsersController, NeonAuthLegacyUsersController } from './users.controller.js';
import { NeonAuthUsersService } from './users.service.js';

/** Neon Auth users: create / delete / set roles (branch and legacy routes) and the users_sync list (extension). */
@Module({
  imports: [IamModule, ProjectsModule, NeonAuthIntegrationsModule],
  controllers: [NeonAuthBranchUsersController, NeonAuthLegacyUsersController],
  providers: [NeonAuthUsersService],
})
export class NeonAuthUsersModule {}
