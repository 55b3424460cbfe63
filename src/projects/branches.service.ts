import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, type EntityManager } from 'typeorm';
import { isForeignKeyViolation, isUniqueViolation, withFreshIds } from '../common/db-errors.js';
import { ApiError, ErrorCode } from '../common/errors.js';
import { newBranchId, newEndpointId } from '../common/ids.js';
import { keysetPage } from '../common/pagination.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import type { AccessContext } from '../iam/principal.js';
import { BranchStorageService } from './branch-databases/branch-storage.service.js';
import { ComputeBusyError, BranchDatabaseCluster } from './branch-databases/branch-database-cluster.js';
import type {
  BranchCreateRequestDto,
  BranchCreateResponseDto,
  BranchesResponseDto,
  BranchOperationsDto,
  BranchResponseDto,
  ConnectionUriResponseDto,
  DatabaseCreateBodyDto,
  DatabaseOperationsDto,
  DatabaseResponseDto,
  DatabasesResponseDto,
  GetConnectionUriQueryDto,
  ListProjectBranchesQueryDto,
} from './dto/branch.dto.js';
import { BranchEntity } from './entities/branch.entity.js';
import { DatabaseEntity } from './entities/database.entity.js';
import { EndpointEntity } from './entities/endpoint.entity.js';
import { RoleEntity } from './entities/role.entity.js';
import { toBranchDto, toDatabaseDto, toEndpointDto, toOperationDto, toRoleDto } from './projects.mappers.js';
import { DeletionHooks } from './deletion-hooks.js';
import type { PlannedDatabase } from './branch-databases/branch-storage.service.js';
import { COMPUTE_CREATE, COMPUTE_DROP, type ComputeCreatePlan, type ComputeDropPlan } from './branch-databases/compute-operations.js';
import { assertBranchReady, assertNoOperationInProgress, lockBranchForOperation } from './operations/operation-locks.js';
import { OperationRolledBack, OperationsService } from './operations/operations.service.js';
import { escapeLike } from './projects.service.js';
import { assertBranchQuota, assertDatabaseQuota } from './quotas.js';

const SORT_EXPRESSIONS = { name: 'b.name', created_at: 'b.created_at', updated_at: 'b.updated_at' } as const;

/**
 * Branches of a project. Each branch is a set of real databases on the compute server; a new branch
 * is a copy of its parent's databases (CREATE DATABASE ... TEMPLATE) and shares its parent's roles.
 */
