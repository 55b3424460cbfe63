import { Injectable } from '@nestjs/common';
import { ClusterCache, ClusterEvents } from '../common/cluster-events.js';
import { NEON_AUTH_INTEGRATION_TOPIC, NeonAuthIntegrationResolver } from '../neon-auth/integrations/integration-resolver.js';
import type { NeonAuthIntegrationEntity } from '../neon-auth/integrations/integration.entity.js';
import type { BranchDatabase } from '../projects/branch-databases/branch-databases.service.js';
import { SvixVerifier } from './svix-verifier.js';

/**
 * The fallback limit on how long the engine trusts what it read about an integration (that it exists, its webhook
 * secret, its branch database). A change to the integration's row (a disable, an enable, new secrets; cascades from
 * a deleted project or branch too) reaches every replica's cache through ClusterEvents before the API that made it
 * answers; this limit only bounds a replica that did not confirm in time (logged by the writer).
 */
export const INTEGRATION_TTL_MS = 5_000;
const MAX_CACHED = 10_000;

/** What the receiver and the applier need of one integration. */
export interface SyncIntegration {
  /** Verifies its deliveries; null when it receives no signed webhooks. */
  verifier: SvixVerifier | null;
  /** Its branch database (resolved on first use, then kept with the entry). */
  target(): Promise<BranchDatabase>;
}

/**
 * The sync engine's view of integrations, shared by the receiver (every delivery) and the applier (every
 * batch), cached (ClusterCache on NEON_AUTH_INTEGRATION_TOPIC) instead of read from the control-plane database
 * each time. Unknown ids are not remembered: a junk id must not push out the cache, nor hide an integration enabled next.
 */
@Injectable()
export class SyncIntegrations {
  private readonly cache: ClusterCache<SyncIntegration>;

  constructor(
    private readonly integrations: NeonAuthIntegrationResolver,
    events: ClusterEvents,
  ) {
    this.cache = new ClusterCache(events, NEON_AUTH_INTEGRATION_TOPIC, { ttlMs: INTEGRATION_TTL_MS, maxEntries: MAX_CACHED });
    integrations.onDisabled((id) => this.forget(id));
  }

  /** The integration, or undefined when it does not exist (any more). */
  get(integrationId: string): Promise<SyncIntegration | undefined> {
    return this.cache.get(integrationId, async () => {
      const integration = await this.integrations.findById(integrationId);
      return integration ? this.toSyncIntegration(integration) : undefined;
    });
  }

  /** Read again next time (a disable; a failed write, whose database may have moved). */
  forget(integrationId: string): void {
    this.cache.forget(integrationId);
  }

  private toSyncIntegration(integration: NeonAuthIntegrationEntity): SyncIntegration {
    const secret = this.integrations.webhookSecretOf(integration);
    let resolved: Promise<BranchDatabase> | undefined;
    return {
      verifier: secret ? new SvixVerifier(secret) : null,
      target: () =>
        (resolved ??= this.integrations.branchDatabaseOf(integration).catch((err: unknown) => {
          resolved = undefined;
          throw err;
        })),
    };
  }
}
