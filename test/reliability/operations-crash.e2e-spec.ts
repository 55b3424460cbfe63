// Durable operations (issue 14): the server (a real child process) is SIGKILLed at each step of each control-plane
// operation (NEON_TEST_CRASH_AT), then restarted on the same databases. After the restart's reconciler has run:
// no real database or role that no row refers to, no row whose real object is missing, no half-enabled Neon Auth
// integration (schema and provider project exist exactly when the integration does), no operation left unfinished,
// and the API telling the truth.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { generateApiKeySecret } from '../../src/iam/api-key-secret.js';
import { cleanupServers, freePort, startServer, type ServerProcess } from '../helpers/server-process.js';
import { adminQuery, createTestDatabase, dropTestDatabase } from '../helpers/test-db.js';
import { waitFor } from '../sync/receiver-helpers.js';
import { replicaEnv } from '../sync/reliability-helpers.js';

/** A crash point, what sets the stage (on the server about to crash, before the crash point), and the request that reaches it. */
type Step = { crashAt: string; what: string; prepare?: (ctx: Context) => Promise<void>; act: (ctx: Context) => Promise<unknown> };

interface Context {
  baseUrl: string;
  projectId: string;
  branchId: string;
  /** The branch or project a delete step made to delete. */
  doomed?: string;
}

