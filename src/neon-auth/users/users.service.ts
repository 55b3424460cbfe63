import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { databaseNowMicros } from '../../common/db-clock.js';
import { ApiError, ErrorCode } from '../../common/errors.js';
import { LOGGER } from '../../common/logger.js';
import { isoTime } from '../../common/pagination.js';
import { AccessService } from '../../iam/access.service.js';
import type { AccessContext, Principal } from '../../iam/principal.js';
import type { BranchDatabase } from '../../projects/branch-databases/branch-databases.service.js';
import { ProviderUserNotFound, rolesOf, type ProviderUser } from '../../providers/auth-provider.port.js';
import { authorizeNeonAuthProject, projectAccessOf } from '../access.js';
import { NeonAuthIntegrationResolver, type ResolvedIntegration } from '../integrations/integration-resolver.js';
import { callProvider, providerErrorToApi } from '../provider-errors.js';
import { usersSyncErrorToApi } from '../users-sync/users-sync.errors.js';
import { NeonAuthUsersSyncStore, type UsersSyncRecord } from '../users-sync/users-sync.store.js';
import { stateVersion } from '../users-sync/versions.js';
import {
  DEFAULT_USERS_PAGE,
  type CreateBranchNeonAuthNewUserRequestDto,
  type ListBranchNeonAuthUsersQueryDto,
  type ListBranchNeonAuthUsersResponseDto,
  type NeonAuthCreateNewUserRequestDto,
  type NeonAuthCreateNewUserResponseDto,
  type NeonAuthUserDto,
  type UpdateNeonAuthUserRoleResponseDto,
} from './dto/users.dto.js';
import { KeyedSerializer } from '../../common/keyed-serializer.js';

const DELETED_IN_PROVIDER = 'the user was deleted in the auth provider; retry the call to record the deletion';

/** What every user operation works on: the branch's integration, its provider and credentials. */
type UsersTarget = ResolvedIntegration;

/**
 * Neon Auth users: create, delete and set roles in the provider AND in `neon_auth.users_sync` before
 * answering, and list users_sync (extension). The branch routes and the legacy routes (default branch)
 * share this service.
 *
 * Versions (users_sync.updated_at) follow the sync engine's rule (stateVersion) on the control-plane
 * database's clock, never this process's: a webhook and an API write order the same way on every replica.
 *
 * Create: the provider creates the user, then its user object is upserted into users_sync (raw_json =
 * the provider's object, updated_at = its sign-up time, but never later than now on the database's clock,
 * so any later change the sync engine applies wins). If that write fails, the provider user is deleted again (compensation) and the call answers
 * 503 NEON_AUTH_USERS_SYNC_UNAVAILABLE (409 NEON_AUTH_USERS_SYNC_MISSING when the table was dropped):
 * nothing half-made stays behind, and a retry is safe. If the compensation itself fails, the message
 * names the provider user left behind (the sync engine's reconciler repairs such drift; it is logged).
 *
 * Delete: provider delete, then soft delete in users_sync (deleted_at). A provider that no longer
 * knows the user while users_sync still shows it live (an earlier delete whose users_sync write
 * failed with 503) is repaired and answered 204, so retrying a failed delete converges; a user known
 * to neither is 404.
 *
 * Set roles: the provider stores them (stack: server_metadata.roles) and answers the user, whose
 * object is upserted into users_sync (updated_at = now on the database's clock). Calls for one user are serialized in this
 * process so that users_sync follows the provider's order. PUT is idempotent: after a 503 retry it.
 */
@Injectable()
export class NeonAuthUsersService {
  /** Role changes and deletes of one user, one at a time (in this process). */
  private readonly userChanges = new KeyedSerializer();

