import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.js';
import { Audited } from '../../common/audited.js';
import { PROJECT_ID_PARAM } from '../../common/request-params.js';
import { NeonIdPipe } from '../../common/validation.js';
import { Caller } from '../../iam/caller.decorator.js';
import { Access } from '../../iam/policy.js';
import type { AccessContext } from '../../iam/principal.js';
import { NEON_AUTH_POLICY } from '../access.js';
import { EmptyResponseDto } from '../integrations/dto/integration.dto.js';
import {
  ListNeonAuthOauthProvidersResponseDto,
  NeonAuthAddDomainToRedirectURIWhitelistRequestDto,
  NeonAuthAddOAuthProviderRequestDto,
  NeonAuthDeleteDomainFromRedirectURIWhitelistRequestDto,
  NeonAuthEmailServerConfigDto,
  NeonAuthEmailServerConfigResponseDto,
  NeonAuthOauthProviderDto,
  NeonAuthRedirectURIWhitelistResponseDto,
  NeonAuthUpdateOAuthProviderRequestDto,
} from './dto/settings.dto.js';
import { OAUTH_PROVIDER_ID_PARAM, OAuthProviderIdPipe } from './oauth-provider-id.pipe.js';
import { NeonAuthSettingsService } from './settings.service.js';

const DEFAULT_BRANCH = "The project's default branch (deprecated: use the branch routes under /projects/{project_id}/branches/{branch_id}/auth).";
const audited = (action: string) => Audited({ action: `neon_auth.settings.${action}`, target: 'project', targetId: { param: 'project_id' } });

/** Legacy settings routes (tag "Auth (legacy)"): the default branch's settings, through the same service. */
@ApiTags('Auth (legacy)')
@Controller('api/v2/projects/:project_id/auth')
export class NeonAuthLegacySettingsController {
  constructor(private readonly settings: NeonAuthSettingsService) {}

