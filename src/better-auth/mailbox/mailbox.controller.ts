import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.js';
import { BRANCH_ID_PARAM, PROJECT_ID_PARAM } from '../../common/request-params.js';
import { NeonIdPipe } from '../../common/validation.js';
import { EXTENSIONS_TAG } from '../../openapi/swagger.js';
import { Access } from '../../iam/policy.js';
import { Caller } from '../../iam/caller.decorator.js';
import type { AccessContext } from '../../iam/principal.js';
import { NEON_AUTH_POLICY, projectAccessOf } from '../../neon-auth/access.js';
import { BetterAuthMailbox } from './mailbox.service.js';
import { DEFAULT_MAILBOX_PAGE, ListMailboxQueryDto, ListMailboxResponseDto } from './mailbox.dto.js';

/** The local mailbox of a branch's Better Auth servers (extension). */
@ApiTags(EXTENSIONS_TAG)
@Controller('api/v2/projects/:project_id/branches/:branch_id/auth/mailbox')
export class BetterAuthMailboxController {
  constructor(private readonly mailbox: BetterAuthMailbox) {}

  @Get()
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({
    summary: 'Read the messages the branch\'s auth server sent (extension; organization admins)',
    description:
      'Verification links, password resets, one-time codes (e-mail and phone), magic links and organization invitations that the ' +
      "branch's Better Auth server sent while no e-mail provider is configured for it land here, newest first, for a day. They " +
      'carry live codes and links, so only organization admins may read them. Not in Neon\'s API.',
  })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: ListMailboxResponseDto })
  @ApiErrors(400, 401, 403, 404)
  async listNeonAuthMailbox(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Query() query: ListMailboxQueryDto,
  ): Promise<ListMailboxResponseDto> {
    return { messages: await this.mailbox.list(projectAccessOf(caller).project.id, branchId, { recipient: query.to, limit: query.limit ?? DEFAULT_MAILBOX_PAGE }) };
  }
}
