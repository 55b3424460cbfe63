import type { NeonAuthCreateIntegrationResponseDto } from '../dto/neon-auth.dto.js';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { isUniqueViolation } from '../../common/db-errors.js';
import { ApiError, ErrorCode } from '../../common/errors.js';
import { LOGGER } from '../../common/logger.js';
import { isoTime } from '../../common/pagination.js';
import { AccessService } from '../../iam/access.service.js';
import type { Principal } from '../../iam/principal.js';
import { BranchDatabasesService, type BranchDatabase } from '../../projects/branch-databases/branch-databases.service.js';
import { ProjectEntity } from '../../projects/entities/project.entity.js';
import {
  AUTH_PROVIDER_KINDS,
  iterateProviderUsers,
  ProviderDestinationRefused,
  type AuthProvider,
  type AuthProviderKind,
  type ProviderCredentials,
} from '../../providers/auth-provider.port.js';
import { mockJwksUrl } from '../../providers/mock/mock-provider.adapter.js';
import { authorizeNeonAuthProject, type ProjectAccess } from '../access.js';
import { callProvider, providerErrorToApi } from '../provider-errors.js';
import { NEON_AUTH_SCHEMA, USERS_SYNC_TABLE } from '../users-sync/users-sync.ddl.js';
import type { UsersSyncRow } from '../users-sync/users-sync.statements.js';
import { usersSyncErrorToApi } from '../users-sync/users-sync.errors.js';
import { NeonAuthUsersSyncStore } from '../users-sync/users-sync.store.js';
import type {
  EnableNeonAuthIntegrationRequestDto,
  ListNeonAuthIntegrationsResponseDto,
  NeonAuthCreateIntegrationRequestDto,
  NeonAuthIntegrationDto,
} from './dto/integration.dto.js';
import { NeonAuthIntegrationEntity } from './integration.entity.js';
import { NeonAuthIntegrationResolver, neonAuthNotEnabled } from './integration-resolver.js';
import { privateNetworkingError, privateNetworkingOf } from './private-networking.js';

/** Rows per users_sync write while copying a manually connected project's users. */
const COPY_BATCH = 500;

interface ManualSetup {
  baseUrl: string;
  projectId: string;
  secretServerKey: string;
  webhookSigningSecret?: string;
}

/** What the provider side of an enable produced (before anything is stored). */
interface ProviderSide {
  providerProjectId: string;
  credentials: ProviderCredentials;
  jwksUrl: string;
  baseUrl: string | null;
  ownedBy: 'neon' | 'user';
  webhookSecret: string | null;
  sdkKeys: { publishableClientKey: string; secretServerKey: string } | null;
}

/**
 * Neon Auth integrations: one per branch (NeonAuthIntegrationEntity), shared by the branch-scoped routes
 * (`/projects/{id}/branches/{branch_id}/auth`) and the legacy ones (`/projects/auth/create`,
 * `/projects/{id}/auth/integrations`, `/projects/{id}/auth/integration/{auth_provider}`, which use the
 * project's default branch or the body's branch).
 *
 * Enable (Quick Start): a provider project managed by the product (`owned_by: neon`), the sync webhook
 * registered at `${PUBLIC_URL}/webhooks/neon-auth/{integration id}` (signing secret stored encrypted; the sync
 * engine's receiver takes the events in), SDK keys shown once, then `neon_auth.users_sync` in the database.
 * Manual setup: an existing provider project, verified, `owned_by: user`, its users copied into users_sync.
 *
 * Atomicity: the integration row is inserted in a control-plane transaction that stays open while
 * users_sync is provisioned (and, for manual setup, filled); a concurrent enable of the same branch
 * blocks on the unique branch index and then gets 409. Any failure rolls the row back, drops the
 * `neon_auth` schema when this call created it, and deletes the provider project Quick Start created (with
 * its keys and webhook registration), so it leaves nothing behind — also for the loser of two concurrent
 * enables. Should that provider call fail, the project stays in the provider, unreachable from the API, and
 * is logged with its id.
 *
 * Disable deletes the integration row (and, with delete_data, the schema), then the provider project when it
 * is managed by the product (`owned_by: neon`, transfer not finished); a provider failure there does not fail
 * the disable (logged with the provider project id). User-owned projects (manual setup, transferred) are never deleted.
 */
