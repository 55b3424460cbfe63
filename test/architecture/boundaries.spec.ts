import path from 'node:path';
import { describeEdges, importsOf, isWithin, relative, sourcesUnder, src, SRC, stringLiterals, tsFiles, type Source } from './source-tree.js';

/**
 * The walls of the source tree, read from the code itself (no database). Each rule names a room, the rooms it
 * must not import, and what it may still take from them; a second test per rule feeds it a made-up file that
 * breaks it, so a rule that cannot fail is caught too. A change to a rule here is a change to the architecture
 * (README, "Architecture").
 */
interface Wall {
  name: string;
  /** The room whose imports are checked (a folder or one file). */
  from: string;
  /** Rooms it must not import. */
  forbidden: string[];
  /** Files (extension-less) of a forbidden room it may import nonetheless. */
  allowed?: string[];
  /** A made-up file in `from` that breaks the rule. */
  breach: { file: string; text: string };
}

const NEON_AUTH = src('neon-auth');
const INTEGRATIONS = src('neon-auth', 'integrations');
const FEATURES = ['iam', 'projects', 'neon-auth', 'providers', 'stack-auth', 'sync', 'ops', 'openapi', 'database', 'audit'].map((d) => src(d));
/** The modules that build on integrations side by side: none imports another's service. */
const MISSIONS = { users: src('neon-auth', 'users'), 'sdk-keys': src('neon-auth', 'sdk-keys'), ownership: src('neon-auth', 'ownership'), sync: src('sync') };
/** What the missions may import from src/neon-auth/integrations: the resolver and the entity it hands out. */
const RESOLVER = ['integration-resolver', 'integration-resolver.module', 'integration.entity'].map((f) => path.join(INTEGRATIONS, f));

const WALLS: Wall[] = [
  {
    name: 'src/common imports no feature folder (only src/config beside it)',
    from: src('common'),
    forbidden: FEATURES,
    breach: { file: src('common', 'idempotency.ts'), text: "import type { Principal } from '../iam/principal.js';" },
  },
  {
    name: 'src/projects imports neither Neon Auth nor the sync engine (they register hooks with it)',
    from: src('projects'),
    forbidden: [NEON_AUTH, src('sync')],
    breach: { file: src('projects', 'projects.service.ts'), text: "import { assertSettingsAllowNeonAuth } from '../neon-auth/integrations/private-networking.js';" },
  },
  {
    name: 'src/neon-auth imports nothing from the sync engine (the sync engine builds on it)',
    from: NEON_AUTH,
    forbidden: [src('sync')],
    breach: { file: src('neon-auth', 'neon-auth.module.ts'), text: "import { SyncReconcilerModule } from '../sync/reconciler/reconciler.module.js';" },
  },
  {
    name: 'the embedded provider (src/stack-auth) imports no control-plane feature',
    from: src('stack-auth'),
    forbidden: ['iam', 'projects', 'neon-auth', 'sync', 'providers'].map((d) => src(d)),
    breach: { file: src('stack-auth', 'users', 'x.ts'), text: "const m = await import('../../sync/sync-applier.service.js');" },
  },
  {
    name: 'src/providers reaches the embedded provider only through stack-auth.config (the rest is HTTP)',
    from: src('providers'),
    forbidden: [src('stack-auth')],
    allowed: [src('stack-auth', 'stack-auth.config')],
    breach: { file: src('providers', 'stack', 'x.ts'), text: "import type { StackProjectEntity } from 'src/stack-auth/entities/stack-project.entity.js';" },
  },
  ...Object.entries(MISSIONS).map(
    ([name, dir]): Wall => ({
      name: `${relative(dir)} takes only the resolver from integrations, and no other mission's code`,
      from: dir,
      forbidden: [INTEGRATIONS, ...Object.values(MISSIONS).filter((d) => d !== dir)],
      allowed: RESOLVER,
      breach: {
        file: path.join(dir, 'x.ts'),
        text:
          name === 'users'
            ? "import { NeonAuthIntegrationsService } from '../integrations/integrations.service.js';"
            : name === 'sync'
              ? "import { NeonAuthUsersService } from '../neon-auth/users/users.service.js';"
              : "export * from '../users/users.service.js';",
      },
    }),
  ),
  ...['iam', 'projects', 'neon-auth', 'sync'].map(
    (room): Wall => ({
      name: `src/${room} does not import the audit log (its routes declare @Audited from src/common; the audit room reads them)`,
      from: src(room),
      forbidden: [src('audit')],
      breach: { file: src(room, 'x.ts'), text: "import { AuditService } from '../audit/audit.service.js';" },
    }),
  ),
  {
    name: 'the users_sync store sits below integrations and the missions',
    from: src('neon-auth', 'users-sync'),
    forbidden: [INTEGRATIONS, ...Object.values(MISSIONS)],
    breach: { file: src('neon-auth', 'users-sync', 'x.ts'), text: "import type { NeonAuthIntegrationEntity } from '../integrations/integration.entity.js';" },
  },
  {
    name: 'integrations imports no mission',
    from: INTEGRATIONS,
    forbidden: Object.values(MISSIONS),
    breach: { file: path.join(INTEGRATIONS, 'x.ts'), text: "import { NeonAuthOwnershipService } from '../ownership/ownership.service.js';" },
  },
];

