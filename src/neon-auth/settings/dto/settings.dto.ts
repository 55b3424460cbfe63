import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsString, ValidateNested } from 'class-validator';
import { BooleanField, EnumField, IntField, StringField } from '../../../common/api-fields.js';
import { OptionalNotNull } from '../../../common/validation.js';
import { OAUTH_PROVIDER_IDS, PASSWORD_LENGTH_LIMITS, WEBHOOK_EVENTS } from '../../../better-auth/project-config.js';
import { MAX_WEBHOOK_URL_LENGTH } from '../../../better-auth/webhooks/webhook-target.js';
import { AUTH_PROVIDER_KINDS } from '../../../providers/auth-provider.port.js';
import { NEON_AUTH_PROVIDER_ENUM } from '../../dto/neon-auth.dto.js';

/**
 * Neon's configuration API (reference §2.1 rows 4-6 and 10-29, §2.2 L8-L16): request and response shapes with Neon's
 * names, defaults and bounds. What depends on the stored settings (merging, duplicates, what a provider supports) is
 * checked by NeonAuthSettingsService; what a body alone can get wrong is checked here (400 naming the field).
 */

/** Longest trusted domain, OAuth credential and SMTP field the API stores. */
export const MAX_DOMAIN_LENGTH = 2048;
export const MAX_TRUSTED_DOMAINS = 100;
const INT32_MAX = 2_147_483_647;

const OAUTH_PROVIDER_ENUM = { enum: [...OAUTH_PROVIDER_IDS], enumName: 'NeonAuthOauthProviderId' } as const;

// ---- trusted domains ----

export class NeonAuthRedirectURIWhitelistDomainDto {
  @ApiProperty({ example: 'https://app.example.com' }) domain!: string;
  @ApiProperty(NEON_AUTH_PROVIDER_ENUM) auth_provider!: string;
}

export class NeonAuthRedirectURIWhitelistResponseDto {
  @ApiProperty({ type: [NeonAuthRedirectURIWhitelistDomainDto] }) domains!: NeonAuthRedirectURIWhitelistDomainDto[];
}

const DOMAIN_DESCRIPTION =
  'A full origin: `http(s)://host[:port]`, no path, query or credentials. A leading `*.` label is a wildcard ' +
  '(`https://*.example.app` trusts every subdomain). Stored lower-cased, without a trailing slash.';

export class NeonAuthAddDomainToRedirectURIWhitelistRequestDto {
  @StringField({ maxLength: MAX_DOMAIN_LENGTH, format: 'uri', example: 'https://app.example.com', description: DOMAIN_DESCRIPTION })
  domain!: string;

  @ApiProperty(NEON_AUTH_PROVIDER_ENUM)
  @IsString()
  @IsIn(AUTH_PROVIDER_KINDS)
  auth_provider!: (typeof AUTH_PROVIDER_KINDS)[number];
}

export class NeonAuthDomainDto {
  @StringField({ maxLength: MAX_DOMAIN_LENGTH, format: 'uri', example: 'https://app.example.com', description: DOMAIN_DESCRIPTION })
  domain!: string;
}

export class NeonAuthDeleteDomainFromRedirectURIWhitelistRequestDto {
  @ApiProperty(NEON_AUTH_PROVIDER_ENUM)
  @IsString()
  @IsIn(AUTH_PROVIDER_KINDS)
  auth_provider!: (typeof AUTH_PROVIDER_KINDS)[number];

