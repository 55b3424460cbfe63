import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString } from 'class-validator';
import { StringField } from '../../common/api-fields.js';
import { AUTH_PROVIDER_KINDS } from '../../providers/auth-provider.port.js';

/**
 * Wire shapes several Neon Auth rooms share (integrations, users, SDK keys, ownership): the legacy body that names
 * its project and provider, and the answer that carries SDK keys (Neon's NeonAuthCreateIntegrationResponse).
 */

const PROVIDERS = [...AUTH_PROVIDER_KINDS].sort();

/** The provider kinds of Neon's enum (NeonAuthSupportedAuthProvider); `better_auth` answers 400 "not supported yet". */
export const NEON_AUTH_PROVIDER_ENUM = { enum: PROVIDERS, enumName: 'NeonAuthSupportedAuthProvider' } as const;

/** The body fields of the legacy calls that name their project in the body (keys, user, transfer). */
export class NeonAuthProjectProviderBodyDto {
  @StringField({ isDefined: false, neonId: true })
  project_id!: string;

  @ApiProperty(NEON_AUTH_PROVIDER_ENUM)
  @IsString()
  @IsIn(AUTH_PROVIDER_KINDS)
  auth_provider!: (typeof AUTH_PROVIDER_KINDS)[number];
}

export class NeonAuthCreateIntegrationResponseDto {
  @ApiProperty(NEON_AUTH_PROVIDER_ENUM) auth_provider!: string;
  @ApiProperty() auth_provider_project_id!: string;
  @ApiProperty({ description: 'Publishable client key (pck_…). Returned only here, once; empty for manual setup.' }) pub_client_key!: string;
  @ApiProperty({ description: 'Secret server key (ssk_…). Returned only here, once; empty for manual setup.' }) secret_server_key!: string;
  @ApiProperty() jwks_url!: string;
  @ApiProperty({ example: 'neon_auth' }) schema_name!: string;
  @ApiProperty({ example: 'users_sync' }) table_name!: string;
  @ApiPropertyOptional() base_url?: string;
  @ApiPropertyOptional({ description: "Extension: where the provider delivers user webhooks for users_sync (<PUBLIC_URL>/webhooks/neon-auth/<integration id>); for manual setup, register it in your provider." })
  webhook_url?: string;
}
