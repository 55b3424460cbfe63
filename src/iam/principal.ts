import type { OrgRole } from './entities/member.entity.js';
import type { OrganizationEntity } from './entities/organization.entity.js';
import type { ProjectEntity } from '../projects/entities/project.entity.js';

/** Who is calling, as established from the API key. Services take this, never a request. */
export type Principal =
  | { kind: 'personal'; keyId: number; accountId: string; email: string; isPlatformAdmin: boolean }
  | { kind: 'organization'; keyId: number; orgId: string }
  | { kind: 'project'; keyId: number; orgId: string; projectId: string };

/** A caller's effective role on a project. */
export type ProjectRole = 'admin' | 'member' | 'collaborator';

/** The principal plus whatever resource the route's policy resolved and checked. */
export interface AccessContext {
  principal: Principal;
  org?: OrganizationEntity;
  /** Role in `org`; organization keys act as admin, project keys as 'project_key'. */
  orgRole?: OrgRole | 'project_key';
  project?: ProjectEntity;
  projectRole?: ProjectRole;
}

/** The caller an Idempotency-Key belongs to: personal keys act for their account, other keys for themselves. */
export function callerKeyOf(principal: Principal): string {
  switch (principal.kind) {
    case 'personal':
      return `account:${principal.accountId}`;
    case 'organization':
      return `org_key:${principal.keyId}`;
    case 'project':
      return `project_key:${principal.keyId}`;
  }
}
