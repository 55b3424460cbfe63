import { Injectable } from '@nestjs/common';
import { NeonAuthIntegrationResolver } from '../neon-auth/integrations/integration-resolver.js';
import type { NeonAuthIntegrationEntity } from '../neon-auth/integrations/integration.entity.js';
import type { BranchDatabase } from '../projects/branch-databases/branch-databases.service.js';
import { SvixVerifier } from './svix-verifier.js';

/**
 * How long the engine trusts what it read about an integration (that it exists, its webhook secret, its
 * branch database) without reading it again. A disable made through this process drops it at once; on
 * other replicas, for this long after a disable, deliveries may still be accepted and applied to the
 * branch database instead of being refused and marked skipped.
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

interface Entry {
  value: SyncIntegration | undefined;
  expiresAt: number;
}

/**
 * The sync engine's view of integrations, shared by the receiver (every delivery) and the applier (every
 * batch), cached for INTEGRATION_TTL_MS instead of read from the control-plane database each time.
 */
@Injectable()
export class SyncIntegrations {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly integrations: NeonAuthIntegrationResolver) {
    integrations.onDisabled((id) => this.forget(id));
  }

  /** The integration, or undefined when it does not exist (any more). */
  async get(integrationId: string): Promise<SyncIntegration | undefined> {
    const now = Date.now();
    const cached = this.entries.get(integrationId);
    if (cached && cached.expiresAt > now) return cached.value;
    const integration = await this.integrations.findById(integrationId);
    const value = integration ? this.toSyncIntegration(integration) : undefined;
    if (this.entries.size >= MAX_CACHED) this.entries.clear();
    // Unknown ids are not remembered: a junk id must not push out the cache, nor hide an integration enabled next.
    if (value) this.entries.set(integrationId, { value, expiresAt: now + INTEGRATION_TTL_MS });
    else this.entries.delete(integrationId);
    return value;
  }

  /** Read again next time (a disable; a failed write, whose database may have moved). */
  forget(integrationId: string): void {
    this.entries.delete(integrationId);
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
