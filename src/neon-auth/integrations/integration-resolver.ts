import { BetterAuthServers, type BranchAuthTenant } from '../../better-auth/better-auth-servers.js';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import { ClusterEvents } from '../../common/cluster-events.js';
import { ApiError, ErrorCode } from '../../common/errors.js';
import { LOGGER } from '../../common/logger.js';
import { SecretsService } from '../../common/secrets.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { BranchDatabasesService, type BranchDatabase } from '../../projects/branch-databases/branch-databases.service.js';
import { BranchEntity } from '../../projects/entities/branch.entity.js';
import { parseCredentials, serializeCredentials, type AuthProvider, type ProviderCapabilities, type ProviderCredentials } from '../../providers/auth-provider.port.js';
import { AuthProviderRegistry } from '../../providers/providers.module.js';
import { providerErrorToApi } from '../provider-errors.js';
import { NeonAuthIntegrationEntity } from './integration.entity.js';
import { NeonAuthTransferStatusService } from './transfer-status.service.js';

/**
 * The cluster-event topic of integrations: the trigger on `neon_auth_integrations` (migration
 * IntegrationChangeEvents) announces every insert, update and delete with the integration id as key, in the
 * writing transaction. Caches of integrations (ClusterCache) subscribe to it.
 */
export const NEON_AUTH_INTEGRATION_TOPIC = 'neon_auth_integration';

/** What an enable listener learns: the new integration and whether it connected an existing provider project. */
export interface IntegrationEnabled {
  integrationId: string;
  projectId: string;
  branchId: string;
  /** Manual setup: an existing provider project (whose users may change while it is being connected). */
  manual: boolean;
}

/** Called after an enable committed; not awaited, and its failures never fail the enable (they are logged). */
export type IntegrationEnabledListener = (event: IntegrationEnabled) => void | Promise<void>;

/** An integration with its provider adapter and decrypted credentials: what a provider call needs. */
export interface ResolvedIntegration {
  integration: NeonAuthIntegrationEntity;
  provider: AuthProvider;
  credentials: ProviderCredentials;
}

/** The precondition of an operation on a provider project the product manages (SDK keys, ownership transfer). */
export interface ManagedProjectRequirement {
  /** The provider capability the operation needs. */
  capability: keyof Pick<ProviderCapabilities, 'sdkKeys' | 'ownershipTransfer'>;
  /** The 409 message when the project belongs to the person (owned_by: user). */
  ownedByUser: string;
  /** The 400 message when the provider cannot do it. */
  notSupported: string;
}

/**
 * How the rest of the product finds a Neon Auth integration and what hangs off it: the one thing users,
 * SDK keys, ownership and the sync engine import from src/neon-auth/integrations (with the entity it hands
 * out). NeonAuthIntegrationsService keeps the endpoints; this keeps the shared lookups:
 *
 * - find by id, for a branch, for the default branch, for a legacy body (`project_id` + `auth_provider`);
 * - decrypted credentials and webhook secret (encrypted bound to the integration id: a copied ciphertext fails);
 * - the provider adapter (`providerOf`, with the one provider-error mapping) and the branch database;
 * - the ownership state, brought up to date with the provider on read, and the managed-project precondition;
 * - enable / disable listeners, so modules that build on integrations react without integrations importing them;
 *   and, before an enable or a disable answers, the wait until every replica has dropped what it cached of the
 *   integration (ClusterEvents.settle; the change itself is announced by the table's trigger).
 */
