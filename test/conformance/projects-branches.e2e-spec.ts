import { createApiClient, EndpointType } from '@neondatabase/api-client';
import { neonctl } from '../helpers/neonctl.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { withClient } from '../helpers/fixtures.js';

/** Projects and branches driven by Neon's own clients: @neondatabase/api-client and neonctl. */
describe('projects and branches through Neon clients', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('@neondatabase/api-client: create, list, branch, connection_uri, delete', async () => {
    const neon = createApiClient({ apiKey: t.adminKey, baseURL: t.apiUrl });
    const created = await neon.createProject({ project: { name: 'via api-client' } });
    expect(created.status).toBe(201);
    const projectId = created.data.project.id;
    await withClient(created.data.connection_uris[0].connection_uri, (c) => c.query('CREATE TABLE t (n int)'));

    const listed = await neon.listProjects({ limit: 400 });
    expect(listed.data.projects.map((p) => p.id)).toContain(projectId);
    expect(listed.data.pagination?.cursor).toEqual(expect.any(String));

    const branch = await neon.createProjectBranch(projectId, { branch: { name: 'feature' }, endpoints: [{ type: EndpointType.ReadWrite }] });
    expect(branch.status).toBe(201);
    const branches = await neon.listProjectBranches({ projectId, limit: 100 });
    expect(branches.data.branches.map((b) => b.name).sort()).toEqual(['feature', 'main']);
    expect(branches.data.branches.find((b) => b.default)?.name).toBe('main');

    const uri = await neon.getConnectionUri({ projectId, branch_id: branch.data.branch.id, database_name: 'neondb', role_name: 'neondb_owner' });
    const copied = await withClient(uri.data.uri, async (c) => (await c.query(`SELECT to_regclass('t') IS NOT NULL AS t`)).rows[0].t);
    expect(copied).toBe(true);

    const dbs = await neon.listProjectBranchDatabases(projectId, branch.data.branch.id);
    expect(dbs.data.databases.map((d) => d.name)).toEqual(['neondb']);
    const removed = await neon.deleteProjectBranch({ projectId, branchId: branch.data.branch.id });
    expect(removed.data.branch.id).toBe(branch.data.branch.id);
    const deleted = await neon.deleteProject(projectId);
    expect(deleted.data.project.id).toBe(projectId);
  });

  it('neonctl: projects list, branches create and list', async () => {
    const neon = createApiClient({ apiKey: t.adminKey, baseURL: t.apiUrl });
    const { data } = await neon.createProject({ project: { name: 'via-neonctl' } });
    const projectId = data.project.id;

    const projects = await neonctl(t.apiUrl, t.adminKey, ['projects', 'list', '--output', 'json']);
    expect(projects.code).toBe(0);
    expect(JSON.parse(projects.stdout).projects.map((p: { id: string }) => p.id)).toContain(projectId);

    const created = await neonctl(t.apiUrl, t.adminKey, ['branches', 'create', '--project-id', projectId, '--name', 'cli', '--output', 'json']);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout).branch).toMatchObject({ name: 'cli', parent_id: data.branch.id });

    const listed = await neonctl(t.apiUrl, t.adminKey, ['branches', 'list', '--project-id', projectId]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/\[default\] main\s+br-/);
    expect(listed.stdout).toMatch(/\ncli\s+br-/);
  });
});
