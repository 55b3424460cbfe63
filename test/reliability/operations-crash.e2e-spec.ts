// Durable operations (issue 14): the server (a real child process) is SIGKILLed at each step of each control-plane
// operation (NEON_TEST_CRASH_AT), then restarted on the same databases. After the restart's reconciler has run:
// no real database or role that no row refers to, no row whose real object is missing, no half-enabled Neon Auth
// integration (schema and provider project exist exactly when the integration does), no operation left unfinished,
// and the API telling the truth.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { generateApiKeySecret } from '../../src/iam/api-key-secret.js';
import { cleanupServers, freePort, makeTempDir, startServer, type ServerProcess } from '../helpers/server-process.js';
import { adminQuery, createTestDatabase, dropTestDatabase, testAdminUrl } from '../helpers/test-db.js';
import { waitFor } from '../sync/receiver-helpers.js';

/** A crash point and the request that reaches it; `startsItself`: the step starts the crashing server itself. */
type Step = { crashAt: string; what: string; startsItself?: true; act: (ctx: Context) => Promise<unknown> };

interface Context {
  baseUrl: string;
  projectId: string;
  branchId: string;
  childBranchId?: string;
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
    env = {
      DATABASE_URL: database.url,
      COMPUTE_DATABASE_URL: testAdminUrl(),
      DATA_DIR: makeTempDir(),
      BOOTSTRAP_API_KEY: key,
      BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com',
      SECRETS_KEY: randomBytes(32).toString('hex'),
      PORT: String(port), // the same on every start: PUBLIC_URL (the embedded provider's base URL) names it
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: 'info',
      NODE_ENV: 'test',
    };
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
      const { rows } = await cp.query(`SELECT count(*)::int AS n FROM operations WHERE status NOT IN ('finished', 'failed')`);
      return rows[0].n === 0;
    }, 30_000);
  }

  /** The invariants that must hold after any crash and recovery. */
  async function expectConsistent(ctx: Context): Promise<void> {
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
    expect([...realDbs].filter((d) => !referencedDbs.has(d))).toEqual([]); // orphaned databases
    expect([...referencedDbs].filter((d) => !realDbs.has(d))).toEqual([]); // rows without their database
    expect([...realRoles].filter((r) => !referencedRoles.has(r))).toEqual([]); // orphaned roles
    expect([...referencedRoles].filter((r) => !realRoles.has(r))).toEqual([]);

    // Every branch is ready; the API shows exactly the projects and branches the rows hold.
    expect((await cp.query(`SELECT id FROM branches WHERE current_state <> 'ready'`)).rows).toEqual([]);
    const projects = (await call(ctx, 'GET', '/projects?limit=400')).body.projects.map((p: { id: string }) => p.id).sort();
    expect(projects).toEqual((await cp.query<{ id: string }>('SELECT id FROM projects ORDER BY id')).rows.map((r) => r.id).sort());

    // Neon Auth: an integration exists exactly with its users_sync and its provider project; no other provider
    // project exists but those kept by a disable without delete_data.
    const { rows: integrations } = await cp.query<{ branch_id: string; database_name: string; provider_project_id: string }>(
      'SELECT branch_id, database_name, provider_project_id FROM neon_auth_integrations',
    );
    const { rows: providerProjects } = await cp.query<{ id: string }>('SELECT id FROM stack_auth.projects');
    const { rows: kept } = await cp.query<{ provider_project_id: string }>('SELECT provider_project_id FROM neon_auth_detached_projects');
    expect(providerProjects.map((p) => p.id).sort()).toEqual([...integrations.map((i) => i.provider_project_id), ...kept.map((k) => k.provider_project_id)].sort());
    const { rows: dbs } = await cp.query<{ branch_id: string; name: string; physical_name: string }>('SELECT branch_id, name, physical_name FROM branch_databases');
    for (const db of dbs) {
      const hasSchema = (await adminQuery(`SELECT 1 FROM pg_namespace WHERE nspname = 'neon_auth'`, [], db.physical_name)).length === 1;
      const enabled = integrations.some((i) => i.branch_id === db.branch_id && i.database_name === db.name);
      expect({ database: db.physical_name, hasSchema }).toEqual({ database: db.physical_name, hasSchema: enabled });
    }
    const { rows: branches } = await cp.query<{ id: string }>('SELECT id FROM branches WHERE project_id = $1', [ctx.projectId]);
    for (const branch of branches) {
      const api = await call(ctx, 'GET', `/projects/${ctx.projectId}/branches/${branch.id}/auth`);
      expect({ branch: branch.id, status: api.status }).toEqual({ branch: branch.id, status: integrations.some((i) => i.branch_id === branch.id) ? 200 : 404 });
    }
  }

  const steps: Step[] = [
    ...['compute.create:recorded', 'compute.create:role', 'compute.create:database', 'compute.create:forwarded'].map((crashAt) => ({
      crashAt,
      what: 'create a project',
      act: (ctx: Context) => call(ctx, 'POST', '/projects', { project: { name: `crash ${crashAt}` } }),
    })),
    ...['compute.create:recorded', 'compute.create:database'].map((crashAt) => ({
      crashAt,
      what: 'create a branch',
      act: (ctx: Context) => call(ctx, 'POST', `/projects/${ctx.projectId}/branches`, { branch: { name: `crash-${crashAt.replace(/\W/g, '-')}` } }),
    })),
    {
      crashAt: 'compute.create:database',
      what: 'create a database',
      act: (ctx: Context) => call(ctx, 'POST', `/projects/${ctx.projectId}/branches/${ctx.branchId}/databases`, { database: { name: 'crashdb', owner_name: 'neondb_owner' } }),
    },
    ...['neon_auth.enable:recorded', 'neon_auth.enable:provider-project', 'neon_auth.enable:webhook', 'neon_auth.enable:schema', 'neon_auth.enable:forwarded'].map((crashAt) => ({
      crashAt,
      what: 'enable Neon Auth',
      act: (ctx: Context) => call(ctx, 'POST', `/projects/${ctx.projectId}/branches/${ctx.branchId}/auth`, { auth_provider: 'stack' }),
    })),
    ...['neon_auth.disable:recorded', 'neon_auth.disable:schema', 'neon_auth.disable:forwarded'].map((crashAt) => ({
      crashAt,
      what: 'disable Neon Auth with delete_data',
      startsItself: true as const,
      act: async (ctx: Context) => {
        await start();
        expect((await call({ baseUrl: server!.baseUrl }, 'POST', `/projects/${ctx.projectId}/branches/${ctx.branchId}/auth`, { auth_provider: 'stack' })).status).toBe(201);
        await server!.stop('SIGTERM');
        await start(crashAt);
        return call({ baseUrl: server!.baseUrl }, 'DELETE', `/projects/${ctx.projectId}/branches/${ctx.branchId}/auth`, { delete_data: true });
      },
    })),
    ...['compute.drop:recorded', 'compute.drop:database'].map((crashAt) => ({
      crashAt,
      what: 'delete a branch',
      startsItself: true as const,
      act: async (ctx: Context) => {
        await start();
        const made = await call({ baseUrl: server!.baseUrl }, 'POST', `/projects/${ctx.projectId}/branches`, { branch: { name: `doomed-${crashAt.replace(/\W/g, '-')}` } });
        expect(made.status).toBe(201);
        await server!.stop('SIGTERM');
        await start(crashAt);
        return call({ baseUrl: server!.baseUrl }, 'DELETE', `/projects/${ctx.projectId}/branches/${made.body.branch.id}`);
      },
    })),
    {
      crashAt: 'compute.drop:database',
      what: 'delete a project',
      startsItself: true,
      act: async () => {
        await start();
        const made = await call({ baseUrl: server!.baseUrl }, 'POST', '/projects', { project: { name: 'doomed project' } });
        expect(made.status).toBe(201);
        await server!.stop('SIGTERM');
        await start('compute.drop:database');
        return call({ baseUrl: server!.baseUrl }, 'DELETE', `/projects/${made.body.project.id}`);
      },
    },
  ];

  it(`every step of every operation (${steps.length} crash points): after the restart nothing is orphaned, half-done or misreported`, async () => {
    await start();
    const made = await call({ baseUrl: server!.baseUrl }, 'POST', '/projects', { project: { name: 'crash base' } });
    expect(made.status).toBe(201);
    const ctx: Context = { baseUrl: server!.baseUrl, projectId: made.body.project.id, branchId: made.body.branch.id };
    await server!.stop('SIGTERM');

    for (const step of steps) {
      const label = `${step.what} at ${step.crashAt}`;
      if (!step.startsItself) await start(step.crashAt);
      const outcome = await step.act(ctx).then(
        (res) => ({ answered: res }),
        (err: Error) => ({ failed: err.message }),
      );
      // The process died at the crash point: the request got no answer.
      expect({ label, outcome: 'failed' in outcome ? 'no answer' : outcome }).toEqual({ label, outcome: 'no answer' });
      expect({ label, exit: await server!.waitForExit() }).toEqual({ label, exit: { code: null, signal: 'SIGKILL' } });

      await start(); // the reconciler runs at start
      await settled();
      await expectConsistent(ctx);
      // Rolled-back enables leave the branch ready for the next one; drop any integration a finished enable left.
      const enabled = await call(ctx, 'GET', `/projects/${ctx.projectId}/branches/${ctx.branchId}/auth`);
      if (enabled.status === 200) expect((await call(ctx, 'DELETE', `/projects/${ctx.projectId}/branches/${ctx.branchId}/auth`, { delete_data: true })).status).toBe(200);
      await settled();
      await expectConsistent(ctx);
      await server!.stop('SIGTERM');
    }
    const { rows } = await cp.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM operations WHERE kind IS NOT NULL GROUP BY status ORDER BY status`);
    // Interrupted creations and drops were finished; interrupted enables were rolled back.
    expect(rows.map((r) => r.status)).toEqual(['failed', 'finished']);
  });
});