@Injectable()
export class NeonAuthIntegrationsService implements BeforeApplicationShutdown {
  private restoring?: Promise<void>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly resolver: NeonAuthIntegrationResolver,
    private readonly usersSync: NeonAuthUsersSyncStore,
    private readonly branchDatabases: BranchDatabasesService,
    private readonly access: AccessService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Gives the tenant-data role its rights on every integration's users_sync (see NeonAuthUsersSyncStore.restoreGrants):
   * started in the background after each start (shutdown waits for it), so databases provisioned by an earlier
   * version (or whose grants a tenant revoked) work again. Failures are logged per integration; never throws.
   */
  restoreTenantDataGrantsInBackground(): void {
    this.restoring ??= this.restoreTenantDataGrants().finally(() => (this.restoring = undefined));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.restoring;
  }

  async restoreTenantDataGrants(): Promise<void> {
    let restored = 0;
    try {
      const integrations = await this.db.getRepository(NeonAuthIntegrationEntity).find({ order: { createdAt: 'ASC' } });
      for (const integration of integrations) {
        try {
          if (await this.usersSync.restoreGrants(await this.resolver.branchDatabaseOf(integration))) restored++;
        } catch (err) {
          this.logger.warn({ integrationId: integration.id, err }, 'neon auth: could not restore the tenant-data grants of an integration');
        }
      }
      this.logger.debug({ integrations: integrations.length, restored }, 'neon auth: tenant-data grants restored');
    } catch (err) {
      this.logger.warn({ err }, 'neon auth: could not list integrations to restore their tenant-data grants');
    }
  }

  toIntegrationDto(i: NeonAuthIntegrationEntity): NeonAuthIntegrationDto {
    const dto: NeonAuthIntegrationDto = {
      auth_provider: i.authProvider,
      auth_provider_project_id: i.providerProjectId,
      branch_id: i.branchId,
      db_name: i.databaseName,
      created_at: isoTime(i.createdAt),
      owned_by: i.ownedBy,
      jwks_url: i.jwksUrl,
    };
    if (i.transferStatus) dto.transfer_status = i.transferStatus;
    if (i.baseUrl) dto.base_url = i.baseUrl;
    if (i.name) dto.name = i.name;
    dto.webhook_url = this.resolver.webhookUrlOf(i.id);
    return dto;
  }

  /** GET …/branches/{branch_id}/auth */
  async get(ctx: ProjectAccess, branchId: string): Promise<NeonAuthIntegrationDto> {
    return this.toIntegrationDto(await this.resolver.withFreshOwnership(await this.resolver.findForBranch(ctx.project.id, branchId)));
  }

  /** GET /projects/{project_id}/auth/integrations: every branch's integration, oldest first. */
  async list(ctx: ProjectAccess): Promise<ListNeonAuthIntegrationsResponseDto> {
    const rows = await this.db.getRepository(NeonAuthIntegrationEntity).find({ where: { projectId: ctx.project.id }, order: { createdAt: 'ASC', id: 'ASC' } });
    for (const row of rows) await this.resolver.withFreshOwnership(row);
    return { data: rows.map((r) => this.toIntegrationDto(r)) };
  }

  /** POST /projects/auth/create: the body names the project (authorized here, admin only) and the branch. */
  async createLegacy(principal: Principal, body: NeonAuthCreateIntegrationRequestDto): Promise<NeonAuthCreateIntegrationResponseDto> {
    const ctx = await authorizeNeonAuthProject(this.access, principal, body.project_id, 'manage');
    return this.enable(ctx, body.branch_id, body);
  }

