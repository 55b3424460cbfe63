import { Injectable } from '@nestjs/common';
import { ApiError, ErrorCode } from '../../common/errors.js';
import { AccessService } from '../../iam/access.service.js';
import type { Principal } from '../../iam/principal.js';
import { authorizeNeonAuthProject } from '../access.js';
import { NeonAuthIntegrationResolver } from '../integrations/integration-resolver.js';
import { callProvider } from '../provider-errors.js';
import type { NeonAuthTransferAuthProviderProjectRequestDto, NeonAuthTransferAuthProviderProjectResponseDto } from './dto/ownership.dto.js';

/**
 * Transfer of a Neon-managed provider project (`owned_by: neon`, Quick Start) to the person's own
 * provider account ("Claim project"). Org admins only. The provider issues a confirm link; the
 * integration shows `transfer_status: initiated`; once the person confirms in the provider's page,
 * the next read of the integration reports `owned_by: user`, `transfer_status: finished`
 * (NeonAuthTransferStatusService, through the integration resolver). The integration keeps its credentials, so users and sync keep
 * working after the transfer. Starting again while a link is pending issues a new link.
 */
@Injectable()
export class NeonAuthOwnershipService {
  constructor(
    private readonly integrations: NeonAuthIntegrationResolver,
    private readonly access: AccessService,
  ) {}

  async transfer(principal: Principal, body: NeonAuthTransferAuthProviderProjectRequestDto): Promise<NeonAuthTransferAuthProviderProjectResponseDto> {
    const { project } = await authorizeNeonAuthProject(this.access, principal, body.project_id, 'manage');
    const resolved = await this.integrations.findForLegacyBody(project.id, body.auth_provider);
    const { integration, provider, credentials } = resolved;
    await this.integrations.requireManagedProject(resolved, {
      capability: 'ownershipTransfer',
      ownedByUser:
        `the auth provider project ${integration.providerProjectId} already belongs to you (owned_by: user): ` +
        'only a project managed by Neon Auth (Quick Start) can be transferred',
      notSupported:
        integration.authProvider === 'better_auth'
          ? 'better_auth is hosted by Neon Auth in the branch database (its users, sessions and settings are in the neon_auth schema): there is no provider project to transfer'
          : `auth provider ${integration.authProvider} does not support ownership transfer`,
    });
    const { url } = await callProvider(() => provider.startOwnershipTransfer(credentials));
    if (!(await this.integrations.markTransferInitiated(integration.id))) {
      // Transferred (or disabled) between the read and now: the link is useless.
      throw new ApiError(ErrorCode.AuthTransferNotAllowed, `the auth provider project ${integration.providerProjectId} can no longer be transferred`);
    }
    return { url };
  }
}
