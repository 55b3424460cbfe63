import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, type SelectQueryBuilder } from 'typeorm';
import { withFreshIds } from '../common/db-errors.js';
import { ApiError } from '../common/errors.js';
import { newBranchId, newEndpointId, newProjectId } from '../common/ids.js';
import { encodeCursor, keysetPage } from '../common/pagination.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { MemberEntity } from '../iam/entities/member.entity.js';
import type { AccessContext, Principal, ProjectRole } from '../iam/principal.js';
import { BranchStorageService } from './branch-databases/branch-storage.service.js';
import { BranchDatabaseCluster } from './branch-databases/branch-database-cluster.js';
import { validatePgName } from './branch-databases/naming.js';
import type {
  ListProjectsQueryDto,
  ListSharedProjectsQueryDto,
  ProjectCreateBodyDto,
  ProjectCreateResponseDto,
  ProjectResponseDto,
  ProjectsResponseDto,
  ProjectUpdateBodyDto,
  ProjectUpdateResponseDto,
  SharedProjectsResponseDto,
} from './dto/project.dto.js';
import { BranchEntity } from './entities/branch.entity.js';
import { DatabaseEntity } from './entities/database.entity.js';
import { EndpointEntity } from './entities/endpoint.entity.js';
import { ProjectEntity, type ProjectSettings } from './entities/project.entity.js';
import { ProjectSettingsChecks } from './project-settings-checks.js';
import { assertProjectQuota } from './quotas.js';
import { RoleEntity } from './entities/role.entity.js';
import {
  toBranchDto,
  toDatabaseDto,
  toEndpointDto,
  toOperationDto,
  toProjectDto,
  toProjectListItemDto,
  toRoleDto,
} from './projects.mappers.js';
import { DeletionHooks } from './deletion-hooks.js';
import { COMPUTE_CREATE, COMPUTE_DROP, type ComputeCreatePlan, type ComputeDropPlan } from './branch-databases/compute-operations.js';
import { assertNoOperationInProgress } from './operations/operation-locks.js';
import { OperationRolledBack, OperationsService } from './operations/operations.service.js';

const DEFAULT_PAGE_SIZE = 10;
export const ORG_ID_REQUIRED = 'org_id is required, you can find it on your organization settings page';

interface ProjectPageRow extends Record<string, unknown> {
  id: string;
  role: ProjectRole;
  org_name: string;
  __sort_key: string;
  __id: string;
}

/**
 * Projects: listing what the caller can see, creating one with its default branch `main`, database
 * `neondb` and role `neondb_owner` as real objects on the compute server, updating settings, and
 * deleting it with every real database and role it had.
 */
