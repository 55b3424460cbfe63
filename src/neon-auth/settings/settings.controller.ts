import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiExtension, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.js';
import { Audited } from '../../common/audited.js';
import { BRANCH_ID_PARAM, PROJECT_ID_PARAM } from '../../common/request-params.js';
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
  NeonAuthAllowLocalhostResponseDto,
  NeonAuthConfigResponseDto,
  NeonAuthConfigUpdateDto,
  NeonAuthDeleteDomainFromRedirectURIWhitelistRequestDto,
  NeonAuthEmailAndPasswordConfigDto,
  NeonAuthEmailAndPasswordConfigUpdateDto,
  NeonAuthEmailServerConfigDto,
  NeonAuthEmailServerConfigResponseDto,
  NeonAuthMagicLinkConfigDto,
  NeonAuthMagicLinkConfigUpdateDto,
  NeonAuthOauthProviderDto,
  NeonAuthOrganizationConfigDto,
  NeonAuthOrganizationConfigUpdateDto,
  NeonAuthPhoneNumberConfigDto,
  NeonAuthPhoneNumberConfigUpdateDto,
  NeonAuthPluginConfigsDto,
  NeonAuthRedirectURIWhitelistResponseDto,
  NeonAuthUpdateOAuthProviderRequestDto,
  NeonAuthWebhookConfigDto,
  SendNeonAuthEmailProviderTestRequestDto,
  SendNeonAuthTestEmailRequestDto,
  SendNeonAuthTestEmailResponseDto,
  UpdateNeonAuthAllowLocalhostRequestDto,
} from './dto/settings.dto.js';
import { OAUTH_PROVIDER_ID_PARAM, OAuthProviderIdPipe } from './oauth-provider-id.pipe.js';
import { NeonAuthSettingsService } from './settings.service.js';

const APPLIED =
  'Applied to the running auth server before the answer (every replica): the next request follows the new settings, none after the answer the old.';
const ADMINS = 'Organization admins only (members and collaborators get 403).';
const NOT_FOR = (what: string) => `400 AUTH_PROVIDER_NOT_SUPPORTED when the branch's provider has no ${what}.`;

const audited = (action: string) => Audited({ action: `neon_auth.settings.${action}`, target: 'branch', targetId: { param: 'branch_id' } });

/** Neon Auth settings of a branch (tag Auth): domains, OAuth providers, e-mail, localhost, plugins, webhooks, name. */
@ApiTags('Auth')
@Controller('api/v2/projects/:project_id/branches/:branch_id/auth')
export class NeonAuthBranchSettingsController {
  constructor(private readonly settings: NeonAuthSettingsService) {}

  // ---- trusted domains ----

  @Get('domains')
  @Access(NEON_AUTH_POLICY.read)
  @ApiOperation({ summary: 'Lists the trusted redirect domains of a branch', description: 'Origins accepted as redirect and callback URLs, and granted CORS.' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthRedirectURIWhitelistResponseDto })
  @ApiErrors(400, 401, 404, 503)
  listBranchNeonAuthTrustedDomains(@Caller() caller: AccessContext, @Param('project_id', NeonIdPipe) _p: string, @Param('branch_id', NeonIdPipe) branchId: string): Promise<NeonAuthRedirectURIWhitelistResponseDto> {
    return this.settings.listDomains(caller, { branchId });
  }

  @Post('domains')
  @HttpCode(201)
  @audited('domain.add')
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({ summary: 'Adds a trusted redirect domain to a branch', description: `Answers 201 with no body (as Neon). Adding a domain already listed changes nothing. ${APPLIED} ${ADMINS}` })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiCreatedResponse({ description: 'Added (no body)' })
  @ApiErrors(400, 401, 403, 404, 503)
  async addBranchNeonAuthTrustedDomain(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _p: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Body() body: NeonAuthAddDomainToRedirectURIWhitelistRequestDto,
  ): Promise<void> {
    await this.settings.addDomain(caller, { branchId }, body);
  }

