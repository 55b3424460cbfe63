import { SetMetadata, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import passport from 'passport';
import { Strategy as BearerStrategy } from 'passport-http-bearer';
import { pino } from 'pino';
import type { DataSource } from 'typeorm';
import { ApiError } from '../../src/common/errors.js';
import { AccessGuard } from '../../src/iam/access.guard.js';
import { AccessService } from '../../src/iam/access.service.js';
import { MemberEntity, type OrgRole } from '../../src/iam/entities/member.entity.js';
import { OrganizationEntity } from '../../src/iam/entities/organization.entity.js';
import { ACCESS_POLICY_KEY, Policy } from '../../src/iam/policy.js';
import type { AccessContext, Principal } from '../../src/iam/principal.js';
import { authorizeNeonAuthProject, NEON_AUTH_POLICY } from '../../src/neon-auth/access.js';
import { ProjectEntity } from '../../src/projects/entities/project.entity.js';

/**
 * Who gets through which Policy, decided by the real AccessGuard and AccessService over an in-memory world
 * (a stub DataSource answering the three repositories and the one grants query AccessService uses).
 * Outside the caller's reach -> 404 (existence is not revealed); visible but not allowed -> 403; no key -> 401.
 *
 * The world: organization org-a (admin, member; project proj-a with a collaborator grant and a revoked one;
 * project proj-a2) and org-b (admin "outsider"; project proj-b). Keys: org-a's organization key, proj-a's key.
 */

interface Grant {
  projectId: string;
  email: string;
  revoked: boolean;
}

const ORGS = ['org-a', 'org-b'].map((id) => Object.assign(new OrganizationEntity(), { id, name: id }));
const PROJECTS = [
  { id: 'proj-a', orgId: 'org-a' },
  { id: 'proj-a2', orgId: 'org-a' },
  { id: 'proj-b', orgId: 'org-b' },
].map((p) => Object.assign(new ProjectEntity(), p));
const MEMBERS = (
  [
    ['org-a', 'acc-admin', 'admin'],
    ['org-a', 'acc-member', 'member'],
    ['org-b', 'acc-outsider', 'admin'],
  ] as [string, string, OrgRole][]
).map(([orgId, accountId, role]) => Object.assign(new MemberEntity(), { orgId, accountId, role }));
const GRANTS: Grant[] = [
  { projectId: 'proj-a', email: 'collab@x.io', revoked: false },
  { projectId: 'proj-a', email: 'revoked@x.io', revoked: true },
];

const GRANTS_SQL = /^SELECT 1 FROM project_permissions WHERE project_id = \$1 AND granted_to_email = \$2 AND revoked_at IS NULL$/;

/** Equality lookups over rows, as TypeORM's findOneBy does them for plain values. */
function repository<T extends object>(rows: T[]) {
  return {
    async findOneBy(where: Partial<T>): Promise<T | null> {
      const entries = Object.entries(where);
      return rows.find((row) => entries.every(([k, v]) => (row as Record<string, unknown>)[k] === v)) ?? null;
    },
  };
}

/** The slice of DataSource AccessService uses; anything else fails loudly. */
class StubDataSource {
  readonly queries: string[] = [];

  getRepository(entity: unknown) {
    if (entity === OrganizationEntity) return repository(ORGS);
    if (entity === ProjectEntity) return repository(PROJECTS);
    if (entity === MemberEntity) return repository(MEMBERS);
    throw new Error(`unexpected repository ${String(entity)}`);
  }

  async query(sql: string, params: unknown[]): Promise<unknown[]> {
    const text = sql.replace(/\s+/g, ' ').trim();
    this.queries.push(text);
    if (!GRANTS_SQL.test(text)) throw new Error(`unexpected SQL: ${text}`);
    const [projectId, email] = params;
    return GRANTS.filter((g) => g.projectId === projectId && g.email === email && !g.revoked).map(() => ({ '?column?': 1 }));
  }
}

const personal = (accountId: string, email: string, isPlatformAdmin = false): Principal => ({ kind: 'personal', keyId: 1, accountId, email, isPlatformAdmin });

const PRINCIPALS = {
  admin: personal('acc-admin', 'admin@x.io'),
  member: personal('acc-member', 'member@x.io'),
  collaborator: personal('acc-collab', 'collab@x.io'),
  orgKey: { kind: 'organization', keyId: 2, orgId: 'org-a' },
  projectKey: { kind: 'project', keyId: 3, orgId: 'org-a', projectId: 'proj-a' },
  platformAdmin: personal('acc-platform', 'root@x.io', true),
  outsider: personal('acc-outsider', 'outsider@x.io'),
  revokedCollaborator: personal('acc-revoked', 'revoked@x.io'),
  otherProjectKey: { kind: 'project', keyId: 4, orgId: 'org-a', projectId: 'proj-a2' },
  otherOrgKey: { kind: 'organization', keyId: 5, orgId: 'org-b' },
} satisfies Record<string, Principal>;

type Who = keyof typeof PRINCIPALS | 'none';
/** 'ok', or the status of the refusal. */
type Outcome = 'ok' | 400 | 401 | 403 | 404;

// The bearer strategy the guard runs: a key per principal, `key-<name>`. (The real one asks AuthenticationService.)
passport.use(
  'bearer',
  new BearerStrategy((token, done) => {
    const name = token.replace(/^key-/, '') as keyof typeof PRINCIPALS;
    done(null, PRINCIPALS[name] ?? false);
  }),
);

const db = new StubDataSource();
const access = new AccessService(db as unknown as DataSource);
const guard = new AccessGuard(new Reflector(), access, pino({ level: 'silent' }));

interface FakeRequest {
  headers: Record<string, string>;
  query: Record<string, string>;
  body: Record<string, unknown>;
  params: Record<string, string>;
  header(name: string): string | undefined;
  access?: AccessContext;
  callerKey?: string;
}

function request(who: Who, params: Record<string, string>, query: Record<string, string> = {}): FakeRequest {
  const headers: Record<string, string> = who === 'none' ? {} : { authorization: `Bearer key-${who}` };
  return { headers, query, body: {}, params, header: (name) => headers[name.toLowerCase()] };
}

function contextFor(policy: Policy | undefined, req: FakeRequest): ExecutionContext {
  function handler(): void {}
  class RouteController {}
  if (policy !== undefined) SetMetadata(ACCESS_POLICY_KEY, policy)(handler);
  const context = {
    getHandler: () => handler,
    getClass: () => RouteController,
    getType: () => 'http',
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => ({}), getNext: () => () => undefined }),
  };
  return context as unknown as ExecutionContext;
}