  @ApiProperty({ type: [NeonAuthDomainDto], minItems: 1, maxItems: MAX_TRUSTED_DOMAINS, description: 'The domains to remove; one that is not in the list is ignored.' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_TRUSTED_DOMAINS)
  @ValidateNested({ each: true })
  @Type(() => NeonAuthDomainDto)
  domains!: NeonAuthDomainDto[];
}

// ---- OAuth providers ----

export class NeonAuthOauthProviderDto {
  @ApiProperty(OAUTH_PROVIDER_ENUM) id!: string;
  @ApiProperty({ enum: ['standard', 'shared'], enumName: 'NeonAuthOauthProviderType' }) type!: 'standard' | 'shared';
  @ApiPropertyOptional({ description: 'The OAuth app\'s client id (standard); "" for shared.' }) client_id?: string;
  @ApiPropertyOptional({ description: 'Never returned: the client secret is write-only (stored encrypted).' }) client_secret?: string;
  @ApiPropertyOptional({ description: 'Microsoft only: the Entra tenant (`common` by default).' }) microsoft_tenant_id?: string;
}

export class ListNeonAuthOauthProvidersResponseDto {
  @ApiProperty({ type: [NeonAuthOauthProviderDto] }) providers!: NeonAuthOauthProviderDto[];
}

const CLIENT_ID = { optional: 'not-null', minLength: 1, maxLength: 512, notBlank: true } as const;
const CLIENT_SECRET = { optional: 'not-null', minLength: 1, maxLength: 1024, notBlank: true, description: 'Write-only: stored encrypted, never returned.' } as const;
const TENANT_ID = {
  optional: 'not-null',
  maxLength: 128,
  pattern: /^[A-Za-z0-9][A-Za-z0-9.-]*$/,
  description: 'Microsoft only: `common`, `organizations`, `consumers`, a tenant id (GUID) or a verified domain.',
} as const;

export class NeonAuthAddOAuthProviderRequestDto {
  @EnumField({ enum: OAUTH_PROVIDER_IDS, enumName: 'NeonAuthOauthProviderId' })
  id!: (typeof OAUTH_PROVIDER_IDS)[number];

  @StringField({ ...CLIENT_ID, description: 'With client_secret: your own OAuth app (standard). Both omitted: the shared app (needs shared credentials on this installation).' })
  client_id?: string;

  @StringField(CLIENT_SECRET)
  client_secret?: string;

  @StringField(TENANT_ID)
  microsoft_tenant_id?: string;
}

export class NeonAuthUpdateOAuthProviderRequestDto {
  @StringField(CLIENT_ID) client_id?: string;
  @StringField(CLIENT_SECRET) client_secret?: string;
  @StringField(TENANT_ID) microsoft_tenant_id?: string;
}

// ---- e-mail ----

const SMTP_HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:.]+\]?$/;

export class NeonAuthEmailServerConfigDto {
  @EnumField({ enum: ['standard', 'shared'] as const, enumName: 'NeonAuthEmailServerType', description: '`standard`: your SMTP server; `shared`: the installation\'s sender (the local mailbox).' })
  type!: 'standard' | 'shared';

  @StringField({ optional: 'not-null', minLength: 1, maxLength: 253, pattern: SMTP_HOST, description: 'SMTP host name or IP address (standard).' })
  host?: string;

  @IntField({ optional: 'not-null', minimum: 1, maximum: 65535, description: 'SMTP port (standard): 587 (STARTTLS), 465 (TLS), 25.' })
  port?: number;

  @StringField({ optional: 'not-null', maxLength: 256 })
  username?: string;

  @StringField({ optional: 'not-null', maxLength: 1024, description: 'Write-only: stored encrypted; answers carry "".' })
  password?: string;

  @StringField({ optional: 'not-null', maxLength: 256, format: 'email' })
  sender_email?: string;

  @StringField({ optional: 'not-null', minLength: 1, maxLength: 256, notBlank: true })
  sender_name?: string;
}

export class NeonAuthEmailServerConfigResponseDto {
  @ApiProperty({ enum: ['standard', 'shared'], enumName: 'NeonAuthEmailServerType' }) type!: 'standard' | 'shared';
  @ApiPropertyOptional() host?: string;
  @ApiPropertyOptional() port?: number;
  @ApiPropertyOptional() username?: string;
  @ApiPropertyOptional({ description: 'Always "" (the password is write-only).' }) password?: string;
  @ApiPropertyOptional() sender_email?: string;
  @ApiPropertyOptional() sender_name?: string;
}

