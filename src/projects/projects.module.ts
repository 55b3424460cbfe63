import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IamModule } from '../iam/iam.module.js';
import { BranchEntity } from './entities/branch.entity.js';
import { DatabaseEntity } from './entities/database.entity.js';
import { EndpointEntity } from './entities/endpoint.entity.js';
import { ProjectPermissionEntity } from './entities/project-permission.entity.js';
import { ProjectEntity } from './entities/project.entity.js';
import { RoleEntity } from './entities/role.entity.js';

@Module({
  imports: [
    IamModule,
    TypeOrmModule.forFeature([ProjectEntity, BranchEntity, EndpointEntity, RoleEntity, DatabaseEntity, ProjectPermissionEntity]),
  ],
  controllers: [],
  providers: [],
})
export class ProjectsModule {}
