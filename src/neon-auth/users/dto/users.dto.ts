import { BooleanField, IntField, StringField } from '../../../common/api-fields.js';
import { CursorPaginationDto } from '../../../common/dto/cursor-pagination.dto.js';
import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { NeonAuthProjectProviderBodyDto } from '../../dto/neon-auth.dto.js';

/** Most roles one user may hold, and the longest role name (Stack Auth stores them in server_metadata). */
export const MAX_ROLES = 100;
export const MAX_ROLE_LENGTH = 255;

const NAME_DESCRIPTION =
  "The user's display name. Optional: when omitted the email is used, as neonctl does " +
  '(`neon-auth user create` sends the email as the name), so a user looks the same whichever client made it.';

export class CreateBranchNeonAuthNewUserRequestDto {
  @StringField({ isDefined: false, maxLength: 256, format: 'email', example: 'jane@example.com' })
  email!: string;

  @StringField({ optional: 'not-null', minLength: 1, maxLength: 255, description: NAME_DESCRIPTION })
  name?: string;

  @StringField({
    optional: 'not-null',
    minLength: 8,
    maxLength: 128,
    description:
      'Extension: a password the user signs in with (e-mail and password). Omitted, as Neon does, the user signs in another ' +
      'way (one-time code, magic link, OAuth). Never stored in clear, never returned.',
  })
  password?: string;
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
  @StringField({
    optional: true,
    maxLength: 256,
    description: 'Search: users whose email or name contains this text (case-insensitive), or whose id is exactly this',
  })
  query?: string;

  @ApiPropertyOptional({ description: 'Pass `pagination.next` of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  cursor?: string;

  @IntField({ optional: true, query: true, minimum: 1, maximum: MAX_USERS_PAGE, default: DEFAULT_USERS_PAGE })
  limit?: number;

  @BooleanField({ optional: true, query: true, default: false, description: 'Include soft-deleted users (deleted_at set)' })
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
