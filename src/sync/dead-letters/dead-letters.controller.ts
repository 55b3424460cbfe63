import { PROJECT_ID_PARAM, BRANCH_ID_PARAM } from '../../common/request-params.js';
import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { NeonIdPipe } from '../../common/validation.js';
import { Access, Policy } from '../../iam/policy.js';
import { EXTENSIONS_TAG } from '../../openapi/swagger.js';
import {
  ListNeonAuthSyncDeadLettersQueryDto,
  NeonAuthSyncDeadLettersResponseDto,
  ReplayNeonAuthSyncDeadLettersRequestDto,
  ReplayNeonAuthSyncDeadLettersResponseDto,
} from './dead-letters.dto.js';
import { SyncDeadLettersService } from './dead-letters.service.js';
import { ApiErrors } from '../../common/api-errors.js';

/** Dead letters of a branch's Neon Auth users_sync sync: list and replay (extensions, issue 5). */
@ApiTags(EXTENSIONS_TAG)
@Controller('api/v2/projects/:project_id/branches/:branch_id/auth/sync/dead_letters')
export class SyncDeadLettersController {
  constructor(private readonly deadLetters: SyncDeadLettersService) {}

  @Get()
  @Access(Policy.ProjectRead)
  @ApiOperation({
    summary: 'List the users_sync sync dead letters (extension)',
    description:
      'Provider events parked after SYNC_MAX_ATTEMPTS failed applies to `neon_auth.users_sync`, oldest first, with the ' +
      'last error (cursor pagination: pass pagination.next as cursor). Readable by whoever may read the sync status. ' +
      '404 when Neon Auth is not enabled on the branch.',
  })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthSyncDeadLettersResponseDto })
  @ApiErrors(400, 401, 404)
  listNeonAuthSyncDeadLetters(
    @Param('project_id', NeonIdPipe) projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Query() query: ListNeonAuthSyncDeadLettersQueryDto,
  ): Promise<NeonAuthSyncDeadLettersResponseDto> {
    return this.deadLetters.list(projectId, branchId, query);
  }

  @Post('replay')
  @HttpCode(200)
  @Access(Policy.ProjectAdmin)
  @ApiOperation({
    summary: 'Replay users_sync sync dead letters (extension)',
    description:
      'Puts the named dead letters (every dead letter of the branch when `ids` is absent) back in the queue with their ' +
      'attempts reset, and wakes the applier. All or nothing: ids that are not dead letters of this branch -> 404, ' +
      'ids no longer dead (already replayed) -> 400, naming them. Safe to repeat. Organization admins only. ' +
      '404 when Neon Auth is not enabled on the branch.',
  })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiBody({ type: ReplayNeonAuthSyncDeadLettersRequestDto, required: false })
  @ApiOkResponse({ type: ReplayNeonAuthSyncDeadLettersResponseDto })
  @ApiErrors(400, 401, 403, 404)
  replayNeonAuthSyncDeadLetters(
    @Param('project_id', NeonIdPipe) projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Body() body: ReplayNeonAuthSyncDeadLettersRequestDto,
  ): Promise<ReplayNeonAuthSyncDeadLettersResponseDto> {
    return this.deadLetters.replay(projectId, branchId, body);
  }
}
