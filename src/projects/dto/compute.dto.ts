import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { NEON_ID_PROPERTY } from '../../common/validation.js';


export class RoleDto {
  @ApiProperty(NEON_ID_PROPERTY) branch_id!: string;
  @ApiProperty({ description: 'The role name' }) name!: string;
  @ApiPropertyOptional({ description: 'The role password; only in the responses that create the role' }) password?: string;
  @ApiPropertyOptional() protected?: boolean;
  @ApiPropertyOptional({ description: 'Always `password` here' }) authentication_method?: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class DatabaseDto {
  @ApiProperty({ type: 'integer', format: 'int64' }) id!: number;
  @ApiProperty(NEON_ID_PROPERTY) branch_id!: string;
  @ApiProperty({ description: 'The database name' }) name!: string;
  @ApiProperty({ description: 'The name of the role that owns the database' }) owner_name!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class EndpointDto {
  @ApiProperty({ description: 'Host name of the compute server' }) host!: string;
  @ApiProperty({ ...NEON_ID_PROPERTY, example: 'ep-cool-darkness-123456' }) id!: string;
  @ApiProperty(NEON_ID_PROPERTY) project_id!: string;
  @ApiProperty(NEON_ID_PROPERTY) branch_id!: string;
  @ApiProperty({ description: 'Fixed: the compute server does not autoscale' }) autoscaling_limit_min_cu!: number;
  @ApiProperty({ description: 'Fixed: the compute server does not autoscale' }) autoscaling_limit_max_cu!: number;
  @ApiProperty() region_id!: string;
  @ApiProperty({ enum: ['read_write', 'read_only'] }) type!: string;
  @ApiProperty({ enum: ['init', 'active', 'idle'], description: 'The compute server is always running: `active`' }) current_state!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) settings!: Record<string, unknown>;
  @ApiProperty({ deprecated: true }) pooler_enabled!: boolean;
  @ApiProperty({ deprecated: true }) pooler_mode!: string;
  @ApiProperty() disabled!: boolean;
  @ApiProperty() passwordless_access!: boolean;
  @ApiProperty() creation_source!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
  @ApiProperty({ deprecated: true }) proxy_host!: string;
  @ApiProperty({ description: '-1: never suspended' }) suspend_timeout_seconds!: number;
  @ApiProperty() provisioner!: string;
}

export class OperationDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty(NEON_ID_PROPERTY) project_id!: string;
  @ApiPropertyOptional(NEON_ID_PROPERTY) branch_id?: string;
  @ApiPropertyOptional(NEON_ID_PROPERTY) endpoint_id?: string;
  @ApiProperty({ description: 'e.g. create_timeline, start_compute, apply_config, delete_timeline' }) action!: string;
  @ApiProperty({
    enum: ['scheduling', 'running', 'finished', 'failed', 'error', 'cancelling', 'cancelled', 'skipped'],
    description:
      'Operations are recorded before their work starts and driven to the end by the request, or, when its process ' +
      'stopped or the work failed, by the reconciler: `error` is retried (at `retry_at`); `failed` was rolled back',
  })
  status!: string;
  @ApiPropertyOptional({ description: 'Why the last attempt failed (`error`, `failed`)' }) error?: string;
  @ApiProperty({ type: 'integer' }) failures_count!: number;
  @ApiPropertyOptional({ format: 'date-time', description: 'When an `error` operation is tried again' }) retry_at?: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
  @ApiProperty({ type: 'integer', description: 'Measured duration of the work, in milliseconds' }) total_duration_ms!: number;
}

export class ConnectionParametersDto {
  @ApiProperty({ description: 'Name of the real database on the compute server (what you connect to)' }) database!: string;
  @ApiProperty() password!: string;
  @ApiProperty({ description: 'Name of the real role on the compute server (what you connect as)' }) role!: string;
  @ApiProperty({ description: 'Host name; the port is in connection_uri' }) host!: string;
  @ApiProperty({ description: 'There is no separate pooler: same as host' }) pooler_host!: string;
}

export class ConnectionDetailsDto {
  @ApiProperty({ example: 'postgresql://neondb_owner.shiny-meadow-12345678:npg_...@127.0.0.1:5432/neondb.br-quiet-river-482913' })
  connection_uri!: string;
  @ApiProperty({ type: ConnectionParametersDto }) connection_parameters!: ConnectionParametersDto;
}
