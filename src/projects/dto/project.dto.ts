import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, Equals, IsArray, IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { BranchDto } from './branch.dto.js';
import { ConnectionDetailsDto, DatabaseDto, EndpointDto, OperationDto, RoleDto } from './compute.dto.js';
import { IsEmptyAnnotation, IsIpAllowEntry, PgNameField } from './validators.js';
import { BooleanField, IntField, NestedField, StringField } from '../../common/api-fields.js';
import { NEON_ID_PATTERN, NEON_ID_PROPERTY, OptionalNotNull } from '../../common/validation.js';


export class AllowedIpsDto {
  @ApiPropertyOptional({ type: [String], description: 'Addresses, CIDR blocks or ranges allowed to connect (stored; enforced by Neon Auth)' })
  @OptionalNotNull()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsIpAllowEntry({ each: true })
  ips?: string[];

  @BooleanField({ optional: 'not-null', description: 'Apply the list to protected branches only' })
  protected_branches_only?: boolean;
}

/** The project settings this server accepts; they are stored as given and merged on update. */
export class ProjectSettingsDataDto {
  @NestedField(AllowedIpsDto, { optional: 'not-null' })
  allowed_ips?: AllowedIpsDto;

  @BooleanField({ optional: 'not-null', description: 'Disallow connections from the public internet (Private Link); stored, enforced by Neon Auth' })
  block_public_connections?: boolean;

  @BooleanField({ optional: 'not-null', description: 'Disallow connections through VPC endpoints; stored' })
  block_vpc_connections?: boolean;

  @BooleanField({ optional: 'not-null', description: 'Stored; the compute server decides its own wal_level' })
  enable_logical_replication?: boolean;
}

export class ProjectCreateBranchDto {
  @StringField({ optional: true, minLength: 1, maxLength: 256, default: 'main' })
  name?: string;

  @PgNameField('role', { optional: true, description: 'Default `{database_name}_owner`; 1..63 bytes' })
  role_name?: string;

  @PgNameField('database', { optional: true, description: 'Default `neondb`; 1..63 bytes' })
  database_name?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: 'Only `{}`: annotations are not supported' })
  @IsOptional()
  @IsEmptyAnnotation()
  annotations?: Record<string, string>;
}

export class ProjectCreateBodyDto {
  @NestedField(ProjectSettingsDataDto, { optional: true })
  settings?: ProjectSettingsDataDto;

  @StringField({ optional: true, minLength: 1, maxLength: 256, description: 'Defaults to the generated project id' })
  name?: string;

  @NestedField(ProjectCreateBranchDto, { optional: true })
  branch?: ProjectCreateBranchDto;

  @ApiPropertyOptional({ description: "Must be this server's region (REGION_ID) when given" })
  @IsOptional()
  @IsString()
  @MaxLength(60)
  region_id?: string;

  @ApiPropertyOptional({ type: 'integer', description: "Must be the compute server's major version when given" })
  @IsOptional()
  @IsInt()
  @Min(14)
  @Max(99)
  pg_version?: number;

  @ApiPropertyOptional({ description: 'Only `true`: passwords are kept (encrypted) so connection_uri can return them' })
  @IsOptional()
  @IsBoolean()
  @Equals(true, { message: 'store_passwords must be true: this server keeps role passwords (encrypted) to serve connection_uri' })
  store_passwords?: boolean;

  @IntField({ optional: true, minimum: 0, maximum: 2592000 })
  history_retention_seconds?: number;

  @StringField({ optional: 'not-null', pattern: NEON_ID_PATTERN, description: 'Organization to create the project in (implied by organization keys)' })
  org_id?: string;
}

export class ProjectCreateRequestDto {
  @NestedField(ProjectCreateBodyDto)
  project!: ProjectCreateBodyDto;
}

export class ProjectUpdateBodyDto {
  @NestedField(ProjectSettingsDataDto, { optional: 'not-null', description: 'Merged into the stored settings: only the keys given change' })
  settings?: ProjectSettingsDataDto;

  @StringField({ optional: 'not-null', minLength: 1, maxLength: 256 })
  name?: string;

  @IntField({ optional: 'not-null', minimum: 0, maximum: 2592000 })
  history_retention_seconds?: number;
}

export class ProjectUpdateRequestDto {
  @NestedField(ProjectUpdateBodyDto)
  project!: ProjectUpdateBodyDto;
}

