import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { StringField } from '../../common/api-fields.js';
import { NEON_ID_SOURCE } from '../../common/validation.js';

export class ApiKeyCreateRequestDto {
  @ApiProperty({ description: 'A user-specified API key name', maxLength: 64, example: 'ci' })
  @IsDefined()
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  key_name!: string;
}

export class OrgApiKeyCreateRequestDto extends ApiKeyCreateRequestDto {
  @StringField({ optional: true, neonId: true, description: 'If set, the API key can access only this project' })
  project_id?: string;
}

export class ApiKeyCreatorDataDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: "URL of the user's avatar image (empty when none)" }) image!: string;
}

export class ApiKeyCreateResponseDto {
  @ApiProperty({ format: 'int64', type: 'integer' }) id!: number;
  @ApiProperty({ description: 'The secret: shown only in this response' }) key!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'uuid', description: 'ID of the user who created this API key' }) created_by!: string;
}

export class OrgApiKeyCreateResponseDto extends ApiKeyCreateResponseDto {
  @ApiPropertyOptional({ pattern: NEON_ID_SOURCE }) project_id?: string;
}

export class ApiKeysListResponseItemDto {
  @ApiProperty({ format: 'int64', type: 'integer' }) id!: number;
  @ApiProperty() name!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ type: ApiKeyCreatorDataDto }) created_by!: ApiKeyCreatorDataDto;
  @ApiPropertyOptional({ format: 'date-time', nullable: true, type: String }) last_used_at?: string | null;
  @ApiProperty() last_used_from_addr!: string;
}

export class OrgApiKeysListResponseItemDto extends ApiKeysListResponseItemDto {
  @ApiPropertyOptional({ pattern: NEON_ID_SOURCE }) project_id?: string;
}

export class ApiKeyRevokeResponseDto {
  @ApiProperty({ format: 'int64', type: 'integer' }) id!: number;
  @ApiProperty() name!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'uuid' }) created_by!: string;
  @ApiPropertyOptional({ format: 'date-time', nullable: true, type: String }) last_used_at?: string | null;
  @ApiProperty() last_used_from_addr!: string;
  @ApiProperty() revoked!: boolean;
}

export class OrgApiKeyRevokeResponseDto extends ApiKeyRevokeResponseDto {
  @ApiPropertyOptional({ pattern: NEON_ID_SOURCE }) project_id?: string;
}