@Injectable()
export class NeonAuthIntegrationResolver {
  private readonly enabledListeners: IntegrationEnabledListener[] = [];
  private readonly disabledListeners: ((integrationId: string) => void)[] = [];

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly secrets: SecretsService,
    private readonly registry: AuthProviderRegistry,
    private readonly branchDatabases: BranchDatabasesService,
    private readonly transferStatus: NeonAuthTransferStatusService,
    private readonly cluster: ClusterEvents,
    betterAuthServers: BetterAuthServers,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    // The hosted Better Auth servers find their branch databases through the integrations.
    betterAuthServers.useDirectory({ topic: NEON_AUTH_INTEGRATION_TOPIC, byBranch: (branchId, databaseName) => this.betterAuthTenant(branchId, databaseName) });
  }

  /** The better_auth integration serving this branch database, as its hosted server needs it; undefined when none. */
  private async betterAuthTenant(branchId: string, databaseName: string): Promise<BranchAuthTenant | undefined> {
    const integration = await this.db.getRepository(NeonAuthIntegrationEntity).findOneBy({ branchId, databaseName, authProvider: 'better_auth' });
    if (!integration) return undefined;
    const credentials = this.credentialsOf(integration);
    let target: BranchDatabase;
    try {
      target = await this.branchDatabaseOf(integration);
    } catch (err) {
      if (err instanceof ApiError && err.code === ErrorCode.NotFound) return undefined;
      throw err;
    }
    return {
      integrationId: integration.id,
      projectId: integration.projectId,
      branchId,
      databaseName,
      physicalName: target.physicalName,
      ownerRole: target.ownerRole,
      configId: integration.providerProjectId,
      baseUrl: credentials.baseUrl,
      secret: credentials.secretServerKey ?? '',
    };
  }

  // ---- listeners ----

  /**
   * Registers `listener` to run after every successful enable (e.g. the sync engine's reconcile of a manually
   * connected project): lets modules that depend on integrations react without integrations depending on them.
   */
  onEnabled(listener: IntegrationEnabledListener): void {
    this.enabledListeners.push(listener);
  }

  /** `listener(integrationId)` runs right after a disable committed (in this process); other processes hear of it through NEON_AUTH_INTEGRATION_TOPIC. */
  onDisabled(listener: (integrationId: string) => void): void {
    this.disabledListeners.push(listener);
  }

  /**
   * After an enable committed: tells the enable listeners (not awaited; a failure is logged), then waits until every
   * replica has taken the change (so none still holds what it cached of the id; bounded; never throws).
   */
  async notifyEnabled(event: IntegrationEnabled): Promise<void> {
    for (const listener of this.enabledListeners) {
      Promise.resolve()
        .then(() => listener(event))
        .catch((err: unknown) => this.logger.warn({ err, integrationId: event.integrationId }, 'neon auth: an enable listener failed'));
    }
    await this.cluster.settle();
  }

  /**
   * After a disable committed: tells the disable listeners (synchronously; a failure is logged), then waits until
   * every replica has dropped what it cached of the integration, so none takes its webhooks in any more once the
   * disable answers (bounded by INVALIDATION_ACK_TIMEOUT_MS; never throws).
   */
  async notifyDisabled(integrationId: string): Promise<void> {
    for (const listener of this.disabledListeners) {
      try {
        listener(integrationId);
      } catch (err) {
        this.logger.warn({ err, integrationId }, 'neon auth: a disable listener failed');
      }
    }
    await this.cluster.settle();
  }

  // ---- lookups ----

  /** The integration with this id, or null when it does not exist (any more). */
  findById(integrationId: string): Promise<NeonAuthIntegrationEntity | null> {
    return this.db.getRepository(NeonAuthIntegrationEntity).findOneBy({ id: integrationId });
  }

  /** The branch's integration, or 404 NEON_AUTH_NOT_ENABLED ("Neon Auth is not enabled …"). */
  async findForBranch(projectId: string, branchId: string, manager: EntityManager = this.db.manager): Promise<NeonAuthIntegrationEntity> {
    const integration = await manager.getRepository(NeonAuthIntegrationEntity).findOneBy({ projectId, branchId });
    if (integration) return integration;
    const branch = await manager.getRepository(BranchEntity).findOneBy({ id: branchId, projectId });
    if (!branch) throw ApiError.notFound(`branch ${branchId}`);
    throw neonAuthNotEnabled(`branch ${branchId}`);
  }

  /** The integration of the project's default branch, or 404 NEON_AUTH_NOT_ENABLED. */
  async findForDefaultBranch(projectId: string, manager: EntityManager = this.db.manager): Promise<NeonAuthIntegrationEntity> {
    const branch = await manager.getRepository(BranchEntity).findOneBy({ projectId, isDefault: true });
    if (!branch) throw ApiError.notFound(`default branch of project ${projectId}`);
    const integration = await manager.getRepository(NeonAuthIntegrationEntity).findOneBy({ projectId, branchId: branch.id });
    if (!integration) throw neonAuthNotEnabled(`the default branch ${branch.id}`);
    return integration;
  }

  /**
   * The integration a legacy body (`project_id` + `auth_provider`) names: the project's default branch's,
   * which must use that provider. A kind without an adapter (`better_auth`) -> 400; no integration, or one of
   * another provider -> 404 NEON_AUTH_NOT_ENABLED.
   */
  async findForLegacyBody(projectId: string, authProvider: string): Promise<ResolvedIntegration> {
    const provider = this.providerFor(authProvider);
    const integration = await this.findForDefaultBranch(projectId);
    if (integration.authProvider !== authProvider) {
      throw new ApiError(
        ErrorCode.NeonAuthNotEnabled,
        `Neon Auth with auth_provider ${authProvider} is not enabled on the default branch of project ${projectId} (it uses ${integration.authProvider})`,
      );
    }
    return { integration, provider, credentials: this.credentialsOf(integration) };
  }

  /** The integration with its provider and credentials (400 for a provider kind without an adapter). */
  resolve(integration: NeonAuthIntegrationEntity): ResolvedIntegration {
    return { integration, provider: this.providerOf(integration), credentials: this.credentialsOf(integration) };
  }

  // ---- what hangs off an integration ----

  /** The adapter of the integration's provider (400 for a kind without one). */
  providerOf(integration: NeonAuthIntegrationEntity): AuthProvider {
    return this.providerFor(integration.authProvider);
  }

  /** The adapter of a provider kind, with the provider-error mapping (400 AUTH_PROVIDER_NOT_SUPPORTED). */
  providerFor(kind: string): AuthProvider {
    try {
      return this.registry.get(kind);
    } catch (err) {
      throw providerErrorToApi(err);
    }
  }

  /** The stored provider credentials, decrypted (bound to the integration id: a copied ciphertext fails). */
  credentialsOf(integration: NeonAuthIntegrationEntity): ProviderCredentials {
    return parseCredentials(this.secrets.decrypt(integration.credentialsEncrypted, credentialsContext(integration.id)));
  }

  /** The signing secret of the provider's webhooks to this integration, decrypted; null when none is stored. */
  webhookSecretOf(integration: NeonAuthIntegrationEntity): string | null {
    return integration.webhookSecretEncrypted === null ? null : this.secrets.decrypt(integration.webhookSecretEncrypted, webhookSecretContext(integration.id));
  }

  /** The columns that store a new integration's secrets, encrypted for the integration `integrationId`. */
  sealSecrets(
    integrationId: string,
    credentials: ProviderCredentials,
    webhookSecret: string | null,
  ): Pick<NeonAuthIntegrationEntity, 'credentialsEncrypted' | 'webhookSecretEncrypted'> {
    return {
      credentialsEncrypted: this.secrets.encrypt(serializeCredentials(credentials), credentialsContext(integrationId)),
      webhookSecretEncrypted: webhookSecret === null ? null : this.secrets.encrypt(webhookSecret, webhookSecretContext(integrationId)),
    };
  }

  /** The branch database holding the integration's users_sync (404 if it was dropped since). */
  branchDatabaseOf(integration: NeonAuthIntegrationEntity): Promise<BranchDatabase> {
    return this.branchDatabases.resolve(integration.projectId, integration.branchId, integration.databaseName);
  }

  /** Where the provider delivers the integration's user webhooks (the sync engine's receiver). */
  webhookUrlOf(integrationId: string): string {
    return `${this.config.publicUrl}/webhooks/neon-auth/${integrationId}`;
  }

  // ---- ownership ----

  /** The integration with a started ownership transfer checked with the provider (NeonAuthTransferStatusService). */
  async withFreshOwnership(integration: NeonAuthIntegrationEntity): Promise<NeonAuthIntegrationEntity> {
    if (!this.transferStatus.needsRefresh(integration)) return integration;
    return this.transferStatus.refresh(integration, this.credentialsOf(integration));
  }

  /**
   * For operations only a provider project the product manages allows (SDK keys, ownership transfer): brings the
   * ownership state up to date, then refuses one that belongs to the person (409 AUTH_PROVIDER_PROJECT_OWNED_BY_USER)
   * or a provider without the capability (400 AUTH_PROVIDER_NOT_SUPPORTED).
   */
  async requireManagedProject(resolved: ResolvedIntegration, requirement: ManagedProjectRequirement): Promise<void> {
    await this.transferStatus.refresh(resolved.integration, resolved.credentials);
    if (resolved.integration.ownedBy !== 'neon') throw new ApiError(ErrorCode.AuthProviderProjectOwnedByUser, requirement.ownedByUser);
    if (!resolved.provider.capabilities[requirement.capability]) throw new ApiError(ErrorCode.AuthProviderNotSupported, requirement.notSupported);
  }

  /** Records that a transfer link was issued (only while the product still owns the provider project). */
  markTransferInitiated(integrationId: string): Promise<boolean> {
    return this.transferStatus.markInitiated(integrationId);
  }
}

/** 404 NEON_AUTH_NOT_ENABLED: "Neon Auth is not enabled on <where>". */
export function neonAuthNotEnabled(where: string): ApiError {
  return new ApiError(ErrorCode.NeonAuthNotEnabled, `Neon Auth is not enabled on ${where}`);
}

function credentialsContext(integrationId: string): string {
  return `neon_auth_integrations.credentials:${integrationId}`;
}

function webhookSecretContext(integrationId: string): string {
  return `neon_auth_integrations.webhook_secret:${integrationId}`;
}