  /** POST …/branches/{branch_id}/auth (and the legacy create). */
  async enable(ctx: ProjectAccess, branchId: string, body: EnableNeonAuthIntegrationRequestDto): Promise<NeonAuthCreateIntegrationResponseDto> {
    const project = ctx.project;
    const provider = this.resolver.providerFor(body.auth_provider);
    const manual = manualSetupOf(body);
    const features = privateNetworkingOf(project.settings);
    if (features.length > 0) throw privateNetworkingError(features, 'enable');
    const target = await this.branchDatabases.resolve(project.id, branchId, body.database_name);
    if (await this.db.getRepository(NeonAuthIntegrationEntity).existsBy({ branchId })) throw alreadyEnabled(branchId);

    const id = randomUUID();
    const side = manual ? await this.connectExisting(provider, manual) : await this.provisionManaged(provider, project, branchId, target, id);

    /** Set once this call holds the branch (its row is inserted): whether neon_auth existed before it touched the database. */
    let schemaExisted: boolean | undefined;
    try {
      await this.db.transaction(async (tx) => {
        // FOR SHARE: PATCH /projects (FOR NO KEY UPDATE) cannot turn on Private Link / IP Allow until this commits,
        // and this sees any change it committed first.
        const locked = await tx.getRepository(ProjectEntity).findOne({ where: { id: project.id }, lock: { mode: 'pessimistic_read' } });
        if (!locked) throw ApiError.notFound(`project ${project.id}`);
        const now = privateNetworkingOf(locked.settings);
        if (now.length > 0) throw privateNetworkingError(now, 'enable');
        try {
          await tx.getRepository(NeonAuthIntegrationEntity).insert({
            id,
            projectId: project.id,
            branchId,
            databaseName: target.name,
            authProvider: provider.kind,
            providerProjectId: side.providerProjectId,
            ownedBy: side.ownedBy,
            transferStatus: null,
            ...this.resolver.sealSecrets(id, side.credentials, side.webhookSecret),
            jwksUrl: side.jwksUrl,
            baseUrl: side.baseUrl,
            name: locked.name.slice(0, 256) || null,
          });
        } catch (err) {
          // Another enable of this branch committed first (this insert waited for it on the unique index).
          if (isUniqueViolation(err)) throw alreadyEnabled(branchId);
          throw err;
        }
        schemaExisted = await this.usersSync.schemaExists(target);
        await this.usersSync.provision(target);
        if (manual) await this.copyUsers(provider, side.credentials, target);
      });
    } catch (err) {
      await this.compensate(provider, side, target, schemaExisted, err);
      throw usersSyncErrorToApi(err, target) ?? providerErrorToApi(err, { credentials: manual ? 'caller' : 'product' });
    }
    this.logger.info(
      { projectId: project.id, branchId, integrationId: id, provider: provider.kind, ownedBy: side.ownedBy, providerProjectId: side.providerProjectId },
      'neon auth enabled',
    );
    await this.resolver.notifyEnabled({ integrationId: id, projectId: project.id, branchId, manual: manual !== undefined });
    const response: NeonAuthCreateIntegrationResponseDto = {
      auth_provider: provider.kind,
      auth_provider_project_id: side.providerProjectId,
      pub_client_key: side.sdkKeys?.publishableClientKey ?? '',
      secret_server_key: side.sdkKeys?.secretServerKey ?? '',
      jwks_url: side.jwksUrl,
      schema_name: NEON_AUTH_SCHEMA,
      table_name: USERS_SYNC_TABLE,
    };
    if (side.baseUrl) response.base_url = side.baseUrl;
    if (manual) response.webhook_url = this.resolver.webhookUrlOf(id);
    return response;
  }

  /** DELETE …/branches/{branch_id}/auth */
  async disable(ctx: ProjectAccess, branchId: string, deleteData: boolean): Promise<Record<string, never>> {
    const integration = await this.resolver.findForBranch(ctx.project.id, branchId);
    await this.remove(integration, deleteData);
    return {};
  }

