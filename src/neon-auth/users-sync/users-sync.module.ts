import { Module } from '@nestjs/common';
import { ProjectsModule } from '../../projects/projects.module.js';
import { NeonAuthUsersSyncStore } from './users-sync.store.js';

/** `neon_auth.users_sync` in branch databases: NeonAuthUsersSyncStore, the one way into the schema. No routes. */
@Module({
  imports: [ProjectsModule],
  providers: [NeonAuthUsersSyncStore],
  exports: [NeonAuthUsersSyncStore],
})
export class NeonAuthUsersSyncModule {}