function breaches(wall: Wall, sources: Source[]): string[] {
  const inRoom = sources.filter((s) => isWithin(s.file, wall.from));
  const allowed = new Set(wall.allowed ?? []);
  return describeEdges(importsOf(inRoom).filter((e) => wall.forbidden.some((dir) => isWithin(e.target, dir)) && !allowed.has(e.target)));
}

/** SQL keywords as the code writes them (upper case), so prose that mentions the table does not count. */
const SQL = /\b(SELECT|INSERT|UPDATE|DELETE|FROM|INTO|JOIN|CREATE|DROP|ALTER|GRANT|REVOKE|TRUNCATE|COPY|LOCK)\b/;
const NEON_AUTH_OBJECT = /neon_auth"?\s*\.|\$\{(NEON_AUTH_SCHEMA|USERS_SYNC_QUALIFIED)\}|"neon_auth"|SCHEMA\s+neon_auth\b/;
const USERS_SYNC_ROOM = src('neon-auth', 'users-sync');
/** The second room: Better Auth hosted per branch keeps its own tables (and the users_sync trigger) in neon_auth. */
const BETTER_AUTH_ROOM = src('better-auth');
const inRooms = (file: string): boolean => isWithin(file, USERS_SYNC_ROOM) || isWithin(file, BETTER_AUTH_ROOM);

/**
 * A literal that is nothing but the qualified name of a Neon Auth table (what a query builder would be handed):
 * users_sync, and the tables Better Auth keeps in the schema.
 */
const NEON_AUTH_NAME = /^\s*"?neon_auth"?\s*\.\s*"?(users_sync|user|session|account|verification|jwks|organization|member|invitation|project_config)"?\s*$/i;

/** Literals outside the two rooms (users_sync, hosted Better Auth) that build SQL against the neon_auth schema. */
function neonAuthSql(sources: Source[]): string[] {
  return sources
    .filter((s) => !inRooms(s.file))
    .flatMap((s) =>
      stringLiterals(s.text)
        .filter((l) => (SQL.test(l) && NEON_AUTH_OBJECT.test(l)) || NEON_AUTH_NAME.test(l))
        .map((l) => `${relative(s.file)}: ${l.slice(0, 80)}`),
    );
}

const CLUSTER = src('projects', 'branch-databases', 'branch-database-cluster');

/** Files outside src/projects and the two rooms that import the cluster (its pools reach branch databases). */
function clusterImporters(sources: Source[]): string[] {
  const outside = sources.filter((s) => !isWithin(s.file, src('projects')) && !inRooms(s.file));
  return describeEdges(importsOf(outside).filter((e) => e.target === CLUSTER));
}

