import { Injectable, type OnModuleInit } from '@nestjs/common';
import { CrashPoints } from '../../common/crash-points.js';
import { DeletionHooks } from '../deletion-hooks.js';
import { OperationsService } from '../operations/operations.service.js';
import { BranchDatabaseCluster } from './branch-database-cluster.js';
import { BranchStorageService, type PlannedDatabase } from './branch-storage.service.js';

/** Creates real roles and databases (a project, a branch, a database). */
export const COMPUTE_CREATE = 'compute.create';
/** Drops real databases and roles (a deleted project or branch). */
export const COMPUTE_DROP = 'compute.drop';

export interface ComputeCreatePlan {
  /** Roles to create, with their passwords encrypted (bound to the role's physical name); `login: false`: NOLOGIN. */
  roles: { name: string; passwordEncrypted: string; login?: boolean }[];
  databases: PlannedDatabase[];
  /** CONNECT on existing databases for the new roles (a role created on a branch may connect to its databases). */
  grants?: { database: string; roles: string[] }[];
  /** The branch that becomes ready when the work is done. */
  readyBranchId?: string;
  /** The rows that go when the work is undone: the new project's, the new branch's, or the new database's. */
  undo: { projectId: string } | { branchId: string } | { databaseId: string } | { roleId: string };
}

export interface ComputeDropPlan {
  /** Physical names of the databases to drop. */
  databases: string[];
  /** Physical names of the roles no branch uses any more. */
  roles: string[];
  /** CONNECT taken back from a role that other branches keep (a role deleted from one branch). */
  revokes?: { database: string; role: string }[];
}

/**
 * The physical work behind projects, branches and databases as durable operations (OperationsService): the
 * rows are written with the operation, then the objects are made on the compute server, each step idempotent.
 * A creation that fails for good drops what it made and deletes its rows; an interrupted one is resumed. A drop
 * only goes forward (its rows are already gone) until every object is gone.
 */
@Injectable()
export class ComputeOperations implements OnModuleInit {
  constructor(
    private readonly operations: OperationsService,
    private readonly storage: BranchStorageService,
    private readonly cluster: BranchDatabaseCluster,
    private readonly crash: CrashPoints,
    private readonly hooks: DeletionHooks,
  ) {}

  onModuleInit(): void {
    this.operations.register<ComputeCreatePlan>(COMPUTE_CREATE, {
      interrupted: 'forward',
      forward: async ({ plan }) => {
        for (const role of plan.roles) {
          await this.storage.ensureRole(role.name, role.passwordEncrypted, role.login ?? true);
          this.crash.reach('compute.create:role');
        }
        for (const grant of plan.grants ?? []) await this.cluster.grantConnect(grant.database, grant.roles);
        for (const db of plan.databases) {
          await this.storage.ensureDatabase(db);
          this.crash.reach('compute.create:database');
        }
      },
      rollback: async ({ plan }) => {
        // CONNECT granted to the new roles goes first: PostgreSQL drops no role that holds privileges on a database.
        for (const grant of plan.grants ?? []) for (const role of grant.roles) await this.cluster.revokeConnect(grant.database, role);
        await this.storage.drop(
          plan.databases.map((d) => d.name),
          plan.roles.map((r) => r.name),
        );
      },
      finished: async (tx, { plan }) => {
        if (plan.readyBranchId) {
          const rows = (await tx.query(`UPDATE branches SET current_state = 'ready', state_changed_at = now() WHERE id = $1 RETURNING project_id, parent_id`, [
            plan.readyBranchId,
          ])) as [{ project_id: string; parent_id: string | null }[], number];
          const branch = rows[0]?.[0];
          if (branch?.parent_id) await this.hooks.branchReady(tx, branch.project_id, plan.readyBranchId, branch.parent_id);
        }
      },
      failed: async (tx, { plan }) => {
        const undo = plan.undo;
        if ('projectId' in undo) await tx.query('DELETE FROM projects WHERE id = $1', [undo.projectId]);
        else if ('branchId' in undo) await tx.query('DELETE FROM branches WHERE id = $1', [undo.branchId]);
        else if ('roleId' in undo) await tx.query('DELETE FROM branch_roles WHERE id = $1', [undo.roleId]);
        else await tx.query('DELETE FROM branch_databases WHERE id = $1', [undo.databaseId]);
      },
    });

    this.operations.register<ComputeDropPlan>(COMPUTE_DROP, {
      interrupted: 'forward',
      forward: async ({ plan }) => {
        for (const r of plan.revokes ?? []) await this.cluster.revokeConnect(r.database, r.role);
        for (const db of plan.databases) {
          await this.cluster.dropDatabase(db);
          this.crash.reach('compute.drop:database');
        }
        await this.storage.drop([], plan.roles);
      },
    });
  }
}
