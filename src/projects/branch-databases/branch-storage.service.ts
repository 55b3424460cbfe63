import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { randomAlnum } from '../../common/ids.js';
import { LOGGER } from '../../common/logger.js';
import { SecretsService } from '../../common/secrets.js';
import type { ConnectionDetailsDto } from '../dto/compute.dto.js';
import type { RoleEntity } from '../entities/role.entity.js';
import { Compensations } from './compensations.js';
import { ComputeNameTakenError, BranchDatabaseCluster } from './branch-database-cluster.js';
import { physicalName } from './naming.js';

/** Attempts at a free physical name: the readable one, then random suffixes. */
const NAME_ATTEMPTS = 4;

export interface CreatedRole {
  physicalName: string;
  password: string;
  passwordEncrypted: string;
}

export interface DatabaseSpec {
  /** Name shown in the API. */
  logical: string;
  branchId: string;
  /** Physical name of the owning role. */
  owner: string;
  /** Physical name of the database to copy, if any. */
  template?: string;
  /** Physical names of the branch's roles. */
  connectRoles: string[];
}

/**
 * The real roles and databases behind projects and branches: picks physical names (naming.ts),
 * creates the objects on the compute server, registers their undo, and keeps role passwords
 * encrypted (bound to the role's physical name).
 */
@Injectable()
export class BranchStorageService {
  constructor(
    private readonly cluster: BranchDatabaseCluster,
    private readonly secrets: SecretsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  newCompensations(): Compensations {
    return new Compensations(this.logger);
  }

  /** Creates the real login role of `logical` for a project, with a fresh random password. */
  async createRole(undo: Compensations, projectId: string, logical: string): Promise<CreatedRole> {
    const password = `npg_${randomAlnum(24)}`;
    for (let attempt = 0; ; attempt++) {
      const name = physicalName(logical, projectId, attempt > 0);
      try {
        await this.cluster.createRole(name, password);
      } catch (err) {
        if (err instanceof ComputeNameTakenError && attempt + 1 < NAME_ATTEMPTS) continue;
        throw err;
      }
      undo.add(`drop role ${name}`, () => this.cluster.dropRole(name));
      return { physicalName: name, password, passwordEncrypted: this.secrets.encrypt(password, name) };
    }
  }

  /** Creates a real database for a branch (empty, or a copy of `spec.template`); returns its physical name. */
  async createDatabase(undo: Compensations, spec: DatabaseSpec): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const name = physicalName(spec.logical, spec.branchId, attempt > 0);
      try {
        await this.cluster.createDatabase({ name, owner: spec.owner, template: spec.template, connectRoles: spec.connectRoles });
      } catch (err) {
        if (err instanceof ComputeNameTakenError && attempt + 1 < NAME_ATTEMPTS) continue;
        throw err;
      }
      undo.add(`drop database ${name}`, () => this.cluster.dropDatabase(name));
      return name;
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
