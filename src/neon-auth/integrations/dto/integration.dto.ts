import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, ValidateBy } from 'class-validator';
import { BooleanField, CustomField, EnumField, StringField } from '../../../common/api-fields.js';
import { NEON_ID_PROPERTY } from '../../../common/validation.js';
import { NEON_AUTH_PROVIDER_ENUM } from '../../dto/neon-auth.dto.js';

const MANUAL_SETUP_DOC =
  'Manual setup (extension of this product; Neon offers it in its console only): connect an EXISTING provider project ' +
  'instead of having one provisioned (Quick Start). Give `auth_provider_base_url`, `auth_provider_project_id` and ' +
  '`secret_server_key` together (all three, or none for Quick Start); `webhook_signing_secret` is optional. ' +
  'The connection is verified with the provider, the integration is `owned_by: user`, and the provider\'s existing users are ' +
  'copied into neon_auth.users_sync. Register the sync webhook in your provider at the `webhook_url` the response names ' +
  '(`<PUBLIC_URL>/webhooks/neon-auth/<integration id>`). No SDK keys are created: `pub_client_key` and ' +
  '`secret_server_key` of the response are empty (use your provider project\'s own keys). The server calls the base URL ' +
  'only on a public address: loopback, private, link-local, unique-local, shared, reserved and cloud metadata addresses ' +
  '(and names resolving to them) answer 400 `AUTH_PROVIDER_URL_NOT_ALLOWED` unless the operator allows them (`OUTBOUND_ALLOWED_HOSTS`).';

/** Key sizes of a svix endpoint secret: Svix issues 24 bytes; up to 64 are accepted (an HMAC-SHA256 block). */
export const WEBHOOK_SECRET_MIN_BYTES = 24;
export const WEBHOOK_SECRET_MAX_BYTES = 64;
const WEBHOOK_SECRET_PREFIX = 'whsec_';

/**
 * True for a svix endpoint secret: `whsec_` and the standard, padded base64 of a 24..64-byte key. The key is
 * all that authenticates a delivery, so `whsec_` alone (an empty key: anyone can sign), a few bytes, or text
 * the decoder would silently skip or truncate are refused. Re-encoding must give back exactly what was sent.
 */
export function isWebhookSigningSecret(value: unknown): boolean {
  if (typeof value !== 'string' || !value.startsWith(WEBHOOK_SECRET_PREFIX)) return false;
  const encoded = value.slice(WEBHOOK_SECRET_PREFIX.length);
  if (encoded.length > 4 * Math.ceil(WEBHOOK_SECRET_MAX_BYTES / 3)) return false;
  const key = Buffer.from(encoded, 'base64');
  return key.length >= WEBHOOK_SECRET_MIN_BYTES && key.length <= WEBHOOK_SECRET_MAX_BYTES && key.toString('base64') === encoded;
}

const IsWebhookSigningSecret = (): PropertyDecorator =>
  ValidateBy({
    name: 'isWebhookSigningSecret',
    validator: {
      validate: isWebhookSigningSecret,
      defaultMessage: () =>
        `$property must be ${WEBHOOK_SECRET_PREFIX} followed by the standard base64 of a ${WEBHOOK_SECRET_MIN_BYTES} to ${WEBHOOK_SECRET_MAX_BYTES} byte key, as svix issues it`,
    },
  });

/** Fields shared by both enable bodies: the manual-setup extension. */
export class ManualSetupFieldsDto {
  @StringField({ optional: true, maxLength: 2048, format: 'uri', description: `${MANUAL_SETUP_DOC}\n\nBase URL of the provider (Stack: the SDK's baseUrl, e.g. https://api.stack-auth.com).` })
  auth_provider_base_url?: string;

  @StringField({ optional: true, minLength: 1, maxLength: 256, description: 'Manual setup: the id of the existing provider project (Stack: a UUID).' })
  auth_provider_project_id?: string;

  @StringField({ optional: true, minLength: 1, maxLength: 1024, description: 'Manual setup: a secret server key of that project (Stack: `ssk_…`); stored encrypted, never shown again.' })
  secret_server_key?: string;

