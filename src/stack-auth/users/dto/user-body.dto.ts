import { OmitType, PickType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Allow,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { isUuid } from '../../../common/validation.js';
import { Nullable, Opt } from './stack-validation.js';

/**
 * Request bodies of the users API, field for field Stack Auth's `usersCrudServerUpdateSchema`,
 * `usersCrudServerCreateSchema` and the client update schema of `/users/me` (@stackframe/stack-shared
 * 2.8.108), with its limits: display_name ≤ 256, password ≤ 70, profile image ≤ 1e6 characters,
 * country codes of 2 letters, risk scores integers 0..100. Emails are capped at 256 characters
 * (Stack's strict email limit), which also keeps them within what a Postgres index entry can hold.
 */

/** yup's e-mail pattern (the HTML spec's), which Stack Auth's emailSchema uses. */
export const EMAIL_PATTERN = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
export const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const MAX_PROFILE_IMAGE_URL_LENGTH = 1_000_000;

/** Stack Auth's urlSchema: no spaces, and parseable as a URL (data: URLs included). */
const IsStackUrl = () =>
  ValidateBy({
    name: 'isStackUrl',
    validator: {
      validate: (v: unknown) => typeof v === 'string' && !v.includes(' ') && URL.canParse(v),
      defaultMessage: () => '$property is not a valid URL',
    },
  });

const IsUuidString = () =>
  ValidateBy({ name: 'isUuidString', validator: { validate: (v: unknown) => isUuid(v), defaultMessage: () => '$property must be a valid UUID' } });

export class SignUpRiskScoresDto {
  @IsDefined()
  @IsInt()
  @Min(0)
  @Max(100)
  bot!: number;

  @IsDefined()
  @IsInt()
  @Min(0)
  @Max(100)
  free_trial_abuse!: number;
}

export class RiskScoresDto {
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => SignUpRiskScoresDto)
  sign_up!: SignUpRiskScoresDto;
}

export class OAuthProviderDto {
  @IsString()
  id!: string;

  @IsString()
  account_id!: string;

  @Nullable()
  @IsString()
  email?: string | null;
}

/** PATCH /users/{user_id} (and PATCH /users/me with server access). */
export class ServerUserUpdateDto {
  @Nullable()
  @IsString()
  @MaxLength(256)
  display_name?: string | null;

  @Nullable()
  @IsString()
  @MaxLength(MAX_PROFILE_IMAGE_URL_LENGTH)
  @IsStackUrl()
  profile_image_url?: string | null;

  @Allow()
  client_metadata?: unknown;

  @Allow()
  client_read_only_metadata?: unknown;

  @Allow()
  server_metadata?: unknown;

  @Nullable()
  @IsString()
  @IsNotEmpty({ message: '$property must not be empty' })
  @MaxLength(256)
  @Matches(EMAIL_PATTERN, { message: '$property must be a valid email' })
  primary_email?: string | null;

  @Opt()
  @IsBoolean()
  primary_email_verified?: boolean;

  @Opt()
  @IsBoolean()
  primary_email_auth_enabled?: boolean;

  @Opt()
  @IsBoolean()
  passkey_auth_enabled?: boolean;

  @Nullable()
  @IsString()
  @MaxLength(70)
  password?: string | null;

  @Opt()
  @IsString()
  @IsNotEmpty({ message: '$property must not be empty' })
  @MaxLength(1000)
  password_hash?: string;

  @Opt()
  @IsBoolean()
  otp_auth_enabled?: boolean;

  @Nullable()
  @IsString()
  @Matches(BASE64_PATTERN, { message: '$property: Invalid base64 format' })
  totp_secret_base64?: string | null;

  @Nullable()
  @IsUuidString()
  selected_team_id?: string | null;

  /** Only `false` (an anonymous user becomes a regular one). */
  @Opt()
  @IsIn([false], { message: '$property must be one of the following values: false' })
  is_anonymous?: false;

  @Opt()
  @IsBoolean()
  restricted_by_admin?: boolean;

  @Nullable()
  @IsString()
  restricted_by_admin_reason?: string | null;

  @Nullable()
  @IsString()
  restricted_by_admin_private_details?: string | null;

  @Nullable()
  @IsString()
  @Matches(/^\s*[A-Za-z]{2}\s*$/, { message: '$property must be a 2-letter country code' })
  country_code?: string | null;

  @Opt()
  @IsObject()
  @ValidateNested()
  @Type(() => RiskScoresDto)
  risk_scores?: RiskScoresDto;
}

/** POST /users: the update fields without selected_team_id, plus oauth_providers and any is_anonymous. */
export class ServerUserCreateDto extends OmitType(ServerUserUpdateDto, ['selected_team_id', 'is_anonymous'] as const) {
  @Opt()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => OAuthProviderDto)
  oauth_providers?: OAuthProviderDto[];

  @Opt()
  @IsBoolean()
  is_anonymous?: boolean;
}

/** PATCH /users/me with client access: only what a user may change about themselves. */
export class ClientUserUpdateDto extends PickType(ServerUserUpdateDto, [
  'display_name',
  'profile_image_url',
  'client_metadata',
  'selected_team_id',
  'totp_secret_base64',
  'otp_auth_enabled',
  'passkey_auth_enabled',
  'primary_email',
] as const) {}
