import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isUniqueViolation } from '../common/db-errors.js';
import { ApiError } from '../common/errors.js';
import type { AccessContext } from '../iam/principal.js';
import { BranchStorageService } from './branch-databases/branch-storage.service.js';
import { COMPUTE_CREATE, COMPUTE_DROP, type ComputeCreatePlan, type ComputeDropPlan } from './branch-databases/compute-operations.js';
import type { RoleCreateBodyDto, RoleOperationsDto, RolePasswordResponseDto, RoleResponseDto, RolesResponseDto } from './dto/role.dto.js';
import { BranchEntity } from './entities/branch.entity.js';
import { DatabaseEntity } from './entities/database.entity.js';
import { RoleEntity } from './entities/role.entity.js';
import { assertBranchReady, assertNoOperationInProgress, lockBranchForOperation } from './operations/operation-locks.js';
import { OperationRolledBack, OperationsService } from './operations/operations.service.js';
import { toOperationDto, toRoleDto } from './projects.mappers.js';

/**
 * Roles of a branch (Neon's `/roles`): real roles on the compute server. A role made on a branch is a new physical
 * role (`<name>.<branch id>`) that may connect to the branch's databases; branches created from it later inherit it,
 * as they inherit the project's roles. Creating and deleting are durable operations.
 */
@Injectable()
export class RolesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly storage: BranchStorageService,
    private readonly operations: OperationsService,
  ) {}

  async list(access: AccessContext, branchId: string): Promise<RolesResponseDto> {
    await this.branch(access, branchId);
    const roles = await this.db.getRepository(RoleEntity).find({ where: { branchId }, order: { createdAt: 'ASC', id: 'ASC' } });
    return { roles: roles.map((r) => toRoleDto(r)) };
  }

  async get(access: AccessContext, branchId: string, name: string): Promise<RoleResponseDto> {
    return { role: toRoleDto(await this.role(access, branchId, name)) };
  }

  /** The role's password (stored encrypted; every role made here has one). */
  async revealPassword(access: AccessContext, branchId: string, name: string): Promise<RolePasswordResponseDto> {
    return { password: this.storage.passwordOf(await this.role(access, branchId, name)) };
  }

  async create(access: AccessContext, branchId: string, body: RoleCreateBodyDto): Promise<RoleOperationsDto> {
    const projectId = access.project!.id;
    const conflict = () => ApiError.conflict(`role ${body.name} already exists on branch ${branchId}`);
    let performed;
    try {
      performed = await this.operations.perform(async (tx, record) => {
        await lockBranchForOperation(this.operations, tx, projectId, branchId, { thenCheck: false });
        assertBranchReady(await tx.getRepository(BranchEntity).findOneByOrFail({ id: branchId }));
        if (await tx.getRepository(RoleEntity).existsBy({ branchId, name: body.name })) throw conflict();
        await assertNoOperationInProgress(this.operations, tx, projectId, [branchId], true);
        const planned = this.storage.planBranchRole(branchId, body.name);
        let role: RoleEntity;
        try {
          role = await tx.getRepository(RoleEntity).save(
            tx.getRepository(RoleEntity).create({ branchId, name: body.name, physicalName: planned.physicalName, passwordEncrypted: planned.passwordEncrypted }),
          );
        } catch (err) {
          if (isUniqueViolation(err, 'branch_roles_branch_name_key')) throw conflict();
          throw err;
        }
        const databases = await tx.getRepository(DatabaseEntity).find({ where: { branchId } });
        await record.work<ComputeCreatePlan>(
          COMPUTE_CREATE,
          { action: 'apply_config', projectId, branchId },
          {
            roles: [{ name: planned.physicalName, passwordEncrypted: planned.passwordEncrypted, login: body.no_login !== true }],
            databases: [],
            grants: databases.map((d) => ({ database: d.physicalName, roles: [planned.physicalName] })),
            undo: { roleId: role.id },
          },
        );
        return { role, password: planned.password };
      });
    } catch (err) {
      throw err instanceof OperationRolledBack ? err.cause : err;
    }
    return { role: toRoleDto(performed.value.role, performed.value.password), operations: performed.operations.map((op) => toOperationDto(op)) };
  }

  /**
   * Deletes a role of a branch (not one that owns a database of the branch): its row goes; a durable operation takes
   * its CONNECT on the branch's databases back and drops the real role when no other branch has it.
   */
  async delete(access: AccessContext, branchId: string, name: string): Promise<RoleOperationsDto> {
    const projectId = access.project!.id;
    const { value: role, operations } = await this.operations.perform(async (tx, record) => {
      await lockBranchForOperation(this.operations, tx, projectId, branchId);
      const role = await tx.getRepository(RoleEntity).findOne({ where: { branchId, name }, lock: { mode: 'pessimistic_write' } });
      if (!role) throw ApiError.notFound(`role ${name} on branch ${branchId}`);
      const databases = await tx.getRepository(DatabaseEntity).find({ where: { branchId } });
      const owned = databases.filter((d) => d.ownerName === name).map((d) => d.name);
      if (owned.length > 0) throw ApiError.conflict(`role ${name} owns database ${owned.join(', ')} on branch ${branchId}: delete the database first`);
      await tx.getRepository(RoleEntity).delete({ id: role.id });
      const shared = await tx.getRepository(RoleEntity).existsBy({ physicalName: role.physicalName });
      await record.work<ComputeDropPlan>(
        COMPUTE_DROP,
        { action: 'apply_config', projectId, branchId },
        {
          databases: [],
          // Its CONNECT grants go first: PostgreSQL drops no role that still holds privileges on a database.
          revokes: databases.map((d) => ({ database: d.physicalName, role: role.physicalName })),
          roles: shared ? [] : [role.physicalName],
        },
      );
      return role;
    });
    return { role: toRoleDto(role), operations: operations.map((op) => toOperationDto(op)) };
  }

  private async branch(access: AccessContext, branchId: string): Promise<BranchEntity> {
    const branch = await this.db.getRepository(BranchEntity).findOneBy({ id: branchId, projectId: access.project!.id });
    if (!branch) throw ApiError.notFound(`branch ${branchId}`);
    return branch;
  }

  private async role(access: AccessContext, branchId: string, name: string): Promise<RoleEntity> {
    await this.branch(access, branchId);
    const role = await this.db.getRepository(RoleEntity).findOneBy({ branchId, name });
    if (!role) throw ApiError.notFound(`role ${name} on branch ${branchId}`);
    return role;
  }
}