  /** DELETE /projects/{project_id}/auth/integration/{auth_provider}: the default branch's integration of that provider. */
  async disableLegacy(ctx: ProjectAccess, authProvider: string, deleteData: boolean): Promise<Record<string, never>> {
    if (!(AUTH_PROVIDER_KINDS as readonly string[]).includes(authProvider)) {
      throw ApiError.validation(`invalid path parameter auth_provider: must be one of ${[...AUTH_PROVIDER_KINDS].sort().join(', ')}`);
    }
    const integration = await this.resolver.findForDefaultBranch(ctx.project.id);
    if (integration.authProvider !== authProvider) {
      throw new ApiError(ErrorCode.NeonAuthNotEnabled, `Neon Auth with provider ${authProvider} is not enabled on the default branch ${integration.branchId}`);
    }
    await this.remove(integration, deleteData);
    return {};
  }

  // ---------------------------------------------------------------------------------------------------

  /** Quick Start: a managed provider project, its sync webhook, and SDK keys for the caller. */
  private async provisionManaged(
    provider: AuthProvider,
    project: ProjectEntity,
    branchId: string,
    target: BranchDatabase,
    integrationId: string,
  ): Promise<ProviderSide> {
    if (!provider.capabilities.managedProjects) {
      throw new ApiError(ErrorCode.AuthProviderNotSupported, `auth provider ${provider.kind} cannot provision managed projects: use manual setup`);
    }
    const provisioned = await callProvider(() =>
      provider.provisionManagedProject({ displayName: project.name, neonProjectId: project.id, branchId, databaseName: target.name }),
    );
    const left = (stage: string) => async (err: unknown): Promise<never> => {
      this.logger.warn(
        { provider: provider.kind, providerProjectId: provisioned.providerProjectId, projectId: project.id, branchId, stage },
        'neon auth enable failed after the provider project was created: deleting it',
      );
      await this.deleteManagedProject(provider, provisioned.credentials, 'failed enable');
      throw providerErrorToApi(err);
    };
    const webhook = await provider.registerWebhook(provisioned.credentials, this.resolver.webhookUrlOf(integrationId)).catch(left('register webhook'));
    const keys = provider.capabilities.sdkKeys ? await provider.createSdkKeys(provisioned.credentials).catch(left('create sdk keys')) : null;
    return {
      providerProjectId: provisioned.providerProjectId,
      credentials: provisioned.credentials,
      jwksUrl: provisioned.jwksUrl,
      baseUrl: provisioned.baseUrl ?? null,
      ownedBy: 'neon',
      webhookSecret: webhook.signingSecret,
      sdkKeys: keys,
    };
  }

  /** Manual setup: the caller's existing provider project, verified with the caller's secret server key. */
  private async connectExisting(provider: AuthProvider, manual: ManualSetup): Promise<ProviderSide> {
    const baseUrl = manual.baseUrl.replace(/\/+$/, '');
    const credentials: ProviderCredentials = { baseUrl, projectId: manual.projectId, secretServerKey: manual.secretServerKey };
    await callProvider(
      () =>
        provider.verifyConnection(credentials).catch((err: unknown) => {
          // The caller gets one generic 400; the operator sees why (it may name a resolved address).
          if (err instanceof ProviderDestinationRefused) {
            this.logger.warn({ provider: provider.kind, err: err.message, reason: err.reason }, 'manual setup refused: the base URL names a destination outgoing calls may not reach (see OUTBOUND_ALLOWED_HOSTS)');
          }
          throw err;
        }),
      { credentials: 'caller' },
    );
    return {
      providerProjectId: manual.projectId,
      credentials,
      jwksUrl: jwksUrlFor(provider.kind, baseUrl, manual.projectId),
      baseUrl,
      ownedBy: 'user',
      webhookSecret: manual.webhookSigningSecret ?? null,
      sdkKeys: null,
    };
  }

