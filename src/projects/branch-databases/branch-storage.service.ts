import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { randomAlnum } from '../../common/ids.js';
import { LOGGER } from '../../common/logger.js';
import { SecretsService } from '../../common/secrets.js';
import type { ConnectionDetailsDto } from '../dto/compute.dto.js';
import type { RoleEntity } from '../entities/role.entity.js';
import { ComputeNameTakenError, BranchDatabaseCluster } from './branch-database-cluster.js';
import { physicalName as physicalNameOf } from './naming.js';

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
   * A role made on a branch: `<logical>~<6 random>.<branch id>`. Always suffixed: the readable name may still be held
   * by a branch made from this one (it keeps a role deleted here), or be about to be dropped by another branch's
   * unfinished drop, and a new role must never take over or lose to an existing one.
   */
  planBranchRole(branchId: string, logical: string): PlannedRole {
    return this.planRole(branchId, logical, true);
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
