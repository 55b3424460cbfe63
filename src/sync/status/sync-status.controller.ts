import { PROJECT_ID_PARAM, BRANCH_ID_PARAM } from '../../common/request-params.js';
import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { NeonIdPipe } from '../../common/validation.js';
import { Access, Policy } from '../../iam/policy.js';
import { EXTENSIONS_TAG } from '../../openapi/swagger.js';
import { NeonAuthSyncReconcileResponseDto, NeonAuthSyncStatusDto } from './sync-status.dto.js';
import { SyncStatusService } from './sync-status.service.js';
import { ApiErrors } from '../../common/api-errors.js';

/** Sync status and on-demand reconciliation of a branch's Neon Auth users_sync (extensions, issue 5). */
@ApiTags(EXTENSIONS_TAG)
@Controller('api/v2/projects/:project_id/branches/:branch_id/auth/sync')
export class SyncStatusController {
  constructor(private readonly status: SyncStatusService) {}

  @Get()
  @Access(Policy.ProjectRead)
  @ApiOperation({
    summary: 'Get the users_sync sync status (extension)',
    description:
      "Health of the branch's provider -> `neon_auth.users_sync` sync: webhook-to-write lag (p50/p99 over events applied " +
      'in the last hour; null when none), events queued, dead letters, last applied event, last complete reconciliation. ' +
      '404 when Neon Auth is not enabled on the branch.',
  })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthSyncStatusDto })
  @ApiErrors(400, 401, 404)
  getNeonAuthSyncStatus(
    @Param('project_id', NeonIdPipe) projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
  ): Promise<NeonAuthSyncStatusDto> {
    return this.status.statusForBranch(projectId, branchId);
  }

  @Post()
  @HttpCode(200)
  @Access(Policy.ProjectAdmin)
  @ApiOperation({
    summary: 'Reconcile users_sync with the provider now (extension)',
    description:
      "Runs a full reconciliation of the branch's `neon_auth.users_sync` with the auth provider (waits for a run in " +
      'progress first) and answers its counts. Organization admins only. 404 when Neon Auth is not enabled on the branch; ' +
      '503 AUTH_PROVIDER_UNAVAILABLE when the provider cannot be reached.',
  })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: NeonAuthSyncReconcileResponseDto })
  @ApiErrors(400, 401, 403, 404, 503)
  startNeonAuthSync(
    @Param('project_id', NeonIdPipe) projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
  ): Promise<NeonAuthSyncReconcileResponseDto> {
    return this.status.reconcileBranch(projectId, branchId);
  }
}
