// Roles of a branch and database deletion (Neon's /roles and DELETE /databases/{name}), driven through Neon's own
// API client where it has the call, and checked against the real compute server: who can connect where.
import { createApiClient } from '@neondatabase/api-client';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { BranchDatabaseCluster } from '../../src/projects/branch-databases/branch-database-cluster.js';
import { OperationsReconciler } from '../../src/projects/operations/operations.reconciler.js';
import { api, createProject, withClient, type Api } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { adminQuery } from '../helpers/test-db.js';

describe('roles and database deletion', () => {
  let t: TestApp;
  let admin: Api;
  let projectId: string;
  let mainId: string;
  let mainDb: string;
  let uri: URL;

  /** Whether `role` / `password` may connect to `database` on the compute server. */
  async function canConnect(role: string, password: string, database: string): Promise<boolean | string> {
    const u = new URL(uri);
    u.username = encodeURIComponent(role);
    u.password = encodeURIComponent(password);
    u.pathname = `/${database}`;
    const c = new pg.Client({ connectionString: u.toString() });
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } catch (err) {
      return (err as { code?: string }).code ?? String(err);
    } finally {
      await c.end().catch(() => undefined);
    }
  }
  const physicalRole = async (branchId: string, name: string) =>
    (await admin.get(`/projects/${projectId}/connection_uri?branch_id=${branchId}&database_name=neondb&role_name=${encodeURIComponent(name)}`).expect(200)).body.uri as string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = api(t, t.adminKey);
    const made = await createProject(admin, { name: 'roles' });
    projectId = made.project.id;
    mainId = made.branch.id;
    mainDb = made.databases[0].name;
    uri = new URL(made.connection_uris[0].connection_uri);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('@neondatabase/api-client: create a role; it connects to the branch databases with the password it was given', async () => {
    const neon = createApiClient({ apiKey: t.adminKey, baseURL: t.apiUrl });
    const created = (await neon.createProjectBranchRole(projectId, mainId, { role: { name: 'app_user' } })).data;
    expect(created.role).toMatchObject({ branch_id: mainId, name: 'app_user', password: expect.stringMatching(/^npg_/) });
    expect(created.operations.map((o) => [o.action, o.status])).toEqual([['apply_config', 'finished']]);
    const physical = decodeURIComponent(new URL(await physicalRole(mainId, 'app_user')).username);
    expect(physical).toMatch(new RegExp(`^app_user~[A-Za-z0-9]{6}\\.${mainId}$`));
    expect(await canConnect(physical, created.role.password!, new URL(await physicalRole(mainId, 'app_user')).pathname.slice(1))).toBe(true);
    expect((await neon.getProjectBranchRolePassword(projectId, mainId, 'app_user')).data.password).toBe(created.role.password);
    expect((await neon.listProjectBranchRoles(projectId, mainId)).data.roles.map((r) => r.name).sort()).toEqual(['app_user', 'neondb_owner']);
    expect((await neon.getProjectBranchRole(projectId, mainId, 'app_user')).data.role.password).toBeUndefined();
  });

  it('refuses bad names (400), duplicates (409), unknown branches and roles (404), each without changing anything', async () => {
    const before = (await admin.get(`/projects/${projectId}/branches/${mainId}/roles`).expect(200)).body.roles.length;
    expect((await admin.post(`/projects/${projectId}/branches/${mainId}/roles`, { role: { name: 'pg_reserved' } }).expect(400)).body.message).toMatch(/pg_/);
    expect((await admin.post(`/projects/${projectId}/branches/${mainId}/roles`, { role: { name: 'x'.repeat(64) } }).expect(400)).body.message).toMatch(/63 bytes/);
    await admin.post(`/projects/${projectId}/branches/${mainId}/roles`, { role: { name: 'app_user' } }).expect(409);
    await admin.post(`/projects/${projectId}/branches/br-no-such-branch-000000/roles`, { role: { name: 'other' } }).expect(404);
    await admin.get(`/projects/${projectId}/branches/${mainId}/roles/nobody`).expect(404);
    await admin.delete(`/projects/${projectId}/branches/${mainId}/roles/nobody`).expect(404);
    expect((await admin.get(`/projects/${projectId}/branches/${mainId}/roles`).expect(200)).body.roles.length).toBe(before);
  });

  it('a no_login role cannot connect', async () => {
    const created = (await admin.post(`/projects/${projectId}/branches/${mainId}/roles`, { role: { name: 'reports', no_login: true } }).expect(201)).body;
    const physical = decodeURIComponent(new URL(await physicalRole(mainId, 'reports')).username);
    expect(await canConnect(physical, created.role.password, `${mainDb}.${mainId}`)).toBe('28000'); // role is not permitted to log in
  });

  it('a branch made later inherits the role; deleting it there takes its access to that branch only; deleting it everywhere drops it', async () => {
    const password = (await admin.get(`/projects/${projectId}/branches/${mainId}/roles/app_user/reveal_password`).expect(200)).body.password as string;
    const child = (await admin.post(`/projects/${projectId}/branches`, { branch: { name: 'with-role' } }).expect(201)).body;
    const childDb = child.databases[0].name as string;
    const childPhysicalDb = new URL(await physicalRole(child.branch.id, 'app_user')).pathname.slice(1);
    const mainPhysicalDb = new URL(await physicalRole(mainId, 'app_user')).pathname.slice(1);
    expect(childDb).toBe('neondb');
    const physical = decodeURIComponent(new URL(await physicalRole(mainId, 'app_user')).username);
    expect(await canConnect(physical, password, childPhysicalDb)).toBe(true);

    const off = (await admin.delete(`/projects/${projectId}/branches/${child.branch.id}/roles/app_user`).expect(200)).body;
    expect(off.operations.map((o: { status: string }) => o.status)).toEqual(['finished']);
    expect(await canConnect(physical, password, childPhysicalDb)).toBe('42501'); // no CONNECT on the child's database
    expect(await canConnect(physical, password, mainPhysicalDb)).toBe(true);
    expect(await adminQuery('SELECT 1 FROM pg_roles WHERE rolname = $1', [physical])).toHaveLength(1);

    await admin.delete(`/projects/${projectId}/branches/${mainId}/roles/app_user`).expect(200);
    expect(await adminQuery('SELECT 1 FROM pg_roles WHERE rolname = $1', [physical])).toHaveLength(0);
    await admin.get(`/projects/${projectId}/branches/${mainId}/roles/app_user`).expect(404);
  });

  it('re-creating a role whose real role a later branch still has makes a new real role; the branch keeps its password', async () => {
    const made = (await admin.post(`/projects/${projectId}/branches/${mainId}/roles`, { role: { name: 'shared_role' } }).expect(201)).body;
    const oldPhysical = decodeURIComponent(new URL(await physicalRole(mainId, 'shared_role')).username);
    const child = (await admin.post(`/projects/${projectId}/branches`, { branch: { name: 'keeps-role' } }).expect(201)).body;
    const childDb = new URL(await physicalRole(child.branch.id, 'shared_role')).pathname.slice(1);
    await admin.delete(`/projects/${projectId}/branches/${mainId}/roles/shared_role`).expect(200);
    const again = (await admin.post(`/projects/${projectId}/branches/${mainId}/roles`, { role: { name: 'shared_role' } }).expect(201)).body;
    const newPhysical = decodeURIComponent(new URL(await physicalRole(mainId, 'shared_role')).username);
    expect(newPhysical).not.toBe(oldPhysical);
    expect(newPhysical).toMatch(new RegExp(`^shared_role~[A-Za-z0-9]{6}\\.${mainId}$`));
    // The child's role is untouched: its stored password still opens its database.
    expect(await canConnect(oldPhysical, made.role.password, childDb)).toBe(true);
    expect(await canConnect(newPhysical, again.role.password, `${mainDb}.${mainId}`)).toBe(true);
  });

  it('a role whose grants fail is rolled back: no row, no real role left behind', async () => {
    const cluster = t.app.get(BranchDatabaseCluster);
    const original = cluster.grantConnect.bind(cluster);
    cluster.grantConnect = async () => {
      throw new Error('injected: grant failed');
    };
    try {
      await admin.post(`/projects/${projectId}/branches/${mainId}/roles`, { role: { name: 'half_made' } }).expect(500);
    } finally {
      cluster.grantConnect = original;
    }
    await admin.get(`/projects/${projectId}/branches/${mainId}/roles/half_made`).expect(404);
    expect(await adminQuery('SELECT rolname FROM pg_roles WHERE rolname LIKE $1', [`half_made%`])).toEqual([]);
    const ops = (await admin.get(`/projects/${projectId}/operations?limit=1`).expect(200)).body.operations;
    expect(ops[0]).toMatchObject({ action: 'apply_config', status: 'failed', error: expect.stringMatching(/^Error: see the server log/) });
  });

  it('while a drop on the branch is unfinished, creating a database or role there is a 423 (not a revival of the old one)', async () => {
    await admin.post(`/projects/${projectId}/branches/${mainId}/databases`, { database: { name: 'again', owner_name: 'neondb_owner' } }).expect(201);
    const cluster = t.app.get(BranchDatabaseCluster);
    const original = cluster.dropDatabase.bind(cluster);
    cluster.dropDatabase = async () => {
      throw new Error('injected: compute unreachable');
    };
    try {
      const deleted = (await admin.delete(`/projects/${projectId}/branches/${mainId}/databases/again`).expect(200)).body;
      expect(deleted.operations[0]).toMatchObject({ status: 'error', failures_count: 1 });
      expect((await admin.post(`/projects/${projectId}/branches/${mainId}/databases`, { database: { name: 'again', owner_name: 'neondb_owner' } }).expect(423)).body.code).toBe('LOCKED');
      await admin.post(`/projects/${projectId}/branches/${mainId}/roles`, { role: { name: 'blocked' } }).expect(423);
    } finally {
      cluster.dropDatabase = original;
    }
    // The retry drops the old database; then the name can be used again, for a new, empty database.
    await t.app.get(DataSource).query(`UPDATE operations SET retry_at = now() WHERE status = 'error' AND project_id = $1`, [projectId]);
    t.app.get(OperationsReconciler).kick();
    await t.app.get(OperationsReconciler).idle();
    expect(await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [`again.${mainId}`])).toEqual([]);
    await admin.post(`/projects/${projectId}/branches/${mainId}/databases`, { database: { name: 'again', owner_name: 'neondb_owner' } }).expect(201);
  });

  it('a role that owns a database of the branch is not deleted (409)', async () => {
    const res = await admin.delete(`/projects/${projectId}/branches/${mainId}/roles/neondb_owner`).expect(409);
    expect(res.body.message).toMatch(/owns database neondb/);
    expect(await withClient(uri.toString(), async (c) => (await c.query('SELECT 1 AS ok')).rows)).toEqual([{ ok: 1 }]);
  });

  it('@neondatabase/api-client: get and delete a database; the real database is dropped', async () => {
    const neon = createApiClient({ apiKey: t.adminKey, baseURL: t.apiUrl });
    await neon.createProjectBranchDatabase(projectId, mainId, { database: { name: 'scratch', owner_name: 'neondb_owner' } });
    expect((await neon.getProjectBranchDatabase(projectId, mainId, 'scratch')).data.database).toMatchObject({ name: 'scratch', owner_name: 'neondb_owner' });
    const physical = `scratch.${mainId}`;
    expect(await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [physical])).toHaveLength(1);
    const deleted = (await neon.deleteProjectBranchDatabase(projectId, mainId, 'scratch')).data;
    expect(deleted.database.name).toBe('scratch');
    expect(deleted.operations.map((o) => [o.action, o.status])).toEqual([['apply_config', 'finished']]);
    expect(await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [physical])).toHaveLength(0);
    await admin.get(`/projects/${projectId}/branches/${mainId}/databases/scratch`).expect(404);
    await admin.delete(`/projects/${projectId}/branches/${mainId}/databases/scratch`).expect(404);
  });

  it('a database with Neon Auth enabled is not deleted (409); after a disable that kept the provider project, deleting it deletes that project', async () => {
    await admin.post(`/projects/${projectId}/branches/${mainId}/databases`, { database: { name: 'authdb', owner_name: 'neondb_owner' } }).expect(201);
    const auth = `/projects/${projectId}/branches/${mainId}/auth`;
    const enabled = (await admin.post(auth, { auth_provider: 'mock', database_name: 'authdb' }).expect(201)).body;
    expect((await admin.delete(`/projects/${projectId}/branches/${mainId}/databases/authdb`).expect(409)).body.message).toMatch(/Neon Auth is enabled/);
    await admin.delete(auth).send({ delete_data: false }).expect(200);
    const kept = () => t.app.get(DataSource).query('SELECT 1 FROM mock_provider_projects WHERE id = $1 AND deleted_at IS NULL', [enabled.auth_provider_project_id]) as Promise<unknown[]>;
    expect(await kept()).toHaveLength(1);
    await admin.delete(`/projects/${projectId}/branches/${mainId}/databases/authdb`).expect(200);
    await waitForEmpty(kept);
  });
});

async function waitForEmpty(probe: () => Promise<unknown[]>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await probe()).length === 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('still there after 5 s');
}
