import { Audited } from '../../common/audited.js';
import { NeonAuthCreateIntegrationResponseDto } from '../dto/neon-auth.dto.js';
import { PROJECT_ID_PARAM, BRANCH_ID_PARAM } from '../../common/request-params.js';
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Idempotent } from '../../common/idempotency.js';
import { NeonIdPipe } from '../../common/validation.js';
import { Caller } from '../../iam/caller.decorator.js';
import { Access, Policy } from '../../iam/policy.js';
import type { AccessContext } from '../../iam/principal.js';
import { AUTH_PROVIDER_KINDS } from '../../providers/auth-provider.port.js';
import { NEON_AUTH_POLICY, projectAccessOf } from '../access.js';
import {
  DisableNeonAuthRequestDto,
  EmptyResponseDto,
  EnableNeonAuthIntegrationRequestDto,
  ListNeonAuthIntegrationsResponseDto,
  NeonAuthCreateIntegrationRequestDto,
  NeonAuthIntegrationDto,
} from './dto/integration.dto.js';
import { NeonAuthIntegrationsService } from './integrations.service.js';
import { ApiErrors } from '../../common/api-errors.js';

const NOT_ENABLED = 'Answers 404 (code NEON_AUTH_NOT_ENABLED) when Neon Auth is not enabled on the branch.';
const PRIVATE_NETWORKING =
  'Refused with 400 NEON_AUTH_NOT_SUPPORTED_WITH_PRIVATE_LINK_OR_IP_ALLOW on a project with Private Link ' +
  '(settings.block_public_connections) or IP Allow (settings.allowed_ips.ips non-empty).';
const ENABLE_DOC =
  '`better_auth` (recommended, as Neon): a Better Auth server for the branch database, hosted by this product at `base_url` ' +
  '(`<PUBLIC_URL>/neon-auth/<branch_id>/<database>/auth`; JWKS at `jwks_url`), its tables and the settings row `project_config` in ' +
  'the database\'s `neon_auth` schema, and `neon_auth.users_sync` kept by a trigger in the transaction of every user change; ' +
  'the key fields are empty (apps use NEON_AUTH_BASE_URL=<base_url>). ' +
  '`stack` / `mock` Quick Start: provisions a provider project managed by Neon Auth (owned_by neon), registers its user webhook, creates ' +
  'neon_auth.users_sync in `database_name` (default: the branch\'s default database) and answers SDK keys ONCE (never again on GET). ' +
  'Manual setup (extension, stack and mock only): see the auth_provider_* fields of the body. 409 NEON_AUTH_ALREADY_ENABLED when already enabled. ' +
  `${PRIVATE_NETWORKING} Accepts Idempotency-Key. ` +
  'The provider delivers user events to <PUBLIC_URL>/webhooks/neon-auth/<integration id> (webhook_url on GET), where the sync ' +
  'engine checks their signature and applies them to neon_auth.users_sync (its state: GET …/auth/sync). A failure half-way (or losing to a ' +
  'concurrent enable: 409) leaves no integration, drops a neon_auth schema it created and deletes the provider project it created.';
const DISABLE_DOC =
  'delete_data true drops the neon_auth schema; false (default) keeps it and its rows, and enabling again reuses them. A provider ' +
  'project managed by Neon Auth (owned_by neon) is then deleted in the provider with its users and keys (the SDK keys stop working); ' +
  'if the provider cannot be reached the disable still succeeds and the project stays in the provider (logged with its id). ' +
  'A user-owned provider project (manual setup, or transferred) is never deleted.';

/** Branch-scoped Neon Auth integration (tag Auth). */
@ApiTags('Auth')
@Controller('api/v2/projects/:project_id/branches/:branch_id/auth')
export class NeonAuthBranchIntegrationController {
  constructor(private readonly integrations: NeonAuthIntegrationsService) {}

