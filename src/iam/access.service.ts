import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApiError } from '../common/errors.js';
import { NeonIdPipe } from '../common/validation.js';
import { ProjectEntity } from '../projects/entities/project.entity.js';
import { MemberEntity } from './entities/member.entity.js';
import { OrganizationEntity } from './entities/organization.entity.js';
import { Policy } from './policy.js';
import type { AccessContext, Principal, ProjectRole } from './principal.js';

/**
 * The access rules. Outside the caller's reach -> 404 (existence is not revealed); visible but not
 * allowed -> 403. Routes reach this through AccessGuard with their declared Policy.
 */
@Injectable()
export class AccessService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async authorize(policy: Policy, principal: Principal, params: Record<string, string | undefined>): Promise<AccessContext> {
    switch (policy) {
      case Policy.Public:
      case Policy.EmbeddedProvider:
      case Policy.Authenticated:
        return { principal };
      case Policy.PersonalKey:
        this.requirePersonal(principal);
        return { principal };
      case Policy.PlatformAdmin:
        if (principal.kind !== 'personal' || !principal.isPlatformAdmin) {
          throw ApiError.forbidden('this operation is reserved to platform admins');
        }
        return { principal };
      case Policy.ProjectCreate:
        if (principal.kind === 'project') {
          throw ApiError.forbidden('a project-scoped API key cannot create projects');
        }
        return { principal };
      case Policy.OrgMember:
      case Policy.OrgAdmin:
      case Policy.OrgAdminPersonal:
        return this.authorizeOrg(policy, principal, requireId(params, 'org_id'));
      case Policy.ProjectRead:
      case Policy.ProjectWrite:
      case Policy.ProjectAdmin:
        return this.authorizeProject(policy, principal, requireId(params, 'project_id'));
      default:
        return assertNever(policy);
    }
  }

  private requirePersonal(principal: Principal): void {
    if (principal.kind !== 'personal') {
      throw ApiError.forbidden('this operation requires a personal API key');
    }
  }

  private async authorizeOrg(policy: Policy, principal: Principal, orgId: string): Promise<AccessContext> {
    const org = await this.db.getRepository(OrganizationEntity).findOneBy({ id: orgId });
    if (!org) throw ApiError.notFound(`organization ${orgId}`);
    let orgRole: AccessContext['orgRole'];
    if (principal.kind === 'personal') {
      const member = await this.db.getRepository(MemberEntity).findOneBy({ orgId, accountId: principal.accountId });
      orgRole = member?.role;
    } else if (principal.orgId === orgId) {
      orgRole = principal.kind === 'organization' ? 'admin' : 'project_key';
    }
    if (!orgRole) throw ApiError.notFound(`organization ${orgId}`);
    if (orgRole === 'project_key') {
      throw ApiError.forbidden('a project-scoped API key cannot perform organization operations');
    }
    if ((policy === Policy.OrgAdmin || policy === Policy.OrgAdminPersonal) && orgRole !== 'admin') {
      throw ApiError.forbidden('only organization admins can perform this operation');
    }
    if (policy === Policy.OrgAdminPersonal && principal.kind !== 'personal') {
      throw ApiError.forbidden('this operation requires the personal API key of an organization admin');
    }
    return { principal, org, orgRole };
  }

  private async authorizeProject(policy: Policy, principal: Principal, projectId: string): Promise<AccessContext> {
    const project = await this.db.getRepository(ProjectEntity).findOneBy({ id: projectId });
    const projectRole = project ? await this.projectRoleOf(principal, project) : undefined;
    if (!project || !projectRole) throw ApiError.notFound(`project ${projectId}`);
    if (policy === Policy.ProjectAdmin && projectRole !== 'admin') {
      throw ApiError.forbidden('only organization admins can perform this operation on a project');
    }
    return { principal, project, projectRole };
  }

  /** The caller's role on a project, or undefined when the project is outside its reach. */
  async projectRoleOf(principal: Principal, project: ProjectEntity): Promise<ProjectRole | undefined> {
    switch (principal.kind) {
      case 'organization':
        return principal.orgId === project.orgId ? 'admin' : undefined;
      case 'project':
        return principal.projectId === project.id ? 'member' : undefined;
      case 'personal': {
        const member = await this.db
          .getRepository(MemberEntity)
          .findOneBy({ orgId: project.orgId, accountId: principal.accountId });
        if (member) return member.role;
        const grants: unknown[] = await this.db.query(
          `SELECT 1 FROM project_permissions WHERE project_id = $1 AND granted_to_email = $2 AND revoked_at IS NULL`,
          [project.id, principal.email],
        );
        return grants.length > 0 ? 'collaborator' : undefined;
      }
      default:
        return assertNever(principal);
    }
  }
}

/** The route's id parameter, checked as the route's own NeonIdPipe checks it (the guard runs before pipes). */
function requireId(params: Record<string, string | undefined>, name: string): string {
  return new NeonIdPipe().transform(params[name] as string, { type: 'param', data: name });
}

function assertNever(value: never): never {
  throw new Error(`unhandled case ${JSON.stringify(value)}`);
}