export class SendNeonAuthTestEmailRequestDto {
  @StringField({ minLength: 1, maxLength: 253, pattern: SMTP_HOST }) host!: string;
  @IntField({ minimum: 1, maximum: 65535 }) port!: number;
  @StringField({ maxLength: 256 }) username!: string;
  @StringField({ maxLength: 1024 }) password!: string;
  @StringField({ maxLength: 256, format: 'email' }) sender_email!: string;
  @StringField({ minLength: 1, maxLength: 256, notBlank: true }) sender_name!: string;
  @StringField({ maxLength: 256, format: 'email' }) recipient_email!: string;
}

export class SendNeonAuthEmailProviderTestRequestDto {
  @StringField({ maxLength: 256, format: 'email' }) recipient_email!: string;
}

export class SendNeonAuthTestEmailResponseDto {
  @ApiProperty() success!: boolean;
  @ApiPropertyOptional({ description: 'Why the SMTP conversation failed (connection, TLS, authentication, recipient).' }) error_message?: string;
}

export class NeonAuthEmailAndPasswordConfigDto {
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ enum: ['link', 'otp'], enumName: 'NeonAuthEmailVerificationMethod' }) email_verification_method!: 'link' | 'otp';
  @ApiProperty() require_email_verification!: boolean;
  @ApiProperty() auto_sign_in_after_verification!: boolean;
  @ApiProperty() send_verification_email_on_sign_up!: boolean;
  @ApiProperty() send_verification_email_on_sign_in!: boolean;
  @ApiProperty() disable_sign_up!: boolean;
  @ApiPropertyOptional({ description: 'Extension: shortest password accepted at sign-up and reset (default 8).' }) min_password_length?: number;
  @ApiPropertyOptional({ description: 'Extension: longest password accepted (default 128).' }) max_password_length?: number;
}

const { min: PW_MIN, max: PW_MAX } = PASSWORD_LENGTH_LIMITS;

export class NeonAuthEmailAndPasswordConfigUpdateDto {
  @BooleanField({ optional: 'not-null' }) enabled?: boolean;
  @EnumField({ optional: 'not-null', enum: ['link', 'otp'] as const, enumName: 'NeonAuthEmailVerificationMethod' }) email_verification_method?: 'link' | 'otp';
  @BooleanField({ optional: 'not-null' }) require_email_verification?: boolean;
  @BooleanField({ optional: 'not-null' }) auto_sign_in_after_verification?: boolean;
  @BooleanField({ optional: 'not-null' }) send_verification_email_on_sign_up?: boolean;
  @BooleanField({ optional: 'not-null' }) send_verification_email_on_sign_in?: boolean;
  @BooleanField({ optional: 'not-null' }) disable_sign_up?: boolean;
  @IntField({ optional: 'not-null', minimum: PW_MIN, maximum: PW_MAX, description: 'Extension: shortest password accepted (at most max_password_length).' })
  min_password_length?: number;
  @IntField({ optional: 'not-null', minimum: PW_MIN, maximum: PW_MAX, description: 'Extension: longest password accepted (at least min_password_length).' })
  max_password_length?: number;
}

// ---- misc ----

export class NeonAuthAllowLocalhostResponseDto {
  @ApiProperty() allow_localhost!: boolean;
}

export class UpdateNeonAuthAllowLocalhostRequestDto {
  @BooleanField({ description: 'Trust http://localhost and http://127.0.0.1 on any port (development).' }) allow_localhost!: boolean;
}

export class NeonAuthConfigUpdateDto {
  @StringField({ minLength: 1, maxLength: 256, notBlank: true, description: 'The application name used in auth e-mails.' }) name!: string;
}

export class NeonAuthConfigResponseDto {
  @ApiProperty() name!: string;
}

// ---- plugins ----

export class NeonAuthOrganizationConfigDto {
  @ApiProperty({ default: true }) enabled!: boolean;
  @ApiProperty({ minimum: 1, default: 10 }) organization_limit!: number;
  @ApiProperty({ minimum: 1, default: 100 }) membership_limit!: number;
  @ApiProperty({ enum: ['admin', 'owner'], default: 'owner' }) creator_role!: 'admin' | 'owner';
  @ApiProperty({ default: false }) send_invitation_email!: boolean;
}

