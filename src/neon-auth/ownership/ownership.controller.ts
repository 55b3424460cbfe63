import { Audited } from '../../common/audited.js';
import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { Idempotent } from '../../common/idempotency.js';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Caller } from '../../iam/caller.decorator.js';
import { Access, Policy } from '../../iam/policy.js';
import type { AccessContext } from '../../iam/principal.js';
import { NeonAuthTransferAuthProviderProjectRequestDto, NeonAuthTransferAuthProviderProjectResponseDto } from './dto/ownership.dto.js';
import { NeonAuthOwnershipService } from './ownership.service.js';
import { ApiErrors } from '../../common/api-errors.js';

@ApiTags('Auth (legacy)')
@Controller('api/v2/projects/auth')
export class NeonAuthOwnershipController {
  constructor(private readonly ownership: NeonAuthOwnershipService) {}

  @Post('transfer_ownership')
  @Idempotent()
  @HttpCode(200)
  @Audited({ action: 'neon_auth.transfer_ownership', target: 'project', targetId: { body: 'project_id' }, details: ['auth_provider'] })
  @Access(Policy.Authenticated)
  @ApiOperation({
    summary: 'Transfer the auth provider project to your own provider account',
    description:
      'Transfer initiated. Follow the URL to complete the process in your auth provider\'s UI. Only for a provider project managed ' +
      'by Neon Auth (owned_by: neon); the integration then shows transfer_status: initiated, and owned_by: user with ' +
      'transfer_status: finished once the transfer was confirmed. Organization admins only (404 / 403 for others).',
  })
  @ApiOkResponse({ type: NeonAuthTransferAuthProviderProjectResponseDto })
  @ApiErrors(400, 401, 403, 404, 409, 422, 503)
  transferNeonAuthProviderProject(
    @Caller() caller: AccessContext,
    @Body() body: NeonAuthTransferAuthProviderProjectRequestDto,
  ): Promise<NeonAuthTransferAuthProviderProjectResponseDto> {
    return this.ownership.transfer(caller.principal, body);
  }
}