  @Get('domains')
  @Access(NEON_AUTH_POLICY.read)
  @ApiOperation({ summary: 'Lists the trusted redirect domains (deprecated)', description: DEFAULT_BRANCH, deprecated: true })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthRedirectURIWhitelistResponseDto })
  @ApiErrors(400, 401, 404, 503)
  listNeonAuthRedirectURIWhitelistDomains(@Caller() caller: AccessContext, @Param('project_id', NeonIdPipe) _p: string): Promise<NeonAuthRedirectURIWhitelistResponseDto> {
    return this.settings.listDomains(caller, 'default-branch');
  }

  @Post('domains')
  @HttpCode(201)
  @audited('domain.add')
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({ summary: 'Adds a trusted redirect domain (deprecated)', description: `${DEFAULT_BRANCH} Answers 201 with no body.`, deprecated: true })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiCreatedResponse({ description: 'Added (no body)' })
  @ApiErrors(400, 401, 403, 404, 503)
  async addNeonAuthDomainToRedirectURIWhitelist(@Caller() caller: AccessContext, @Param('project_id', NeonIdPipe) _p: string, @Body() body: NeonAuthAddDomainToRedirectURIWhitelistRequestDto): Promise<void> {
    await this.settings.addDomain(caller, 'default-branch', body);
  }

  @Delete('domains')
  @HttpCode(200)
  @audited('domain.delete')
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({ summary: 'Removes trusted redirect domains (deprecated)', description: DEFAULT_BRANCH, deprecated: true })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiOkResponse({ type: EmptyResponseDto, description: 'Empty object' })
  @ApiErrors(400, 401, 403, 404, 503)
  async deleteNeonAuthDomainFromRedirectURIWhitelist(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _p: string,
    @Body() body: NeonAuthDeleteDomainFromRedirectURIWhitelistRequestDto,
  ): Promise<EmptyResponseDto> {
    await this.settings.deleteDomains(caller, 'default-branch', body);
    return {};
  }

  @Get('oauth_providers')
  @Access(NEON_AUTH_POLICY.read)
  @ApiOperation({ summary: 'Lists the OAuth providers (deprecated)', description: DEFAULT_BRANCH, deprecated: true })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiOkResponse({ type: ListNeonAuthOauthProvidersResponseDto })
  @ApiErrors(400, 401, 404, 503)
  listNeonAuthOauthProviders(@Caller() caller: AccessContext, @Param('project_id', NeonIdPipe) _p: string): Promise<ListNeonAuthOauthProvidersResponseDto> {
    return this.settings.listOAuthProviders(caller, 'default-branch');
  }

  @Post('oauth_providers')
  @HttpCode(200)
  @audited('oauth_provider.add')
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({ summary: 'Adds an OAuth provider (deprecated)', description: `${DEFAULT_BRANCH} Answers 200.`, deprecated: true })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthOauthProviderDto })
  @ApiErrors(400, 401, 403, 404, 409, 503)
  addNeonAuthOauthProvider(@Caller() caller: AccessContext, @Param('project_id', NeonIdPipe) _p: string, @Body() body: NeonAuthAddOAuthProviderRequestDto): Promise<NeonAuthOauthProviderDto> {
    return this.settings.addOAuthProvider(caller, 'default-branch', body);
  }

  @Patch('oauth_providers/:oauth_provider_id')
  @audited('oauth_provider.update')
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({ summary: 'Updates an OAuth provider (deprecated)', description: DEFAULT_BRANCH, deprecated: true })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(OAUTH_PROVIDER_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthOauthProviderDto })
  @ApiErrors(400, 401, 403, 404, 503)
  updateNeonAuthOauthProvider(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _p: string,
    @Param('oauth_provider_id', OAuthProviderIdPipe) id: string,
    @Body() body: NeonAuthUpdateOAuthProviderRequestDto,
  ): Promise<NeonAuthOauthProviderDto> {
    return this.settings.updateOAuthProvider(caller, 'default-branch', id, body);
  }

  @Delete('oauth_providers/:oauth_provider_id')
  @HttpCode(200)
  @audited('oauth_provider.delete')
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({ summary: 'Removes an OAuth provider (deprecated)', description: `${DEFAULT_BRANCH} Answers 200 (the spec; older docs said 204).`, deprecated: true })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(OAUTH_PROVIDER_ID_PARAM)
  @ApiOkResponse({ type: EmptyResponseDto, description: 'Empty object' })
  @ApiErrors(400, 401, 403, 404, 503)
  async deleteNeonAuthOauthProvider(@Caller() caller: AccessContext, @Param('project_id', NeonIdPipe) _p: string, @Param('oauth_provider_id', OAuthProviderIdPipe) id: string): Promise<EmptyResponseDto> {
    await this.settings.deleteOAuthProvider(caller, 'default-branch', id);
    return {};
  }

  @Get('email_server')
  @Access(NEON_AUTH_POLICY.read)
  @ApiOperation({ summary: 'Gets the e-mail server (deprecated)', description: DEFAULT_BRANCH, deprecated: true })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthEmailServerConfigResponseDto })
  @ApiErrors(400, 401, 404, 503)
  getNeonAuthEmailServer(@Caller() caller: AccessContext, @Param('project_id', NeonIdPipe) _p: string): Promise<NeonAuthEmailServerConfigResponseDto> {
    return this.settings.getEmailProvider(caller, 'default-branch');
  }

  @Patch('email_server')
  @audited('email_provider.update')
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({ summary: 'Updates the e-mail server (deprecated)', description: DEFAULT_BRANCH, deprecated: true })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthEmailServerConfigResponseDto })
  @ApiErrors(400, 401, 403, 404, 503)
  updateNeonAuthEmailServer(@Caller() caller: AccessContext, @Param('project_id', NeonIdPipe) _p: string, @Body() body: NeonAuthEmailServerConfigDto): Promise<NeonAuthEmailServerConfigResponseDto> {
    return this.settings.updateEmailProvider(caller, 'default-branch', body);
  }
}
