import { CursorPaginationDto } from '../../common/dto/cursor-pagination.dto.js';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsDefined, IsEmail, IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { ORG_ROLES, type OrgRole } from '../entities/member.entity.js';
import { EnumField, StringField } from '../../common/api-fields.js';
import { NEON_ID_SOURCE } from '../../common/validation.js';

export class OrganizationDto {
  @ApiProperty({ pattern: NEON_ID_SOURCE, example: 'org-morning-bread-81040908' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() handle!: string;
  @ApiProperty() plan!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ description: 'Organizations created through the API are managed by `console`' }) managed_by!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class OrganizationsResponseDto {
  @ApiProperty({ type: [OrganizationDto] }) organizations!: OrganizationDto[];
}

export class OrganizationCreateRequestDto {
  @StringField({ notBlank: true, maxLength: 256, example: 'Acme' })
  name!: string;
}

export class MemberDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) user_id!: string;
  @ApiProperty({ pattern: NEON_ID_SOURCE }) org_id!: string;
  @ApiProperty({ enum: ORG_ROLES }) role!: OrgRole;
  @ApiPropertyOptional({ format: 'date-time' }) joined_at?: string;
}

export class MemberUserInfoDto {
  @ApiProperty({ format: 'email' }) email!: string;
}

export class MemberWithUserDto {
  @ApiProperty({ type: MemberDto }) member!: MemberDto;
  @ApiProperty({ type: MemberUserInfoDto }) user!: MemberUserInfoDto;
}

export class OrganizationMembersResponseDto {
  @ApiProperty({ type: [MemberWithUserDto] }) members!: MemberWithUserDto[];
  @ApiPropertyOptional({ type: CursorPaginationDto }) pagination?: CursorPaginationDto;
}

export class ListMembersQueryDto {
  @EnumField({ optional: true, enum: ['email', 'role', 'joined_at'], default: 'joined_at' })
  sort_by?: 'email' | 'role' | 'joined_at';

  @EnumField({ optional: true, enum: ['asc', 'desc'], default: 'desc' })
  sort_order?: 'asc' | 'desc';

  @ApiPropertyOptional({ description: 'Cursor from a previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class OrganizationMemberUpdateRequestDto {
  @EnumField({ enum: ORG_ROLES })
  role!: OrgRole;
}

export class InvitationDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'email' }) email!: string;
  @ApiProperty({ pattern: NEON_ID_SOURCE }) org_id!: string;
  @ApiProperty({ format: 'uuid', description: 'Account that extended the invitation' }) invited_by!: string;
  @ApiProperty({ format: 'date-time' }) invited_at!: string;
  @ApiProperty({ enum: ORG_ROLES }) role!: OrgRole;
}

export class OrganizationInvitationsResponseDto {
  @ApiProperty({ type: [InvitationDto] }) invitations!: InvitationDto[];
}

export class OrganizationInviteCreateRequestDto {
  @ApiProperty({ format: 'email', minLength: 1, maxLength: 256 })
  @IsDefined()
  @IsEmail()
  @MaxLength(256)
  email!: string;

  @EnumField({ enum: ORG_ROLES })
  role!: OrgRole;
}

export class OrganizationInvitesCreateRequestDto {
  @ApiProperty({ type: [OrganizationInviteCreateRequestDto] })
  @IsDefined()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => OrganizationInviteCreateRequestDto)
  invitations!: OrganizationInviteCreateRequestDto[];
}
