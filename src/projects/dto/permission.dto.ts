import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsEmail, MaxLength } from 'class-validator';

export class ProjectPermissionDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'email' }) granted_to_email!: string;
  @ApiProperty({ format: 'date-time' }) granted_at!: string;
  @ApiPropertyOptional({ format: 'date-time' }) revoked_at?: string;
}

export class ProjectPermissionsDto {
  @ApiProperty({ type: [ProjectPermissionDto] }) project_permissions!: ProjectPermissionDto[];
}

export class GrantPermissionToProjectRequestDto {
  @ApiProperty({ format: 'email', minLength: 1, maxLength: 256 })
  @IsDefined()
  @IsEmail()
  @MaxLength(256)
  email!: string;
}