/** Runs the guard; answers 'ok' or the status of the ApiError it threw (anything else fails the test). */
async function outcome(policy: Policy | undefined, who: Who, params: Record<string, string>): Promise<Outcome> {
  try {
    await guard.canActivate(contextFor(policy, request(who, params)));
    return 'ok';
  } catch (err) {
    if (err instanceof ApiError) return err.status as Outcome;
    throw err;
  }
}

/** The route parameters a policy reads, pointing at org-a / proj-a (in the reach of the org-a principals). */
function paramsFor(policy: Policy, org = 'org-a', project = 'proj-a'): Record<string, string> {
  if (policy === Policy.OrgMember || policy === Policy.OrgAdmin || policy === Policy.OrgAdminPersonal) return { org_id: org };
  if (policy === Policy.ProjectRead || policy === Policy.ProjectWrite || policy === Policy.ProjectAdmin) return { project_id: project };
  return {};
}

const COLUMNS = ['admin', 'member', 'collaborator', 'orgKey', 'projectKey', 'none', 'platformAdmin', 'outsider'] as const satisfies readonly Who[];

/** Policy -> outcome per caller, on org-a / proj-a. Columns as in COLUMNS. */
const TABLE: Record<Policy, Outcome[]> = {
  //                                 admin  member collab orgKey projKey none  platform outsider
  [Policy.Public]: /*            */ ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'],
  [Policy.EmbeddedProvider]: /*  */ ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'],
  [Policy.Authenticated]: /*     */ ['ok', 'ok', 'ok', 'ok', 'ok', 401, 'ok', 'ok'],
  [Policy.PersonalKey]: /*       */ ['ok', 'ok', 'ok', 403, 403, 401, 'ok', 'ok'],
  [Policy.PlatformAdmin]: /*     */ [403, 403, 403, 403, 403, 401, 'ok', 403],
  [Policy.ProjectCreate]: /*     */ ['ok', 'ok', 'ok', 'ok', 403, 401, 'ok', 'ok'],
  [Policy.OrgMember]: /*         */ ['ok', 'ok', 404, 'ok', 403, 401, 404, 404],
  [Policy.OrgAdmin]: /*          */ ['ok', 403, 404, 'ok', 403, 401, 404, 404],
  [Policy.OrgAdminPersonal]: /*  */ ['ok', 403, 404, 403, 403, 401, 404, 404],
  [Policy.ProjectRead]: /*       */ ['ok', 'ok', 'ok', 'ok', 'ok', 401, 404, 404],
  [Policy.ProjectWrite]: /*      */ ['ok', 'ok', 'ok', 'ok', 'ok', 401, 404, 404],
  [Policy.ProjectAdmin]: /*      */ ['ok', 403, 403, 'ok', 403, 401, 404, 404],
};

