import { Audited } from '../common/audited.js';
import { ErrorCode } from '../common/errors.js';
import { PROJECT_ID_PARAM } from '../common/request-params.js';
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { NeonIdPipe, UuidPipe } from '../common/validation.js';
import { Caller } from '../iam/caller.decorator.js';
import { Access, Policy } from '../iam/policy.js';
import type { AccessContext } from '../iam/principal.js';
import { BranchesService } from './branches.service.js';
import { ConnectionUriResponseDto, GetConnectionUriQueryDto } from './dto/branch.dto.js';
import { GrantPermissionToProjectRequestDto, ProjectPermissionDto, ProjectPermissionsDto } from './dto/permission.dto.js';
import {
  ListProjectsQueryDto,
  ListSharedProjectsQueryDto,
  ProjectCreateRequestDto,
  ProjectCreateResponseDto,
  ProjectResponseDto,
  ProjectsResponseDto,
  ProjectUpdateRequestDto,
  ProjectUpdateResponseDto,
  SharedProjectsResponseDto,
} from './dto/project.dto.js';
import { PermissionsService } from './permissions.service.js';
import { ProjectsService } from './projects.service.js';
import { ApiErrors } from '../common/api-errors.js';

@ApiTags('Project')
@Controller('api/v2/projects')
export class ProjectsController {
  constructor(
    private readonly projects: ProjectsService,
    private readonly permissions: PermissionsService,
    private readonly branches: BranchesService,
  ) {}

  @Get()
  @Access(Policy.Authenticated)
  @ApiOperation({
    summary: 'List the projects the caller can see',
    description:
      'Personal keys: projects of the organizations the account belongs to, plus projects shared with its email. ' +
      'Organization keys: the organization\'s projects. Project-scoped keys: their project. `org_id` narrows the list ' +
      'to one organization the caller belongs to (404 otherwise). Newest first; pass `pagination.cursor` as `cursor`.',
  })
  @ApiOkResponse({ type: ProjectsResponseDto })
  @ApiErrors(400, 401, 404)
  listProjects(@Caller() caller: AccessContext, @Query() query: ListProjectsQueryDto): Promise<ProjectsResponseDto> {
    return this.projects.list(caller.principal, query);
  }

  @Post()
  @Audited({ action: 'project.create', target: 'project', refusals: [ErrorCode.ProjectsLimitExceeded], refusalsOnly: true })
  @Access(Policy.ProjectCreate)
  @ApiOperation({
    summary: 'Create a project with its default branch, database and role (real, on the compute server)',
    description:
      'Organization: `project.org_id`; organization keys use their organization; a personal key without `org_id` ' +
      'uses the account\'s only organization, and with several answers 400 "org_id is required".',
  })
  @ApiCreatedResponse({ type: ProjectCreateResponseDto })
  @ApiErrors(400, 401, 403, 404, 422)
  createProject(@Caller() caller: AccessContext, @Body() body: ProjectCreateRequestDto): Promise<ProjectCreateResponseDto> {
    return this.projects.create(caller.principal, body.project);
  }

  @Get('shared')
  @Access(Policy.Authenticated)
  @ApiOperation({ summary: 'List projects shared with the caller (personal keys; empty for other keys)' })
  @ApiOkResponse({ type: SharedProjectsResponseDto })
  @ApiErrors(400, 401)
  listSharedProjects(@Caller() caller: AccessContext, @Query() query: ListSharedProjectsQueryDto): Promise<SharedProjectsResponseDto> {
    return this.projects.listShared(caller.principal, query);
  }

  @Get(':project_id')
  @Access(Policy.ProjectRead)
  @ApiOperation({ summary: 'Get a project' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiOkResponse({ type: ProjectResponseDto })
  @ApiErrors(400, 401, 404)
  getProject(@Caller() caller: AccessContext, @Param('project_id', NeonIdPipe) _projectId: string): ProjectResponseDto {
    return this.projects.get(caller);
  }

  @Patch(':project_id')
  @Audited({ action: 'project.update', target: 'project', targetId: { param: 'project_id' }, details: ['project'] })
  @Access(Policy.ProjectWrite)
  @ApiOperation({ summary: 'Update a project: name, history retention, settings (allowed_ips, block_public_connections, ...)' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiOkResponse({ type: ProjectUpdateResponseDto })
  @ApiErrors(400, 401, 404)
  updateProject(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Body() body: ProjectUpdateRequestDto,
  ): Promise<ProjectUpdateResponseDto> {
    return this.projects.update(caller, body.project);
  }

  @Delete(':project_id')
  @Audited({ action: 'project.delete', target: 'project', targetId: { param: 'project_id' } })
  @Access(Policy.ProjectAdmin)
  @ApiOperation({ summary: 'Delete a project and drop all its databases and roles (organization admins and keys only)' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiOkResponse({ type: ProjectResponseDto })
  @ApiErrors(400, 401, 403, 404)
  deleteProject(@Caller() caller: AccessContext, @Param('project_id', NeonIdPipe) _projectId: string): Promise<ProjectResponseDto> {
    return this.projects.delete(caller);
  }

  @Get(':project_id/permissions')
  @Access(Policy.ProjectRead)
  @ApiOperation({ summary: 'List the collaborators a project is shared with' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiOkResponse({ type: ProjectPermissionsDto })
  @ApiErrors(400, 401, 404)
  listProjectPermissions(@Caller() caller: AccessContext, @Param('project_id', NeonIdPipe) _projectId: string): Promise<ProjectPermissionsDto> {
    return this.permissions.list(caller);
  }

  @Post(':project_id/permissions')
  @HttpCode(200)
  @Audited({ action: 'project_permission.grant', target: 'project_permission', targetId: { response: 'id' }, details: ['email'] })
  @Access(Policy.ProjectWrite)
  @ApiOperation({ summary: 'Share a project with an email address (collaborator); granting again returns the active grant' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiOkResponse({ type: ProjectPermissionDto })
  @ApiErrors(400, 401, 404, 409)
  grantPermissionToProject(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Body() body: GrantPermissionToProjectRequestDto,
  ): Promise<ProjectPermissionDto> {
    return this.permissions.grant(caller, body.email);
  }

  @Delete(':project_id/permissions/:permission_id')
  @Audited({ action: 'project_permission.revoke', target: 'project_permission', targetId: { param: 'permission_id' } })
  @Access(Policy.ProjectWrite)
  @ApiOperation({ summary: 'Stop sharing a project with a collaborator' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam({ name: 'permission_id', schema: { type: 'string', format: 'uuid' } })
  @ApiOkResponse({ type: ProjectPermissionDto })
  @ApiErrors(400, 401, 404)
  revokePermissionFromProject(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('permission_id', UuidPipe) permissionId: string,
  ): Promise<ProjectPermissionDto> {
    return this.permissions.revoke(caller, permissionId);
  }

  @Get(':project_id/connection_uri')
  @Access(Policy.ProjectRead)
  @ApiOperation({ summary: 'Get a connection URI for a database and role of a branch (it really connects)' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiOkResponse({ type: ConnectionUriResponseDto })
  @ApiErrors(400, 401, 404)
  getConnectionUri(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Query() query: GetConnectionUriQueryDto,
  ): Promise<ConnectionUriResponseDto> {
    return this.branches.connectionUri(caller, query);
  }
}