  @Delete('domains')
  @HttpCode(200)
  @audited('domain.delete')
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({ summary: 'Removes trusted redirect domains from a branch', description: `Domains not in the list are ignored. ${APPLIED} ${ADMINS}` })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: EmptyResponseDto, description: 'Empty object' })
  @ApiErrors(400, 401, 403, 404, 503)
  async deleteBranchNeonAuthTrustedDomain(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _p: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Body() body: NeonAuthDeleteDomainFromRedirectURIWhitelistRequestDto,
  ): Promise<EmptyResponseDto> {
    await this.settings.deleteDomains(caller, { branchId }, body);
    return {};
  }

  // ---- OAuth providers ----

  @Get('oauth_providers')
  @Access(NEON_AUTH_POLICY.read)
  @ApiOperation({ summary: 'Lists the OAuth providers of a branch', description: 'client_secret is never returned.' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: ListNeonAuthOauthProvidersResponseDto })
  @ApiErrors(400, 401, 404, 503)
  listBranchNeonAuthOauthProviders(@Caller() caller: AccessContext, @Param('project_id', NeonIdPipe) _p: string, @Param('branch_id', NeonIdPipe) branchId: string): Promise<ListNeonAuthOauthProvidersResponseDto> {
    return this.settings.listOAuthProviders(caller, { branchId });
  }

  @Post('oauth_providers')
  @HttpCode(200)
  @audited('oauth_provider.add')
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({
    summary: 'Adds an OAuth provider to a branch',
    description:
      'Answers 200 (as Neon). With client_id and client_secret: your own OAuth app (the secret is stored encrypted); without: the shared app, ' +
      'which exists only when the operator configured shared credentials (else 400 INVALID_SHARED_OAUTH_PROVIDER). The callback URL to register ' +
      `is <base_url>/callback/<id>. 409 when the provider is already configured. ${APPLIED} ${ADMINS}`,
  })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthOauthProviderDto })
  @ApiErrors(400, 401, 403, 404, 409, 503)
  addBranchNeonAuthOauthProvider(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _p: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Body() body: NeonAuthAddOAuthProviderRequestDto,
  ): Promise<NeonAuthOauthProviderDto> {
    return this.settings.addOAuthProvider(caller, { branchId }, body);
  }

  @Patch('oauth_providers/:oauth_provider_id')
  @audited('oauth_provider.update')
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({ summary: "Updates an OAuth provider's credentials", description: `Omitting both client_id and client_secret switches to the shared app (see add). ${APPLIED} ${ADMINS}` })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiParam(OAUTH_PROVIDER_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthOauthProviderDto })
  @ApiErrors(400, 401, 403, 404, 503)
  updateBranchNeonAuthOauthProvider(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _p: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Param('oauth_provider_id', OAuthProviderIdPipe) id: string,
    @Body() body: NeonAuthUpdateOAuthProviderRequestDto,
  ): Promise<NeonAuthOauthProviderDto> {
    return this.settings.updateOAuthProvider(caller, { branchId }, id, body);
  }

  @Delete('oauth_providers/:oauth_provider_id')
  @HttpCode(200)
  @audited('oauth_provider.delete')
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({ summary: 'Removes an OAuth provider from a branch', description: `${APPLIED} ${ADMINS}` })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiParam(OAUTH_PROVIDER_ID_PARAM)
  @ApiOkResponse({ type: EmptyResponseDto, description: 'Empty object' })
  @ApiErrors(400, 401, 403, 404, 503)
  async deleteBranchNeonAuthOauthProvider(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _p: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Param('oauth_provider_id', OAuthProviderIdPipe) id: string,
  ): Promise<EmptyResponseDto> {
    await this.settings.deleteOAuthProvider(caller, { branchId }, id);
    return {};
  }

  // ---- e-mail provider ----

  @Get('email_provider')
  @Access(NEON_AUTH_POLICY.read)
  @ApiOperation({ summary: 'Gets the e-mail provider of a branch', description: 'password is always "".' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthEmailServerConfigResponseDto })
  @ApiErrors(400, 401, 404, 503)
  getNeonAuthEmailProvider(@Caller() caller: AccessContext, @Param('project_id', NeonIdPipe) _p: string, @Param('branch_id', NeonIdPipe) branchId: string): Promise<NeonAuthEmailServerConfigResponseDto> {
    return this.settings.getEmailProvider(caller, { branchId });
  }

  @Patch('email_provider')
  @audited('email_provider.update')
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({
    summary: 'Updates the e-mail provider of a branch',
    description:
      '`standard`: your SMTP server, used for verification, one-time-code, magic-link and invitation mails (password stored encrypted, ' +
      'answered as ""). better_auth merges a partial `standard` update into the stored one; stack wants all six fields. `shared`: the ' +
      `installation's sender (the branch's mailbox). ${APPLIED} ${ADMINS}`,
  })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthEmailServerConfigResponseDto })
  @ApiErrors(400, 401, 403, 404, 503)
  updateNeonAuthEmailProvider(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _p: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Body() body: NeonAuthEmailServerConfigDto,
  ): Promise<NeonAuthEmailServerConfigResponseDto> {
    return this.settings.updateEmailProvider(caller, { branchId }, body);
  }

  @Post('send_test_email')
  @HttpCode(200)
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({
    summary: 'Sends a test e-mail through the SMTP settings in the body',
    description:
      'A real SMTP conversation (connection, TLS as the server offers, authentication, the message); nothing is saved. Failures answer 200 ' +
      'with success false and the reason (connection refused, timeout, certificate, authentication, recipient refused, destination not ' +
      `allowed). At most 30 test e-mails and webhook replays per project in 10 minutes (429 with Retry-After). ${ADMINS}`,
  })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: SendNeonAuthTestEmailResponseDto })
  @ApiErrors(400, 401, 403, 404, 429)
  sendNeonAuthTestEmail(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _p: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Body() body: SendNeonAuthTestEmailRequestDto,
  ): Promise<SendNeonAuthTestEmailResponseDto> {
    return this.settings.sendTestEmail(caller, { branchId }, body);
  }

  @Post('email_provider/test')
  @HttpCode(200)
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({
    summary: 'Sends a test e-mail through the saved SMTP provider',
    description: `As send_test_email, with the saved settings. 400 for a shared provider or a branch that does not use better_auth. ${ADMINS}`,
  })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: SendNeonAuthTestEmailResponseDto })
  @ApiErrors(400, 401, 403, 404, 429, 503)
  sendNeonAuthEmailProviderTest(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _p: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Body() body: SendNeonAuthEmailProviderTestRequestDto,
  ): Promise<SendNeonAuthTestEmailResponseDto> {
    return this.settings.testEmailProvider(caller, { branchId }, body);
  }

  // ---- e-mail and password ----

  @Get('email_and_password')
  @Access(NEON_AUTH_POLICY.read)
  @ApiOperation({ summary: 'Gets the e-mail and password settings of a branch', description: NOT_FOR('e-mail and password settings (stack)') })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthEmailAndPasswordConfigDto })
  @ApiErrors(400, 401, 404, 503)
  getNeonAuthEmailAndPasswordConfig(@Caller() caller: AccessContext, @Param('project_id', NeonIdPipe) _p: string, @Param('branch_id', NeonIdPipe) branchId: string): Promise<NeonAuthEmailAndPasswordConfigDto> {
    return this.settings.getEmailAndPassword(caller, { branchId });
  }

  @Patch('email_and_password')
  @audited('email_and_password.update')
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({ summary: 'Updates the e-mail and password settings of a branch', description: `Only the fields given change. ${APPLIED} ${ADMINS}` })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthEmailAndPasswordConfigDto })
  @ApiErrors(400, 401, 403, 404, 503)
  updateNeonAuthEmailAndPasswordConfig(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _p: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Body() body: NeonAuthEmailAndPasswordConfigUpdateDto,
  ): Promise<NeonAuthEmailAndPasswordConfigDto> {
    return this.settings.updateEmailAndPassword(caller, { branchId }, body);
  }

  // ---- localhost ----

  @Get('allow_localhost')
  @Access(NEON_AUTH_POLICY.read)
  @ApiOperation({ summary: 'Gets whether a branch trusts localhost', description: 'Localhost: http://localhost and http://127.0.0.1 on any port.' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthAllowLocalhostResponseDto })
  @ApiErrors(400, 401, 404, 503)
  getNeonAuthAllowLocalhost(@Caller() caller: AccessContext, @Param('project_id', NeonIdPipe) _p: string, @Param('branch_id', NeonIdPipe) branchId: string): Promise<NeonAuthAllowLocalhostResponseDto> {
    return this.settings.getAllowLocalhost(caller, { branchId });
  }

  @Patch('allow_localhost')
  @audited('allow_localhost.update')
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({ summary: 'Sets whether a branch trusts localhost', description: `${APPLIED} ${ADMINS}` })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthAllowLocalhostResponseDto })
  @ApiErrors(400, 401, 403, 404, 503)
  updateNeonAuthAllowLocalhost(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _p: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Body() body: UpdateNeonAuthAllowLocalhostRequestDto,
  ): Promise<NeonAuthAllowLocalhostResponseDto> {
    return this.settings.setAllowLocalhost(caller, { branchId }, body.allow_localhost);
  }

  // ---- plugins and name ----

  @Get('plugins')
  @Access(NEON_AUTH_POLICY.read)
  @ApiOperation({ summary: 'Gets all plugin and configuration settings of a branch', description: 'Only the sections the provider has are present.' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthPluginConfigsDto })
  @ApiErrors(400, 401, 404, 503)
  getNeonAuthPluginConfigs(@Caller() caller: AccessContext, @Param('project_id', NeonIdPipe) _p: string, @Param('branch_id', NeonIdPipe) branchId: string): Promise<NeonAuthPluginConfigsDto> {
    return this.settings.getPlugins(caller, { branchId });
  }

  @Patch('plugins/organization')
  @audited('organization.update')
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({ summary: 'Updates the organization plugin of a branch', description: `Disabled, its routes answer 404. ${APPLIED} ${ADMINS}` })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthOrganizationConfigDto })
  @ApiErrors(400, 401, 403, 404, 503)
  updateNeonAuthOrganizationPlugin(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _p: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Body() body: NeonAuthOrganizationConfigUpdateDto,
  ): Promise<NeonAuthOrganizationConfigDto> {
    return this.settings.updateOrganization(caller, { branchId }, body);
  }

  @Patch('config')
  @audited('name.update')
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({ summary: 'Updates the application name used in auth e-mails', description: `${APPLIED} ${ADMINS}` })
  @ApiExtension('x-internal', true)
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthConfigResponseDto })
  @ApiErrors(400, 401, 403, 404, 503)
  updateNeonAuthConfig(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _p: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Body() body: NeonAuthConfigUpdateDto,
  ): Promise<NeonAuthConfigResponseDto> {
    return this.settings.updateName(caller, { branchId }, body);
  }

  @Patch('plugins/magic-link')
  @audited('magic_link.update')
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({ summary: 'Updates the magic link plugin of a branch', description: `Disabled, its routes answer 404. ${APPLIED} ${ADMINS}` })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthMagicLinkConfigDto })
  @ApiErrors(400, 401, 403, 404, 503)
  updateNeonAuthMagicLinkPlugin(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _p: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Body() body: NeonAuthMagicLinkConfigUpdateDto,
  ): Promise<NeonAuthMagicLinkConfigDto> {
    return this.settings.updateMagicLink(caller, { branchId }, body);
  }

  @Get('plugins/phone-number')
  @Access(NEON_AUTH_POLICY.read)
  @ApiOperation({ summary: 'Gets the phone number plugin of a branch' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthPhoneNumberConfigDto })
  @ApiErrors(400, 401, 404, 503)
  getNeonAuthPhoneNumberPlugin(@Caller() caller: AccessContext, @Param('project_id', NeonIdPipe) _p: string, @Param('branch_id', NeonIdPipe) branchId: string): Promise<NeonAuthPhoneNumberConfigDto> {
    return this.settings.getPhoneNumber(caller, { branchId });
  }

  @Patch('plugins/phone-number')
  @audited('phone_number.update')
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({ summary: 'Updates the phone number plugin of a branch', description: `Codes go out through the send.otp webhook (or the mailbox). ${APPLIED} ${ADMINS}` })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthPhoneNumberConfigDto })
  @ApiErrors(400, 401, 403, 404, 503)
  updateNeonAuthPhoneNumberPlugin(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _p: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Body() body: NeonAuthPhoneNumberConfigUpdateDto,
  ): Promise<NeonAuthPhoneNumberConfigDto> {
    return this.settings.updatePhoneNumber(caller, { branchId }, body);
  }

  // ---- webhooks ----

  @Get('webhooks')
  @Access(NEON_AUTH_POLICY.read)
  @ApiOperation({ summary: 'Gets the webhook settings of a branch' })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthWebhookConfigDto })
  @ApiErrors(400, 401, 404, 503)
  getNeonAuthWebhookConfig(@Caller() caller: AccessContext, @Param('project_id', NeonIdPipe) _p: string, @Param('branch_id', NeonIdPipe) branchId: string): Promise<NeonAuthWebhookConfigDto> {
    return this.settings.getWebhooks(caller, { branchId });
  }

  @Put('webhooks')
  @audited('webhooks.update')
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({ summary: 'Replaces the webhook settings of a branch', description: `Full replace: omitted fields return to their defaults. ${APPLIED} ${ADMINS}` })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthWebhookConfigDto })
  @ApiErrors(400, 401, 403, 404, 503)
  updateNeonAuthWebhookConfig(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _p: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Body() body: NeonAuthWebhookConfigDto,
  ): Promise<NeonAuthWebhookConfigDto> {
    return this.settings.replaceWebhooks(caller, { branchId }, body);
  }
}