  constructor(
    private readonly integrations: NeonAuthIntegrationResolver,
    private readonly usersSync: NeonAuthUsersSyncStore,
    private readonly access: AccessService,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  // ---- branch routes (the project was resolved and checked by the route's policy) ----

  async createForBranch(caller: AccessContext, branchId: string, body: CreateBranchNeonAuthNewUserRequestDto): Promise<NeonAuthCreateNewUserResponseDto> {
    const { project } = projectAccessOf(caller);
    const target = await this.branchTarget(project.id, branchId);
    return this.create(target, body.email, body.name, body.password);
  }

  async deleteForBranch(caller: AccessContext, branchId: string, userId: string): Promise<void> {
    const { project } = projectAccessOf(caller);
    await this.delete(await this.branchTarget(project.id, branchId), userId);
  }

  async setRolesForBranch(caller: AccessContext, branchId: string, userId: string, roles: string[]): Promise<UpdateNeonAuthUserRoleResponseDto> {
    const { project } = projectAccessOf(caller);
    return this.setRoles(await this.branchTarget(project.id, branchId), userId, roles);
  }

  async listForBranch(caller: AccessContext, branchId: string, query: ListBranchNeonAuthUsersQueryDto): Promise<ListBranchNeonAuthUsersResponseDto> {
    const { project } = projectAccessOf(caller);
    const integration = await this.integrations.findForBranch(project.id, branchId);
    const database = await this.databaseOf(integration);
    const page = await this.onUsersSync(database, () =>
      this.usersSync.list(database, {
        query: query.query,
        cursor: query.cursor,
        limit: query.limit ?? DEFAULT_USERS_PAGE,
        includeDeleted: query.include_deleted ?? false,
      }),
    );
    const users = page.rows.map(toUserDto);
    return page.next ? { users, pagination: { next: page.next } } : { users, pagination: {} };
  }

  // ---- legacy routes (default branch) ----

  /** POST /projects/auth/user: project_id in the body, so access is checked here (404 outside reach). */
  async createLegacy(principal: Principal, body: NeonAuthCreateNewUserRequestDto): Promise<NeonAuthCreateNewUserResponseDto> {
    const { project } = await authorizeNeonAuthProject(this.access, principal, body.project_id, 'use');
    const target = await this.defaultBranchTarget(project.id, body.auth_provider);
    return this.create(target, body.email, body.name, body.password);
  }

  async deleteLegacy(caller: AccessContext, userId: string): Promise<void> {
    const { project } = projectAccessOf(caller);
    await this.delete(await this.defaultBranchTarget(project.id), userId);
  }

  // ---- the operations ----

  private async create(target: UsersTarget, email: string, name: string | undefined, password?: string): Promise<NeonAuthCreateNewUserResponseDto> {
    const { integration, provider, credentials } = target;
    const database = await this.databaseOf(integration);
    // Documented default: the email, as neonctl sends it (reference §9.4).
    const user = await callProvider(() => provider.createUser(credentials, { email, name: name ?? email, ...(password !== undefined ? { password } : {}) }));
    // A provider in the branch database wrote users_sync in the user's own transaction.
    if (provider.capabilities.writesUsersSync) return { id: user.id };
    try {
      await this.usersSync.upsertUsers(database, [{ raw_json: user.raw, updated_at: await this.versionOf('created', user) }]);
    } catch (err) {
      const left = await this.compensateCreate(target, user, err);
      throw this.usersSyncFailure(err, database, 'the user was not created', left);
    }
    return { id: user.id };
  }

  private async delete(target: UsersTarget, userId: string): Promise<void> {
    const { integration, provider, credentials } = target;
    const database = await this.databaseOf(integration);
    // Serialized with role changes of the same user, so a concurrent set-role cannot land after the delete.
    return this.userChanges.run(`${integration.id}\u0000${userId}`, async () => {
      if (provider.capabilities.writesUsersSync) {
        await callProvider(() => provider.deleteUser(credentials, userId));
        return;
      }
      try {
        await provider.deleteUser(credentials, userId);
      } catch (err) {
        if (!(err instanceof ProviderUserNotFound)) throw providerErrorToApi(err);
        // Gone from the provider. Still live in users_sync (an earlier delete's write failed)? Finish that delete.
        if (!(await this.isLiveInUsersSync(database, userId))) throw providerErrorToApi(err);
      }
      try {
        await this.usersSync.markDeleted(database, [userId], await this.deletionTime(database, userId));
      } catch (err) {
        throw this.usersSyncFailure(err, database, DELETED_IN_PROVIDER, undefined);
      }
    });
  }

  private async setRoles(target: UsersTarget, userId: string, roles: string[]): Promise<UpdateNeonAuthUserRoleResponseDto> {
    const { integration, provider, credentials } = target;
    const database = await this.databaseOf(integration);
    return this.userChanges.run(`${integration.id}\u0000${userId}`, async () => {
      const user = await callProvider(() => provider.setUserRoles(credentials, userId, roles));
      if (provider.capabilities.writesUsersSync) return { id: user.id };
      try {
        await this.usersSync.upsertUsers(database, [{ raw_json: user.raw, updated_at: await this.versionOf('changed', user) }]);
      } catch (err) {
        throw this.usersSyncFailure(err, database, 'the roles were stored in the auth provider; retry the call to record them', undefined);
      }
      return { id: user.id };
    });
  }

  // ---- helpers ----

  private async branchTarget(projectId: string, branchId: string): Promise<UsersTarget> {
    return this.integrations.resolve(await this.integrations.findForBranch(projectId, branchId));
  }

  /** The default branch's integration; with `authProvider` (legacy bodies) it must be that provider's (404 otherwise). */
  private async defaultBranchTarget(projectId: string, authProvider?: string): Promise<UsersTarget> {
    if (authProvider !== undefined) return this.integrations.findForLegacyBody(projectId, authProvider);
    return this.integrations.resolve(await this.integrations.findForDefaultBranch(projectId));
  }

  private databaseOf(integration: UsersTarget['integration']): Promise<BranchDatabase> {
    return this.integrations.branchDatabaseOf(integration);
  }

  /** The version of a state the provider just answered: the users_sync rule (stateVersion), now on the control-plane database's clock. */
  private async versionOf(kind: 'created' | 'changed', user: ProviderUser): Promise<string> {
    return stateVersion(kind, user.raw.signed_up_at_millis, await databaseNowMicros(this.db));
  }

  /**
   * Now on the control-plane database's clock, but after the row's last state (a row written before versions were
   * bounded by that clock may carry a provider's time), so the deletion applies.
   */
  private async deletionTime(database: BranchDatabase, userId: string): Promise<string> {
    const row = await this.onUsersSync(database, () => this.usersSync.rowOf(database, userId), DELETED_IN_PROVIDER);
    const lastUs = (row?.updatedAt?.getTime() ?? 0) * 1000;
    return stateVersion('changed', null, Math.max(await databaseNowMicros(this.db), lastUs + 1000));
  }

  private async isLiveInUsersSync(database: BranchDatabase, userId: string): Promise<boolean> {
    const row = await this.onUsersSync(database, () => this.usersSync.rowOf(database, userId));
    return row !== undefined && !row.deleted;
  }

  /** Runs a read of the branch database's users_sync; a missing table or an unreachable database is a clear 409 / 503. */
  private async onUsersSync<T>(database: BranchDatabase, read: () => Promise<T>, outcome = 'nothing was changed'): Promise<T> {
    try {
      return await read();
    } catch (err) {
      throw this.usersSyncFailure(err, database, outcome, undefined);
    }
  }

  /** Deletes a provider user whose users_sync write failed. Answers the id when the user could not be removed. */
  private async compensateCreate(target: UsersTarget, user: ProviderUser, cause: unknown): Promise<string | undefined> {
    try {
      await target.provider.deleteUser(target.credentials, user.id);
      this.logger.warn(
        { err: errText(cause), integration: target.integration.id, user: user.id },
        'neon auth: users_sync write failed after the provider created a user; the provider user was deleted again',
      );
      return undefined;
    } catch (err) {
      this.logger.error(
        { err: errText(err), cause: errText(cause), integration: target.integration.id, user: user.id },
        'neon auth: users_sync write failed and the provider user could not be deleted again; it is left in the provider',
      );
      return user.id;
    }
  }

  private usersSyncFailure(err: unknown, database: BranchDatabase, outcome: string, leftInProvider: string | undefined): ApiError {
    if (err instanceof ApiError) return err;
    const left = leftInProvider !== undefined ? ` (the auth provider still has user ${leftInProvider}; the sync will reconcile it)` : '';
    // A users_sync write that PostgreSQL refused row by row is this service's own input: reported as unavailable below.
    const known = usersSyncErrorToApi(err, database, { consequence: `; ${outcome}${left}`, rowErrors: false });
    if (known) return known;
    this.logger.warn({ err: errText(err), database: database.physicalName }, 'neon auth: users_sync is unavailable');
    return new ApiError(
      ErrorCode.NeonAuthUsersSyncUnavailable,
      `neon_auth.users_sync in database ${database.name} is unavailable; ${outcome}${left}. Retry later`,
    );
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function toUserDto(row: UsersSyncRecord): NeonAuthUserDto {
  const raw = row.raw_json && typeof row.raw_json === 'object' && !Array.isArray(row.raw_json) ? row.raw_json : {};
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    roles: rolesOf(raw),
    created_at: row.created_at ? isoTime(row.created_at) : null,
    updated_at: row.updated_at ? isoTime(row.updated_at) : null,
    deleted_at: row.deleted_at ? isoTime(row.deleted_at) : null,
    raw_json: raw,
  };
}
