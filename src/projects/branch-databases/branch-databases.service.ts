import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApiError } from '../../common/errors.js';
import { BranchEntity } from '../entities/branch.entity.js';
import { DatabaseEntity } from '../entities/database.entity.js';
import { RoleEntity } from '../entities/role.entity.js';
import { validatePgName } from './naming.js';

/** A real branch database on the cluster: where a branch's data (and Neon Auth's `neon_auth` schema) lives. */
export interface BranchDatabase {
  branchId: string;
  /** Name in the API, e.g. "neondb". */
  name: string;
  /** Name of the real database on the cluster. */
  physicalName: string;
  /** Physical name of the role that owns the database (and the objects Neon Auth provisions in it). */
  ownerRole: string;
}

/** Finds the real database behind a branch's database name (the control plane's records; no cluster round trip). */
@Injectable()
export class BranchDatabasesService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * The database `databaseName` of the branch (validated, as it comes from a request; `field` names it in the
   * 400), or the branch's first database (the project's default `neondb`). 404 when the branch or database does
   * not exist in the project.
   */
  async resolve(projectId: string, branchId: string, databaseName?: string, field = 'database_name'): Promise<BranchDatabase> {
    if (databaseName !== undefined) validatePgName(databaseName, field, 'database');
    const branch = await this.db.getRepository(BranchEntity).findOneBy({ id: branchId, projectId });
    if (!branch) throw ApiError.notFound(`branch ${branchId}`);
    const database =
      databaseName !== undefined
        ? await this.db.getRepository(DatabaseEntity).findOneBy({ branchId, name: databaseName })
        : await this.db.getRepository(DatabaseEntity).findOne({ where: { branchId }, order: { id: 'ASC' } });
    if (!database) {
      throw ApiError.notFound(databaseName !== undefined ? `database ${databaseName} on branch ${branchId}` : `a database on branch ${branchId}`);
    }
    const owner = await this.db.getRepository(RoleEntity).findOneBy({ branchId, name: database.ownerName });
    // A database row without its owner's row: the branch was deleted between the two reads.
    if (!owner) throw ApiError.notFound(`branch ${branchId}`);
    return { branchId, name: database.name, physicalName: database.physicalName, ownerRole: owner.physicalName };
  }
}
