import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, Matches } from 'class-validator';
import { AUTH_PROVIDER_KINDS, type AuthProviderKind } from '../../../providers/auth-provider.port.js';
import { NEON_AUTH_PROVIDER_ENUM } from '../../integrations/dto/integration.dto.js';

export class NeonAuthCreateAuthProviderSDKKeysRequestDto {
  @ApiProperty({ pattern: '^[a-z0-9-]{1,60}$' })
  @IsString()
  @Matches(/^[a-z0-9-]{1,60}$/, { message: '$property must match ^[a-z0-9-]{1,60}$' })
  project_id!: string;

  @ApiProperty(NEON_AUTH_PROVIDER_ENUM)
  @IsString()
  @IsIn(AUTH_PROVIDER_KINDS)
  auth_provider!: AuthProviderKind;
}
