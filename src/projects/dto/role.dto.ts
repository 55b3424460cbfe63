import { ApiProperty } from '@nestjs/swagger';
import { BooleanField, NestedField } from '../../common/api-fields.js';
import { OperationDto, RoleDto } from './compute.dto.js';
import { PgNameField } from './validators.js';

export class RoleCreateBodyDto {
  @PgNameField('role', { description: 'The role name, 1..63 bytes (not starting with pg_)' })
  name!: string;

  @BooleanField({ optional: true, description: 'Create a role that cannot log in' })
  no_login?: boolean;
}

export class RoleCreateRequestDto {
  @NestedField(RoleCreateBodyDto)
  role!: RoleCreateBodyDto;
}

export class RolesResponseDto {
  @ApiProperty({ type: [RoleDto] }) roles!: RoleDto[];
}

export class RoleResponseDto {
  @ApiProperty({ type: RoleDto }) role!: RoleDto;
}

export class RoleOperationsDto {
  @ApiProperty({ type: RoleDto }) role!: RoleDto;
  @ApiProperty({ type: [OperationDto] }) operations!: OperationDto[];
}

export class RolePasswordResponseDto {
  @ApiProperty({ description: 'The role password' }) password!: string;
}
