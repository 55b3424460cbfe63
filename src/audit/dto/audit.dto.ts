import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CursorPaginationDto } from '../../common/dto/cursor-pagination.dto.js';
import { IntField, StringField } from '../../common/api-fields.js';

export const MAX_AUDIT_PAGE = 1000;

export class ListAuditLogQueryDto {
  @IntField({ optional: true, query: true, minimum: 1, maximum: MAX_AUDIT_PAGE, default: 100 })
  limit?: number;

  @StringField({ optional: true, maxLength: 512, description: 'Pass `pagination.next` of the previous page' })
  cursor?: string;
}

export class AuditActorDto {
  @ApiProperty({ enum: ['personal', 'organization', 'project'], description: 'The kind of API key that acted' }) kind!: string;
  @ApiProperty({ type: String, nullable: true, description: 'The account of a personal key; null for organization and project keys' })
  account_id!: string | null;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'The API key that acted' }) key_id!: number;
}

export class AuditTargetDto {
  @ApiProperty({ example: 'branch' }) type!: string;
  @ApiProperty({ type: String, nullable: true }) id!: string | null;
}

export class AuditEventDto {
  @ApiProperty({ description: 'Increasing with time' }) id!: string;
  @ApiProperty({ format: 'date-time' }) occurred_at!: string;
  @ApiProperty({ type: AuditActorDto }) actor!: AuditActorDto;
  @ApiProperty({ example: 'neon_auth.enable', description: 'What was done; `.refused` ends a refusal that is recorded (quotas)' }) action!: string;
  @ApiProperty({ type: AuditTargetDto }) target!: AuditTargetDto;
  @ApiProperty({ type: String, nullable: true }) project_id!: string | null;
  @ApiProperty({ type: 'integer', description: 'The HTTP status the request was answered with' }) status!: number;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Chosen request fields (never a secret); `refused`: the error code of a refusal' })
  details!: Record<string, unknown>;
  @ApiProperty() request_id!: string;
  @ApiProperty({ description: 'The client address (see TRUST_PROXY)' }) client_addr!: string;
}

export class AuditLogResponseDto {
  @ApiProperty({ type: [AuditEventDto] }) events!: AuditEventDto[];
  @ApiPropertyOptional({ type: CursorPaginationDto }) pagination?: CursorPaginationDto;
}