  /** Copies every user of the provider project into users_sync (as of the start of the copy). */
  private async copyUsers(provider: AuthProvider, credentials: ProviderCredentials, target: BranchDatabase): Promise<void> {
    const startedAt = new Date();
    let batch: UsersSyncRow[] = [];
    let copied = 0;
    for await (const user of iterateProviderUsers(provider, credentials)) {
      batch.push({ raw_json: user.raw, updated_at: startedAt });
      if (batch.length >= COPY_BATCH) {
        await this.usersSync.upsertUsers(target, batch);
        copied += batch.length;
        batch = [];
      }
    }
    if (batch.length > 0) await this.usersSync.upsertUsers(target, batch);
    copied += batch.length;
    this.logger.info({ database: target.physicalName, copied }, 'copied the provider project\'s users into neon_auth.users_sync');
  }

  /** Undoes what a failed enable did outside the rolled-back transaction (best effort; logged). */
  private async compensate(
    provider: AuthProvider,
    side: ProviderSide,
    target: BranchDatabase,
    schemaExisted: boolean | undefined,
    cause: unknown,
  ): Promise<void> {
    // Only a schema this call created is dropped (never one that held someone's objects before).
    if (schemaExisted === false && (await this.usersSync.schemaExists(target).catch(() => true))) {
      await this.usersSync.deprovision(target, { deleteData: true }).catch((err: unknown) =>
        this.logger.error({ err, database: target.physicalName }, 'could not drop the neon_auth schema a failed enable created'),
      );
    }
    // The provider project this call created (never one a person connected) goes too: nothing refers to it.
    if (side.ownedBy === 'neon') {
      this.logger.info(
        { providerProjectId: side.providerProjectId, cause: cause instanceof Error ? cause.message : String(cause) },
        'neon auth enable failed (or lost to a concurrent enable): deleting the managed provider project it created',
      );
      await this.deleteManagedProject(provider, side.credentials, 'failed enable');
    }
  }

  /** Deletes a provider project managed by the product; best effort: a failure is logged with the project id, never thrown. */
  private async deleteManagedProject(provider: AuthProvider, credentials: ProviderCredentials, reason: 'failed enable' | 'disable'): Promise<boolean> {
    try {
      await provider.deleteManagedProject(credentials);
      this.logger.info({ provider: provider.kind, providerProjectId: credentials.projectId, reason }, 'neon auth: deleted the managed provider project');
      return true;
    } catch (err) {
      this.logger.error(
        { provider: provider.kind, providerProjectId: credentials.projectId, reason, err: err instanceof Error ? err.message : String(err) },
        'neon auth: could not delete the managed provider project; it is left in the provider (nothing in the API refers to it)',
      );
      return false;
    }
  }

  /**
   * After a disable: deletes the provider project when the product still manages it. A started transfer is
   * checked with the provider first: a project its person took over (or one whose state cannot be read) is kept.
   */
  private async cleanUpProviderProject(integration: NeonAuthIntegrationEntity): Promise<string> {
    if (integration.ownedBy !== 'neon') return 'kept (owned by the user)';
    let provider: AuthProvider;
    let credentials: ProviderCredentials;
    try {
      ({ provider, credentials } = this.resolver.resolve(integration));
      if (integration.transferStatus !== null && (await provider.ownershipTransferStatus(credentials)) === 'finished') {
        return 'kept (its ownership was transferred to the user)';
      }
    } catch (err) {
      this.logger.error(
        { providerProjectId: integration.providerProjectId, integrationId: integration.id, err: err instanceof Error ? err.message : String(err) },
        'neon auth disable: could not check the managed provider project before deleting it; it is left in the provider',
      );
      return 'left in the provider (see the error above)';
    }
    return (await this.deleteManagedProject(provider, credentials, 'disable')) ? 'deleted' : 'left in the provider (see the error above)';
  }

  /** Soft-deletes every live row of users_sync (logged, never fails the disable). */
  private async markAllDeleted(target: BranchDatabase, integration: NeonAuthIntegrationEntity): Promise<void> {
    try {
      await this.usersSync.markDeleted(target, await this.usersSync.liveIds(target), new Date());
    } catch (err) {
      this.logger.error(
        { integrationId: integration.id, err: err instanceof Error ? err.message : String(err) },
        'neon auth disable: the provider project was deleted but its users could not be marked deleted in users_sync',
      );
    }
  }

