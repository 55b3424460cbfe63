import { Audited } from '../../common/audited.js';
import { Body, Controller, Post } from '@nestjs/common';
import { Idempotent } from '../../common/idempotency.js';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Caller } from '../../iam/caller.decorator.js';
import { Access, Policy } from '../../iam/policy.js';
import type { AccessContext } from '../../iam/principal.js';
import { NeonAuthCreateIntegrationResponseDto } from '../dto/neon-auth.dto.js';
import { NeonAuthCreateAuthProviderSDKKeysRequestDto } from './dto/sdk-keys.dto.js';
import { NeonAuthSdkKeysService } from './sdk-keys.service.js';
import { ApiErrors } from '../../common/api-errors.js';

@ApiTags('Auth (legacy)')
@Controller('api/v2/projects/auth')
export class NeonAuthSdkKeysController {
  constructor(private readonly sdkKeys: NeonAuthSdkKeysService) {}

  @Post('keys')
  @Idempotent()
  @Audited({ action: 'neon_auth.sdk_keys.create', target: 'project', targetId: { body: 'project_id' }, details: ['auth_provider'] })
  @Access(Policy.Authenticated)
  @ApiOperation({
    summary: 'Create auth provider SDK keys',
    description:
      "Generates a new publishable client key (pck_…) and secret server key (ssk_…) for the auth provider project of the project's " +
      'default branch; they are shown only in this response. Organization admins (personal key or organization key) only: ' +
      '`project_id` is in the body, so others get 404 (project outside their reach) or 403. A provider project that belongs ' +
      'to you (owned_by: user) manages its keys in the provider: 409.',
  })
  @ApiCreatedResponse({ type: NeonAuthCreateIntegrationResponseDto, description: 'Created' })
  @ApiErrors(400, 401, 403, 404, 409, 422, 503)
  createNeonAuthProviderSDKKeys(
    @Caller() caller: AccessContext,
    @Body() body: NeonAuthCreateAuthProviderSDKKeysRequestDto,
  ): Promise<NeonAuthCreateIntegrationResponseDto> {
    return this.sdkKeys.create(caller.principal, body);
  }
}
