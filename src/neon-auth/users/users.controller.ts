import { PROJECT_ID_PARAM, BRANCH_ID_PARAM } from '../../common/request-params.js';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { Idempotent } from '../../common/idempotency.js';
import { ApiCreatedResponse, ApiExtension, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { NeonIdPipe } from '../../common/validation.js';
import { Caller } from '../../iam/caller.decorator.js';
import { Access, Policy } from '../../iam/policy.js';
import type { AccessContext, Principal } from '../../iam/principal.js';
import { EXTENSIONS_TAG } from '../../openapi/swagger.js';
import { NEON_AUTH_POLICY } from '../access.js';
import { AUTH_USER_ID_PARAM, AuthUserIdPipe } from './auth-user-id.pipe.js';
import {
  CreateBranchNeonAuthNewUserRequestDto,
  ListBranchNeonAuthUsersQueryDto,
  ListBranchNeonAuthUsersResponseDto,
  NeonAuthCreateNewUserRequestDto,
  NeonAuthCreateNewUserResponseDto,
  UpdateNeonAuthUserRoleRequestDto,
  UpdateNeonAuthUserRoleResponseDto,
} from './dto/users.dto.js';
import { NeonAuthUsersService } from './users.service.js';
import { ApiErrors } from '../../common/api-errors.js';

/** Branch-scoped users (tag `Auth`): POST/DELETE/PUT role, and the users list (extension). */
@ApiTags('Auth')
@Controller('api/v2/projects/:project_id/branches/:branch_id/auth/users')
export class NeonAuthBranchUsersController {
  constructor(private readonly users: NeonAuthUsersService) {}

  @Post()
  @Idempotent()
  @Access(NEON_AUTH_POLICY.use)
  @ApiOperation({
    summary: 'Create a new auth user',
    description:
      'Creates the user in the auth provider and writes it to `neon_auth.users_sync` before answering. `name` is optional ' +
      '(default: the email, as neonctl sends it). A user with the same email -> 409.',
  })
  @ApiExtension('x-stability-level', 'beta')
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiCreatedResponse({ type: NeonAuthCreateNewUserResponseDto, description: 'Created' })
  @ApiErrors(400, 401, 404, 409, 422, 503)
  createBranchNeonAuthNewUser(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Body() body: CreateBranchNeonAuthNewUserRequestDto,
  ): Promise<NeonAuthCreateNewUserResponseDto> {
    return this.users.createForBranch(caller, branchId, body);
  }

  @Delete(':auth_user_id')
  @HttpCode(204)
  @Access(NEON_AUTH_POLICY.use)
  @ApiOperation({
    summary: 'Delete an auth user',
    description: 'Deletes the user in the auth provider and marks it deleted in `neon_auth.users_sync` (`deleted_at`; the row stays).',
  })
  @ApiExtension('x-stability-level', 'beta')
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiParam(AUTH_USER_ID_PARAM)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(400, 401, 404, 409, 503)
  async deleteBranchNeonAuthUser(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Param('auth_user_id', AuthUserIdPipe) authUserId: string,
  ): Promise<void> {
    await this.users.deleteForBranch(caller, branchId, authUserId);
  }

  @Put(':auth_user_id/role')
  @Access(NEON_AUTH_POLICY.use)
  @ApiOperation({
    summary: "Update an auth user's roles",
    description: 'Replaces the roles stored with the provider user (Stack Auth: `server_metadata.roles`); `users_sync.raw_json` shows them.',
  })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiParam(AUTH_USER_ID_PARAM)
  @ApiOkResponse({ type: UpdateNeonAuthUserRoleResponseDto })
  @ApiErrors(400, 401, 404, 409, 503)
  updateNeonAuthUserRole(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Param('auth_user_id', AuthUserIdPipe) authUserId: string,
    @Body() body: UpdateNeonAuthUserRoleRequestDto,
  ): Promise<UpdateNeonAuthUserRoleResponseDto> {
    return this.users.setRolesForBranch(caller, branchId, authUserId, body.roles);
  }

  @Get()
  @ApiTags(EXTENSIONS_TAG)
  @Access(NEON_AUTH_POLICY.read)
  @ApiOperation({
    summary: 'List and search auth users (extension)',
    description:
      "Reads `neon_auth.users_sync` of the branch's Neon Auth database, newest sign-ups first, in cursor pages " +
      '(pass `pagination.next` as `cursor`). Deleted users are left out unless `include_deleted=true`. ' +
      'Not in Neon\'s API: Neon shows this list in its console.',
  })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: ListBranchNeonAuthUsersResponseDto })
  @ApiErrors(400, 401, 404, 409, 503)
  listBranchNeonAuthUsers(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Query() query: ListBranchNeonAuthUsersQueryDto,
  ): Promise<ListBranchNeonAuthUsersResponseDto> {
    return this.users.listForBranch(caller, branchId, query);
  }
}

/** Legacy users routes (tag `Auth (legacy)`, deprecated): the project's default branch. */
@ApiTags('Auth (legacy)')
@Controller('api/v2/projects')
export class NeonAuthLegacyUsersController {
  constructor(private readonly users: NeonAuthUsersService) {}

  @Post('auth/user')
  @Idempotent()
  @Access(Policy.Authenticated)
  @ApiOperation({
    summary: 'Create a new auth user (default branch)',
    description:
      '`project_id` is in the body: anyone who can see the project may call it (404 otherwise). Creates the user in the auth ' +
      "provider of the project's default branch and in `neon_auth.users_sync`. `name` defaults to the email.",
    deprecated: true,
  })
  @ApiCreatedResponse({ type: NeonAuthCreateNewUserResponseDto, description: 'Created' })
  @ApiErrors(400, 401, 404, 409, 422, 503)
  createNeonAuthNewUser(@Caller() caller: AccessContext, @Body() body: NeonAuthCreateNewUserRequestDto): Promise<NeonAuthCreateNewUserResponseDto> {
    return this.users.createLegacy(caller.principal as Principal, body);
  }

  @Delete(':project_id/auth/users/:auth_user_id')
  @HttpCode(204)
  @Access(NEON_AUTH_POLICY.use)
  @ApiOperation({ summary: 'Delete an auth user (default branch)', deprecated: true })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(AUTH_USER_ID_PARAM)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(400, 401, 404, 409, 503)
  async deleteNeonAuthUser(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('auth_user_id', AuthUserIdPipe) authUserId: string,
  ): Promise<void> {
    await this.users.deleteLegacy(caller, authUserId);
  }
}
