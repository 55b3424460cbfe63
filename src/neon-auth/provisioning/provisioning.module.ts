import { Module } from '@nestjs/common';
import { ProjectsModule } from '../../projects/projects.module.js';
import { NeonAuthProvisioningService } from './provisioning.service.js';

/** The neon_auth schema and users_sync table in branch databases, and the users_sync writer. No routes. */
@Module({
  imports: [ProjectsModule],
  providers: [NeonAuthProvisioningService],
  exports: [NeonAuthProvisioningService],
})
export class NeonAuthProvisioningModule {}