@Injectable()
export class ProjectsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly cluster: BranchDatabaseCluster,
    private readonly settingsChecks: ProjectSettingsChecks,
    private readonly storage: BranchStorageService,
    private readonly operations: OperationsService,
    private readonly branchHooks: DeletionHooks,
  ) {}

  /**
   * Personal keys: projects of the organizations the account belongs to, plus projects shared with
   * its email. Organization keys: the organization's projects. Project keys: their project.
   * `org_id` narrows that to one organization the caller belongs to (404 for any other).
   * Newest first; keyset cursor.
   */
  async list(principal: Principal, query: ListProjectsQueryDto): Promise<ProjectsResponseDto> {
    if (query.org_id !== undefined) await this.assertOrgVisible(principal, query.org_id);
    if (query.recoverable) return { projects: [], applications: {}, integrations: {} };
    const qb = this.visibleProjects(principal, 'all');
    if (query.org_id !== undefined) qb.andWhere('p.org_id = :filterOrgId', { filterOrgId: query.org_id });
    const page = await this.page(qb, query);
    return { ...page, applications: {}, integrations: {} };
  }

  /** Projects shared with the caller's email through project permissions (personal keys; none for other keys). */
  async listShared(principal: Principal, query: ListSharedProjectsQueryDto): Promise<SharedProjectsResponseDto> {
    if (principal.kind !== 'personal') return { projects: [] };
    return this.page(this.visibleProjects(principal, 'shared'), query);
  }

  async create(principal: Principal, body: ProjectCreateBodyDto): Promise<ProjectCreateResponseDto> {
    const orgId = await this.resolveOrgForCreate(principal, body.org_id);
    if (body.region_id !== undefined && body.region_id !== this.config.regionId) {
      throw ApiError.validation(`invalid request: [project.region_id] region ${body.region_id} is not available; this server's region is ${this.config.regionId}`);
    }
    const pgVersion = await this.cluster.serverMajorVersion();
    if (body.pg_version !== undefined && body.pg_version !== pgVersion) {
      throw ApiError.validation(`invalid request: [project.pg_version] PostgreSQL ${body.pg_version} is not available; the compute server runs PostgreSQL ${pgVersion}`);
    }
    const databaseName = body.branch?.database_name ?? 'neondb';
    const roleName = validatePgName(body.branch?.role_name ?? `${databaseName}_owner`, 'project.branch.role_name', 'role');

    return withFreshIds(() => this.createOnce(principal, body, { orgId, pgVersion, databaseName, roleName }));
  }

  private async createOnce(
    principal: Principal,
    body: ProjectCreateBodyDto,
    { orgId, pgVersion, databaseName, roleName }: { orgId: string; pgVersion: number; databaseName: string; roleName: string },
  ): Promise<ProjectCreateResponseDto> {
    const ids = { projectId: newProjectId(), branchId: newBranchId(), endpointId: newEndpointId() };
    let performed;
    try {
      performed = await this.operations.perform(async (tx, record) => {
        await assertProjectQuota(tx, orgId, this.config.projectsLimit);
        const project = await tx.getRepository(ProjectEntity).save(
          tx.getRepository(ProjectEntity).create({
            id: ids.projectId,
            orgId,
            name: body.name ?? ids.projectId,
            regionId: this.config.regionId,
            pgVersion,
            settings: (body.settings ?? {}) as ProjectSettings,
            storePasswords: true,
            historyRetentionSeconds: body.history_retention_seconds ?? 86400,
            creationSource: 'console',
            ownerId: principal.kind === 'personal' ? principal.accountId : null,
          }),
        );
        const branch = await tx.getRepository(BranchEntity).save(
          tx.getRepository(BranchEntity).create({
            id: ids.branchId,
            projectId: project.id,
            parentId: null,
            name: body.branch?.name ?? 'main',
            isDefault: true,
            currentState: 'init',
          }),
        );
        const endpoint = await tx.getRepository(EndpointEntity).save(
          tx.getRepository(EndpointEntity).create({ id: ids.endpointId, projectId: project.id, branchId: branch.id, type: 'read_write' }),
        );
        const planned = this.storage.planRole(project.id, roleName);
        const role = await tx.getRepository(RoleEntity).save(
          tx.getRepository(RoleEntity).create({
            branchId: branch.id,
            name: roleName,
            physicalName: planned.physicalName,
            passwordEncrypted: planned.passwordEncrypted,
          }),
        );
        const physicalDb = this.storage.planDatabase(databaseName, branch.id);
        const database = await tx.getRepository(DatabaseEntity).save(
          tx.getRepository(DatabaseEntity).create({ branchId: branch.id, name: databaseName, ownerName: roleName, physicalName: physicalDb }),
        );
        await record.work<ComputeCreatePlan>(
          COMPUTE_CREATE,
          { action: 'create_timeline', projectId: project.id, branchId: branch.id },
          {
            roles: [{ name: role.physicalName, passwordEncrypted: role.passwordEncrypted }],
            databases: [{ name: physicalDb, owner: role.physicalName, connectRoles: [role.physicalName] }],
            readyBranchId: branch.id,
            undo: { projectId: project.id },
          },
        );
        await record.also({ action: 'start_compute', ...ids });
        return { project, branch, endpoint, role, database, password: planned.password };
      });
    } catch (err) {
      throw err instanceof OperationRolledBack ? err.cause : err;
    }
    const created = performed.value;
    const branch = (await this.db.getRepository(BranchEntity).findOneBy({ id: created.branch.id })) ?? created.branch;
    const { host } = this.cluster.publicAddress;
    return {
      project: toProjectDto(created.project, { host, role: 'admin' }),
      connection_uris: [this.storage.connectionDetails(created.role, created.password, created.database.physicalName)],
      roles: [toRoleDto(created.role, created.password)],
      databases: [toDatabaseDto(created.database)],
      operations: performed.operations.map((op) => toOperationDto(op)),
      branch: toBranchDto(branch),
      endpoints: [toEndpointDto(created.endpoint, host, created.project.regionId)],
    };
  }

  get(access: AccessContext): ProjectResponseDto {
    return { project: toProjectDto(access.project!, { host: this.cluster.publicAddress.host, role: access.projectRole }) };
  }

  async update(access: AccessContext, body: ProjectUpdateBodyDto): Promise<ProjectUpdateResponseDto> {
    const project = await this.db.transaction(async (tx) => {
      const repo = tx.getRepository(ProjectEntity);
      // FOR NO KEY UPDATE: serializes with other updates and with DELETE, but not with the KEY SHARE lock that an
      // in-flight branch or database creation holds on the project (which may copy databases for minutes).
      const current = await repo.findOne({ where: { id: access.project!.id }, lock: { mode: 'for_no_key_update' } });
      if (!current) throw ApiError.notFound(`project ${access.project!.id}`);
      if (body.name !== undefined) current.name = body.name;
      if (body.history_retention_seconds !== undefined) current.historyRetentionSeconds = body.history_retention_seconds;
      if (body.settings !== undefined) {
        const before = current.settings;
        current.settings = { ...current.settings, ...stripUndefined(body.settings) };
        // Features built on projects hold settings to their rules (Neon Auth: no Private Link / IP Allow while enabled).
        await this.settingsChecks.run(tx, current.id, before, current.settings);
      }
      return repo.save(current);
    });
    return { project: toProjectDto(project, { host: this.cluster.publicAddress.host, role: access.projectRole }), operations: [] };
  }

  /**
   * Deletes the project: its rows go, and a durable operation (recorded in the same transaction) drops every real
   * database of its branches and its roles, retried by the reconciler until they are gone. 423 while another
   * operation on the project is unfinished.
   */
  async delete(access: AccessContext): Promise<ProjectResponseDto> {
    const projectId = access.project!.id;
    const { value: project } = await this.operations.perform(async (tx, record) => {
      const current = await tx.getRepository(ProjectEntity).findOne({ where: { id: projectId }, lock: { mode: 'pessimistic_write' } });
      if (!current) throw ApiError.notFound(`project ${projectId}`);
      await assertNoOperationInProgress(this.operations, tx, projectId);
      const databases: { physical_name: string }[] = await tx.query(
        `SELECT d.physical_name FROM branch_databases d JOIN branches b ON b.id = d.branch_id WHERE b.project_id = $1 ORDER BY d.id`,
        [projectId],
      );
      const roles: { physical_name: string }[] = await tx.query(
        `SELECT DISTINCT r.physical_name FROM branch_roles r JOIN branches b ON b.id = r.branch_id WHERE b.project_id = $1`,
        [projectId],
      );
      const branches: { id: string }[] = await tx.query('SELECT id FROM branches WHERE project_id = $1', [projectId]);
      await this.branchHooks.deleting(tx, projectId, branches.map((b) => b.id));
      await tx.getRepository(ProjectEntity).delete({ id: projectId });
      await record.work<ComputeDropPlan>(
        COMPUTE_DROP,
        { action: 'delete_timeline', projectId },
        { databases: databases.map((d) => d.physical_name), roles: roles.map((r) => r.physical_name) },
      );
      return current;
    });
    await this.branchHooks.deleted();
    return { project: toProjectDto(project, { host: this.cluster.publicAddress.host, role: access.projectRole }) };
  }

  private async page(
    qb: SelectQueryBuilder<ProjectEntity>,
    query: { cursor?: string; limit?: number; search?: string },
  ): Promise<{ projects: ReturnType<typeof toProjectListItemDto>[]; pagination?: { cursor: string } }> {
    if (query.search) {
      qb.andWhere(`(p.name ILIKE :search ESCAPE '\\' OR p.id ILIKE :search ESCAPE '\\')`, { search: `%${escapeLike(query.search)}%` });
    }
    const page = await keysetPage<ProjectEntity, ProjectPageRow>(qb, {
      sortExpr: 'p.created_at',
      sortType: 'timestamptz',
      idExpr: 'p.id',
      order: 'desc',
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      cursor: query.cursor,
    });
    const entities = await this.db.getRepository(ProjectEntity).findBy({ id: In(page.rows.map((r) => r.id)) });
    const byId = new Map(entities.map((e) => [e.id, e]));
    const host = this.cluster.publicAddress.host;
    const projects = page.rows
      .filter((r) => byId.has(r.id)) // deleted between the two reads
      .map((r) => toProjectListItemDto(byId.get(r.id)!, { host, role: r.role, orgName: r.org_name }));
    const last = page.rows[page.rows.length - 1];
    // Neon always returns the cursor of the page's last project; neonctl keeps asking while pages are full.
    return { projects, ...(last ? { pagination: { cursor: encodeCursor({ k: last.__sort_key, id: last.__id }) } } : {}) };
  }

  /** Projects the principal can see, with its role on each (`shared`: only those shared with it by email). */
  private visibleProjects(principal: Principal, scope: 'all' | 'shared'): SelectQueryBuilder<ProjectEntity> {
    const qb = this.db
      .getRepository(ProjectEntity)
      .createQueryBuilder('p')
      .innerJoin('organizations', 'o', 'o.id = p.org_id')
      .select(['p.id AS id', 'o.name AS org_name']);
    const shared = `EXISTS (SELECT 1 FROM project_permissions pp WHERE pp.project_id = p.id AND pp.granted_to_email = :email AND pp.revoked_at IS NULL)`;
    switch (principal.kind) {
      case 'personal': {
        const params = { accountId: principal.accountId, email: principal.email };
        qb.addSelect(
          `COALESCE((SELECT m.role FROM organization_members m WHERE m.org_id = p.org_id AND m.account_id = :accountId), 'collaborator')`,
          'role',
        );
        if (scope === 'shared') return qb.where(shared, params);
        return qb.where(
          `(p.org_id IN (SELECT m2.org_id FROM organization_members m2 WHERE m2.account_id = :accountId) OR ${shared})`,
          params,
        );
      }
      case 'organization':
        return qb.addSelect(`'admin'`, 'role').where('p.org_id = :keyOrgId', { keyOrgId: principal.orgId });
      case 'project':
        return qb.addSelect(`'member'`, 'role').where('p.id = :keyProjectId', { keyProjectId: principal.projectId });
    }
  }

  /** 404 unless the caller belongs to the organization (personal: member; organization/project keys: their own). */
  private async assertOrgVisible(principal: Principal, orgId: string): Promise<void> {
    const visible =
      principal.kind === 'personal'
        ? (await this.db.getRepository(MemberEntity).countBy({ orgId, accountId: principal.accountId })) > 0
        : principal.orgId === orgId;
    if (!visible) throw ApiError.notFound(`organization ${orgId}`);
  }

  /**
   * The organization a new project goes to: `org_id` from the body (which the caller must belong to),
   * else the organization of an organization key, else the only organization of a personal key's
   * account; with several (or none), Neon's 400 "org_id is required".
   */
  private async resolveOrgForCreate(principal: Principal, orgId: string | undefined): Promise<string> {
    if (orgId !== undefined) {
      await this.assertOrgVisible(principal, orgId);
      return orgId;
    }
    if (principal.kind !== 'personal') return principal.orgId;
    const memberships = await this.db.getRepository(MemberEntity).find({ where: { accountId: principal.accountId }, take: 2 });
    if (memberships.length !== 1) throw ApiError.validation(ORG_ID_REQUIRED);
    return memberships[0].orgId;
  }
}

export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
