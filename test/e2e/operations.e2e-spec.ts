// Operations as the API shows them (Neon's /operations), the 423 while one is unfinished, a creation rolled back
// when its work fails, and the pruning of ended operations of deleted projects.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { OperationsService } from '../../src/projects/operations/operations.service.js';
import { api, createProject, withClient, type Api } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { adminQuery } from '../helpers/test-db.js';

describe('operations', () => {
  let t: TestApp;
  let admin: Api;
  let db: DataSource;
  beforeAll(async () => {
    t = await startTestApp();
    admin = api(t, t.adminKey);
    db = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a project and a branch show their operations, finished, newest first, paged; one by id; another project\'s is 404', async () => {
    const p = await createProject(admin, { name: 'ops' });
    const projectId = p.project.id as string;
    expect(p.operations.map((o: { action: string; status: string }) => [o.action, o.status])).toEqual([
      ['create_timeline', 'finished'],
      ['start_compute', 'finished'],
    ]);
    const b = (await admin.post(`/projects/${projectId}/branches`, { branch: { name: 'dev' } }).expect(201)).body;
    expect(b.branch.current_state).toBe('ready');
    const all = (await admin.get(`/projects/${projectId}/operations`).expect(200)).body;
    expect(all.operations.map((o: { action: string }) => o.action)).toEqual(['start_compute', 'create_branch', 'start_compute', 'create_timeline']);
    for (const op of all.operations) {
      expect(op).toMatchObject({ project_id: projectId, status: 'finished', failures_count: 0 });
      expect(op.total_duration_ms).toBeGreaterThanOrEqual(0);
    }
    const first = (await admin.get(`/projects/${projectId}/operations?limit=3`).expect(200)).body;
    expect(first.operations).toHaveLength(3);
    const rest = (await admin.get(`/projects/${projectId}/operations?limit=3&cursor=${encodeURIComponent(first.pagination.cursor)}`).expect(200)).body;
    expect([...first.operations, ...rest.operations].map((o: { id: string }) => o.id)).toEqual(all.operations.map((o: { id: string }) => o.id));
    const one = (await admin.get(`/projects/${projectId}/operations/${all.operations[1].id}`).expect(200)).body.operation;
    expect(one).toEqual(all.operations[1]);

    const other = await createProject(admin, { name: 'other ops' });
    await admin.get(`/projects/${other.project.id}/operations/${all.operations[1].id}`).expect(404);
    await admin.get(`/projects/${projectId}/operations/not-a-uuid`).expect(400);
    await admin.get(`/projects/${projectId}/operations?limit=0`).expect(400);
  });

  it('an unfinished operation on a branch makes deleting it a 423 (Neon clients retry); once it ends, the delete goes through', async () => {
    const p = await createProject(admin, { name: 'locked' });
    const projectId = p.project.id as string;
    const b = (await admin.post(`/projects/${projectId}/branches`, { branch: { name: 'busy' } }).expect(201)).body;
    const id = randomUUID();
    await db.query(
      `INSERT INTO operations (id, group_id, project_id, branch_id, action, status) VALUES ($1, $1, $2, $3, 'apply_config', 'running')`,
      [id, projectId, b.branch.id],
    );
    const refused = await admin.delete(`/projects/${projectId}/branches/${b.branch.id}`).expect(423);
    expect(refused.body).toMatchObject({ code: 'LOCKED', message: expect.stringContaining(id) });
    await admin.delete(`/projects/${projectId}`).expect(423);
    await admin.post(`/projects/${projectId}/branches/${b.branch.id}/auth`, { auth_provider: 'mock' }).expect(423);
    await db.query(`UPDATE operations SET status = 'finished' WHERE id = $1`, [id]);
    await admin.delete(`/projects/${projectId}/branches/${b.branch.id}`).expect(200);
  });

  it('a branch whose copy fails is rolled back: no branch, no real database, its operation failed', async () => {
    const p = await createProject(admin, { name: 'rollback' });
    const projectId = p.project.id as string;
    // An open session on the parent's database: PostgreSQL refuses to copy it (423 after a short wait).
    const res = await withClient(p.connection_uris[0].connection_uri, () =>
      admin.post(`/projects/${projectId}/branches`, { branch: { name: 'never' } }),
    );
    expect(res.status).toBe(423);
    expect((await admin.get(`/projects/${projectId}/branches`).expect(200)).body.branches.map((x: { name: string }) => x.name)).toEqual(['main']);
    const ops = (await admin.get(`/projects/${projectId}/operations`).expect(200)).body.operations;
    const failed = ops.find((o: { action: string }) => o.action === 'create_branch');
    expect(failed).toMatchObject({ status: 'failed', error: expect.stringMatching(/being accessed by other sessions/) });
    const planned: { plan: { databases: { name: string }[] } }[] = await db.query(`SELECT plan FROM operations WHERE id = $1`, [failed.id]);
    const physical = planned[0].plan.databases.map((d) => d.name);
    expect(physical).toHaveLength(1);
    expect(await adminQuery('SELECT 1 FROM pg_database WHERE datname = ANY($1)', [physical])).toEqual([]);
  });

  it('when every lock connection drives an operation, a new one gets a retry-safe 503 and changes nothing', async () => {
    const p = await createProject(admin, { name: 'busy server' });
    const service = t.app.get(OperationsService) as unknown as { lockPool?: pg.Pool };
    const original = service.lockPool;
    const tiny = new pg.Pool({ connectionString: t.config.databaseUrl, max: 1, connectionTimeoutMillis: 200 });
    service.lockPool = tiny;
    const held = await tiny.connect(); // the one connection, busy with another operation
    try {
      const res = await admin.post(`/projects/${p.project.id}/branches/${p.branch.id}/databases`, { database: { name: 'waits', owner_name: 'neondb_owner' } }).expect(503);
      expect(res.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/too many operations/) });
    } finally {
      held.release();
      service.lockPool = original;
      await tiny.end();
    }
    expect((await admin.get(`/projects/${p.project.id}/branches/${p.branch.id}/databases`).expect(200)).body.databases.map((d: { name: string }) => d.name)).toEqual(['neondb']);
    await admin.post(`/projects/${p.project.id}/branches/${p.branch.id}/databases`, { database: { name: 'waits', owner_name: 'neondb_owner' } }).expect(201);
  });

  it('ended operations of deleted projects are pruned after the retention; those of living projects and recent ones stay', async () => {
    const living = await createProject(admin, { name: 'living' });
    const insert = (projectId: string, age: string, status = 'finished') =>
      db.query(
        `INSERT INTO operations (id, group_id, project_id, action, status, kind, updated_at) VALUES ($1, $1, $2, 'delete_timeline', $3, 'compute.drop', now() - $4::interval) RETURNING id`,
        [randomUUID(), projectId, status, age],
      ).then((r: { id: string }[]) => r[0].id);
    const old = await insert('gone-project-000000', '8 days');
    const recent = await insert('gone-project-000000', '1 day');
    const unfinished = await insert('gone-project-000000', '30 days', 'error');
    const kept = await insert(living.project.id, '30 days');
    expect(await t.app.get(OperationsService).pruneEnded()).toBeGreaterThanOrEqual(1);
    const left: { id: string }[] = await db.query('SELECT id FROM operations WHERE id = ANY($1)', [[old, recent, unfinished, kept]]);
    expect(left.map((r) => r.id).sort()).toEqual([recent, unfinished, kept].sort());
    await db.query('DELETE FROM operations WHERE id = $1', [unfinished]); // not a real operation: the reconciler must not meet it
  });
});