describe('durable operations: SIGKILL at each step, then restart', () => {
  let database: { name: string; url: string };
  let env: Record<string, string>;
  let server: ServerProcess | undefined;
  let cp: pg.Client;
  const key = generateApiKeySecret();

  beforeAll(async () => {
    database = await createTestDatabase();
    const port = await freePort();
    // The same port on every start: PUBLIC_URL (the embedded provider's base URL) names it. No sync engine: these
    // starts only need the API, the embedded provider and the operations reconciler.
    env = replicaEnv({ databaseUrl: database.url, key, secretsKey: randomBytes(32).toString('hex'), port }, { NODE_ENV: 'test', SYNC_ENGINE: 'off' });
    cp = new pg.Client({ connectionString: database.url });
    await cp.connect();
  });
  afterAll(async () => {
    await cp?.end();
    await cleanupServers();
    if (database) await dropTestDatabase(database.name);
  });

  async function call(ctx: { baseUrl: string }, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(`${ctx.baseUrl}/api/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  }

  /** Starts the server (crashing at `crashAt`, if given). */
  async function start(crashAt?: string): Promise<ServerProcess> {
    server = await startServer({ ...env, NEON_TEST_CRASH_AT: crashAt });
    return server;
  }

  /** Every operation is over (finished or rolled back), as the restart's reconciler leaves them. */
  async function settled(): Promise<void> {
    await waitFor(async () => {
      if (process.env.CRASH_DEBUG) console.log(new Date().toISOString(), (await cp.query(`SELECT action, kind, status, error FROM operations WHERE status NOT IN ('finished', 'failed')`)).rows);
      const { rows } = await cp.query(`SELECT count(*)::int AS n FROM operations WHERE status NOT IN ('finished', 'failed')`);
      return rows[0].n === 0;
    }, 30_000, 100);
  }

  /** The invariants that must hold after any crash and recovery. */
  async function expectConsistent(ctx: Context, when: string): Promise<void> {
    // Every physical object an operation ever planned exists exactly when a row refers to it.
    const { rows: plans } = await cp.query<{ kind: string; plan: any }>(`SELECT kind, plan FROM operations WHERE kind LIKE 'compute.%'`);
    const plannedDbs = new Set<string>();
    const plannedRoles = new Set<string>();
    for (const { plan } of plans) {
      for (const d of plan.databases ?? []) plannedDbs.add(typeof d === 'string' ? d : d.name);
      for (const r of plan.roles ?? []) plannedRoles.add(typeof r === 'string' ? r : r.name);
    }
    const referencedDbs = new Set((await cp.query<{ n: string }>('SELECT physical_name AS n FROM branch_databases')).rows.map((r) => r.n));
    const referencedRoles = new Set((await cp.query<{ n: string }>('SELECT physical_name AS n FROM branch_roles')).rows.map((r) => r.n));
    const realDbs = new Set((await adminQuery<{ n: string }>('SELECT datname AS n FROM pg_database WHERE datname = ANY($1)', [[...plannedDbs, ...referencedDbs]])).map((r) => r.n));
    const realRoles = new Set((await adminQuery<{ n: string }>('SELECT rolname AS n FROM pg_roles WHERE rolname = ANY($1)', [[...plannedRoles, ...referencedRoles]])).map((r) => r.n));
    const drift = {
      when,
      orphanedDatabases: [...realDbs].filter((d) => !referencedDbs.has(d)),
      rowsWithoutDatabase: [...referencedDbs].filter((d) => !realDbs.has(d)),
      orphanedRoles: [...realRoles].filter((r) => !referencedRoles.has(r)),
      rowsWithoutRole: [...referencedRoles].filter((r) => !realRoles.has(r)),
      branchesNotReady: (await cp.query<{ id: string }>(`SELECT id FROM branches WHERE current_state <> 'ready'`)).rows.map((r) => r.id),
    };
    expect(drift).toEqual({ when, orphanedDatabases: [], rowsWithoutDatabase: [], orphanedRoles: [], rowsWithoutRole: [], branchesNotReady: [] });

    // The API shows exactly the projects the rows hold.
    const projects = (await call(ctx, 'GET', '/projects?limit=400')).body.projects.map((p: { id: string }) => p.id).sort();
    expect(projects).toEqual((await cp.query<{ id: string }>('SELECT id FROM projects ORDER BY id')).rows.map((r) => r.id).sort());

    // Neon Auth: an integration exists exactly with its users_sync and its provider project; no other provider
    // project exists but those kept by a disable without delete_data.
    const { rows: integrations } = await cp.query<{ branch_id: string; database_name: string; provider_project_id: string; auth_provider: string }>(
      'SELECT branch_id, database_name, provider_project_id, auth_provider FROM neon_auth_integrations',
    );
    const { rows: providerProjects } = await cp.query<{ id: string }>('SELECT id FROM stack_auth.projects');
    const { rows: kept } = await cp.query<{ provider_project_id: string }>('SELECT provider_project_id FROM neon_auth_detached_projects');
    expect({ when, providerProjects: providerProjects.map((p) => p.id).sort() }).toEqual({ when, providerProjects: [...integrations.filter((i) => i.auth_provider === 'stack').map((i) => i.provider_project_id), ...kept.map((k) => k.provider_project_id)].sort() });
    // The databases an enable or disable ever touched (a schema can only have been made or left there).
    const { rows: dbs } = await cp.query<{ branch_id: string; name: string; physical_name: string }>(
      `SELECT d.branch_id, d.name, d.physical_name FROM branch_databases d
        WHERE d.branch_id IN (SELECT branch_id FROM operations WHERE kind LIKE 'neon_auth.%')`,
    );
    for (const db of dbs) {
      const hasSchema = (await adminQuery(`SELECT 1 FROM pg_namespace WHERE nspname = 'neon_auth'`, [], db.physical_name)).length === 1;
      const enabled = integrations.some((i) => i.branch_id === db.branch_id && i.database_name === db.name);
      expect({ when, database: db.physical_name, hasSchema }).toEqual({ when, database: db.physical_name, hasSchema: enabled });
    }
    const { rows: branches } = await cp.query<{ id: string }>('SELECT id FROM branches WHERE project_id = $1', [ctx.projectId]);
    for (const branch of branches) {
      const api = await call(ctx, 'GET', `/projects/${ctx.projectId}/branches/${branch.id}/auth`);
      expect({ branch: branch.id, status: api.status }).toEqual({ branch: branch.id, status: integrations.some((i) => i.branch_id === branch.id) ? 200 : 404 });
    }
  }

  const enableStep = (crashAt: string, provider: 'stack' | 'better_auth' = 'stack'): Step => ({
    crashAt,
    what: `enable Neon Auth (${provider})`,
    prepare: async (ctx) => {
      if ((await call(ctx, 'GET', `/projects/${ctx.projectId}/branches/${ctx.branchId}/auth`)).status === 200) {
        expect((await call(ctx, 'DELETE', `/projects/${ctx.projectId}/branches/${ctx.branchId}/auth`, { delete_data: true })).status).toBe(200);
      }
    },
    act: (ctx) => call(ctx, 'POST', `/projects/${ctx.projectId}/branches/${ctx.branchId}/auth`, { auth_provider: provider }),
  });
  const disableStep = (crashAt: string): Step => ({
    crashAt,
    what: 'disable Neon Auth with delete_data',
    prepare: async (ctx) => {
      if ((await call(ctx, 'GET', `/projects/${ctx.projectId}/branches/${ctx.branchId}/auth`)).status === 404) {
        expect((await call(ctx, 'POST', `/projects/${ctx.projectId}/branches/${ctx.branchId}/auth`, { auth_provider: 'stack' })).status).toBe(201);
      }
    },
    act: (ctx) => call(ctx, 'DELETE', `/projects/${ctx.projectId}/branches/${ctx.branchId}/auth`, { delete_data: true }),
  });
  const deleteBranchStep = (crashAt: string): Step => ({
    crashAt,
    what: 'delete a branch',
    prepare: async (ctx) => {
      const made = await call(ctx, 'POST', `/projects/${ctx.projectId}/branches`, { branch: { name: `doomed-${crashAt.replace(/\W/g, '-')}` } });
      expect(made.status).toBe(201);
      ctx.doomed = made.body.branch.id;
    },
    act: (ctx) => call(ctx, 'DELETE', `/projects/${ctx.projectId}/branches/${ctx.doomed}`),
  });
  const createProjectStep = (crashAt: string): Step => ({
    crashAt,
    what: 'create a project',
    act: (ctx) => call(ctx, 'POST', '/projects', { project: { name: `crash ${crashAt}` } }),
  });
  const createBranchStep = (crashAt: string): Step => ({
    crashAt,
    what: 'create a branch',
    act: (ctx) => call(ctx, 'POST', `/projects/${ctx.projectId}/branches`, { branch: { name: `crash-${crashAt.replace(/\W/g, '-')}` } }),
  });
  // Consecutive steps crash in operations of different kinds: the server that crashes at step N+1 is the one whose
  // start recovers step N, and that recovery must not reach step N+1's crash point.
  const steps: Step[] = [
    createProjectStep('compute.create:recorded'),
    enableStep('neon_auth.enable:recorded'),
    createProjectStep('compute.create:role'),
    disableStep('neon_auth.disable:recorded'),
    createProjectStep('compute.create:database'),
    enableStep('neon_auth.enable:provider-project'),
    createProjectStep('compute.create:forwarded'),
    // Better Auth's tables, settings row and trigger made, the integration not yet recorded: undone whole.
    enableStep('neon_auth.enable:schema', 'better_auth'),
    deleteBranchStep('compute.drop:recorded'),
    createBranchStep('compute.create:recorded'),
    enableStep('neon_auth.enable:webhook'),
    createBranchStep('compute.create:database'),
    disableStep('neon_auth.disable:schema'),
    {
      crashAt: 'compute.drop:database',
      what: 'delete a database',
      prepare: async (ctx) => {
        expect((await call(ctx, 'POST', `/projects/${ctx.projectId}/branches/${ctx.branchId}/databases`, { database: { name: 'doomeddb', owner_name: 'neondb_owner' } })).status).toBe(201);
      },
      act: (ctx) => call(ctx, 'DELETE', `/projects/${ctx.projectId}/branches/${ctx.branchId}/databases/doomeddb`),
    },
    {
      crashAt: 'compute.create:database',
      what: 'create a database',
      act: (ctx) => call(ctx, 'POST', `/projects/${ctx.projectId}/branches/${ctx.branchId}/databases`, { database: { name: 'crashdb', owner_name: 'neondb_owner' } }),
    },
    enableStep('neon_auth.enable:schema'),
    deleteBranchStep('compute.drop:database'),
    enableStep('neon_auth.enable:forwarded'),
    {
      crashAt: 'compute.drop:forwarded',
      what: 'delete a project',
      prepare: async (ctx) => {
        const made = await call(ctx, 'POST', '/projects', { project: { name: 'doomed project' } });
        expect(made.status).toBe(201);
        ctx.doomed = made.body.project.id;
      },
      act: (ctx) => call(ctx, 'DELETE', `/projects/${ctx.doomed}`),
    },
    disableStep('neon_auth.disable:forwarded'),
    // Between the provider's answer and the plan's write: the undo finds the project again by its idempotency key.
    enableStep('neon_auth.enable:provisioned'),
    {
      crashAt: 'compute.create:role',
      what: 'create a role',
      act: (ctx) => call(ctx, 'POST', `/projects/${ctx.projectId}/branches/${ctx.branchId}/roles`, { role: { name: 'crash_role' } }),
    },
    {
      crashAt: 'compute.drop:recorded',
      what: 'delete a role',
      prepare: async (ctx) => {
        expect((await call(ctx, 'POST', `/projects/${ctx.projectId}/branches/${ctx.branchId}/roles`, { role: { name: 'doomed_role' } })).status).toBe(201);
      },
      act: (ctx) => call(ctx, 'DELETE', `/projects/${ctx.projectId}/branches/${ctx.branchId}/roles/doomed_role`),
    },
  ];

  it(`every step of every operation (${steps.length} crash points): after the restart nothing is orphaned, half-done or misreported`, async () => {
    await start();
    const made = await call({ baseUrl: server!.baseUrl }, 'POST', '/projects', { project: { name: 'crash base' } });
    expect(made.status).toBe(201);
    const ctx: Context = { baseUrl: server!.baseUrl, projectId: made.body.project.id, branchId: made.body.branch.id };
    server!.signal('SIGKILL');
    await server!.waitForExit();

    const timings: string[] = [];
    let previous = 'the first start';
    for (const step of steps) {
      const label = `${step.what} at ${step.crashAt}`;
      const t0 = performance.now();
      // This start recovers the previous step (its reconciler runs at start), then crashes at this step.
      await start(step.crashAt);
      await settled();
      await expectConsistent(ctx, `after ${previous}`);
      await step.prepare?.(ctx);
      const outcome = await step.act(ctx).then(
        (res) => ({ answered: res }),
        (err: Error) => ({ failed: err.message }),
      );
      // The process died at the crash point: the request got no answer.
      expect({ label, outcome: 'failed' in outcome ? 'no answer' : outcome }).toEqual({ label, outcome: 'no answer' });
      expect({ label, exit: await server!.waitForExit() }).toEqual({ label, exit: { code: null, signal: 'SIGKILL' } });
      timings.push(`${label}: ${Math.round(performance.now() - t0)} ms`);
      previous = label;
    }
    await start();
    await settled();
    await expectConsistent(ctx, `after ${previous}`);
    await server!.stop('SIGTERM');
    console.log(`operations crash points:\n${timings.join('\n')}`);
    const { rows } = await cp.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM operations WHERE kind IS NOT NULL GROUP BY status ORDER BY status`);
    // Interrupted creations and drops were finished; interrupted enables were rolled back.
    expect(rows.map((r) => r.status)).toEqual(['failed', 'finished']);
  }, 180_000);
});