export class ListSharedProjectsQueryDto {
  @ApiPropertyOptional({ description: 'pagination.cursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;

  @IntField({ optional: true, query: true, minimum: 1, maximum: 400, default: 10 })
  limit?: number;

  @ApiPropertyOptional({ description: 'Part of a project name or id' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  search?: string;

  @IntField({ optional: true, query: true, minimum: 100, maximum: 30000, description: 'Accepted; lists are never partial here' })
  timeout?: number;
}

export class ListProjectsQueryDto extends ListSharedProjectsQueryDto {
  @StringField({ optional: true, pattern: NEON_ID_PATTERN, description: 'Only projects of this organization (404 when the caller cannot see it)' })
  org_id?: string;

  @BooleanField({ optional: true, query: true, description: 'Deleted projects within a recovery window; deletion is final here, so none' })
  recoverable?: boolean;
}

class ProjectCommonDto {
  @ApiProperty(NEON_ID_PROPERTY) id!: string;
  @ApiProperty({ description: 'Always `local`' }) platform_id!: string;
  @ApiProperty() region_id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() provisioner!: string;
  @ApiPropertyOptional({ type: ProjectSettingsDataDto }) settings?: ProjectSettingsDataDto;
  @ApiProperty({ type: 'integer', description: 'Major version of the compute server' }) pg_version!: number;
  @ApiProperty({ description: 'Host name of the compute server' }) proxy_host!: string;
  @ApiProperty({ type: 'integer', format: 'int64', description: '0: no limit' }) branch_logical_size_limit!: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: '0: no limit' }) branch_logical_size_limit_bytes!: number;
  @ApiProperty() store_passwords!: boolean;
  @ApiProperty({ type: 'integer', format: 'int64', deprecated: true }) cpu_used_sec!: number;
  @ApiProperty() creation_source!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
  @ApiProperty({ description: 'Account that created the project; empty when an organization key did' }) owner_id!: string;
  @ApiPropertyOptional(NEON_ID_PROPERTY) org_id?: string;
  @ApiProperty({ type: 'integer' }) history_retention_seconds!: number;
  @ApiPropertyOptional({ enum: ['CAN_VIEW', 'CAN_EDIT', 'CAN_MANAGE'], nullable: true })
  effective_project_permission?: 'CAN_VIEW' | 'CAN_EDIT' | 'CAN_MANAGE' | null;
}

export class ProjectListItemDto extends ProjectCommonDto {
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Not metered: 0' }) active_time!: number;
  @ApiPropertyOptional() org_name?: string;
}

export class ProjectDto extends ProjectCommonDto {
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Not metered: 0' }) data_storage_bytes_hour!: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Not metered: 0' }) data_transfer_bytes!: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Not metered: 0' }) written_data_bytes!: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Not metered: 0' }) compute_time_seconds!: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Not metered: 0' }) active_time_seconds!: number;
  @ApiProperty({ format: 'date-time', description: 'Start of the current calendar month (UTC)' }) consumption_period_start!: string;
  @ApiProperty({ format: 'date-time', description: 'Start of the next calendar month (UTC)' }) consumption_period_end!: string;
}

export class ProjectResponseDto {
  @ApiProperty({ type: ProjectDto }) project!: ProjectDto;
}

export class PaginationDto {
  @ApiProperty({ minLength: 1, description: 'Pass as `cursor` to get the page after this one' }) cursor!: string;
}

export class ProjectsResponseDto {
  @ApiProperty({ type: [ProjectListItemDto] }) projects!: ProjectListItemDto[];
  @ApiPropertyOptional({ type: PaginationDto, description: 'Absent when the page is empty' }) pagination?: PaginationDto;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } }, description: 'None here: {}' })
  applications!: Record<string, string[]>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } }, description: 'None here: {}' })
  integrations!: Record<string, string[]>;
}

export class SharedProjectsResponseDto {
  @ApiProperty({ type: [ProjectListItemDto] }) projects!: ProjectListItemDto[];
  @ApiPropertyOptional({ type: PaginationDto }) pagination?: PaginationDto;
}

export class ProjectCreateResponseDto {
  @ApiProperty({ type: ProjectDto }) project!: ProjectDto;
  @ApiProperty({ type: [ConnectionDetailsDto] }) connection_uris!: ConnectionDetailsDto[];
  @ApiProperty({ type: [RoleDto] }) roles!: RoleDto[];
  @ApiProperty({ type: [DatabaseDto] }) databases!: DatabaseDto[];
  @ApiProperty({ type: [OperationDto] }) operations!: OperationDto[];
  @ApiProperty({ type: BranchDto }) branch!: BranchDto;
  @ApiProperty({ type: [EndpointDto] }) endpoints!: EndpointDto[];
}

export class ProjectUpdateResponseDto {
  @ApiProperty({ type: ProjectDto }) project!: ProjectDto;
  @ApiProperty({ type: [OperationDto] }) operations!: OperationDto[];
}