  @CustomField(
    IsWebhookSigningSecret(),
    {
      type: String,
      pattern: '^whsec_(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$',
      minLength: WEBHOOK_SECRET_PREFIX.length + 4 * Math.ceil(WEBHOOK_SECRET_MIN_BYTES / 3),
      maxLength: WEBHOOK_SECRET_PREFIX.length + 4 * Math.ceil(WEBHOOK_SECRET_MAX_BYTES / 3),
    },
    {
      optional: true,
      description:
        'Manual setup: the signing secret of the webhook endpoint you registered in the provider, as svix issues it: `whsec_` and the ' +
        `standard base64 of a ${WEBHOOK_SECRET_MIN_BYTES} to ${WEBHOOK_SECRET_MAX_BYTES} byte key; stored encrypted.`,
    },
  )
  webhook_signing_secret?: string;
}

/** POST /projects/{project_id}/branches/{branch_id}/auth (EnableNeonAuthIntegrationRequest + manual-setup extension). */
export class EnableNeonAuthIntegrationRequestDto extends ManualSetupFieldsDto {
  @EnumField({ ...NEON_AUTH_PROVIDER_ENUM, isDefined: false, description: 'mock and stack are supported; better_auth answers 400 AUTH_PROVIDER_NOT_SUPPORTED' })
  auth_provider!: string;

  @StringField({ optional: true, description: "Database that holds neon_auth.users_sync. When omitted, the branch's default database." })
  database_name?: string;
}

/** POST /projects/auth/create (NeonAuthCreateIntegrationRequest + manual-setup extension). */
export class NeonAuthCreateIntegrationRequestDto extends ManualSetupFieldsDto {
  @EnumField({ ...NEON_AUTH_PROVIDER_ENUM, isDefined: false })
  auth_provider!: string;

  @StringField({ isDefined: false, neonId: true })
  project_id!: string;

  @StringField({ isDefined: false, neonId: true })
  branch_id!: string;

  @StringField({ optional: true, description: "Database that holds neon_auth.users_sync. When omitted, the branch's default database." })
  database_name?: string;

  @ApiPropertyOptional({ deprecated: true, description: 'Ignored (as at Neon).' })
  @IsOptional()
  @IsString()
  @MaxLength(63)
  role_name?: string;
}

/** Body of DELETE …/branches/{branch_id}/auth and DELETE /projects/{project_id}/auth/integration/{auth_provider}. */
export class DisableNeonAuthRequestDto {
  @BooleanField({
    optional: true,
    default: false,
    description:
      'If true, deletes the neon_auth schema (and users_sync with its rows) from the database. If false, the schema and ' +
      'rows stay and enabling again reuses them.',
  })
  delete_data?: boolean;
}

export class NeonAuthIntegrationDto {
  @ApiProperty(NEON_AUTH_PROVIDER_ENUM) auth_provider!: string;
  @ApiProperty() auth_provider_project_id!: string;
  @ApiProperty(NEON_ID_PROPERTY) branch_id!: string;
  @ApiProperty() db_name!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ enum: ['neon', 'user'], enumName: 'NeonAuthProviderProjectOwnedBy' }) owned_by!: 'neon' | 'user';
  @ApiPropertyOptional({ enum: ['finished', 'initiated'], enumName: 'NeonAuthProviderProjectTransferStatus' }) transfer_status?: 'initiated' | 'finished';
  @ApiProperty() jwks_url!: string;
  @ApiPropertyOptional() base_url?: string;
  @ApiPropertyOptional({ minLength: 1, maxLength: 256, description: 'Defaults to the Neon project name.' }) name?: string;
  @ApiPropertyOptional({ description: "Extension: where the provider delivers user webhooks for users_sync (<PUBLIC_URL>/webhooks/neon-auth/<integration id>)." })
  webhook_url?: string;
}

export class ListNeonAuthIntegrationsResponseDto {
  @ApiProperty({ type: [NeonAuthIntegrationDto] }) data!: NeonAuthIntegrationDto[];
}

/** 200 of the disable routes: an empty JSON object (reference §9.2). */
export class EmptyResponseDto {}