export class NeonAuthOrganizationConfigUpdateDto {
  @BooleanField({ optional: 'not-null' }) enabled?: boolean;
  @IntField({ optional: 'not-null', minimum: 1, maximum: INT32_MAX }) organization_limit?: number;
  @IntField({ optional: 'not-null', minimum: 1, maximum: INT32_MAX }) membership_limit?: number;
  @EnumField({ optional: 'not-null', enum: ['admin', 'owner'] as const }) creator_role?: 'admin' | 'owner';
  @BooleanField({ optional: 'not-null' }) send_invitation_email?: boolean;
}

export class NeonAuthMagicLinkConfigDto {
  @ApiProperty({ default: false }) enabled!: boolean;
  @ApiProperty({ minimum: 5, maximum: 1440, default: 5, description: 'Minutes a link stays valid.' }) expires_in!: number;
  @ApiProperty({ default: false }) disable_sign_up!: boolean;
}

export class NeonAuthMagicLinkConfigUpdateDto {
  @BooleanField({ optional: 'not-null' }) enabled?: boolean;
  @IntField({ optional: 'not-null', minimum: 5, maximum: 1440, description: 'Minutes a link stays valid.' }) expires_in?: number;
  @BooleanField({ optional: 'not-null' }) disable_sign_up?: boolean;
}

export class NeonAuthPhoneNumberConfigDto {
  @ApiProperty({ default: false }) enabled!: boolean;
  @ApiPropertyOptional({ minimum: 60, maximum: 600, default: 300, description: 'Seconds a code stays valid.' }) otp_expires_in?: number;
}

export class NeonAuthPhoneNumberConfigUpdateDto {
  @BooleanField({ optional: 'not-null' }) enabled?: boolean;
  @IntField({ optional: 'not-null', minimum: 60, maximum: 600, description: 'Seconds a code stays valid.' }) otp_expires_in?: number;
}

export class NeonAuthPluginConfigsDto {
  @ApiPropertyOptional({ type: NeonAuthOrganizationConfigDto }) organization?: NeonAuthOrganizationConfigDto;
  @ApiPropertyOptional({ type: NeonAuthMagicLinkConfigDto }) magic_link?: NeonAuthMagicLinkConfigDto;
  @ApiPropertyOptional({ type: NeonAuthPhoneNumberConfigDto }) phone_number?: NeonAuthPhoneNumberConfigDto;
  @ApiPropertyOptional({ type: NeonAuthEmailServerConfigResponseDto }) email_provider?: NeonAuthEmailServerConfigResponseDto;
  @ApiPropertyOptional({ type: NeonAuthEmailAndPasswordConfigDto }) email_and_password?: NeonAuthEmailAndPasswordConfigDto;
  @ApiPropertyOptional({ type: [NeonAuthOauthProviderDto] }) oauth_providers?: NeonAuthOauthProviderDto[];
  @ApiPropertyOptional() allow_localhost?: boolean;
}

// ---- webhooks ----

export class NeonAuthWebhookConfigDto {
  @BooleanField() enabled!: boolean;

  @StringField({
    optional: 'not-null',
    maxLength: MAX_WEBHOOK_URL_LENGTH,
    description:
      'Where events are POSTed: https (http only for a destination the operator allows). Required when enabled. Loopback, ' +
      'private, link-local and metadata addresses are refused unless the operator allows them (OUTBOUND_ALLOWED_HOSTS).',
  })
  webhook_url?: string;

  @ApiPropertyOptional({ enum: [...WEBHOOK_EVENTS], enumName: 'NeonAuthWebhookEvent', isArray: true, default: [] })
  @OptionalNotNull()
  @IsArray()
  @ArrayMaxSize(WEBHOOK_EVENTS.length)
  @IsIn(WEBHOOK_EVENTS, { each: true })
  enabled_events?: (typeof WEBHOOK_EVENTS)[number][];

  @IntField({ optional: 'not-null', minimum: 1, maximum: 10, default: 5, description: 'Seconds each delivery attempt may take.' })
  timeout_seconds?: number;
}
