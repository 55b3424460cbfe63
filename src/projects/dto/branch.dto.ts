import { CursorPaginationDto } from '../../common/dto/cursor-pagination.dto.js';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsDefined, IsInt, IsNumber, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { ConnectionDetailsDto, DatabaseDto, EndpointDto, OperationDto, RoleDto } from './compute.dto.js';
import { IsEmptyAnnotation, IsPgName, PgNameField } from './validators.js';
import { BooleanField, EnumField, IntField, NestedField, StringField } from '../../common/api-fields.js';
import { NEON_ID_PATTERN, NEON_ID_PROPERTY } from '../../common/validation.js';


export class BranchDto {
  @ApiProperty({ ...NEON_ID_PROPERTY, example: 'br-quiet-river-482913' }) id!: string;
  @ApiProperty(NEON_ID_PROPERTY) project_id!: string;
  @ApiPropertyOptional(NEON_ID_PROPERTY) parent_id?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'When the parent was copied' }) parent_timestamp?: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['init', 'resetting', 'ready', 'archived'] }) current_state!: string;
  @ApiProperty({ format: 'date-time' }) state_changed_at!: string;
  @ApiProperty() creation_source!: string;
  @ApiPropertyOptional({ deprecated: true }) primary?: boolean;
  @ApiProperty({ description: "Whether the branch is the project's default branch" }) default!: boolean;
  @ApiProperty() protected!: boolean;
  @ApiProperty({ type: 'integer', format: 'int64', deprecated: true, description: 'Not metered: 0' }) cpu_used_sec!: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Not metered: 0' }) compute_time_seconds!: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Not metered: 0' }) active_time_seconds!: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Not metered: 0' }) written_data_bytes!: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Not metered: 0' }) data_transfer_bytes!: number;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
  @ApiPropertyOptional({ enum: ['parent-data'] }) init_source?: string;
}

export class BranchResponseDto {
  @ApiProperty({ type: BranchDto }) branch!: BranchDto;
}

export class BranchesResponseDto {
  @ApiProperty({ type: [BranchDto] }) branches!: BranchDto[];
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Branch annotations by branch id; none here: {}' })
  annotations!: Record<string, unknown>;
  @ApiPropertyOptional({ type: CursorPaginationDto }) pagination?: CursorPaginationDto;
}

export class BranchCreateBranchDto {
  @StringField({ optional: true, pattern: NEON_ID_PATTERN, description: 'Parent branch; default: the default branch' })
  parent_id?: string;

  @StringField({ optional: true, minLength: 1, maxLength: 256, description: 'Default: the generated branch id' })
  name?: string;

  @BooleanField({ optional: true })
  protected?: boolean;

  @EnumField({ optional: true, enum: ['parent-data'], description: 'Only `parent-data`: a full copy of the parent' })
  init_source?: string;
}

export class BranchCreateRequestEndpointOptionsDto {
  @EnumField({ enum: ['read_write'], description: 'Every branch has one read-write endpoint: the compute server' })
  type!: 'read_write';

  @ApiPropertyOptional({ description: 'Accepted; the compute server does not autoscale' })
  @IsOptional()
  @IsNumber()
  autoscaling_limit_min_cu?: number;

  @ApiPropertyOptional({ description: 'Accepted; the compute server does not autoscale' })
  @IsOptional()
  @IsNumber()
  autoscaling_limit_max_cu?: number;

  @ApiPropertyOptional({ type: 'integer', description: 'Accepted; the compute server never suspends' })
  @IsOptional()
  @IsInt()
  @Min(-1)
  @Max(604800)
  suspend_timeout_seconds?: number;
}

export class BranchCreateRequestDto {
  @NestedField(BranchCreateBranchDto, { optional: true })
  branch?: BranchCreateBranchDto;

