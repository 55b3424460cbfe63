import { OptionalNotNull, QueryBoolean } from '../../../common/validation.js';
import { CursorPaginationDto } from '../../../common/dto/cursor-pagination.dto.js';
import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsEmail,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { NeonAuthProjectProviderBodyDto } from '../../integrations/dto/integration.dto.js';

/** Most roles one user may hold, and the longest role name (Stack Auth stores them in server_metadata). */
export const MAX_ROLES = 100;
export const MAX_ROLE_LENGTH = 255;

const NAME_DESCRIPTION =
  "The user's display name. Optional: when omitted the email is used, as neonctl does " +
  '(`neon-auth user create` sends the email as the name), so a user looks the same whichever client made it.';

export class CreateBranchNeonAuthNewUserRequestDto {
  @ApiProperty({ format: 'email', minLength: 1, maxLength: 256, example: 'jane@example.com' })
  @IsString()
  @MaxLength(256)
  @IsEmail({}, { message: '$property must be an email address' })
  email!: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 255, description: NAME_DESCRIPTION })
  @OptionalNotNull()
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  name?: string;
}

export class NeonAuthCreateNewUserRequestDto extends IntersectionType(NeonAuthProjectProviderBodyDto, CreateBranchNeonAuthNewUserRequestDto) {}

export class NeonAuthCreateNewUserResponseDto {
  @ApiProperty({ description: 'ID of newly created user' }) id!: string;
}

export class UpdateNeonAuthUserRoleRequestDto {
  @ApiProperty({
    type: [String],
    minItems: 1,
    maxItems: MAX_ROLES,
    example: ['admin'],
    description: `Array of roles to assign to the user (replaces the current list; built-ins "user" and "admin", custom strings allowed; 1..${MAX_ROLE_LENGTH} characters each)`,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_ROLES)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(MAX_ROLE_LENGTH, { each: true })
  @Matches(/\S/, { each: true, message: '$property must not be blank' })
  roles!: string[];
}

export class UpdateNeonAuthUserRoleResponseDto {
  @ApiProperty({ description: 'ID of the updated user' }) id!: string;
}

// ---- Extension: list and search users_sync ----

export const DEFAULT_USERS_PAGE = 100;
export const MAX_USERS_PAGE = 1000;

export class ListBranchNeonAuthUsersQueryDto {
  @ApiPropertyOptional({
    maxLength: 256,
    description: 'Search: users whose email or name contains this text (case-insensitive), or whose id is exactly this',
  })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  query?: string;

  @ApiPropertyOptional({ description: 'Pass `pagination.next` of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  cursor?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_USERS_PAGE, default: DEFAULT_USERS_PAGE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_USERS_PAGE)
  limit?: number;

  @ApiPropertyOptional({ type: 'boolean', default: false, description: 'Include soft-deleted users (deleted_at set)' })
  @IsOptional()
  @QueryBoolean()
  @IsBoolean()
  include_deleted?: boolean;
}

export class NeonAuthUserDto {
  @ApiProperty() id!: string;
  @ApiProperty({ type: String, nullable: true }) email!: string | null;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
  @ApiProperty({ type: [String], description: "Roles stored with the provider's user (Stack Auth: server_metadata.roles)" })
  roles!: string[];
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) created_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) updated_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Set when the user was deleted (soft delete)' })
  deleted_at!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: "The provider's user object, as neon_auth.users_sync.raw_json holds it" })
  raw_json!: Record<string, unknown>;
}

export class ListBranchNeonAuthUsersResponseDto {
  @ApiProperty({ type: [NeonAuthUserDto] }) users!: NeonAuthUserDto[];
  @ApiPropertyOptional({ type: CursorPaginationDto }) pagination?: CursorPaginationDto;
}