@Injectable()
export class BranchesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly cluster: BranchDatabaseCluster,
    private readonly storage: BranchStorageService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly operations: OperationsService,
    private readonly branchHooks: DeletionHooks,
  ) {}

  /** Neon's cursor pagination: `pagination.next` while there are more; without `limit`, every branch. */
  async list(access: AccessContext, query: ListProjectBranchesQueryDto): Promise<BranchesResponseDto> {
    const sortBy = query.sort_by ?? 'updated_at';
    const order = query.sort_order ?? 'desc';
    const qb = this.db
      .getRepository(BranchEntity)
      .createQueryBuilder('b')
      .select('b.id', 'id')
      .where('b.project_id = :projectId', { projectId: access.project!.id });
    if (query.search) {
      qb.andWhere(`(b.name ILIKE :search ESCAPE '\\' OR b.id ILIKE :search ESCAPE '\\')`, { search: `%${escapeLike(query.search)}%` });
    }
    // Deletion is final here: include_deleted adds nothing.
    const page = await keysetPage<BranchEntity, { id: string }>(qb, {
      sortExpr: SORT_EXPRESSIONS[sortBy],
      sortType: sortBy === 'name' ? 'text' : 'timestamptz',
      idExpr: 'b.id',
      order,
      limit: query.limit,
      cursor: query.cursor,
    });
    const entities = await this.db.getRepository(BranchEntity).findBy({ id: In(page.rows.map((r) => r.id)) });
    const byId = new Map(entities.map((e) => [e.id, e]));
    return {
      branches: page.rows.filter((r) => byId.has(r.id)).map((r) => toBranchDto(byId.get(r.id)!)),
      annotations: {},
      pagination: { ...(page.next ? { next: page.next } : {}), sort_by: sortBy, sort_order: order },
    };
  }

  async get(access: AccessContext, branchId: string): Promise<BranchResponseDto> {
    return { branch: toBranchDto(await this.findBranch(this.db.manager, access.project!.id, branchId)) };
  }

  /**
   * Creates a branch from `parent_id` (default: the default branch): copies every database of the
   * parent and inherits its roles. Postgres cannot copy a database that has other sessions; after a
   * short wait that is Neon's 423 Locked, which Neon clients retry. Nothing is left behind on failure.
   */
  async create(access: AccessContext, body: BranchCreateRequestDto): Promise<BranchCreateResponseDto> {
    const projectId = access.project!.id;
    const parent = body.branch?.parent_id
      ? await this.findBranch(this.db.manager, projectId, body.branch.parent_id, 'branch.parent_id')
      : await this.defaultBranch(projectId);
    return withFreshIds(() => this.createOnce(access, body, parent));
  }

  private async createOnce(access: AccessContext, body: BranchCreateRequestDto, parent: BranchEntity): Promise<BranchCreateResponseDto> {
    const projectId = access.project!.id;
    const ids = { projectId, branchId: newBranchId(), endpointId: newEndpointId() };
    let performed;
    try {
      performed = await this.operations.perform(async (tx, record) => {
        // Hold the parent (and the project) against deletion until this commits: a concurrent delete waits, then
        // sees the child (409) or this operation (423). 423 while an operation on the parent is unfinished.
        await lockBranchForOperation(this.operations, tx, projectId, parent.id, { field: body.branch?.parent_id ? 'branch.parent_id' : undefined, computeOnly: true });
        assertBranchReady(await this.findBranch(tx, projectId, parent.id));
        await assertBranchQuota(tx, projectId, this.config.branchesLimit);
        const parentRoles = await tx.getRepository(RoleEntity).find({ where: { branchId: parent.id }, order: { createdAt: 'ASC', id: 'ASC' } });
        const parentDbs = await tx.getRepository(DatabaseEntity).find({ where: { branchId: parent.id }, order: { id: 'ASC' } });
        const name = body.branch?.name ?? ids.branchId;
        let branch: BranchEntity;
        try {
          branch = await tx.getRepository(BranchEntity).save(
            tx.getRepository(BranchEntity).create({
              id: ids.branchId,
              projectId,
              parentId: parent.id,
              name,
              isDefault: false,
              isProtected: body.branch?.protected ?? false,
              currentState: 'init',
            }),
          );
        } catch (err) {
          if (isUniqueViolation(err, 'branches_project_name_key')) throw ApiError.conflict(`a branch named ${name} already exists in project ${projectId}`);
          throw err;
        }
        const endpoint = await tx.getRepository(EndpointEntity).save(
          tx.getRepository(EndpointEntity).create({ id: ids.endpointId, projectId, branchId: branch.id, type: 'read_write' }),
        );
        const roles = await tx.getRepository(RoleEntity).save(
          parentRoles.map((r) =>
            tx.getRepository(RoleEntity).create({
              branchId: branch.id,
              name: r.name,
              physicalName: r.physicalName,
              passwordEncrypted: r.passwordEncrypted,
              isProtected: r.isProtected,
            }),
          ),
        );
        const physicalOf = new Map(roles.map((r) => [r.name, r.physicalName]));
        const planned: PlannedDatabase[] = parentDbs.map((db) => {
          const owner = physicalOf.get(db.ownerName);
          if (!owner) throw new Error(`database ${db.name} of branch ${parent.id} is owned by unknown role ${db.ownerName}`);
          return { name: this.storage.planDatabase(db.name, branch.id), owner, template: db.physicalName, connectRoles: roles.map((r) => r.physicalName) };
        });
        const databases = await tx.getRepository(DatabaseEntity).save(
          parentDbs.map((d, i) =>
            tx.getRepository(DatabaseEntity).create({ branchId: branch.id, name: d.name, ownerName: d.ownerName, physicalName: planned[i].name }),
          ),
        );
        await record.work<ComputeCreatePlan>(
          COMPUTE_CREATE,
          { action: 'create_branch', projectId, branchId: branch.id },
          { roles: [], databases: planned, readyBranchId: branch.id, undo: { branchId: branch.id } },
        );
        await record.also({ action: 'start_compute', ...ids });
        return { endpoint, roles, databases };
      });
    } catch (err) {
      const cause = err instanceof OperationRolledBack ? err.cause : err;
      if (cause instanceof ComputeBusyError) {
        throw new ApiError(
          ErrorCode.Locked,
          `branch ${parent.id} is in use: its databases have open connections, and PostgreSQL copies a database only ` +
            'while no one is connected to it; close those connections and retry',
        );
      }
      throw notFoundIfProjectGone(cause, projectId);
    }
    const { endpoint, roles, databases } = performed.value;
    const branch = await this.db.getRepository(BranchEntity).findOneByOrFail({ id: ids.branchId });
    const { host } = this.cluster.publicAddress;
    return {
      branch: toBranchDto(branch),
      endpoints: [toEndpointDto(endpoint, host, access.project!.regionId)],
      operations: performed.operations.map((op) => toOperationDto(op)),
      roles: roles.map((r) => toRoleDto(r)),
      databases: databases.map(toDatabaseDto),
      ...(roles.length === 1 && databases.length === 1
        ? { connection_uris: [this.storage.connectionDetails(roles[0], this.storage.passwordOf(roles[0]), databases[0].physicalName)] }
        : {}),
    };
  }

  /**
   * Deletes a branch (not the default one, and not one with child branches, as on Neon): its rows go, and a
   * durable operation recorded with them drops its real databases, and its roles when no other branch shares
   * them (retried by the reconciler until they are gone). 423 while another operation on the branch is unfinished.
   */
  async delete(access: AccessContext, branchId: string): Promise<BranchOperationsDto> {
    const projectId = access.project!.id;
    const { value: branch, operations } = await this.operations.perform(async (tx, record) => {
      // Project first, then branch: the order a project delete locks them in.
      await tx.query('SELECT 1 FROM projects WHERE id = $1 FOR KEY SHARE', [projectId]);
      const branch = await tx.getRepository(BranchEntity).findOne({ where: { id: branchId, projectId }, lock: { mode: 'pessimistic_write' } });
      if (!branch) throw ApiError.notFound(`branch ${branchId}`);
      if (branch.isDefault) throw ApiError.conflict(`branch ${branchId} is the default branch of project ${projectId} and cannot be deleted`);
      const children = await tx.getRepository(BranchEntity).find({ where: { parentId: branch.id }, select: { id: true }, take: 5 });
      if (children.length > 0) {
        throw ApiError.conflict(`branch ${branchId} has child branches (${children.map((c) => c.id).join(', ')}); delete them first`);
      }
      await assertNoOperationInProgress(this.operations, tx, projectId, [branchId]);
      const databases = await tx.getRepository(DatabaseEntity).find({ where: { branchId } });
      const roles = await tx.getRepository(RoleEntity).find({ where: { branchId } });
      const endpoints = await tx.getRepository(EndpointEntity).find({ where: { branchId } });
      await this.branchHooks.deleting(tx, projectId, [branchId]);
      await tx.getRepository(BranchEntity).delete({ id: branchId });
      const physicalRoles = [...new Set(roles.map((r) => r.physicalName))];
      const stillUsed: { physical_name: string }[] = await tx.query(
        'SELECT DISTINCT physical_name FROM branch_roles WHERE physical_name = ANY($1::text[])',
        [physicalRoles],
      );
      const used = new Set(stillUsed.map((r) => r.physical_name));
      for (const e of endpoints) await record.also({ action: 'suspend_compute', projectId, branchId, endpointId: e.id });
      await record.work<ComputeDropPlan>(
        COMPUTE_DROP,
        { action: 'delete_timeline', projectId, branchId },
        { databases: databases.map((d) => d.physicalName), roles: physicalRoles.filter((r) => !used.has(r)) },
      );
      return branch;
    });
    await this.branchHooks.deleted();
    return { branch: toBranchDto(branch), operations: operations.map((op) => toOperationDto(op)) };
  }

  async listDatabases(access: AccessContext, branchId: string): Promise<DatabasesResponseDto> {
    const branch = await this.findBranch(this.db.manager, access.project!.id, branchId);
    const databases = await this.db.getRepository(DatabaseEntity).find({ where: { branchId: branch.id }, order: { id: 'ASC' } });
    return { databases: databases.map(toDatabaseDto) };
  }

  /** Creates a real, empty database on the branch, owned by one of the branch's roles (a durable operation). */
  async createDatabase(access: AccessContext, branchId: string, body: DatabaseCreateBodyDto): Promise<DatabaseOperationsDto> {
    const projectId = access.project!.id;
    const branch = await this.findBranch(this.db.manager, projectId, branchId);
    let performed;
    try {
      performed = await this.operations.perform(async (tx, record) => {
        // A branch or project delete that comes first makes this a 404; one that comes later sees this operation (423).
        await lockBranchForOperation(this.operations, tx, projectId, branch.id, { thenCheck: false });
        assertBranchReady(await this.findBranch(tx, projectId, branch.id));
        await assertDatabaseQuota(tx, branch.id, this.config.databasesLimit);
        const roles = await tx.getRepository(RoleEntity).find({ where: { branchId: branch.id } });
        const owner = roles.find((r) => r.name === body.owner_name);
        if (!owner) {
          throw ApiError.validation(`invalid request: [database.owner_name] role ${body.owner_name} does not exist on branch ${branch.id}`);
        }
        const conflict = () => ApiError.conflict(`database ${body.name} already exists on branch ${branch.id}`);
        if (await tx.getRepository(DatabaseEntity).existsBy({ branchId: branch.id, name: body.name })) throw conflict();
        await assertNoOperationInProgress(this.operations, tx, projectId, [branch.id], true);
        // The readable name is free: a database of this branch whose drop is unfinished holds the 423 above.
        const physicalName = this.storage.planDatabase(body.name, branch.id);
        let database: DatabaseEntity;
        try {
          database = await tx.getRepository(DatabaseEntity).save(
            tx.getRepository(DatabaseEntity).create({ branchId: branch.id, name: body.name, ownerName: owner.name, physicalName }),
          );
        } catch (err) {
          if (isUniqueViolation(err, 'branch_databases_branch_name_key')) throw conflict();
          throw err;
        }
        await record.work<ComputeCreatePlan>(
          COMPUTE_CREATE,
          { action: 'apply_config', projectId, branchId: branch.id },
          {
            roles: [],
            databases: [{ name: physicalName, owner: owner.physicalName, connectRoles: roles.map((r) => r.physicalName) }],
            undo: { databaseId: database.id },
          },
        );
        return database;
      });
    } catch (err) {
      throw notFoundIfProjectGone(err instanceof OperationRolledBack ? err.cause : err, projectId);
    }
    return { database: toDatabaseDto(performed.value), operations: performed.operations.map((op) => toOperationDto(op)) };
  }

  /** GET …/databases/{database_name} */
  async getDatabase(access: AccessContext, branchId: string, name: string): Promise<DatabaseResponseDto> {
    const branch = await this.findBranch(this.db.manager, access.project!.id, branchId);
    const database = await this.db.getRepository(DatabaseEntity).findOneBy({ branchId: branch.id, name });
    if (!database) throw ApiError.notFound(`database ${name} on branch ${branch.id}`);
    return { database: toDatabaseDto(database) };
  }

  /**
   * Deletes a database of a branch: its row goes, and a durable operation recorded with it drops the real database
   * (retried until it is gone). Refused while Neon Auth is enabled on it (DeletionHooks); 423 while another
   * operation on the branch is unfinished.
   */
  async deleteDatabase(access: AccessContext, branchId: string, name: string): Promise<DatabaseOperationsDto> {
    const projectId = access.project!.id;
    const { value: database, operations } = await this.operations.perform(async (tx, record) => {
      await lockBranchForOperation(this.operations, tx, projectId, branchId);
      const database = await tx.getRepository(DatabaseEntity).findOne({ where: { branchId, name }, lock: { mode: 'pessimistic_write' } });
      if (!database) throw ApiError.notFound(`database ${name} on branch ${branchId}`);
      await this.branchHooks.deletingDatabase(tx, projectId, branchId, name);
      await tx.getRepository(DatabaseEntity).delete({ id: database.id });
      await record.work<ComputeDropPlan>(COMPUTE_DROP, { action: 'apply_config', projectId, branchId }, { databases: [database.physicalName], roles: [] });
      return database;
    });
    await this.branchHooks.deleted();
    return { database: toDatabaseDto(database), operations: operations.map((op) => toOperationDto(op)) };
  }

  /** A connection URI that really connects: the real role and database behind the names asked for. */
  async connectionUri(access: AccessContext, query: GetConnectionUriQueryDto): Promise<ConnectionUriResponseDto> {
    const projectId = access.project!.id;
    let branchId = query.branch_id;
    if (query.endpoint_id !== undefined) {
      const endpoint = await this.db.getRepository(EndpointEntity).findOneBy({ id: query.endpoint_id, projectId });
      if (!endpoint) throw ApiError.notFound(`endpoint ${query.endpoint_id}`);
      if (branchId !== undefined && endpoint.branchId !== branchId) {
        throw ApiError.validation(`invalid request: [endpoint_id] endpoint ${endpoint.id} does not belong to branch ${branchId}`);
      }
      branchId = endpoint.branchId;
    }
    const branch = branchId !== undefined ? await this.findBranch(this.db.manager, projectId, branchId) : await this.defaultBranch(projectId);
    const database = await this.db.getRepository(DatabaseEntity).findOneBy({ branchId: branch.id, name: query.database_name });
    if (!database) throw ApiError.notFound(`database ${query.database_name} on branch ${branch.id}`);
    const role = await this.db.getRepository(RoleEntity).findOneBy({ branchId: branch.id, name: query.role_name });
    if (!role) throw ApiError.notFound(`role ${query.role_name} on branch ${branch.id}`);
    return { uri: this.storage.connectionUri(role, database.physicalName) };
  }

  private async findBranch(em: EntityManager, projectId: string, branchId: string, field?: string): Promise<BranchEntity> {
    const branch = await em.getRepository(BranchEntity).findOneBy({ id: branchId, projectId });
    if (!branch) throw ApiError.notFound(field ? `branch ${branchId} (${field})` : `branch ${branchId}`);
    return branch;
  }

  private async defaultBranch(projectId: string): Promise<BranchEntity> {
    const branch = await this.db.getRepository(BranchEntity).findOneBy({ projectId, isDefault: true });
    if (!branch) throw ApiError.notFound(`default branch of project ${projectId}`);
    return branch;
  }
}

/** A foreign-key violation here means the project (or branch) was deleted meanwhile: 404. */
function notFoundIfProjectGone(err: unknown, projectId: string): unknown {
  return isForeignKeyViolation(err) ? ApiError.notFound(`project ${projectId}`) : err;
}
