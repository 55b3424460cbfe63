import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import { isForeignKeyViolation, isUniqueViolation } from '../common/db-errors.js';
import { ApiError } from '../common/errors.js';
import type { AccessContext } from '../iam/principal.js';
import type { ProjectPermissionDto, ProjectPermissionsDto } from './dto/permission.dto.js';
import { ProjectPermissionEntity } from './entities/project-permission.entity.js';
import { toPermissionDto } from './projects.mappers.js';

/**
 * Collaborators: a project shared with an email address. Whoever signs in with that email (now or
 * after signing up) sees the project and works on it as a collaborator; revoking ends that at once.
 */
@Injectable()
export class PermissionsService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async list(access: AccessContext): Promise<ProjectPermissionsDto> {
    const grants = await this.db.getRepository(ProjectPermissionEntity).find({
      where: { projectId: access.project!.id, revokedAt: IsNull() },
      order: { grantedAt: 'ASC', id: 'ASC' },
    });
    return { project_permissions: grants.map(toPermissionDto) };
  }

  /** Shares the project with `email`; granting an active grant again returns that grant. */
  async grant(access: AccessContext, email: string): Promise<ProjectPermissionDto> {
    const projectId = access.project!.id;
    const normalized = email.trim().toLowerCase();
    const repo = this.db.getRepository(ProjectPermissionEntity);
    const grantedBy = access.principal.kind === 'personal' ? access.principal.accountId : null;
    try {
      const saved = await repo.save(repo.create({ projectId, grantedToEmail: normalized, grantedBy, revokedAt: null }));
      return toPermissionDto(saved);
    } catch (err) {
      // The project was deleted since the route's policy read it.
      if (isForeignKeyViolation(err)) throw ApiError.notFound(`project ${projectId}`);
      if (!isUniqueViolation(err, 'project_permissions_active_key')) throw err;
      const existing = await repo.findOneBy({ projectId, grantedToEmail: normalized, revokedAt: IsNull() });
      if (!existing) throw ApiError.conflict(`a permission for ${normalized} was changed concurrently; retry`);
      return toPermissionDto(existing);
    }
  }

  async revoke(access: AccessContext, permissionId: string): Promise<ProjectPermissionDto> {
    const projectId = access.project!.id;
    return this.db.transaction(async (tx) => {
      const repo = tx.getRepository(ProjectPermissionEntity);
      const grant = await repo.findOne({ where: { id: permissionId, projectId, revokedAt: IsNull() }, lock: { mode: 'pessimistic_write' } });
      if (!grant) throw ApiError.notFound(`permission ${permissionId}`);
      grant.revokedAt = new Date();
      return toPermissionDto(await repo.save(grant));
    });
  }
}
