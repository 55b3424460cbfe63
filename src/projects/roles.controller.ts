import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.js';
import { Audited } from '../common/audited.js';
import { BRANCH_ID_PARAM, PROJECT_ID_PARAM } from '../common/request-params.js';
import { NeonIdPipe } from '../common/validation.js';
import { Caller } from '../iam/caller.decorator.js';
import { Access, Policy } from '../iam/policy.js';
import type { AccessContext } from '../iam/principal.js';
import { RoleCreateRequestDto, RoleOperationsDto, RolePasswordResponseDto, RoleResponseDto, RolesResponseDto } from './dto/role.dto.js';
import { PgNamePipe, ROLE_NAME_PARAM } from './dto/validators.js';
import { RolesService } from './roles.service.js';

@ApiTags('Branch')
@Controller('api/v2/projects/:project_id/branches/:branch_id/roles')
export class RolesController {
  constructor(private readonly roles: RolesService) {}

  @Get()
  @Access(Policy.ProjectRead)
  @ApiOperation({ summary: "List a branch's roles" })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: RolesResponseDto })
  @ApiErrors(400, 401, 404)
  listProjectBranchRoles(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
  ): Promise<RolesResponseDto> {
    return this.roles.list(caller, branchId);
  }

  @Post()
  @Audited({ action: 'role.create', target: 'branch', targetId: { param: 'branch_id' }, details: ['role'] })
  @Access(Policy.ProjectWrite)
  @ApiOperation({ summary: 'Create a real role on a branch; it may connect to the branch\'s databases. The password is in this answer' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiCreatedResponse({ type: RoleOperationsDto })
  @ApiErrors(400, 401, 404, 409, 423)
  createProjectBranchRole(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Body() body: RoleCreateRequestDto,
  ): Promise<RoleOperationsDto> {
    return this.roles.create(caller, branchId, body.role);
  }

  @Get(':role_name')
  @Access(Policy.ProjectRead)
  @ApiOperation({ summary: 'Get a role of a branch' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiParam(ROLE_NAME_PARAM)
  @ApiOkResponse({ type: RoleResponseDto })
  @ApiErrors(400, 401, 404)
  getProjectBranchRole(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Param('role_name', new PgNamePipe('role')) name: string,
  ): Promise<RoleResponseDto> {
    return this.roles.get(caller, branchId, name);
  }

  @Get(':role_name/reveal_password')
  @Access(Policy.ProjectRead)
  @ApiOperation({ summary: "Get a role's password (the same rule as connection_uri, which carries it too)" })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiParam(ROLE_NAME_PARAM)
  @ApiOkResponse({ type: RolePasswordResponseDto })
  @ApiErrors(400, 401, 404)
  getProjectBranchRolePassword(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Param('role_name', new PgNamePipe('role')) name: string,
  ): Promise<RolePasswordResponseDto> {
    return this.roles.revealPassword(caller, branchId, name);
  }

  @Delete(':role_name')
  @Audited({ action: 'role.delete', target: 'role', targetId: { param: 'role_name' } })
  @Access(Policy.ProjectWrite)
  @ApiOperation({ summary: 'Delete a role of a branch (not one that owns a database of the branch) and drop the real role when no other branch has it' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiParam(ROLE_NAME_PARAM)
  @ApiOkResponse({ type: RoleOperationsDto })
  @ApiErrors(400, 401, 404, 409, 423)
  deleteProjectBranchRole(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Param('role_name', new PgNamePipe('role')) name: string,
  ): Promise<RoleOperationsDto> {
    return this.roles.delete(caller, branchId, name);
  }
}
