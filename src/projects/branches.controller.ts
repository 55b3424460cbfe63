import { Audited } from '../common/audited.js';
import { ErrorCode } from '../common/errors.js';
import { PROJECT_ID_PARAM, BRANCH_ID_PARAM } from '../common/request-params.js';
import { Body, Controller, Delete, Get, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { NeonIdPipe } from '../common/validation.js';
import { DATABASE_NAME_PARAM, PgNamePipe } from './dto/validators.js';
import { Caller } from '../iam/caller.decorator.js';
import { Access, Policy } from '../iam/policy.js';
import type { AccessContext } from '../iam/principal.js';
import { BranchesService } from './branches.service.js';
import {
  BranchCreateRequestDto,
  BranchCreateResponseDto,
  BranchesResponseDto,
  BranchOperationsDto,
  BranchResponseDto,
  DatabaseCreateRequestDto,
  DatabaseOperationsDto,
  DatabaseResponseDto,
  DatabasesResponseDto,
  DeleteProjectBranchQueryDto,
  ListProjectBranchesQueryDto,
} from './dto/branch.dto.js';
import { ApiErrors } from '../common/api-errors.js';

@ApiTags('Branch')
@Controller('api/v2/projects/:project_id/branches')
export class BranchesController {
  constructor(private readonly branches: BranchesService) {}

  @Get()
  @Access(Policy.ProjectRead)
  @ApiOperation({ summary: "List a project's branches (cursor pagination: pass pagination.next as cursor)" })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiOkResponse({ type: BranchesResponseDto })
  @ApiErrors(400, 401, 404)
  listProjectBranches(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Query() query: ListProjectBranchesQueryDto,
  ): Promise<BranchesResponseDto> {
    return this.branches.list(caller, query);
  }

  @Post()
  @Audited({ action: 'branch.create', target: 'branch', refusals: [ErrorCode.BranchesLimitExceeded], refusalsOnly: true })
  @Access(Policy.ProjectWrite)
  @ApiOperation({
    summary: "Create a branch: a real copy of the parent's databases, sharing its roles",
    description: 'Answers 423 Locked (retry) while the parent\'s databases have open connections: PostgreSQL copies a database only when no one is connected.',
  })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiCreatedResponse({ type: BranchCreateResponseDto })
  @ApiErrors(400, 401, 404, 409, 422, 423)
  createProjectBranch(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Body() body: BranchCreateRequestDto,
  ): Promise<BranchCreateResponseDto> {
    return this.branches.create(caller, body);
  }

  @Get(':branch_id')
  @Access(Policy.ProjectRead)
  @ApiOperation({ summary: 'Get a branch' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: BranchResponseDto })
  @ApiErrors(400, 401, 404)
  getProjectBranch(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
  ): Promise<BranchResponseDto> {
    return this.branches.get(caller, branchId);
  }

  @Delete(':branch_id')
  @Access(Policy.ProjectWrite)
  @ApiOperation({ summary: 'Delete a branch and drop its databases (not the default branch, nor one with children: 409)' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: BranchOperationsDto })
  @ApiErrors(400, 401, 404, 409)
  deleteProjectBranch(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Query() _query: DeleteProjectBranchQueryDto,
  ): Promise<BranchOperationsDto> {
    return this.branches.delete(caller, branchId);
  }

  @Get(':branch_id/databases')
  @Access(Policy.ProjectRead)
  @ApiOperation({ summary: "List a branch's databases" })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: DatabasesResponseDto })
  @ApiErrors(400, 401, 404)
  listProjectBranchDatabases(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
  ): Promise<DatabasesResponseDto> {
    return this.branches.listDatabases(caller, branchId);
  }

  @Post(':branch_id/databases')
  @Audited({ action: 'database.create', target: 'database', refusals: [ErrorCode.DatabasesLimitExceeded], refusalsOnly: true })
  @Access(Policy.ProjectWrite)
  @ApiOperation({ summary: 'Create a real database on a branch, owned by one of its roles' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiCreatedResponse({ type: DatabaseOperationsDto })
  @ApiErrors(400, 401, 404, 409, 422)
  createProjectBranchDatabase(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Body() body: DatabaseCreateRequestDto,
  ): Promise<DatabaseOperationsDto> {
    return this.branches.createDatabase(caller, branchId, body.database);
  }

  @Get(':branch_id/databases/:database_name')
  @Access(Policy.ProjectRead)
  @ApiOperation({ summary: 'Get a database of a branch' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiParam(DATABASE_NAME_PARAM)
  @ApiOkResponse({ type: DatabaseResponseDto })
  @ApiErrors(400, 401, 404)
  getProjectBranchDatabase(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Param('database_name', new PgNamePipe('database')) name: string,
  ): Promise<DatabaseResponseDto> {
    return this.branches.getDatabase(caller, branchId, name);
  }

  @Delete(':branch_id/databases/:database_name')
  @Audited({ action: 'database.delete', target: 'database', targetId: { param: 'database_name' } })
  @Access(Policy.ProjectWrite)
  @ApiOperation({ summary: 'Delete a database of a branch and drop the real database (refused while Neon Auth is enabled on it)' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiParam(DATABASE_NAME_PARAM)
  @ApiOkResponse({ type: DatabaseOperationsDto })
  @ApiErrors(400, 401, 404, 409, 423)
  deleteProjectBranchDatabase(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Param('database_name', new PgNamePipe('database')) name: string,
  ): Promise<DatabaseOperationsDto> {
    return this.branches.deleteDatabase(caller, branchId, name);
  }
}