/** Files outside src/projects and the two rooms that take a connection to a branch database. */
function branchPoolUsers(sources: Source[]): string[] {
  return sources.filter((s) => !isWithin(s.file, src('projects')) && !inRooms(s.file) && /\b(adminPoolFor|tenantDataPoolFor)\s*\(/.test(s.text)).map((s) => relative(s.file));
}

describe('the walls of src/', () => {
  const sources = sourcesUnder(SRC);

  it('reads the whole tree', () => {
    expect(sources.length).toBeGreaterThan(150);
  });

  describe.each(WALLS.map((w) => [w.name, w] as const))('%s', (_name, wall) => {
    it('holds', () => {
      expect(breaches(wall, sources)).toEqual([]);
    });
    it('is broken by a made-up import (so the check can fail)', () => {
      expect(breaches(wall, [wall.breach])).toHaveLength(1);
    });
  });
});

describe('two rooms for neon_auth (users_sync, hosted Better Auth)', () => {
  const sources = sourcesUnder(SRC);

  it('no file outside src/neon-auth/users-sync and src/better-auth builds SQL against the neon_auth schema', () => {
    expect(neonAuthSql(sources)).toEqual([]);
  });

  it('the room itself does (so the check can fail), and made-up SQL elsewhere is caught', () => {
    expect(stringLiterals(sources.filter((s) => isWithin(s.file, USERS_SYNC_ROOM)).map((s) => s.text).join('\n')).some((l) => SQL.test(l) && NEON_AUTH_OBJECT.test(l))).toBe(true);
    const made = [
      "await c.query('SELECT updated_at FROM neon_auth.users_sync WHERE id = $1', [id]);",
      'await pool.query(`SELECT id FROM ${USERS_SYNC_QUALIFIED} WHERE deleted_at IS NULL`);',
      'await pool.query(`DELETE FROM ${NEON_AUTH_SCHEMA}.users_sync`);',
      'await c.query(\'UPDATE "neon_auth"."users_sync" SET deleted_at = now()\');',
    ];
    for (const text of made) expect(neonAuthSql([{ file: src('sync', 'x.ts'), text }])).toHaveLength(1);
    // Prose that names the table is not SQL.
    expect(neonAuthSql([{ file: src('sync', 'x.ts'), text: "const d = 'Reads `neon_auth.users_sync` of the branch';" }])).toEqual([]);
  });

  it('only src/projects and the two rooms import the branch-database cluster (by any import form)', () => {
    expect(clusterImporters(sources)).toEqual([]);
    const made = [
      "import { BranchDatabaseCluster } from '../projects/branch-databases/branch-database-cluster.js';",
      "import type { BranchDatabaseCluster } from '../projects/branch-databases/branch-database-cluster.js';",
      "const m = await import('../projects/branch-databases/branch-database-cluster.js');",
    ];
    for (const text of made) expect(clusterImporters([{ file: src('sync', 'x.ts'), text }])).toHaveLength(1);
    expect(neonAuthSql([{ file: src('sync', 'x.ts'), text: "qb.from('neon_auth.users_sync', 'u');" }])).toHaveLength(1);
  });

  it('only src/projects and the two rooms open connections to branch databases', () => {
    expect(branchPoolUsers(sources)).toEqual([]);
    expect(branchPoolUsers([{ file: src('sync', 'x.ts'), text: 'const pool = await this.cluster.tenantDataPoolFor(target.physicalName);' }])).toHaveLength(1);
  });
});

describe('shared pieces declared once, names that explain themselves', () => {
  const sources = sourcesUnder(SRC);

  it('the project_id and branch_id path parameters are declared only in src/common/request-params.ts', () => {
    const declaring = (list: Source[]) => list.filter((s) => /name:\s*'(project_id|branch_id)'[^}]*\bschema:/.test(s.text)).map((s) => relative(s.file));
    expect(declaring(sources)).toEqual(['src/common/request-params.ts']);
    expect(declaring([{ file: src('sync', 'x.ts'), text: "const BRANCH_ID_PARAM = { name: 'branch_id', schema: NEON_ID_PARAM_SCHEMA };" }])).toEqual(['src/sync/x.ts']);
  });

  it('entry points (reading process.argv) sit beside main.ts', () => {
    const entries = (list: Source[]) => list.filter((s) => /process\.argv/.test(s.text) && path.dirname(s.file) !== SRC).map((s) => relative(s.file));
    expect(entries(sources)).toEqual([]);
    expect(entries([{ file: src('openapi', 'generate.ts'), text: 'if (process.argv[1]) main();' }])).toEqual(['src/openapi/generate.ts']);
  });

  it('no two files of src/ share a name', () => {
    const byName = new Map<string, string[]>();
    for (const file of tsFiles(SRC)) byName.set(path.basename(file), [...(byName.get(path.basename(file)) ?? []), relative(file)]);
    expect([...byName.values()].filter((files) => files.length > 1)).toEqual([]);
  });
});
