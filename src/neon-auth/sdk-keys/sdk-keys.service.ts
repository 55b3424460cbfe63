import { Injectable } from '@nestjs/common';
import { ApiError, ErrorCode } from '../../common/errors.js';
import { AccessService } from '../../iam/access.service.js';
import type { Principal } from '../../iam/principal.js';
import { AuthProviderRegistry } from '../../providers/providers.module.js';
import { authorizeNeonAuthProject } from '../access.js';
import type { NeonAuthCreateIntegrationResponseDto } from '../integrations/dto/integration.dto.js';
import { IntegrationsService } from '../integrations/integrations.service.js';
import { NeonAuthTransferStatusService } from '../ownership/transfer-status.service.js';
import { callProvider } from '../provider-errors.js';
import type { NeonAuthCreateAuthProviderSDKKeysRequestDto } from './dto/sdk-keys.dto.js';
import { legacyIntegration } from './legacy-integration.js';

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
    private readonly integrations: IntegrationsService,
    private readonly providers: AuthProviderRegistry,
    private readonly transfers: NeonAuthTransferStatusService,
    private readonly access: AccessService,
  ) {}

  async create(principal: Principal, body: NeonAuthCreateAuthProviderSDKKeysRequestDto): Promise<NeonAuthCreateIntegrationResponseDto> {
    const { project } = await authorizeNeonAuthProject(this.access, principal, body.project_id, 'manage');
    const { integration, provider, credentials } = await legacyIntegration(this.integrations, this.providers, project.id, body.auth_provider);
    await this.transfers.refresh(integration, credentials);
    if (integration.ownedBy !== 'neon') {
      throw new ApiError(
        ErrorCode.AuthProviderProjectOwnedByUser,
        `the auth provider project ${integration.providerProjectId} belongs to you (owned_by: user), so its SDK keys are managed in ` +
          "the auth provider: create them in the provider's dashboard",
      );
    }
    if (!provider.capabilities.sdkKeys) {
      throw new ApiError(ErrorCode.AuthProviderNotSupported, `auth provider ${integration.authProvider} does not issue SDK keys`);
    }
    const keys = await callProvider(() => provider.createSdkKeys(credentials));
    const response: NeonAuthCreateIntegrationResponseDto = {
      auth_provider: integration.authProvider,
      auth_provider_project_id: integration.providerProjectId,
      pub_client_key: keys.publishableClientKey,
      secret_server_key: keys.secretServerKey,
      jwks_url: integration.jwksUrl,
      schema_name: 'neon_auth',
      table_name: 'users_sync',
    };
    if (integration.baseUrl) response.base_url = integration.baseUrl;
    return response;
  }
}
