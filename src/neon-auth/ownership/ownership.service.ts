import { Injectable } from '@nestjs/common';
import { ApiError, ErrorCode } from '../../common/errors.js';
import { AccessService } from '../../iam/access.service.js';
import type { Principal } from '../../iam/principal.js';
import { authorizeNeonAuthProject } from '../access.js';
import { IntegrationsService } from '../integrations/integrations.service.js';
import { callProvider } from '../provider-errors.js';
import { legacyIntegration } from '../sdk-keys/legacy-integration.js';
import type { NeonAuthTransferAuthProviderProjectRequestDto, NeonAuthTransferAuthProviderProjectResponseDto } from './dto/ownership.dto.js';
import { NeonAuthTransferStatusService } from './transfer-status.service.js';
import { AuthProviderRegistry } from '../../providers/providers.module.js';

/**
 * Transfer of a Neon-managed provider project (`owned_by: neon`, Quick Start) to the person's own
 * provider account ("Claim project"). Org admins only. The provider issues a confirm link; the
 * integration shows `transfer_status: initiated`; once the person confirms in the provider's page,
 * the next read of the integration reports `owned_by: user`, `transfer_status: finished`
 * (NeonAuthTransferStatusService). The integration keeps its credentials, so users and sync keep
 * working after the transfer. Starting again while a link is pending issues a new link.
 */
@Injectable()
export class NeonAuthOwnershipService {
  constructor(
    private readonly integrations: IntegrationsService,
    private readonly providers: AuthProviderRegistry,
    private readonly status: NeonAuthTransferStatusService,
    private readonly access: AccessService,
  ) {}

  async transfer(principal: Principal, body: NeonAuthTransferAuthProviderProjectRequestDto): Promise<NeonAuthTransferAuthProviderProjectResponseDto> {
    const { project } = await authorizeNeonAuthProject(this.access, principal, body.project_id, 'manage');
    const { integration, provider, credentials } = await legacyIntegration(this.integrations, this.providers, project.id, body.auth_provider);
    await this.status.refresh(integration, credentials);
    if (integration.ownedBy !== 'neon') {
      throw new ApiError(
        ErrorCode.AuthProviderProjectOwnedByUser,
        `the auth provider project ${integration.providerProjectId} already belongs to you (owned_by: user): ` +
          'only a project managed by Neon Auth (Quick Start) can be transferred',
      );
    }
    if (!provider.capabilities.ownershipTransfer) {
      throw new ApiError(ErrorCode.AuthProviderNotSupported, `auth provider ${integration.authProvider} does not support ownership transfer`);
    }
    const { url } = await callProvider(() => provider.startOwnershipTransfer(credentials));
    if (!(await this.status.markInitiated(integration.id))) {
      // Transferred (or disabled) between the read and now: the link is useless.
      throw new ApiError(ErrorCode.AuthTransferNotAllowed, `the auth provider project ${integration.providerProjectId} can no longer be transferred`);
    }
    return { url };
  }
}
