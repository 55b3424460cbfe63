import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { randomAlnum } from '../../common/ids.js';
import { LOGGER } from '../../common/logger.js';
import { SecretsService } from '../../common/secrets.js';
import type { ConnectionDetailsDto } from '../dto/compute.dto.js';
import type { EntityManager } from 'typeorm';
import type { RoleEntity } from '../entities/role.entity.js';
import { ComputeNameTakenError, BranchDatabaseCluster } from './branch-database-cluster.js';
import { physicalName as physicalNameOf } from './naming.js';

/** Attempts at a free physical role name: the readable one, then random suffixes. */
const NAME_ATTEMPTS = 4;

export interface PlannedRole {
  physicalName: string;
  password: string;
  passwordEncrypted: string;
}

/** A real database to create (empty, or a copy of `template`): what a compute.create operation records. */
export interface PlannedDatabase {
  /** Physical name. */
  name: string;
  /** Physical name of the owning role. */
  owner: string;
  /** Physical name of the database to copy, if any. */
  template?: string;
  /** Physical names of the branch's roles. */
  connectRoles: string[];
}

/**
 * The real roles and databases behind projects and branches: picks physical names (naming.ts), creates and
 * drops the objects on the compute server, each step idempotent (an operation that a crash interrupted runs its
 * steps again), and keeps role passwords encrypted (bound to the role's physical name).
 */
@Injectable()
export class BranchStorageService {
  constructor(
    private readonly cluster: BranchDatabaseCluster,
    private readonly secrets: SecretsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * The physical name and a fresh random password of the role `logical` made with a project (scope: the project id)
   * or on a branch (scope: the branch id). The name is unique on the server by construction (it carries the new
   * project's id, or the id of the branch where no role of that name exists), so whatever exists under it is this role.
   */
  planRole(scope: string, logical: string, withRandomSuffix = false): PlannedRole {
    const password = `npg_${randomAlnum(24)}`;
    const physicalName = physicalNameOf(logical, scope, withRandomSuffix);
    return { physicalName, password, passwordEncrypted: this.secrets.encrypt(password, physicalName) };
  }

  /**
   * A role made on a branch: its readable name `<logical>.<branch id>` unless a branch's role (a branch made from this
   * one keeps a role deleted here) or a role on the server already has it; then a suffixed one. Never an existing role.
   */
  async planBranchRole(tx: EntityManager, branchId: string, logical: string): Promise<PlannedRole> {
    for (let attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
      const planned = this.planRole(branchId, logical, attempt > 0);
      const used: unknown[] = await tx.query('SELECT 1 FROM branch_roles WHERE physical_name = $1 LIMIT 1', [planned.physicalName]);
      if (used.length === 0 && !(await this.cluster.roleExists(planned.physicalName))) return planned;
    }
    throw new Error(`no free physical name for role ${logical} of branch ${branchId}`);
  }

  /**
   * A database added to an existing branch: its readable name unless a row or a database on the server already has it
   * (an earlier database of that name whose drop is still pending or was given up), then a suffixed one.
   */
  async planBranchDatabase(tx: EntityManager, branchId: string, logical: string): Promise<string> {
    for (let attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
      const name = physicalNameOf(logical, branchId, attempt > 0);
      const used: unknown[] = await tx.query('SELECT 1 FROM branch_databases WHERE physical_name = $1 LIMIT 1', [name]);
      if (used.length === 0 && !(await this.cluster.databaseExists(name))) return name;
    }
    throw new Error(`no free physical name for database ${logical} of branch ${branchId}`);
  }

  /** The physical name of database `logical` of a branch (unique by construction: it carries the branch id). */
  planDatabase(logical: string, branchId: string): string {
    return physicalNameOf(logical, branchId);
  }

  /** Creates the role with its recorded password, or sets that password again when it exists. Idempotent. */
  async ensureRole(physical: string, passwordEncrypted: string, login = true): Promise<void> {
    await this.cluster.ensureRole(physical, this.secrets.decrypt(passwordEncrypted, physical), login);
  }

  /**
   * Creates the database (a copy when it has a template), or, when it exists (an earlier attempt made it), grants
   * CONNECT again. Copying needs the template idle: ComputeBusyError otherwise.
   */
  async ensureDatabase(db: PlannedDatabase): Promise<void> {
    if (await this.cluster.databaseExists(db.name)) {
      await this.cluster.grantConnect(db.name, db.connectRoles);
      return;
    }
    if (db.template === undefined) {
      await this.createIfAbsent(db);
      return;
    }
    await this.cluster.withDatabasesQuiesced([db.template], async () => {
      await this.cluster.waitUntilIdle([db.template!]);
      await this.createIfAbsent(db);
    });
  }

  private async createIfAbsent(db: PlannedDatabase): Promise<void> {
    try {
      await this.cluster.createDatabase(db);
    } catch (err) {
      if (!(err instanceof ComputeNameTakenError)) throw err;
      await this.cluster.grantConnect(db.name, db.connectRoles); // made meanwhile by a retry of the same step
    }
  }

  /** Drops real databases, then the roles no branch uses any more. Idempotent. */
  async drop(databases: string[], roles: string[]): Promise<void> {
    for (const db of databases) await this.cluster.dropDatabase(db);
    for (const role of roles) {
      try {
        await this.cluster.dropRole(role);
      } catch (err) {
        // e.g. the role owns objects somewhere else on the server; at least it can no longer log in.
        this.logger.error({ err, role }, 'could not drop a role of a deleted branch; disabling its login instead');
        await this.cluster.disableLogin(role);
      }
    }
  }

  passwordOf(role: RoleEntity): string {
    return this.secrets.decrypt(role.passwordEncrypted, role.physicalName);
  }

  connectionDetails(role: RoleEntity, password: string, physicalDatabase: string): ConnectionDetailsDto {
    const { host } = this.cluster.publicAddress;
    return {
      connection_uri: this.cluster.connectionUri({ role: role.physicalName, password, database: physicalDatabase }),
      connection_parameters: { database: physicalDatabase, password, role: role.physicalName, host, pooler_host: host },
    };
  }

  connectionUri(role: RoleEntity, physicalDatabase: string): string {
    return this.cluster.connectionUri({ role: role.physicalName, password: this.passwordOf(role), database: physicalDatabase });
  }
}