  @Get()
  @Access(NEON_AUTH_POLICY.read)
  @ApiOperation({ summary: 'Get Neon Auth integration details for a branch', description: NOT_ENABLED })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthIntegrationDto })
  @ApiErrors(400, 401, 404)
  getNeonAuth(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
  ): Promise<NeonAuthIntegrationDto> {
    return this.integrations.get(projectAccessOf(caller), branchId);
  }

  @Post()
  @Idempotent()
  @Audited({ action: 'neon_auth.enable', target: 'branch', targetId: { param: 'branch_id' }, details: ['auth_provider', 'database_name', 'auth_provider_base_url', 'auth_provider_project_id'] })
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({ summary: 'Enable Neon Auth on a branch (organization admins)', description: ENABLE_DOC })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiCreatedResponse({ type: NeonAuthCreateIntegrationResponseDto })
  @ApiErrors(400, 401, 403, 404, 409, 422, 423, 503)
  createNeonAuth(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Body() body: EnableNeonAuthIntegrationRequestDto,
  ): Promise<NeonAuthCreateIntegrationResponseDto> {
    return this.integrations.enable(projectAccessOf(caller), branchId, body);
  }

  @Delete()
  @HttpCode(200)
  @Audited({ action: 'neon_auth.disable', target: 'branch', targetId: { param: 'branch_id' }, details: ['delete_data'] })
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({ summary: 'Disable Neon Auth on a branch (organization admins)', description: `${DISABLE_DOC} ${NOT_ENABLED}` })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiBody({ type: DisableNeonAuthRequestDto, required: false })
  @ApiOkResponse({ type: EmptyResponseDto, description: 'Empty object' })
  @ApiErrors(400, 401, 403, 404, 423)
  disableNeonAuth(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Body() body: DisableNeonAuthRequestDto,
  ): Promise<EmptyResponseDto> {
    return this.integrations.disable(projectAccessOf(caller), branchId, body?.delete_data ?? false);
  }
}

/** Legacy integration routes (tag "Auth (legacy)"); same service, the project's default branch or the body's branch. */
@ApiTags('Auth (legacy)')
@Controller('api/v2/projects')
export class NeonAuthLegacyIntegrationsController {
  constructor(private readonly integrations: NeonAuthIntegrationsService) {}

  @Post('auth/create')
  @Idempotent()
  @Audited({ action: 'neon_auth.enable', target: 'branch', targetId: { body: 'branch_id' }, details: ['auth_provider', 'database_name', 'auth_provider_base_url', 'auth_provider_project_id'] })
  @Access(Policy.Authenticated)
  @ApiOperation({
    summary: 'Create Neon Auth integration (deprecated: use createNeonAuth)',
    deprecated: true,
    description: `The body names the project (organization admins only: 403 otherwise, 404 outside your reach) and the branch. ${ENABLE_DOC}`,
  })
  @ApiCreatedResponse({ type: NeonAuthCreateIntegrationResponseDto })
  @ApiErrors(400, 401, 403, 404, 409, 422, 423, 503)
  createNeonAuthIntegration(@Caller() caller: AccessContext, @Body() body: NeonAuthCreateIntegrationRequestDto): Promise<NeonAuthCreateIntegrationResponseDto> {
    return this.integrations.createLegacy(caller.principal, body);
  }

  @Get(':project_id/auth/integrations')
  @Access(NEON_AUTH_POLICY.read)
  @ApiOperation({ summary: "List a project's Neon Auth integrations, all branches (deprecated)", deprecated: true })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiOkResponse({ type: ListNeonAuthIntegrationsResponseDto })
  @ApiErrors(400, 401, 404)
  listNeonAuthIntegrations(@Caller() caller: AccessContext, @Param('project_id', NeonIdPipe) _projectId: string): Promise<ListNeonAuthIntegrationsResponseDto> {
    return this.integrations.list(projectAccessOf(caller));
  }

  @Delete(':project_id/auth/integration/:auth_provider')
  @HttpCode(200)
  @Audited({ action: 'neon_auth.disable', target: 'project', targetId: { param: 'project_id' }, details: ['delete_data'] })
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({
    summary: "Delete the default branch's Neon Auth integration of a provider (deprecated: use disableNeonAuth)",
    deprecated: true,
    description: `${DISABLE_DOC} 404 NEON_AUTH_NOT_ENABLED when the default branch has no integration of that provider.`,
  })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam({ name: 'auth_provider', enum: [...AUTH_PROVIDER_KINDS].sort(), enumName: 'NeonAuthSupportedAuthProvider' })
  @ApiBody({ type: DisableNeonAuthRequestDto, required: false })
  @ApiOkResponse({ type: EmptyResponseDto, description: 'Empty object' })
  @ApiErrors(400, 401, 403, 404, 423)
  deleteNeonAuthIntegration(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('auth_provider') authProvider: string,
    @Body() body: DisableNeonAuthRequestDto,
  ): Promise<EmptyResponseDto> {
    return this.integrations.disableLegacy(projectAccessOf(caller), authProvider, body?.delete_data ?? false);
  }
}
