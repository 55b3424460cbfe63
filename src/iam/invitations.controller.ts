import { Audited } from '../common/audited.js';
import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { UuidPipe } from '../common/validation.js';
import { EXTENSIONS_TAG } from '../openapi/swagger.js';
import { Caller } from './caller.decorator.js';
import { MemberDto } from './dto/organization.dto.js';
import { InvitationsService } from './invitations.service.js';
import { Access, Policy } from './policy.js';
import type { AccessContext, Principal } from './principal.js';
import { ApiErrors } from '../common/api-errors.js';

@ApiTags(EXTENSIONS_TAG)
@Controller('api/v2/invitations')
export class InvitationsController {
  constructor(private readonly invitations: InvitationsService) {}

  @Post(':invitation_id/accept')
  @HttpCode(200)
  @Audited({ action: 'invitation.accept', target: 'invitation', targetId: { param: 'invitation_id' }, org: { response: 'org_id' } })
  @Access(Policy.PersonalKey)
  @ApiOperation({ summary: "Accept an invitation with the invitee's personal key; returns the new membership (Extension)" })
  @ApiParam({ name: 'invitation_id', format: 'uuid' })
  @ApiOkResponse({ type: MemberDto })
  @ApiErrors(400, 401, 403, 404, 409)
  acceptInvitation(@Caller() caller: AccessContext, @Param('invitation_id', UuidPipe) invitationId: string): Promise<MemberDto> {
    return this.invitations.accept(caller.principal as Extract<Principal, { kind: 'personal' }>, invitationId);
  }
}
