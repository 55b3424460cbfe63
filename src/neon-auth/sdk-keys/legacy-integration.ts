import { ApiError, ErrorCode } from '../../common/errors.js';
import type { AuthProvider, ProviderCredentials } from '../../providers/auth-provider.port.js';
import type { AuthProviderRegistry } from '../../providers/providers.module.js';
import type { NeonAuthIntegrationEntity } from '../integrations/integration.entity.js';
import type { IntegrationsService } from '../integrations/integrations.service.js';
import { toApiError } from '../provider-errors.js';

export interface ResolvedIntegration {
  integration: NeonAuthIntegrationEntity;
  provider: AuthProvider;
  credentials: ProviderCredentials;
}

/**
 * The integration a legacy body (`project_id` + `auth_provider`) names: the project's default branch's,
 * which must use that provider. A kind without an adapter (`better_auth`) -> 400; no integration, or
 * one of another provider -> 404 NEON_AUTH_NOT_ENABLED.
 */
export async function legacyIntegration(
  integrations: IntegrationsService,
  providers: AuthProviderRegistry,
  projectId: string,
  authProvider: string,
): Promise<ResolvedIntegration> {
  let provider: AuthProvider;
  try {
    provider = providers.get(authProvider);
  } catch (err) {
    throw toApiError(err);
  }
  const integration = await integrations.findForDefaultBranch(projectId);
  if (integration.authProvider !== authProvider) {
    throw new ApiError(
      ErrorCode.NeonAuthNotEnabled,
      `Neon Auth with auth_provider ${authProvider} is not enabled on the default branch of project ${projectId} (it uses ${integration.authProvider})`,
    );
  }
  return { integration, provider, credentials: integrations.credentialsOf(integration) };
}
