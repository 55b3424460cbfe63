import { Audited } from '../common/audited.js';
import { ErrorCode } from '../common/errors.js';
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Int64IdPipe, NEON_ID_PARAM_SCHEMA, NeonIdPipe, UuidPipe } from '../common/validation.js';
import { EXTENSIONS_TAG } from '../openapi/swagger.js';
import { ApiKeysService } from './api-keys.service.js';
import { Caller } from './caller.decorator.js';
import {
  OrgApiKeyCreateRequestDto,
  OrgApiKeyCreateResponseDto,
  OrgApiKeyRevokeResponseDto,
  OrgApiKeysListResponseItemDto,
} from './dto/api-key.dto.js';
import {
  ListMembersQueryDto,
  MemberDto,
  OrganizationCreateRequestDto,
  OrganizationDto,
  OrganizationInvitationsResponseDto,
  OrganizationInvitesCreateRequestDto,
  OrganizationMembersResponseDto,
  OrganizationMemberUpdateRequestDto,
} from './dto/organization.dto.js';
import { InvitationsService } from './invitations.service.js';
import { MembersService } from './members.service.js';
import { OrganizationsService } from './organizations.service.js';
import { Access, Policy } from './policy.js';
import type { AccessContext, Principal } from './principal.js';
import { ApiErrors } from '../common/api-errors.js';

const ORG_ID = { name: 'org_id', description: 'The organization ID', schema: NEON_ID_PARAM_SCHEMA } as const;