  /** Deletes the integration row and, with deleteData, the neon_auth schema, in one transaction (a failed drop keeps the row). */
  private async remove(integration: NeonAuthIntegrationEntity, deleteData: boolean): Promise<void> {
    let target: BranchDatabase | undefined;
    try {
      target = await this.resolver.branchDatabaseOf(integration);
    } catch (err) {
      // The database was dropped since Neon Auth was enabled: nothing to drop there.
      if (!(err instanceof ApiError && err.code === ErrorCode.NotFound)) throw err;
    }
    await this.db.transaction(async (tx) => {
      const deleted = await tx.getRepository(NeonAuthIntegrationEntity).delete({ id: integration.id });
      if (!deleted.affected) throw neonAuthNotEnabled(`branch ${integration.branchId}`); // a concurrent disable won
      if (deleteData && target) await this.usersSync.deprovision(target, { deleteData: true });
    });
    await this.resolver.notifyDisabled(integration.id);
    // Only once the row is gone (nothing refers to the project any more); never fails the disable.
    const providerProject = await this.cleanUpProviderProject(integration);
    // The kept rows mirror the provider: once its project (and so every user in it) is gone, they are deleted
    // too, softly. Enabling again starts a new provider project; these rows stay as history, not as live users.
    if (providerProject === 'deleted' && !deleteData && target) await this.markAllDeleted(target, integration);
    this.logger.info(
      { projectId: integration.projectId, branchId: integration.branchId, integrationId: integration.id, deleteData, ownedBy: integration.ownedBy, providerProjectId: integration.providerProjectId, providerProject },
      'neon auth disabled',
    );
  }
}

function alreadyEnabled(branchId: string): ApiError {
  return new ApiError(ErrorCode.NeonAuthAlreadyEnabled, `Neon Auth is already enabled on branch ${branchId}`);
}

/** The manual-setup fields: all of base URL, project id and secret server key, or none (Quick Start). */
function manualSetupOf(body: EnableNeonAuthIntegrationRequestDto): ManualSetup | undefined {
  const fields = {
    auth_provider_base_url: body.auth_provider_base_url,
    auth_provider_project_id: body.auth_provider_project_id,
    secret_server_key: body.secret_server_key,
  };
  const given = Object.entries(fields).filter(([, v]) => v !== undefined && v !== null);
  if (given.length === 0) {
    if (body.webhook_signing_secret !== undefined && body.webhook_signing_secret !== null) {
      throw ApiError.validation('webhook_signing_secret is for manual setup only: give auth_provider_base_url, auth_provider_project_id and secret_server_key with it');
    }
    return undefined;
  }
  if (given.length < 3) {
    const missing = Object.entries(fields).filter(([, v]) => v === undefined || v === null).map(([k]) => k);
    throw ApiError.validation(`manual setup needs auth_provider_base_url, auth_provider_project_id and secret_server_key together; missing: ${missing.join(', ')}`);
  }
  // The adapter appends its API paths to the base URL: a query, a fragment or credentials in it would steer them.
  const base = new URL(body.auth_provider_base_url!);
  if (base.search || base.hash || base.username || base.password || body.auth_provider_base_url!.includes('#')) {
    throw ApiError.validation('invalid request: [auth_provider_base_url] must be a plain http(s) URL: no query, fragment or credentials');
  }
  return {
    baseUrl: body.auth_provider_base_url!,
    projectId: body.auth_provider_project_id!,
    secretServerKey: body.secret_server_key!,
    webhookSigningSecret: body.webhook_signing_secret ?? undefined,
  };
}

/** Where applications fetch a manually connected project's token keys. */
function jwksUrlFor(kind: AuthProviderKind, baseUrl: string, projectId: string): string {
  if (kind === 'mock') return mockJwksUrl(projectId);
  return `${baseUrl}/api/v1/projects/${encodeURIComponent(projectId)}/.well-known/jwks.json`;
}