  @ApiPropertyOptional({ type: [BranchCreateRequestEndpointOptionsDto], description: 'At most one, read_write' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1)
  @ValidateNested({ each: true })
  @Type(() => BranchCreateRequestEndpointOptionsDto)
  endpoints?: BranchCreateRequestEndpointOptionsDto[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: 'Only `{}`: annotations are not supported' })
  @IsOptional()
  @IsEmptyAnnotation()
  annotation_value?: Record<string, string>;
}

export class BranchCreateResponseDto {
  @ApiProperty({ type: BranchDto }) branch!: BranchDto;
  @ApiProperty({ type: [EndpointDto] }) endpoints!: EndpointDto[];
  @ApiProperty({ type: [OperationDto] }) operations!: OperationDto[];
  @ApiProperty({ type: [RoleDto] }) roles!: RoleDto[];
  @ApiProperty({ type: [DatabaseDto] }) databases!: DatabaseDto[];
  @ApiPropertyOptional({ type: [ConnectionDetailsDto], description: 'Present when the branch has exactly one role and one database' })
  connection_uris?: ConnectionDetailsDto[];
}

export class BranchOperationsDto {
  @ApiProperty({ type: BranchDto }) branch!: BranchDto;
  @ApiProperty({ type: [OperationDto] }) operations!: OperationDto[];
}

export class ListProjectBranchesQueryDto {
  @ApiPropertyOptional({ description: 'Part of a branch name or id' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  search?: string;

  @EnumField({ optional: true, enum: ['name', 'created_at', 'updated_at'], default: 'updated_at' })
  sort_by?: 'name' | 'created_at' | 'updated_at';

  @ApiPropertyOptional({ description: 'pagination.next of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  cursor?: string;

  @EnumField({ optional: true, enum: ['asc', 'desc'], default: 'desc' })
  sort_order?: 'asc' | 'desc';

  @IntField({ optional: true, query: true, minimum: 1, maximum: 10000, description: 'Default: every branch' })
  limit?: number;

  @BooleanField({ optional: true, query: true, description: 'Deleted branches within a recovery window; deletion is final here, so none' })
  include_deleted?: boolean;
}

export class DeleteProjectBranchQueryDto {
  @BooleanField({ optional: true, query: true, description: 'Accepted; deletion is always immediate and final here' })
  hard_delete?: boolean;
}

export class DatabasesResponseDto {
  @ApiProperty({ type: [DatabaseDto] }) databases!: DatabaseDto[];
}

export class DatabaseResponseDto {
  @ApiProperty({ type: DatabaseDto }) database!: DatabaseDto;
}

export class DatabaseCreateBodyDto {
  @PgNameField('database', { description: 'The database name, 1..63 bytes' })
  name!: string;

  @PgNameField('role', { description: 'A role of the branch that will own the database' })
  owner_name!: string;
}

export class DatabaseCreateRequestDto {
  @NestedField(DatabaseCreateBodyDto)
  database!: DatabaseCreateBodyDto;
}

export class DatabaseOperationsDto {
  @ApiProperty({ type: DatabaseDto }) database!: DatabaseDto;
  @ApiProperty({ type: [OperationDto] }) operations!: OperationDto[];
}

export class GetConnectionUriQueryDto {
  @StringField({ optional: true, pattern: NEON_ID_PATTERN, description: 'Default: the branch of endpoint_id, else the default branch' })
  branch_id?: string;

  @StringField({ optional: true, pattern: NEON_ID_PATTERN, description: "Default: the branch's read-write endpoint" })
  endpoint_id?: string;

  @ApiProperty({ description: 'The database name' })
  @IsDefined()
  @IsPgName('database')
  database_name!: string;

  @ApiProperty({ description: 'The role name' })
  @IsDefined()
  @IsPgName('role')
  role_name!: string;

  @BooleanField({ optional: true, query: true, description: 'Accepted; there is no separate pooler, so the URI is the direct one' })
  pooled?: boolean;
}

export class ConnectionUriResponseDto {
  @ApiProperty({ description: 'The connection URI' }) uri!: string;
}
