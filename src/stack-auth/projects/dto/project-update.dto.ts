import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsDefined, IsIn, IsObject, IsString, MaxLength, ValidateBy, ValidateNested, type ValidationArguments } from 'class-validator';
import { EMAIL_PATTERN } from '../../users/dto/user-body.dto.js';
import { Opt } from '../../users/dto/stack-validation.js';

/**
 * `PATCH /internal/projects/current`: the fields of Stack Auth's `projectsCrudAdminUpdateSchema`
 * (@stackframe/stack-shared 2.8.108) that the embedded provider keeps. The others (logos, production mode,
 * onboarding, e-mail theme, teams and permissions, account merge strategy) are refused as unknown properties
 * rather than accepted and dropped. Lists (`domains`, `oauth_providers`) replace the stored list; `email_config`
 * replaces the stored one. The checks that need the stored project (a redacted secret) are the service's.
 */

/** Stack Auth's OAuth provider types (`standardProviders` of stack-shared 2.8.108). */
export const STACK_OAUTH_PROVIDER_IDS = ['google', 'github', 'microsoft', 'spotify', 'facebook', 'discord', 'gitlab', 'bitbucket', 'linkedin', 'apple', 'x', 'twitch'] as const;
/** The types Stack Auth has shared development credentials for (`sharedProviders`). */
export const STACK_SHARED_OAUTH_PROVIDER_IDS: readonly string[] = ['google', 'github', 'microsoft', 'spotify'];

/** Bounds Stack Auth does not set; they keep oversize input a SCHEMA_ERROR and the config row small. */
const MAX_FIELD = 2048;
const MAX_LIST = 100;

const isStandard = (args: ValidationArguments) => (args.object as { type?: unknown }).type === 'standard';

/** yup's `yupDefinedAndNonEmptyWhen(yupString(), {type: 'standard'})`: required and non-empty for `standard`, else an optional string. */
function StringWhenStandard(): PropertyDecorator {
  return ValidateBy({
    name: 'stringWhenStandard',
    validator: {
      validate: (v: unknown, args) =>
        v === undefined ? !isStandard(args!) : typeof v === 'string' && v.length <= MAX_FIELD && (v !== '' || !isStandard(args!)),
      defaultMessage: (args) =>
        args!.value === undefined
          ? '$property must be defined when type is "standard"'
          : typeof args!.value !== 'string'
            ? '$property must be a string'
            : args!.value === ''
              ? '$property must not be empty'
              : `$property must be at most ${MAX_FIELD} characters`,
    },
  });
}

/** Stack Auth's domain URL: no spaces, parseable, http(s) (`*` wildcards in the host parse too). */
const IsDomainUrl = () =>
  ValidateBy({
    name: 'isDomainUrl',
    validator: {
      validate: (v: unknown) => typeof v === 'string' && !v.includes(' ') && URL.canParse(v) && /^https?:\/\//.test(v),
      defaultMessage: () => '$property must be a URL starting with http:// or https://',
    },
  });

const IsHandlerPath = () =>
  ValidateBy({
    name: 'isHandlerPath',
    validator: { validate: (v: unknown) => typeof v === 'string' && v.startsWith('/'), defaultMessage: () => 'Handler path must start with /' },
  });

export class DomainDto {
  @IsDefined()
  @IsString()
  @MaxLength(MAX_FIELD)
  @IsDomainUrl()
  domain!: string;

  @IsDefined()
  @IsString()
  @MaxLength(MAX_FIELD)
  @IsHandlerPath()
  handler_path!: string;
}

/** One `oauth_providers` entry as written (the read shape without `provider_config_id`). */
export class OAuthProviderWriteDto {
  @IsDefined()
  @IsIn(STACK_OAUTH_PROVIDER_IDS)
  id!: string;

  @IsDefined()
  @IsIn(['shared', 'standard'])
  type!: 'shared' | 'standard';

  @StringWhenStandard()
  client_id?: string;

  @StringWhenStandard()
  client_secret?: string;

  @Opt()
  @IsString()
  @MaxLength(MAX_FIELD)
  facebook_config_id?: string;

