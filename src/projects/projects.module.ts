import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClusterEventsModule } from '../common/cluster-events.js';
import { IamModule } from '../iam/iam.module.js';
import { BranchesController } from './branches.controller.js';
import { BranchesService } from './branches.service.js';
import { BranchStorageService } from './branch-databases/branch-storage.service.js';
import { BranchDatabaseCluster } from './branch-databases/branch-database-cluster.js';
import { BranchDatabasesService } from './branch-databases/branch-databases.service.js';
import { ProjectSettingsChecks } from './project-settings-checks.js';
import { BranchEntity } from './entities/branch.entity.js';
import { DatabaseEntity } from './entities/database.entity.js';
import { EndpointEntity } from './entities/endpoint.entity.js';
import { ProjectPermissionEntity } from './entities/project-permission.entity.js';
import { ProjectEntity } from './entities/project.entity.js';
import { RoleEntity } from './entities/role.entity.js';
import { PermissionsService } from './permissions.service.js';
import { DeletionHooks } from './deletion-hooks.js';
import { ComputeOperations } from './branch-databases/compute-operations.js';
import { OperationEntity } from './operations/operation.entity.js';
import { OperationsController } from './operations/operations.controller.js';
import { OperationsReconciler } from './operations/operations.reconciler.js';
import { OperationsService } from './operations/operations.service.js';
import { ProjectsController } from './projects.controller.js';
import { ProjectsService } from './projects.service.js';
import { RolesController } from './roles.controller.js';
import { RolesService } from './roles.service.js';

@Module({
  imports: [
    ClusterEventsModule,
    IamModule,
    TypeOrmModule.forFeature([ProjectEntity, BranchEntity, EndpointEntity, RoleEntity, DatabaseEntity, ProjectPermissionEntity, OperationEntity]),
  ],
  // ProjectsController first: its GET /projects/shared must be matched before /projects/:project_id routes.
  controllers: [ProjectsController, BranchesController, RolesController, OperationsController],
  providers: [
    BranchDatabaseCluster,
    BranchDatabasesService,
    BranchStorageService,
    ProjectSettingsChecks,
    ProjectsService,
    BranchesService,
    PermissionsService,
    RolesService,
    OperationsService,
    OperationsReconciler,
    ComputeOperations,
    DeletionHooks,
  ],
  // BranchDatabaseCluster: later modules reach branch databases through its pools (poolFor / withDatabasesQuiesced);
  // BranchDatabasesService finds a branch's database; ProjectSettingsChecks takes their rules for settings changes;
  // OperationsService records their durable operations, DeletionHooks their work when branches go.
  exports: [
    BranchDatabaseCluster,
    BranchDatabasesService,
    BranchStorageService,
    ProjectSettingsChecks,
    ProjectsService,
    BranchesService,
    OperationsService,
    OperationsReconciler,
    DeletionHooks,
  ],
})
export class ProjectsModule {}
