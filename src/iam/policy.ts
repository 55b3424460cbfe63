import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension } from '@nestjs/swagger';
import { ACCESS_POLICY_KEY } from '../common/access-policy.js';

/**
 * Who may call a route. Every route declares exactly one; a route without one is refused
 * (deny by default), and test/e2e/route-policies lists them all, so a change is reviewed.
 */
export enum Policy {
  /** No API key needed (health, docs; metrics checks its own METRICS_TOKEN). */
  Public = 'public',
  /** Any valid key. */
  Authenticated = 'authenticated',
  /** A personal key (acting as a person). */
  PersonalKey = 'personal_key',
  /** A personal key of a platform admin. */
  PlatformAdmin = 'platform_admin',
  /** Any member of the organization `:org_id` (personal key) or its organization key. */
  OrgMember = 'org_member',
  /** An admin of `:org_id` (personal key) or its organization key. */
  OrgAdmin = 'org_admin',
  /** An admin of `:org_id` with a personal key; organization keys may not (Neon's rule). */
  OrgAdminPersonal = 'org_admin_personal',
  /** A personal or organization key; project-scoped keys may not create projects. */
  ProjectCreate = 'project_create',
  /** Anyone who can see `:project_id`: org admin or member, collaborator, org key, its project key. */
  ProjectRead = 'project_read',
  /** Anyone who can see `:project_id` may change it (Neon: members do "most project operations"). */
  ProjectWrite = 'project_write',
  /** Org admins and organization keys only (e.g. deleting a project). */
  ProjectAdmin = 'project_admin',
  /** The embedded Stack-Auth-compatible provider's routes: authenticated by the provider itself. */
  EmbeddedProvider = 'embedded_provider',
}

export { ACCESS_POLICY_KEY };

/** Declares the route's policy, and documents it (and its bearer security) in the OpenAPI spec. */
export function Access(policy: Policy): MethodDecorator & ClassDecorator {
  const decorators = [SetMetadata(ACCESS_POLICY_KEY, policy), ApiExtension('x-access-policy', policy)];
  if (policy !== Policy.Public) decorators.push(ApiBearerAuth('BearerAuth'));
  return applyDecorators(...decorators);
}
