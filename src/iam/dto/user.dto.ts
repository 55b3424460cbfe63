import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsEmail, MaxLength } from 'class-validator';
import { StringField } from '../../common/api-fields.js';

export class AuthDetailsResponseDto {
  @ApiProperty({ description: 'The account (personal key) or organization (organization and project keys) behind the key' })
  account_id!: string;

  @ApiProperty({ enum: ['keycloak', 'session_cookie', 'api_key_user', 'api_key_org', 'oauth'] })
  auth_method!: 'api_key_user' | 'api_key_org';

  @ApiPropertyOptional({ description: 'For project-scoped keys: the project id' })
  auth_data?: string;
}

export class CurrentUserAuthAccountDto {
  @ApiProperty({ format: 'email' }) email!: string;
  @ApiProperty() image!: string;
  @ApiProperty({ deprecated: true }) login!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'Identity provider; always `api_key` here' }) provider!: string;
}

export class CurrentUserInfoResponseDto {
  @ApiProperty({ format: 'int64', type: 'integer', description: '0: no limit' }) active_seconds_limit!: number;
  @ApiProperty({ type: [CurrentUserAuthAccountDto] }) auth_accounts!: CurrentUserAuthAccountDto[];
  @ApiProperty({ format: 'email' }) email!: string;
  @ApiProperty() id!: string;
  @ApiProperty() image!: string;
  @ApiProperty({ deprecated: true }) login!: string;
  @ApiProperty() name!: string;
  @ApiProperty() last_name!: string;
  @ApiProperty({ format: 'int64', type: 'integer', description: '0: no limit' }) projects_limit!: number;
  @ApiProperty({ format: 'int64', type: 'integer', description: '0: no limit' }) branches_limit!: number;
  @ApiProperty({ format: 'double', type: 'number', description: '0: no limit' }) max_autoscaling_limit!: number;
  @ApiProperty() plan!: string;
}

export class AdminAccountCreateRequestDto {
  @ApiProperty({ format: 'email', maxLength: 256 })
  @IsDefined()
  @IsEmail()
  @MaxLength(256)
  email!: string;

  @StringField({ notBlank: true, maxLength: 256 })
  name!: string;
}

export class AdminAccountDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'email' }) email!: string;
  @ApiProperty() name!: string;
}

export class AdminAccountApiKeyDto {
  @ApiProperty({ format: 'int64', type: 'integer' }) id!: number;
  @ApiProperty({ description: 'Personal API key of the new account: shown only in this response' }) key!: string;
}

export class AdminAccountCreateResponseDto {
  @ApiProperty({ type: AdminAccountDto }) account!: AdminAccountDto;
  @ApiProperty({ type: AdminAccountApiKeyDto }) api_key!: AdminAccountApiKeyDto;
}