  @Opt()
  @IsString()
  @MaxLength(MAX_FIELD)
  microsoft_tenant_id?: string;

  @Opt()
  @IsArray()
  @ArrayMaxSize(MAX_LIST)
  @IsString({ each: true })
  @MaxLength(MAX_FIELD, { each: true })
  apple_bundle_ids?: string[];
}

/** `email_config`: Stack's shared sender, or an SMTP server (all six fields required, the password at most 70 characters). */
export class EmailConfigDto {
  @IsDefined()
  @IsIn(['shared', 'standard'])
  type!: 'shared' | 'standard';

  @StringWhenStandard()
  host?: string;

  @ValidateBy({
    name: 'portWhenStandard',
    validator: {
      validate: (v: unknown, args) => (v === undefined ? !isStandard(args!) : typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535),
      defaultMessage: (args) => (args!.value === undefined ? '$property must be defined when type is "standard"' : '$property must be an integer from 0 to 65535'),
    },
  })
  port?: number;

  @StringWhenStandard()
  username?: string;

  @StringWhenStandard()
  @ValidateBy({ name: 'passwordLength', validator: { validate: (v: unknown) => typeof v !== 'string' || v.length <= 70, defaultMessage: () => '$property must be at most 70 characters' } })
  password?: string;

  @StringWhenStandard()
  sender_name?: string;

  @StringWhenStandard()
  @ValidateBy({
    name: 'senderEmail',
    validator: { validate: (v: unknown) => typeof v !== 'string' || v === '' || EMAIL_PATTERN.test(v), defaultMessage: () => '$property must be a valid email' },
  })
  sender_email?: string;
}

export class ProjectConfigUpdateDto {
  @Opt() @IsBoolean() sign_up_enabled?: boolean;
  @Opt() @IsBoolean() credential_enabled?: boolean;
  @Opt() @IsBoolean() magic_link_enabled?: boolean;
  @Opt() @IsBoolean() passkey_enabled?: boolean;
  @Opt() @IsBoolean() client_team_creation_enabled?: boolean;
  @Opt() @IsBoolean() client_user_deletion_enabled?: boolean;
  @Opt() @IsBoolean() allow_localhost?: boolean;
  @Opt() @IsBoolean() allow_user_api_keys?: boolean;
  @Opt() @IsBoolean() allow_team_api_keys?: boolean;

  @Opt()
  @IsArray()
  @ArrayMaxSize(MAX_LIST)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => DomainDto)
  domains?: DomainDto[];

  @Opt()
  @IsArray()
  @ArrayMaxSize(MAX_LIST)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => OAuthProviderWriteDto)
  oauth_providers?: OAuthProviderWriteDto[];

  @Opt()
  @IsObject()
  @ValidateNested()
  @Type(() => EmailConfigDto)
  email_config?: EmailConfigDto;
}

export class ProjectUpdateDto {
  @Opt()
  @IsString()
  @MaxLength(256)
  display_name?: string;

  @Opt()
  @IsString()
  @MaxLength(MAX_FIELD)
  description?: string;

  @Opt()
  @IsObject()
  @ValidateNested()
  @Type(() => ProjectConfigUpdateDto)
  config?: ProjectConfigUpdateDto;
}

/** The body as validated (plain JSON, exactly as sent). */
export interface ProjectUpdateInput {
  display_name?: string;
  description?: string;
  config?: {
    sign_up_enabled?: boolean;
    credential_enabled?: boolean;
    magic_link_enabled?: boolean;
    passkey_enabled?: boolean;
    client_team_creation_enabled?: boolean;
    client_user_deletion_enabled?: boolean;
    allow_localhost?: boolean;
    allow_user_api_keys?: boolean;
    allow_team_api_keys?: boolean;
    domains?: { domain: string; handler_path: string }[];
    oauth_providers?: {
      id: string;
      type: 'shared' | 'standard';
      client_id?: string;
      client_secret?: string;
      facebook_config_id?: string;
      microsoft_tenant_id?: string;
      apple_bundle_ids?: string[];
    }[];
    email_config?: { type: 'shared' | 'standard'; host?: string; port?: number; username?: string; password?: string; sender_name?: string; sender_email?: string };
  };
}
