import type { NeonAuthCreateIntegrationResponseDto } from '../dto/neon-auth.dto.js';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource, In, type EntityManager } from 'typeorm';
import { CrashPoints } from '../../common/crash-points.js';
import { databaseNow } from '../../common/db-clock.js';
import { isUniqueViolation } from '../../common/db-errors.js';
import { ApiError, ErrorCode } from '../../common/errors.js';
import { LOGGER } from '../../common/logger.js';
import { isoTime } from '../../common/pagination.js';
import { AccessService } from '../../iam/access.service.js';
import type { Principal } from '../../iam/principal.js';
import { BranchDatabasesService, type BranchDatabase } from '../../projects/branch-databases/branch-databases.service.js';
import { ProjectEntity } from '../../projects/entities/project.entity.js';
import { DeletionHooks } from '../../projects/deletion-hooks.js';
import { lockBranchForOperation } from '../../projects/operations/operation-locks.js';
import { OperationRolledBack, OperationsService, type RunningOperation } from '../../projects/operations/operations.service.js';
import {
  AUTH_PROVIDER_KINDS,
  iterateProviderUsers,
  ProviderAuthFailed,
  ProviderDestinationRefused,
  ProviderRequestRejected,
  type AuthProvider,
  type AuthProviderKind,
  type ProviderCredentials,
  type ProvisionRequest,
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
import { NeonAuthDetachedProjectEntity, NeonAuthForeignUserEntity } from './detached-project.entity.js';
import { NeonAuthIntegrationEntity, type NeonAuthProviderKind } from './integration.entity.js';
import { NeonAuthIntegrationResolver } from './integration-resolver.js';
import { privateNetworkingError, privateNetworkingOf } from './private-networking.js';

/** Rows per users_sync write while copying a manually connected project's users. */
const COPY_BATCH = 500;

interface ManualSetup {
  baseUrl: string;
  projectId: string;
  secretServerKey: string;
  webhookSigningSecret?: string;
}

export const ENABLE_KIND = 'neon_auth.enable';
export const DISABLE_KIND = 'neon_auth.disable';

/** The provider side of an enable as its operation records it (secrets sealed for the integration id). */
interface SealedSide {
  providerProjectId: string;
  ownedBy: 'neon' | 'user';
  /** A reattached project's started ownership transfer. */
  transferStatus?: 'initiated' | 'finished' | null;
  credentialsEncrypted: string;
  webhookSecretEncrypted: string | null;
  jwksUrl: string;
  baseUrl: string | null;
}

/** The plan of a neon_auth.enable operation. */
interface EnablePlan {
  integrationId: string;
  projectId: string;
  branchId: string;
  databaseName: string;
  authProvider: NeonAuthProviderKind;
  name: string | null;
  /** The branch's kept provider project (integration id = its old one) is to be reattached. */
  reattach: boolean;
  /** Manual setup: the caller's provider project, its secret server key and webhook secret sealed. */
  manual: { baseUrl: string; projectId: string; credentialsEncrypted: string; webhookSecretEncrypted: string | null } | null;
  /** Reattach: when the kept project was detached (rows written later came from other provider projects). */
  keptSince?: string;
  /** Set just before the provider is asked for a project (keyed by the operation id). */
  provisionStarted?: boolean;
  /** Recorded as soon as the provider project exists (so an undo can delete it). */
  sealed?: SealedSide;
  /** Whether the schema neon_auth existed before this operation touched the database. */
  schemaExisted?: boolean;
}

/** What a disable (or a deleted branch) must clean up of an integration. */
interface IntegrationSnapshot {
  integrationId: string;
  projectId: string;
  branchId: string;
  databaseName: string;
  authProvider: NeonAuthProviderKind;
  providerProjectId: string;
  ownedBy: 'neon' | 'user';
  transferStatus: 'initiated' | 'finished' | null;
  credentialsEncrypted: string;
}

/** The plan of a neon_auth.disable operation. */
interface DisablePlan extends IntegrationSnapshot {
  dropSchema: boolean;
  deleteProviderProject: boolean;
}

/** What an enable's work hands back to the request (the SDK keys are shown once and never stored). */
interface EnableResult {
  /** The integration's id (the kept one's when reattached; a fresh one when a kept project could not be). */
  integrationId: string;
  providerProjectId: string;
  ownedBy: 'neon' | 'user';
  jwksUrl: string;
  baseUrl: string | null;
  sdkKeys: { publishableClientKey: string; secretServerKey: string } | null;
  reattached: boolean;
}

function snapshotOf(
  i: Pick<NeonAuthIntegrationEntity, 'id' | 'projectId' | 'branchId' | 'databaseName' | 'authProvider' | 'providerProjectId' | 'ownedBy' | 'transferStatus' | 'credentialsEncrypted'>,
): IntegrationSnapshot {
  return {
    integrationId: i.id,
    projectId: i.projectId,
    branchId: i.branchId,
    databaseName: i.databaseName,
    authProvider: i.authProvider,
    providerProjectId: i.providerProjectId,
    ownedBy: i.ownedBy,
    transferStatus: i.transferStatus,
    credentialsEncrypted: i.credentialsEncrypted,
  };
}

/** The snapshot of a kept provider project (always one the product manages). */
function keptSnapshotOf(d: NeonAuthDetachedProjectEntity): IntegrationSnapshot {
  return snapshotOf({ ...d, id: d.integrationId, ownedBy: 'neon' });
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
 * Durability: enable and disable are operations (OperationsService, kinds neon_auth.enable / neon_auth.disable),
 * recorded with the branch row locked before anything is made; a second one on the branch meanwhile gets 423. An
 * enable records each thing it makes in its plan the moment it exists (the provider project, found again by its
 * idempotency key should the process die before that), and inserts the integration row last, in the transaction
 * that finishes the operation. A failed or interrupted enable is undone: the provider project it made is deleted, a
 * `neon_auth` schema it created dropped. A disable deletes the row at once (the sync engine refuses the integration's
 * events from then on), then goes forward until done: with delete_data, the schema is dropped and a provider project
 * the product manages deleted (unless its transfer finished); without, that project is kept
 * (NeonAuthDetachedProjectEntity) and the next Quick Start enable of the branch and database reattaches it.
 * User-owned projects (manual setup, transferred) are never deleted.
 */
@Injectable()
export class NeonAuthIntegrationsService implements BeforeApplicationShutdown, OnModuleInit {
  private restoring?: Promise<void>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly resolver: NeonAuthIntegrationResolver,
    private readonly usersSync: NeonAuthUsersSyncStore,
    private readonly branchDatabases: BranchDatabasesService,
    private readonly access: AccessService,
    private readonly operations: OperationsService,
    private readonly branchHooks: DeletionHooks,
    private readonly crash: CrashPoints,
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
    // Providers that deliver user events get a webhook URL; Better Auth writes users_sync itself.
    if (this.resolver.providerFor(i.authProvider).capabilities.webhooks !== 'none') dto.webhook_url = this.resolver.webhookUrlOf(i.id);
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

  /**
   * POST …/branches/{branch_id}/auth (and the legacy create): a durable operation (neon_auth.enable) recorded before
   * anything is made; a branch whose managed provider project was kept by a disable without delete_data gets it back.
   */
  async enable(ctx: ProjectAccess, branchId: string, body: EnableNeonAuthIntegrationRequestDto): Promise<NeonAuthCreateIntegrationResponseDto> {
    const project = ctx.project;
    const provider = this.resolver.providerFor(body.auth_provider);
    const manual = manualSetupOf(body);
    const features = privateNetworkingOf(project.settings);
    if (features.length > 0) throw privateNetworkingError(features, 'enable');
    const target = await this.branchDatabases.resolve(project.id, branchId, body.database_name);
    if (await this.db.getRepository(NeonAuthIntegrationEntity).existsBy({ branchId })) throw alreadyEnabled(branchId);
    if (manual && provider.capabilities.writesUsersSync) {
      throw ApiError.validation(`${provider.kind} is hosted by Neon Auth in the branch database: omit auth_provider_base_url, auth_provider_project_id and secret_server_key`);
    }
    if (!manual && !provider.capabilities.managedProjects) {
      throw new ApiError(ErrorCode.AuthProviderNotSupported, `auth provider ${provider.kind} cannot provision managed projects: use manual setup`);
    }

    let performed;
    try {
      performed = await this.operations.perform(async (tx, record) => {
        // The project FOR SHARE (PATCH /projects cannot turn on Private Link / IP Allow until this commits), then the
        // branch FOR UPDATE (operations on it record one at a time and see each other's: 423).
        await lockBranchForOperation(this.operations, tx, project.id, branchId, { project: 'share', branch: 'update' });
        const locked = await tx.getRepository(ProjectEntity).findOneByOrFail({ id: project.id });
        const now = privateNetworkingOf(locked.settings);
        if (now.length > 0) throw privateNetworkingError(now, 'enable');
        if (await tx.getRepository(NeonAuthIntegrationEntity).existsBy({ branchId })) throw alreadyEnabled(branchId);
        const kept = manual
          ? null
          : await tx.getRepository(NeonAuthDetachedProjectEntity).findOne({
              where: { branchId, databaseName: target.name, authProvider: provider.kind },
              order: { detachedAt: 'DESC' },
            });
        const integrationId = kept?.integrationId ?? randomUUID();
        const plan: EnablePlan = {
          integrationId,
          projectId: project.id,
          branchId,
          databaseName: target.name,
          authProvider: provider.kind,
          name: locked.name.slice(0, 256) || null,
          reattach: kept !== null,
          manual: manual
            ? { baseUrl: manual.baseUrl, projectId: manual.projectId, ...this.resolver.sealSecrets(integrationId, { baseUrl: manual.baseUrl, projectId: manual.projectId, secretServerKey: manual.secretServerKey }, manual.webhookSigningSecret ?? null) }
            : null,
        };
        await record.work<EnablePlan>(ENABLE_KIND, { action: 'apply_config', projectId: project.id, branchId }, plan);
        return plan;
      });
    } catch (err) {
      const cause = err instanceof OperationRolledBack ? err.cause : err;
      throw usersSyncErrorToApi(cause, target) ?? providerErrorToApi(cause, { credentials: manual ? 'caller' : 'product' });
    }
    const side = performed.result as EnableResult | undefined;
    if (!side) throw new Error(`neon auth enable on ${branchId}: the operation did not finish`);
    const plan = { integrationId: side.integrationId };
    this.logger.info(
      { projectId: project.id, branchId, integrationId: plan.integrationId, provider: provider.kind, ownedBy: side.ownedBy, providerProjectId: side.providerProjectId, reattached: side.reattached },
      side.reattached ? 'neon auth enabled again: the provider project kept by the last disable is reattached' : 'neon auth enabled',
    );
    await this.resolver.notifyEnabled({ integrationId: plan.integrationId, projectId: project.id, branchId, manual: manual !== undefined || side.reattached });
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
    if (manual) response.webhook_url = this.resolver.webhookUrlOf(plan.integrationId);
    return response;
  }

  /** DELETE …/branches/{branch_id}/auth */
  async disable(ctx: ProjectAccess, branchId: string, deleteData: boolean): Promise<Record<string, never>> {
    await this.remove(ctx.project.id, branchId, deleteData, (tx) => this.resolver.findForBranch(ctx.project.id, branchId, tx));
    return {};
  }

  /** DELETE /projects/{project_id}/auth/integration/{auth_provider}: the default branch's integration of that provider. */
  async disableLegacy(ctx: ProjectAccess, authProvider: string, deleteData: boolean): Promise<Record<string, never>> {
    if (!(AUTH_PROVIDER_KINDS as readonly string[]).includes(authProvider)) {
      throw ApiError.validation(`invalid path parameter auth_provider: must be one of ${[...AUTH_PROVIDER_KINDS].sort().join(', ')}`);
    }
    const current = await this.resolver.findForDefaultBranch(ctx.project.id);
    await this.remove(ctx.project.id, current.branchId, deleteData, async (tx) => {
      const integration = await this.resolver.findForDefaultBranch(ctx.project.id, tx);
      if (integration.authProvider !== authProvider) {
        throw new ApiError(ErrorCode.NeonAuthNotEnabled, `Neon Auth with provider ${authProvider} is not enabled on the default branch ${integration.branchId}`);
      }
      return integration;
    });
    return {};
  }

  /**
   * Disable as a durable operation (neon_auth.disable): the integration row goes (the sync engine refuses its
   * events from then on) in the transaction that records the operation; then, with delete_data, the neon_auth
   * schema is dropped and a provider project the product manages is deleted. Without delete_data, that provider
   * project is kept for a later enable of the branch (NeonAuthDetachedProjectEntity), as users_sync is kept.
   */
  private async remove(
    projectId: string,
    branchId: string,
    deleteData: boolean,
    find: (tx: EntityManager) => Promise<NeonAuthIntegrationEntity>,
  ): Promise<void> {
    // A started transfer is read back from the provider first: a project its person took over is never kept or deleted.
    await this.resolver.withFreshOwnership(await find(this.db.manager)).catch((err: unknown) =>
      this.logger.warn({ err, projectId, branchId }, 'neon auth disable: could not read the ownership transfer back from the provider; going by the stored state'),
    );
    const { value: integration } = await this.operations.perform(async (tx, record) => {
      await lockBranchForOperation(this.operations, tx, projectId, branchId, { branch: 'update' });
      const integration = await find(tx);
      // The legacy route found the default branch before this lock: it must still be the branch locked.
      if (integration.branchId !== branchId) throw new ApiError(ErrorCode.Locked, `the default branch of project ${projectId} changed meanwhile; retry`);
      await tx.getRepository(NeonAuthIntegrationEntity).delete({ id: integration.id });
      const keep = !deleteData && integration.ownedBy === 'neon';
      if (keep) {
        await tx.getRepository(NeonAuthDetachedProjectEntity).insert({
          integrationId: integration.id,
          projectId,
          branchId,
          databaseName: integration.databaseName,
          authProvider: integration.authProvider,
          providerProjectId: integration.providerProjectId,
          transferStatus: integration.transferStatus,
          credentialsEncrypted: integration.credentialsEncrypted,
          webhookSecretEncrypted: integration.webhookSecretEncrypted,
          jwksUrl: integration.jwksUrl,
          baseUrl: integration.baseUrl,
          name: integration.name,
        });
      } else {
        await tx.getRepository(NeonAuthForeignUserEntity).delete({ integrationId: integration.id });
      }
      await record.work<DisablePlan>(DISABLE_KIND, { action: 'apply_config', projectId, branchId }, {
        ...snapshotOf(integration),
        dropSchema: deleteData,
        deleteProviderProject: deleteData && integration.ownedBy === 'neon',
      });
      return integration;
    });
    await this.resolver.notifyDisabled(integration.id);
    this.logger.info(
      { projectId, branchId, integrationId: integration.id, deleteData, ownedBy: integration.ownedBy, providerProjectId: integration.providerProjectId },
      'neon auth disabled',
    );
  }

  /**
   * The work of the two operations, registered with OperationsService. An enable is undone when it fails or its
   * process dies (its SDK keys were for the caller, who got none): the provider project it made is deleted, a
   * schema it created dropped. A disable only goes forward: drop the schema, delete the provider project.
   */
  onModuleInit(): void {
    // What GET /operations shows of a failure: the answer the API would give (never a raw network or driver message).
    const describe = (err: unknown, op: { plan: Record<string, unknown> | null }): string | undefined => {
      const mapped = providerErrorToApi(err, { credentials: op.plan?.manual ? 'caller' : 'product' });
      return mapped instanceof ApiError ? mapped.message : undefined;
    };
    this.operations.register<EnablePlan>(ENABLE_KIND, {
      interrupted: 'rollback',
      describe,
      forward: (run) => this.enableWork(run),
      rollback: (run) => this.undoEnable(run),
      finished: async (tx, { plan }) => {
        // PATCH /projects may have turned on Private Link / IP Allow while the work ran: then the enable is undone.
        const project = await tx.getRepository(ProjectEntity).findOne({ where: { id: plan.projectId }, lock: { mode: 'pessimistic_read' } });
        if (!project) throw ApiError.notFound(`project ${plan.projectId}`);
        const forbidden = privateNetworkingOf(project.settings);
        if (forbidden.length > 0) throw privateNetworkingError(forbidden, 'enable');
        const sealed = plan.sealed!;
        try {
          await tx.getRepository(NeonAuthIntegrationEntity).insert({
            id: plan.integrationId,
            projectId: plan.projectId,
            branchId: plan.branchId,
            databaseName: plan.databaseName,
            authProvider: plan.authProvider,
            providerProjectId: sealed.providerProjectId,
            ownedBy: sealed.ownedBy,
            transferStatus: sealed.transferStatus ?? null,
            credentialsEncrypted: sealed.credentialsEncrypted,
            webhookSecretEncrypted: sealed.webhookSecretEncrypted,
            jwksUrl: sealed.jwksUrl,
            baseUrl: sealed.baseUrl,
            name: plan.name,
          });
        } catch (err) {
          if (isUniqueViolation(err)) throw alreadyEnabled(plan.branchId);
          throw err;
        }
        if (plan.reattach) await tx.getRepository(NeonAuthDetachedProjectEntity).delete({ integrationId: plan.integrationId });
      },
    });
    this.operations.register<DisablePlan>(DISABLE_KIND, {
      interrupted: 'forward',
      describe,
      forward: (run) => this.disableWork(run.plan),
    });
    // Branches that go take the provider projects the product manages for them along (active or kept).
    this.branchHooks.register(async (tx, projectId, branchIds) => {
      const active = await tx.getRepository(NeonAuthIntegrationEntity).find({ where: { branchId: In(branchIds) } });
      const kept = await tx.getRepository(NeonAuthDetachedProjectEntity).find({ where: { branchId: In(branchIds) } });
      for (const i of active) await this.enqueueProviderCleanup(tx, projectId, snapshotOf(i), i.ownedBy === 'neon');
      for (const d of kept) await this.enqueueProviderCleanup(tx, projectId, keptSnapshotOf(d), true);
    });
    // A branch copied from one with Better Auth carries it, as Neon's branching carries auth state: its own server at its
    // own base URL over the copied users, sessions, keys and settings, with the parent's secret (so the copied JWKS
    // private keys and sessions stay valid); the server adopts the copied schema on its first request.
    this.branchHooks.registerBranchReady(async (tx, projectId, branchId, parentId) => {
      const parents = await tx.getRepository(NeonAuthIntegrationEntity).find({ where: { branchId: parentId } });
      for (const parent of parents) {
        const provider = this.resolver.providerFor(parent.authProvider);
        // Only providers hosted in the database itself come along with its copy.
        if (!provider.copyForBranch) continue;
        const id = randomUUID();
        const copy = provider.copyForBranch(this.resolver.credentialsOf(parent), branchId, parent.databaseName);
        await tx.getRepository(NeonAuthIntegrationEntity).insert({
          id,
          projectId,
          branchId,
          databaseName: parent.databaseName,
          authProvider: parent.authProvider,
          providerProjectId: copy.providerProjectId,
          ownedBy: parent.ownedBy,
          transferStatus: null,
          ...this.resolver.sealSecrets(id, copy.credentials, null),
          jwksUrl: copy.jwksUrl,
          baseUrl: copy.baseUrl ?? null,
          name: parent.name,
        });
        this.logger.info({ projectId, branchId, parentId, integrationId: id }, 'neon auth: the new branch carries its parent\'s Better Auth');
      }
    });
    // A database goes: refused while Neon Auth is enabled on it; a provider project kept for it goes with it.
    this.branchHooks.registerDatabase(async (tx, projectId, branchId, databaseName) => {
      if (await tx.getRepository(NeonAuthIntegrationEntity).existsBy({ branchId, databaseName })) {
        throw ApiError.conflict(`Neon Auth is enabled on database ${databaseName} of branch ${branchId}: disable it first`);
      }
      const kept = await tx.getRepository(NeonAuthDetachedProjectEntity).find({ where: { branchId, databaseName } });
      for (const d of kept) {
        await tx.getRepository(NeonAuthDetachedProjectEntity).delete({ integrationId: d.integrationId });
        await this.enqueueProviderCleanup(tx, projectId, keptSnapshotOf(d), true);
      }
    });
  }

  /**
   * In the transaction that deletes an integration's branch or database: records the durable deletion of its provider
   * project (a disable without schema work), and forgets its foreign users.
   */
  private async enqueueProviderCleanup(tx: EntityManager, projectId: string, snapshot: IntegrationSnapshot, deleteProviderProject: boolean): Promise<void> {
    await tx.getRepository(NeonAuthForeignUserEntity).delete({ integrationId: snapshot.integrationId });
    await this.operations.enqueue<DisablePlan>(
      tx,
      DISABLE_KIND,
      { action: 'apply_config', projectId, branchId: snapshot.branchId },
      { ...snapshot, dropSchema: false, deleteProviderProject },
    );
  }

  private async enableWork(run: RunningOperation<EnablePlan>): Promise<EnableResult> {
    const plan = run.plan;
    const provider = this.resolver.providerFor(plan.authProvider);
    const target = await this.branchDatabases.resolve(plan.projectId, plan.branchId, plan.databaseName);
    let result: EnableResult | undefined;
    if (plan.reattach) result = await this.reattach(run, provider);
    if (!result && plan.manual) {
      const credentials: ProviderCredentials = this.resolver.credentialsOf({ id: plan.integrationId, credentialsEncrypted: plan.manual.credentialsEncrypted } as NeonAuthIntegrationEntity);
      const side = await this.connectExisting(provider, { baseUrl: credentials.baseUrl, projectId: credentials.projectId, secretServerKey: credentials.secretServerKey! });
      await run.save({ sealed: { ...this.sealedSide(plan.integrationId, side), webhookSecretEncrypted: plan.manual.webhookSecretEncrypted } });
      result = { ...side, integrationId: plan.integrationId, reattached: false };
    }
    if (!result) {
      const project = await this.db.getRepository(ProjectEntity).findOneByOrFail({ id: plan.projectId });
      result = { ...(await this.provisionManaged(provider, project, target, run)), integrationId: plan.integrationId, reattached: false };
    }
    if (plan.schemaExisted === undefined) await run.save({ schemaExisted: await this.usersSync.schemaExists(target) });
    await this.usersSync.provision(target);
    if (provider.provisionDatabase) await provider.provisionDatabase(this.sealedCredentials(plan), target, plan.name ?? plan.projectId);
    this.crash.reach('neon_auth.enable:schema');
    // users_sync mirrors the provider's own user table (a trigger in the same database): nothing to copy or protect.
    if (provider.capabilities.writesUsersSync) return result;
    // Rows of other provider projects are recorded as such: this integration's reconcile leaves them be
    // (NeonAuthForeignUserEntity).
    if (result.reattached) {
      // Rows written while the project was detached came from other provider projects (its own events were refused
      // then); rows from before are its own, deleted ones included, which its reconcile may mark deleted.
      const since = plan.keptSince ? await this.usersSync.liveIdsWrittenAfter(target, plan.keptSince) : [];
      await this.recordForeignUsers(plan.integrationId, since);
    } else {
      // Rows live before this enable whose user the (new or connected) provider project does not have.
      const liveBefore = plan.schemaExisted ? await this.usersSync.liveIds(target) : [];
      const owned = plan.manual ? await this.copyUsers(provider, this.sealedCredentials(plan), target) : new Set<string>();
      await this.recordForeignUsers(plan.integrationId, liveBefore.filter((id) => !owned.has(id)));
    }
    return result;
  }

  /** The provider credentials an enable recorded in its plan (sealed for its integration id), decrypted. */
  private sealedCredentials(plan: EnablePlan): ProviderCredentials {
    return this.resolver.credentialsOf({ id: plan.integrationId, credentialsEncrypted: plan.sealed!.credentialsEncrypted } as NeonAuthIntegrationEntity);
  }

  /** Records `foreign` as users of another provider project for this integration (its reconcile leaves them be). */
  private async recordForeignUsers(integrationId: string, foreign: string[]): Promise<void> {
    for (let i = 0; i < foreign.length; i += COPY_BATCH) {
      await this.db.query(
        'INSERT INTO neon_auth_foreign_users (integration_id, user_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING',
        [integrationId, foreign.slice(i, i + COPY_BATCH)],
      );
    }
  }

  /**
   * The kept provider project, with new SDK keys; undefined when it refuses its stored credentials (deleted, or no
   * longer ours): then the enable goes on with a new provider project under a new integration id, and the kept record
   * stays (a deleted branch still cleans it up).
   */
  private async reattach(run: RunningOperation<EnablePlan>, provider: AuthProvider): Promise<EnableResult | undefined> {
    const plan = run.plan;
    const kept = await this.db.getRepository(NeonAuthDetachedProjectEntity).findOneBy({ integrationId: plan.integrationId });
    if (kept) {
      const credentials = this.resolver.credentialsOf({ id: kept.integrationId, credentialsEncrypted: kept.credentialsEncrypted } as NeonAuthIntegrationEntity);
      try {
        const keys = provider.capabilities.sdkKeys ? await provider.createSdkKeys(credentials) : null;
        await run.save({
          keptSince: kept.detachedAt.toISOString(),
          sealed: {
            providerProjectId: kept.providerProjectId,
            ownedBy: 'neon',
            transferStatus: kept.transferStatus,
            credentialsEncrypted: kept.credentialsEncrypted,
            webhookSecretEncrypted: kept.webhookSecretEncrypted,
            jwksUrl: kept.jwksUrl,
            baseUrl: kept.baseUrl,
          },
        });
        return { integrationId: plan.integrationId, providerProjectId: kept.providerProjectId, ownedBy: 'neon', jwksUrl: kept.jwksUrl, baseUrl: kept.baseUrl, sdkKeys: keys, reattached: true };
      } catch (err) {
        if (!(err instanceof ProviderAuthFailed)) throw err;
        this.logger.warn(
          { integrationId: kept.integrationId, providerProjectId: kept.providerProjectId },
          'neon auth enable: the kept provider project refuses its stored credentials (deleted, or no longer ours); it stays recorded, and a new one starts',
        );
      }
    }
    // A new provider project under a new integration id; the kept record stays (a deleted branch still cleans it up).
    await run.save({ reattach: false, integrationId: randomUUID() });
    return undefined;
  }

  private async undoEnable(run: RunningOperation<EnablePlan>): Promise<void> {
    const plan = run.plan;
    let target: BranchDatabase | undefined;
    try {
      target = await this.branchDatabases.resolve(plan.projectId, plan.branchId, plan.databaseName);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === ErrorCode.NotFound)) throw err;
    }
    // Only a schema this operation created is dropped (never one that held someone's objects before).
    if (target && plan.schemaExisted === false) await this.usersSync.deprovision(target, { deleteData: true });
    if (!plan.reattach) await this.db.getRepository(NeonAuthForeignUserEntity).delete({ integrationId: plan.integrationId });
    // The provider project this operation created (never a kept or user-owned one) goes too: nothing refers to it.
    const provider = this.resolver.providerFor(plan.authProvider);
    const sealed = plan.sealed;
    if (sealed && sealed.ownedBy === 'neon' && !plan.reattach) {
      await provider.deleteManagedProject(this.sealedCredentials(plan));
      this.logger.info({ provider: plan.authProvider, providerProjectId: sealed.providerProjectId }, 'neon auth enable undone: deleted the managed provider project it created');
    } else if (plan.provisionStarted && !plan.reattach && !plan.manual) {
      if (!provider.capabilities.idempotentProvisioning) {
        this.logger.warn(
          { provider: plan.authProvider, operationId: run.op.id },
          'neon auth enable undone: the provider may have made a project whose answer never arrived; this provider cannot be asked again (no idempotency key), so it may be left there',
        );
        return;
      }
      // The process died between the provider's answer and recording it: the same idempotency key answers that project.
      let again;
      try {
        again = await provider.provisionManagedProject(this.provisionRequest(run));
      } catch (err) {
        if (err instanceof ProviderRequestRejected) return; // refused now, so nothing was made under this key
        throw err;
      }
      await provider.deleteManagedProject(again.credentials);
      this.logger.info(
        { provider: plan.authProvider, providerProjectId: again.providerProjectId },
        'neon auth enable undone: deleted the managed provider project it may have created (found again by its idempotency key)',
      );
    }
  }

  private async disableWork(plan: DisablePlan): Promise<void> {
    if (plan.dropSchema) {
      try {
        const target = await this.branchDatabases.resolve(plan.projectId, plan.branchId, plan.databaseName);
        await this.usersSync.deprovision(target, { deleteData: true });
      } catch (err) {
        // The database (or the branch) was dropped since: nothing to drop there.
        if (!(err instanceof ApiError && err.code === ErrorCode.NotFound)) throw err;
      }
      this.crash.reach('neon_auth.disable:schema');
    }
    if (plan.deleteProviderProject) {
      const outcome = await this.cleanUpProviderProject(plan);
      this.logger.info({ integrationId: plan.integrationId, providerProjectId: plan.providerProjectId, outcome }, 'neon auth disable: provider project');
    }
  }

  // ---------------------------------------------------------------------------------------------------

  /**
   * Quick Start: a managed provider project (recorded in the operation's plan the moment it exists, so an undo finds
   * it), its sync webhook, and SDK keys for the caller.
   */
  private async provisionManaged(
    provider: AuthProvider,
    project: ProjectEntity,
    target: BranchDatabase,
    run: RunningOperation<EnablePlan>,
  ): Promise<ProviderSide> {
    const integrationId = run.plan.integrationId;
    await run.save({ provisionStarted: true });
    const provisioned = await callProvider(() =>
      provider.provisionManagedProject({ ...this.provisionRequest(run), displayName: project.name, databaseName: target.name }).catch(async (err: unknown) => {
        // A definite answer (refused, rejected) made nothing; an unreachable provider or a timeout leaves it open.
        if (err instanceof ProviderRequestRejected || err instanceof ProviderAuthFailed) await run.save({ provisionStarted: false });
        throw err;
      }),
    );
    this.crash.reach('neon_auth.enable:provisioned');
    const side: ProviderSide = {
      providerProjectId: provisioned.providerProjectId,
      credentials: provisioned.credentials,
      jwksUrl: provisioned.jwksUrl,
      baseUrl: provisioned.baseUrl ?? null,
      ownedBy: 'neon',
      webhookSecret: null,
      sdkKeys: null,
    };
    await run.save({ sealed: this.sealedSide(integrationId, side) });
    this.crash.reach('neon_auth.enable:provider-project');
    if (provider.capabilities.webhooks !== 'none') {
      const webhook = await provider.registerWebhook(provisioned.credentials, this.resolver.webhookUrlOf(integrationId));
      side.webhookSecret = webhook.signingSecret;
      await run.save({ sealed: this.sealedSide(integrationId, side) });
    }
    this.crash.reach('neon_auth.enable:webhook');
    side.sdkKeys = provider.capabilities.sdkKeys ? await provider.createSdkKeys(provisioned.credentials) : null;
    return side;
  }

  /** The provision call of an enable: keyed by the operation, so a repeat (the undo after a crash) finds its project. */
  private provisionRequest(run: RunningOperation<EnablePlan>): ProvisionRequest {
    return { displayName: run.plan.name ?? run.plan.projectId, neonProjectId: run.plan.projectId, branchId: run.plan.branchId, idempotencyKey: `neon-auth-enable:${run.op.id}` };
  }

  /** The columns of a provider side as stored in an enable's plan (secrets sealed for the integration). */
  private sealedSide(integrationId: string, side: Omit<ProviderSide, 'sdkKeys'>): SealedSide {
    return {
      providerProjectId: side.providerProjectId,
      ownedBy: side.ownedBy,
      jwksUrl: side.jwksUrl,
      baseUrl: side.baseUrl,
      ...this.resolver.sealSecrets(integrationId, side.credentials, side.webhookSecret),
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

  /** Copies every user of the provider project into users_sync (as of the start of the copy); answers their ids. */
  private async copyUsers(provider: AuthProvider, credentials: ProviderCredentials, target: BranchDatabase): Promise<Set<string>> {
    const startedAt = await databaseNow(this.db);
    let batch: UsersSyncRow[] = [];
    let copied = 0;
    const ids = new Set<string>();
    for await (const user of iterateProviderUsers(provider, credentials)) {
      ids.add(user.id);
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
    return ids;
  }

  /**
   * After a disable: deletes the provider project when the product still manages it. A started transfer is checked
   * with the provider first: a project its person took over is kept. A provider that cannot be reached throws (the
   * operation is retried).
   */
  private async cleanUpProviderProject(snapshot: IntegrationSnapshot): Promise<string> {
    const provider = this.resolver.providerFor(snapshot.authProvider);
    const credentials = this.resolver.credentialsOf({ id: snapshot.integrationId, credentialsEncrypted: snapshot.credentialsEncrypted } as NeonAuthIntegrationEntity);
    try {
      if (snapshot.transferStatus !== null && (await provider.ownershipTransferStatus(credentials)) === 'finished') {
        return 'kept (its ownership was transferred to the user)';
      }
      await provider.deleteManagedProject(credentials);
    } catch (err) {
      // Its stored credentials open nothing any more: someone else holds it now (or it is gone). Never retried.
      if (err instanceof ProviderAuthFailed) return 'left in the provider (it refuses the stored credentials: no longer ours, or gone)';
      throw err;
    }
    return 'deleted';
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
