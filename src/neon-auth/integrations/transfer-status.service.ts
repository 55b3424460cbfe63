import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../../common/logger.js';
import type { ProviderCredentials } from '../../providers/auth-provider.port.js';
import { AuthProviderRegistry } from '../../providers/providers.module.js';
import { NeonAuthIntegrationEntity } from './integration.entity.js';

/**
 * Brings an integration's ownership state up to date with the provider, lazily: only an integration
 * whose transfer was started (`owned_by: neon`, `transfer_status: initiated`) asks the provider, and
 * only when the integration is read (GET …/auth, the legacy list, SDK keys, a new transfer). The
 * provider has no callback for "the person confirmed", so reading is when we learn it; an integration
 * nobody reads stays `initiated` in our table, which nobody can observe.
 *
 * When the provider says `finished`, the row becomes `owned_by: user`, `transfer_status: finished`
 * (a conditional UPDATE, so concurrent readers and replicas agree). Any provider failure leaves the
 * row as it is and is logged: a read never fails because the provider is slow or down.
 *
 * Deliberately independent of NeonAuthIntegrationsService (it takes the credentials), so the integrations read
 * path can use it without a dependency cycle.
 */
@Injectable()
export class NeonAuthTransferStatusService {
  constructor(
    private readonly providers: AuthProviderRegistry,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Whether a read of `integration` must ask the provider. */
  needsRefresh(integration: Pick<NeonAuthIntegrationEntity, 'ownedBy' | 'transferStatus'>): boolean {
    return integration.ownedBy === 'neon' && integration.transferStatus === 'initiated';
  }

  /** The integration with its ownership state as the provider sees it now (the same object, updated in place when it changed). */
  async refresh(integration: NeonAuthIntegrationEntity, credentials: ProviderCredentials): Promise<NeonAuthIntegrationEntity> {
    if (!this.needsRefresh(integration)) return integration;
    let status: string;
    try {
      status = await this.providers.get(integration.authProvider).ownershipTransferStatus(credentials);
    } catch (err) {
      this.logger.warn(
        { err: err instanceof Error ? err.message : String(err), integration: integration.id },
        'neon auth: could not read the ownership transfer status from the auth provider; the integration still shows initiated',
      );
      return integration;
    }
    if (status !== 'finished') return integration;
    await this.markFinished(integration.id);
    integration.ownedBy = 'user';
    integration.transferStatus = 'finished';
    return integration;
  }

  /** Records the finished transfer (only from `initiated`: a row already finished, or re-enabled meanwhile, is left alone). */
  async markFinished(integrationId: string): Promise<boolean> {
    const result = await this.db
      .createQueryBuilder()
      .update(NeonAuthIntegrationEntity)
      .set({ ownedBy: 'user', transferStatus: 'finished' })
      .where('id = :id AND owned_by = :neon AND transfer_status = :initiated', { id: integrationId, neon: 'neon', initiated: 'initiated' })
      .execute();
    if ((result.affected ?? 0) > 0) {
      this.logger.info({ integration: integrationId }, 'neon auth: ownership of the provider project was transferred (owned_by: user)');
      return true;
    }
    return false;
  }

  /** Records that a transfer link was issued (only while the product still owns the provider project). */
  async markInitiated(integrationId: string): Promise<boolean> {
    const result = await this.db
      .createQueryBuilder()
      .update(NeonAuthIntegrationEntity)
      .set({ transferStatus: 'initiated' })
      .where('id = :id AND owned_by = :neon', { id: integrationId, neon: 'neon' })
      .execute();
    return (result.affected ?? 0) > 0;
  }
}