describe('the policy table (AccessGuard + AccessService)', () => {
  it('covers every Policy', () => {
    expect(Object.keys(TABLE).sort()).toEqual(Object.values(Policy).sort());
  });

  const cases = Object.values(Policy).flatMap((policy) => COLUMNS.map((who, i) => [policy, who, TABLE[policy][i]] as const));
  it.each(cases)('%s, %s -> %s', async (policy, who, expected) => {
    expect(await outcome(policy, who, paramsFor(policy))).toBe(expected);
  });
});

describe('outside the caller reach is 404, never 403', () => {
  const orgPolicies = [Policy.OrgMember, Policy.OrgAdmin, Policy.OrgAdminPersonal];
  const projectPolicies = [Policy.ProjectRead, Policy.ProjectWrite, Policy.ProjectAdmin];
  const insiders = ['admin', 'member', 'collaborator', 'orgKey', 'projectKey'] as const;

  it.each(orgPolicies.flatMap((p) => insiders.map((who) => [p, who] as const)))('%s on another organization, %s -> 404', async (policy, who) => {
    expect(await outcome(policy, who, { org_id: 'org-b' })).toBe(404);
  });

  it.each(projectPolicies.flatMap((p) => insiders.map((who) => [p, who] as const)))('%s on another organization project, %s -> 404', async (policy, who) => {
    expect(await outcome(policy, who, { project_id: 'proj-b' })).toBe(404);
  });

  it.each([
    ['a revoked collaborator', 'revokedCollaborator', 'proj-a'],
    ['the key of another project of the same organization', 'otherProjectKey', 'proj-a'],
    ['the organization key of another organization', 'otherOrgKey', 'proj-a'],
    ['a collaborator on a project of the same organization without a grant', 'collaborator', 'proj-a2'],
  ] as const)('%s -> 404 on every project policy', async (_what, who, project) => {
    for (const policy of projectPolicies) expect([policy, await outcome(policy, who, { project_id: project })]).toEqual([policy, 404]);
  });

  it('a project that does not exist and one outside reach answer the same 404', async () => {
    const messageOf = async (who: Who, project: string) => {
      try {
        await guard.canActivate(contextFor(Policy.ProjectRead, request(who, { project_id: project })));
        return 'allowed';
      } catch (err) {
        return `${(err as ApiError).code}: ${(err as ApiError).message}`;
      }
    };
    expect(await messageOf('admin', 'proj-b')).toBe('NOT_FOUND: project proj-b not found');
    expect(await messageOf('admin', 'proj-zzz')).toBe('NOT_FOUND: project proj-zzz not found');
    expect(await messageOf('admin', 'org-zzz')).toBe('NOT_FOUND: project org-zzz not found');
  });
});

