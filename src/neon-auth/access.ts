import type { AccessService } from '../iam/access.service.js';
import { notReplayed } from '../common/idempotency.js';
import { Policy } from '../iam/policy.js';
import type { AccessContext, Principal, ProjectRole } from '../iam/principal.js';
import type { ProjectEntity } from '../projects/entities/project.entity.js';

/**
 * Who may do what with Neon Auth (reference §7.1 and issue 4), in one place.
 *
 * - `manage`: install / remove Neon Auth, claim (ownership transfer), SDK keys -> organization admins only
 *   (an admin's personal key or the organization key). Members, collaborators and project-scoped keys: 403.
 * - `use`: create / delete users, set roles -> anyone who can see the project (admin, member, collaborator,
 *   organization key, the project's own key).
 * - `read`: reads (integration details, user lists) -> same audience as `use`.
 * Outside the caller's reach (another organization, revoked grant) -> 404, never 403.
 *
 * Routes with `:project_id` in the PATH declare `@Access(NEON_AUTH_POLICY.manage)` etc. and the global
 * AccessGuard applies the rule. Legacy routes that carry `project_id` in the BODY (POST /projects/auth/create,
 * /projects/auth/keys, /projects/auth/user, /projects/auth/transfer_ownership) declare
 * `@Access(Policy.Authenticated)` and their service calls `authorizeNeonAuthProject(...)` with the body's id:
 * both paths run the same AccessService rule, so the answers (404 / 403) are identical, and neither is stored
 * under an Idempotency-Key (see notReplayed in src/common/idempotency.ts).
 */
export type NeonAuthAccessLevel = 'manage' | 'use' | 'read';

/** The route policy of each level (for `@Access(...)` on routes with `:project_id`). */
export const NEON_AUTH_POLICY: Readonly<Record<NeonAuthAccessLevel, Policy>> = Object.freeze({
  manage: Policy.ProjectAdmin,
  use: Policy.ProjectWrite,
  read: Policy.ProjectRead,
});

/** An AccessContext whose project was resolved and checked. */
export interface ProjectAccess extends AccessContext {
  project: ProjectEntity;
  projectRole: ProjectRole;
}

/**
 * Authorizes `principal` for `level` on the project `projectId` named in a request BODY. Throws 400 for a
 * malformed id, 404 when the project is outside the caller's reach, 403 when visible but not allowed.
 */
export async function authorizeNeonAuthProject(
  access: AccessService,
  principal: Principal,
  projectId: string,
  level: NeonAuthAccessLevel,
): Promise<ProjectAccess> {
  let ctx: AccessContext;
  try {
    ctx = await access.authorize(NEON_AUTH_POLICY[level], principal, { project_id: projectId });
  } catch (err) {
    // As when the guard refuses a path route: never stored under an Idempotency-Key (access may be granted later).
    throw notReplayed(err);
  }
  return projectAccessOf(ctx);
}

/** The checked project of a route that declared a project policy (throws if the route did not). */
export function projectAccessOf(ctx: AccessContext): ProjectAccess {
  if (!ctx.project || !ctx.projectRole) {
    throw new Error('projectAccessOf: the route did not resolve a project (declare a project policy)');
  }
  return ctx as ProjectAccess;
}
