import { Injectable } from '@nestjs/common';
import { AccessService } from '../../iam/access.service.js';
import type { Principal } from '../../iam/principal.js';
import { authorizeNeonAuthProject } from '../access.js';
import type { NeonAuthCreateIntegrationResponseDto } from '../dto/neon-auth.dto.js';
import { NeonAuthIntegrationResolver } from '../integrations/integration-resolver.js';
import { callProvider } from '../provider-errors.js';
import { NEON_AUTH_SCHEMA, USERS_SYNC_TABLE } from '../users-sync/users-sync.ddl.js';
import type { NeonAuthCreateAuthProviderSDKKeysRequestDto } from './dto/sdk-keys.dto.js';

/**
 * SDK keys (`POST /projects/auth/keys`): a new publishable client key and secret server key from the
 * provider for the project's default branch's provider project, shown once (the product keeps no
 * copy; earlier keys stay valid). Org admins only. Only for a provider project the product manages
 * (`owned_by: neon`): once it belongs to the person (transferred, or connected manually) its keys are
 * managed in the provider (409 AUTH_PROVIDER_PROJECT_OWNED_BY_USER).
 */
@Injectable()
export class NeonAuthSdkKeysService {
  constructor(
    private readonly integrations: NeonAuthIntegrationResolver,
    private readonly access: AccessService,
  ) {}

  async create(principal: Principal, body: NeonAuthCreateAuthProviderSDKKeysRequestDto): Promise<NeonAuthCreateIntegrationResponseDto> {
    const { project } = await authorizeNeonAuthProject(this.access, principal, body.project_id, 'manage');
    const resolved = await this.integrations.findForLegacyBody(project.id, body.auth_provider);
    const { integration, provider, credentials } = resolved;
    await this.integrations.requireManagedProject(resolved, {
      capability: 'sdkKeys',
      ownedByUser:
        `the auth provider project ${integration.providerProjectId} belongs to you (owned_by: user), so its SDK keys are managed in ` +
        "the auth provider: create them in the provider's dashboard",
      notSupported: integration.baseUrl
        ? `auth provider ${integration.authProvider} has no SDK keys: applications use NEON_AUTH_BASE_URL=${integration.baseUrl}`
        : `auth provider ${integration.authProvider} does not issue SDK keys`,
    });
    const keys = await callProvider(() => provider.createSdkKeys(credentials));
    const response: NeonAuthCreateIntegrationResponseDto = {
      auth_provider: integration.authProvider,
      auth_provider_project_id: integration.providerProjectId,
      pub_client_key: keys.publishableClientKey,
      secret_server_key: keys.secretServerKey,
      jwks_url: integration.jwksUrl,
      schema_name: NEON_AUTH_SCHEMA,
      table_name: USERS_SYNC_TABLE,
    };
    if (integration.baseUrl) response.base_url = integration.baseUrl;
    return response;
  }
}