@ApiTags('Organizations')
@Controller('api/v2/organizations')
export class OrganizationsController {
  constructor(
    private readonly organizations: OrganizationsService,
    private readonly members: MembersService,
    private readonly invitations: InvitationsService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  @Post()
  @Audited({ action: 'organization.create', target: 'organization', targetId: { response: 'id' }, details: ['name'], refusals: [ErrorCode.OrganizationsLimitExceeded] })
  @Access(Policy.PersonalKey)
  @ApiTags(EXTENSIONS_TAG)
  @ApiOperation({ summary: 'Create an organization; the caller becomes its admin (Extension: Neon does this in its console)' })
  @ApiCreatedResponse({ type: OrganizationDto })
  @ApiErrors(400, 401, 403, 422)
  createOrganization(@Caller() caller: AccessContext, @Body() body: OrganizationCreateRequestDto): Promise<OrganizationDto> {
    return this.organizations.create(caller.principal as Extract<Principal, { kind: 'personal' }>, body.name);
  }

  @Get(':org_id')
  @Access(Policy.OrgMember)
  @ApiOperation({ summary: 'Get organization details' })
  @ApiParam(ORG_ID)
  @ApiOkResponse({ type: OrganizationDto })
  @ApiErrors(400, 401, 403, 404)
  getOrganization(@Caller() caller: AccessContext, @Param('org_id', NeonIdPipe) _orgId: string): OrganizationDto {
    return this.organizations.get(caller);
  }

  @Get(':org_id/members')
  @Access(Policy.OrgMember)
  @ApiOperation({ summary: 'List organization members' })
  @ApiParam(ORG_ID)
  @ApiOkResponse({ type: OrganizationMembersResponseDto })
  @ApiErrors(400, 401, 403, 404)
  getOrganizationMembers(
    @Caller() caller: AccessContext,
    @Param('org_id', NeonIdPipe) _orgId: string,
    @Query() query: ListMembersQueryDto,
  ): Promise<OrganizationMembersResponseDto> {
    return this.members.list(caller, query);
  }

  @Get(':org_id/members/:member_id')
  @Access(Policy.OrgMember)
  @ApiOperation({ summary: 'Get an organization member' })
  @ApiParam(ORG_ID)
  @ApiParam({ name: 'member_id', format: 'uuid' })
  @ApiOkResponse({ type: MemberDto })
  @ApiErrors(400, 401, 403, 404)
  getOrganizationMember(
    @Caller() caller: AccessContext,
    @Param('org_id', NeonIdPipe) _orgId: string,
    @Param('member_id', UuidPipe) memberId: string,
  ): Promise<MemberDto> {
    return this.members.get(caller, memberId);
  }

  @Patch(':org_id/members/:member_id')
  @Audited({ action: 'member.update_role', target: 'member', targetId: { param: 'member_id' }, details: ['role'] })
  @Access(Policy.OrgAdmin)
  @ApiOperation({ summary: "Change a member's role (an organization keeps at least one admin)" })
  @ApiParam(ORG_ID)
  @ApiParam({ name: 'member_id', format: 'uuid' })
  @ApiOkResponse({ type: MemberDto })
  @ApiErrors(400, 401, 403, 404, 409)
  updateOrganizationMember(
    @Caller() caller: AccessContext,
    @Param('org_id', NeonIdPipe) _orgId: string,
    @Param('member_id', UuidPipe) memberId: string,
    @Body() body: OrganizationMemberUpdateRequestDto,
  ): Promise<MemberDto> {
    return this.members.updateRole(caller, memberId, body.role);
  }

  @Delete(':org_id/members/:member_id')
  @Audited({ action: 'member.remove', target: 'member', targetId: { param: 'member_id' } })
  @Access(Policy.OrgAdminPersonal)
  @ApiOperation({ summary: 'Remove a member (personal key of an admin; the last admin cannot be removed)' })
  @ApiParam(ORG_ID)
  @ApiParam({ name: 'member_id', format: 'uuid' })
  @ApiOkResponse({ schema: { type: 'object' } })
  @ApiErrors(400, 401, 403, 404, 409)
  removeOrganizationMember(
    @Caller() caller: AccessContext,
    @Param('org_id', NeonIdPipe) _orgId: string,
    @Param('member_id', UuidPipe) memberId: string,
  ): Promise<Record<string, never>> {
    return this.members.remove(caller, memberId);
  }

  @Get(':org_id/invitations')
  @Access(Policy.OrgMember)
  @ApiOperation({ summary: 'List pending invitations' })
  @ApiParam(ORG_ID)
  @ApiOkResponse({ type: OrganizationInvitationsResponseDto })
  @ApiErrors(400, 401, 403, 404)
  getOrganizationInvitations(
    @Caller() caller: AccessContext,
    @Param('org_id', NeonIdPipe) _orgId: string,
  ): Promise<OrganizationInvitationsResponseDto> {
    return this.invitations.list(caller);
  }

  @Post(':org_id/invitations')
  @HttpCode(200)
  @Audited({ action: 'invitation.create', target: 'invitation', details: ['invitations'] })
  @Access(Policy.OrgAdminPersonal)
  @ApiOperation({ summary: 'Invite people to the organization (personal key of an admin)' })
  @ApiParam(ORG_ID)
  @ApiOkResponse({ type: OrganizationInvitationsResponseDto })
  @ApiErrors(400, 401, 403, 404, 409)
  createOrganizationInvitations(
    @Caller() caller: AccessContext,
    @Param('org_id', NeonIdPipe) _orgId: string,
    @Body() body: OrganizationInvitesCreateRequestDto,
  ): Promise<OrganizationInvitationsResponseDto> {
    return this.invitations.create(caller, body.invitations);
  }

  @Get(':org_id/api_keys')
  @Access(Policy.OrgAdmin)
  @ApiOperation({ summary: 'List organization and project-scoped API keys' })
  @ApiParam(ORG_ID)
  @ApiOkResponse({ type: [OrgApiKeysListResponseItemDto] })
  @ApiErrors(400, 401, 403, 404)
  listOrgApiKeys(@Caller() caller: AccessContext, @Param('org_id', NeonIdPipe) _orgId: string): Promise<OrgApiKeysListResponseItemDto[]> {
    return this.apiKeys.listOrgKeys(caller);
  }

  @Post(':org_id/api_keys')
  @HttpCode(200)
  @Audited({ action: 'org_api_key.create', target: 'api_key', targetId: { response: 'id' }, details: ['key_name', 'project_id'] })
  @Access(Policy.OrgAdminPersonal)
  @ApiOperation({ summary: 'Create an organization API key, or a project-scoped key with project_id (personal key of an admin)' })
  @ApiParam(ORG_ID)
  @ApiOkResponse({ type: OrgApiKeyCreateResponseDto })
  @ApiErrors(400, 401, 403, 404)
  createOrgApiKey(
    @Caller() caller: AccessContext,
    @Param('org_id', NeonIdPipe) _orgId: string,
    @Body() body: OrgApiKeyCreateRequestDto,
  ): Promise<OrgApiKeyCreateResponseDto> {
    return this.apiKeys.createOrgKey(caller, body.key_name, body.project_id);
  }

  @Delete(':org_id/api_keys/:key_id')
  @Audited({ action: 'org_api_key.revoke', target: 'api_key', targetId: { param: 'key_id' } })
  @Access(Policy.OrgAdmin)
  @ApiOperation({ summary: 'Revoke an organization or project-scoped API key; it stops working at once' })
  @ApiParam(ORG_ID)
  @ApiParam({ name: 'key_id', type: 'integer', format: 'int64' })
  @ApiOkResponse({ type: OrgApiKeyRevokeResponseDto })
  @ApiErrors(400, 401, 403, 404)
  revokeOrgApiKey(
    @Caller() caller: AccessContext,
    @Param('org_id', NeonIdPipe) _orgId: string,
    @Param('key_id', Int64IdPipe) keyId: number,
  ): Promise<OrgApiKeyRevokeResponseDto> {
    return this.apiKeys.revokeOrgKey(caller, keyId);
  }
}
