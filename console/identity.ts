// Who the signed-in key is and what it may do, from the API itself: GET /auth (the kind of key), then for a personal
// key GET /users/me, its organizations and its membership in each (the role); an organization key is its
// organization's admin; a project-scoped key acts as a member of that one project (Neon's rules, src/iam/policy.ts).
import { api, call } from './api';

export type Role = 'admin' | 'member';

export interface OrgAccess {
  id: string;
  name: string;
  role: Role;
}

export interface Identity {
  kind: 'personal' | 'organization' | 'project';
  /** A person's name and e-mail, or the organization the key belongs to. */
  label: string;
  orgs: OrgAccess[];
  /** A project-scoped key's project. */
  projectId?: string;
}

export async function loadIdentity(): Promise<Identity> {
  const details = await call(api.users.getAuthDetails());
  const { organizations } = await call(api.users.getCurrentUserOrganizations());
  if (details.auth_method === 'api_key_org') {
    const org = organizations[0];
    const projectId = details.auth_data || undefined;
    return {
      kind: projectId ? 'project' : 'organization',
      label: projectId ? `project key of ${projectId}` : `organization key of ${org?.name ?? details.account_id}`,
      orgs: org ? [{ id: org.id, name: org.name, role: projectId ? 'member' : 'admin' }] : [],
      projectId,
    };
  }
  const me = await call(api.users.getCurrentUserInfo());
  const orgs = await Promise.all(
    organizations.map(async (org): Promise<OrgAccess> => {
      // The caller's own membership, page by page (an organization can have more members than one page holds).
      let cursor: string | undefined;
      do {
        const page = await call(api.organizations.getOrganizationMembers({ orgId: org.id, cursor, limit: 100 }));
        const mine = page.members.find((m) => m.member.user_id === me.id);
        if (mine) return { id: org.id, name: org.name, role: mine.member.role === 'admin' ? 'admin' : 'member' };
        cursor = page.members.length > 0 ? page.pagination?.next : undefined;
      } while (cursor);
      return { id: org.id, name: org.name, role: 'member' };
    }),
  );
  return { kind: 'personal', label: me.name && me.name !== me.email ? `${me.name} (${me.email})` : me.email, orgs };
}

/** What a role allows on Neon Auth, in the words the page shows. */
export function roleAllows(role: Role): string {
  return role === 'admin'
    ? 'As an admin you can enable, configure, claim and disable Neon Auth, and manage its users.'
    : 'As a member you can see Neon Auth and manage its users; enabling, configuring, claiming and disabling it need an organization admin.';
}