describe('what the guard leaves on the request', () => {
  it.each([
    ['admin', 'admin'],
    ['member', 'member'],
    ['collaborator', 'collaborator'],
    ['orgKey', 'admin'],
    ['projectKey', 'member'],
  ] as const)('%s reads proj-a as %s', async (who, role) => {
    const req = request(who, { project_id: 'proj-a' });
    await guard.canActivate(contextFor(Policy.ProjectRead, req));
    expect(req.access?.principal).toBe(PRINCIPALS[who]);
    expect(req.access?.project?.id).toBe('proj-a');
    expect(req.access?.projectRole).toBe(role);
  });

  it.each([
    ['admin', 'admin'],
    ['member', 'member'],
    ['orgKey', 'admin'],
  ] as const)('%s is %s of org-a', async (who, role) => {
    const req = request(who, { org_id: 'org-a' });
    await guard.canActivate(contextFor(Policy.OrgMember, req));
    expect(req.access?.org?.id).toBe('org-a');
    expect(req.access?.orgRole).toBe(role);
  });

  it('the caller key is the account for personal keys, the key itself otherwise', async () => {
    const keyOf = async (who: Who) => {
      const req = request(who, {});
      await guard.canActivate(contextFor(Policy.Authenticated, req));
      return req.callerKey;
    };
    expect(await keyOf('admin')).toBe('account:acc-admin');
    expect(await keyOf('orgKey')).toBe('org_key:2');
    expect(await keyOf('projectKey')).toBe('project_key:3');
  });

  it('a public route authenticates nobody and resolves nothing', async () => {
    const req = request('admin', {});
    expect(await guard.canActivate(contextFor(Policy.Public, req))).toBe(true);
    expect(req.access).toBeUndefined();
  });
});

describe('refusals before any lookup', () => {
  it('a route without a policy is refused (deny by default)', async () => {
    expect(await outcome(undefined, 'admin', {})).toBe(403);
  });

  it('an unknown key is 401', async () => {
    const req = { ...request('none', {}), headers: { authorization: 'Bearer key-nobody' } };
    req.header = (name: string) => req.headers[name.toLowerCase() as 'authorization'];
    await expect(guard.canActivate(contextFor(Policy.Authenticated, req))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('a key in the query string instead of the header is 401 with a hint', async () => {
    const req = request('none', {}, { access_token: 'key-admin' });
    await expect(guard.canActivate(contextFor(Policy.Authenticated, req))).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: 'send the API key in the Authorization header ("Authorization: Bearer <key>")',
    });
  });

  it('a malformed id is 400 whoever asks, and reaches no repository', async () => {
    const before = db.queries.length;
    expect(await outcome(Policy.ProjectRead, 'admin', { project_id: 'Proj_A' })).toBe(400);
    expect(await outcome(Policy.OrgMember, 'orgKey', { org_id: '' })).toBe(400);
    expect(await outcome(Policy.ProjectRead, 'admin', {})).toBe(400);
    expect(db.queries.length).toBe(before);
  });
});

describe('Neon Auth levels (src/neon-auth/access.ts)', () => {
  it('manage / use / read are ProjectAdmin / ProjectWrite / ProjectRead', () => {
    expect(NEON_AUTH_POLICY).toEqual({ manage: Policy.ProjectAdmin, use: Policy.ProjectWrite, read: Policy.ProjectRead });
  });

  it('a body project_id gets the same answers as a path one, and the refusal is marked not to be replayed', async () => {
    const status = async (principal: Principal, projectId: string, level: 'manage' | 'use' | 'read'): Promise<Outcome | string> => {
      try {
        const ctx = await authorizeNeonAuthProject(access, principal, projectId, level);
        return `ok:${ctx.projectRole}`;
      } catch (err) {
        expect((err as Record<symbol, unknown>)[Symbol.for('idempotency.notReplayed')]).toBe(true);
        return (err as ApiError).status as Outcome;
      }
    };
    expect(await status(PRINCIPALS.admin, 'proj-a', 'manage')).toBe('ok:admin');
    expect(await status(PRINCIPALS.member, 'proj-a', 'manage')).toBe(403);
    expect(await status(PRINCIPALS.collaborator, 'proj-a', 'use')).toBe('ok:collaborator');
    expect(await status(PRINCIPALS.projectKey, 'proj-a', 'manage')).toBe(403);
    expect(await status(PRINCIPALS.projectKey, 'proj-a', 'read')).toBe('ok:member');
    expect(await status(PRINCIPALS.outsider, 'proj-a', 'read')).toBe(404);
    expect(await status(PRINCIPALS.orgKey, 'proj-b', 'manage')).toBe(404);
  });
});
