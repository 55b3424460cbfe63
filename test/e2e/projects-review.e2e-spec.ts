// Regression tests from a review of src/projects: each one failed before its fix (real HTTP, real Postgres).
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { api, createProject, type Api } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { adminQuery } from '../helpers/test-db.js';

describe('projects: review regressions', () => {
  let t: TestApp;
  let admin: Api;

  beforeAll(async () => {
    t = await startTestApp();
    admin = api(t, t.adminKey);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Project and branch ids this file created (including deleted ones): the scopes of its physical names. */
  const scopes = new Set<string>();
  async function remember<T extends { project: { id: string }; branch: { id: string } }>(project: T): Promise<T> {
    scopes.add(project.project.id);
    scopes.add(project.branch.id);
    return project;
  }

  /**
   * Real roles and databases of this file's projects on the compute server that no row accounts for, and rows
   * whose real object is missing. Physical names end with ".<project id>" (roles) or ".<branch id>" (databases).
   */
  async function computeDrift() {
    for (const r of await adminQuery<{ id: string }>('SELECT id FROM projects UNION SELECT id FROM branches', [], t.database)) scopes.add(r.id);
    const ours = (name: string) => scopes.has(name.slice(name.lastIndexOf('.') + 1));
    const dbRows = (await adminQuery<{ physical_name: string }>('SELECT physical_name FROM branch_databases', [], t.database)).map((r) => r.physical_name);
    const roleRows = (await adminQuery<{ physical_name: string }>('SELECT DISTINCT physical_name FROM branch_roles', [], t.database)).map((r) => r.physical_name);
    const realDbs = (await adminQuery<{ datname: string }>('SELECT datname FROM pg_database')).map((r) => r.datname).filter(ours);
    const realRoles = (await adminQuery<{ rolname: string }>('SELECT rolname FROM pg_roles')).map((r) => r.rolname).filter(ours);
    return {
      orphanDatabases: realDbs.filter((d) => !dbRows.includes(d)),
      missingDatabases: dbRows.filter((d) => !realDbs.includes(d)),
      orphanRoles: realRoles.filter((r) => !roleRows.includes(r)),
      missingRoles: roleRows.filter((r) => !realRoles.includes(r)),
    };
  }
  const NO_DRIFT = { orphanDatabases: [], missingDatabases: [], orphanRoles: [], missingRoles: [] };

  describe('null is not "absent": 400 naming the field, nothing changed (was a 500)', () => {
    let projectId: string;
    beforeAll(async () => {
      projectId = (await remember(await createProject(admin, { name: 'nulls', settings: { allowed_ips: { ips: ['10.0.0.1'] } } }))).project.id;
    });

    it.each([
      ['project.name', { name: null }],
      ['project.history_retention_seconds', { history_retention_seconds: null }],
      ['project.settings', { settings: null }],
      ['project.settings.allowed_ips', { settings: { allowed_ips: null } }],
      ['project.settings.allowed_ips.ips', { settings: { allowed_ips: { ips: null } } }],
      ['project.settings.block_public_connections', { settings: { block_public_connections: null } }],
    ])('PATCH with %s: null', async (field, project) => {
      const before = (await admin.get(`/projects/${projectId}`).expect(200)).body.project;
      const res = await admin.patch(`/projects/${projectId}`, { project });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ request_id: expect.any(String), code: 'VALIDATION_ERROR', message: expect.stringContaining(`[${field}]`) });
      const after = (await admin.get(`/projects/${projectId}`).expect(200)).body.project;
      expect(after).toEqual(before);
    });

    it('POST /projects with org_id: null', async () => {
      const count = async () => (await adminQuery<{ n: string }>('SELECT count(*) AS n FROM projects', [], t.database))[0].n;
      const before = await count();
      const res = await admin.post('/projects', { project: { name: 'null-org', org_id: null } });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('[project.org_id]');
      expect(await count()).toBe(before);
    });
  });

  it('concurrent creation of one database name on a branch: one 201, the others 409, no real database left over (was 500)', async () => {
    const p = await remember(await createProject(admin, { name: 'same-db' }));
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        admin.post(`/projects/${p.project.id}/branches/${p.branch.id}/databases`, { database: { name: 'twin', owner_name: 'neondb_owner' } }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body.code).toBe('CONFLICT');
    const dbs = (await admin.get(`/projects/${p.project.id}/branches/${p.branch.id}/databases`).expect(200)).body.databases;
    expect(dbs.map((d: { name: string }) => d.name).sort()).toEqual(['neondb', 'twin']);
    expect(await computeDrift()).toEqual(NO_DRIFT);
  });

  it('creating a database while its project is deleted leaves no real role or database behind, and is never a 500', async () => {
    for (let i = 0; i < 4; i++) {
      const p = await remember(await createProject(admin, { name: `race-${i}` }));
      const [first, created] = await Promise.all([
        admin.delete(`/projects/${p.project.id}`),
        admin.post(`/projects/${p.project.id}/branches/${p.branch.id}/databases`, { database: { name: 'late', owner_name: 'neondb_owner' } }),
      ]);
      // 423 while the database's operation is in progress: Neon's clients retry it, as here.
      let deleted = first;
      for (let tries = 0; deleted.status === 423 && tries < 50; tries++) {
        await new Promise((r) => setTimeout(r, 100));
        deleted = await admin.delete(`/projects/${p.project.id}`);
      }
      expect(deleted.status).toBe(200);
      expect([201, 404]).toContain(created.status);
    }
    expect(await computeDrift()).toEqual(NO_DRIFT);
  });

  it('branching from a branch that is being deleted: 404 names the parent branch (or 409 for the delete), nothing left behind', async () => {
    const p = await remember(await createProject(admin, { name: 'parent-race' }));
    for (let i = 0; i < 3; i++) {
      const parent = (await admin.post(`/projects/${p.project.id}/branches`, { branch: { name: `parent-${i}` } }).expect(201)).body.branch.id;
      scopes.add(parent);
      const [created, deleted] = await Promise.all([
        admin.post(`/projects/${p.project.id}/branches`, { branch: { name: `child-${i}`, parent_id: parent } }),
        admin.delete(`/projects/${p.project.id}/branches/${parent}`),
      ]);
      if (created.status === 201) {
        scopes.add(created.body.branch.id);
        expect(deleted.status).toBe(409);
      } else {
        expect(created.status).toBe(404);
        expect(created.body.message).toContain(`branch ${parent}`);
        expect(deleted.status).toBe(200);
      }
    }
    expect(await computeDrift()).toEqual(NO_DRIFT);
  });

  it('PATCH of a project does not wait for a branch creation in progress (it may copy databases for minutes)', async () => {
    const p = await remember(await createProject(admin, { name: 'patch-while-branching' }));
    // A session on the parent database makes the branch creation wait (then answer 423) inside its transaction.
    const holder = new pg.Client({ connectionString: p.connection_uris[0].connection_uri });
    await holder.connect();
    try {
      const order: string[] = [];
      const branching = admin
        .post(`/projects/${p.project.id}/branches`, { branch: { name: 'slow' } })
        .then((r) => {
          order.push('branch');
          return r;
        });
      await sleep(400);
      const patching = admin.patch(`/projects/${p.project.id}`, { project: { name: 'renamed' } }).then((r) => {
        order.push('patch');
        return r;
      });
      const [branch, patch] = await Promise.all([branching, patching]);
      expect(branch.status).toBe(423);
      expect(patch.status).toBe(200);
      expect(patch.body.project.name).toBe('renamed');
      expect(order).toEqual(['patch', 'branch']);
    } finally {
      await holder.end();
    }
  });
});
