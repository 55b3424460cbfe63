import { api, createProject, type Api } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { adminQuery } from '../helpers/test-db.js';

/**
 * Quotas: PROJECTS_LIMIT per organization, BRANCHES_LIMIT per project, DATABASES_LIMIT per branch and
 * ORGANIZATIONS_LIMIT per account, so one account cannot fill the disk with
 * real database copies. Refused with 422 in Neon's error shape before any database is made, also under concurrency.
 */
describe('quotas on projects and branches', () => {
  let t: TestApp;
  let admin: Api;
  beforeAll(async () => {
    t = await startTestApp({ PROJECTS_LIMIT: '3', BRANCHES_LIMIT: '3', DATABASES_LIMIT: '2', ORGANIZATIONS_LIMIT: '2' });
    admin = api(t, t.adminKey);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('GET /users/me reports the limits', async () => {
    const me = await admin.get('/users/me').expect(200);
    expect(me.body).toMatchObject({ projects_limit: 3, branches_limit: 3 });
  });

  it('branches: the limit counts the default branch; concurrent creations never pass it; nothing is left behind', async () => {
    const created = await createProject(admin, { name: 'quota branches' });
    const projectId = created.project.id as string;
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => admin.post(`/projects/${projectId}/branches`, { branch: { name: `b${i}` }, endpoints: [{ type: 'read_write' }] })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 422, 422, 422]);
    const refused = results.find((r) => r.status === 422)!;
    expect(refused.body).toMatchObject({ code: 'BRANCHES_LIMIT_EXCEEDED', message: expect.stringContaining('limit is 3') });
    expect(typeof refused.body.request_id).toBe('string');
    const branches = await admin.get(`/projects/${projectId}/branches`).expect(200);
    expect(branches.body.branches).toHaveLength(3);
    // Each branch has its real database, and the refused ones made none (they were refused before any copy).
    const physical = await adminQuery<{ physical_name: string }>(
      'SELECT d.physical_name FROM branch_databases d JOIN branches b ON b.id = d.branch_id WHERE b.project_id = $1',
      [projectId],
      t.database,
    );
    expect(physical).toHaveLength(3);
    const onCluster = await adminQuery<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = ANY($1::text[])', [physical.map((p) => p.physical_name)]);
    expect(onCluster).toHaveLength(3);
  });

  it('databases: a branch holds at most DATABASES_LIMIT (its default database included)', async () => {
    const created = await createProject(admin, { name: 'quota databases' });
    const base = `/projects/${created.project.id}/branches/${created.branch.id}/databases`;
    await admin.post(base, { database: { name: 'second', owner_name: 'neondb_owner' } }).expect(201);
    const refused = await admin.post(base, { database: { name: 'third', owner_name: 'neondb_owner' } }).expect(422);
    expect(refused.body).toMatchObject({ code: 'DATABASES_LIMIT_EXCEEDED', message: expect.stringContaining('limit is 2') });
    expect((await admin.get(base).expect(200)).body.databases).toHaveLength(2);
  });

  it('projects: concurrent creations in one organization stop at the limit', async () => {
    const [{ n }] = await adminQuery<{ n: number }>('SELECT count(*)::int AS n FROM projects', [], t.database);
    const room = 3 - n;
    const results = await Promise.all(Array.from({ length: room + 3 }, (_, i) => admin.post('/projects', { project: { name: `quota ${i}` } })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(room);
    const refused = results.filter((r) => r.status === 422);
    expect(refused).toHaveLength(3);
    expect(refused[0].body).toMatchObject({ code: 'PROJECTS_LIMIT_EXCEEDED' });
    const [{ m }] = await adminQuery<{ m: number }>('SELECT count(*)::int AS m FROM projects', [], t.database);
    expect(m).toBe(3);
  });

  // Last: with two organizations, POST /projects needs an org_id.
  it('organizations: an account belongs to at most ORGANIZATIONS_LIMIT', async () => {
    await admin.post('/organizations', { name: 'second org' }).expect(201);
    const refused = await admin.post('/organizations', { name: 'third org' }).expect(422);
    expect(refused.body).toMatchObject({ code: 'ORGANIZATIONS_LIMIT_EXCEEDED' });
    expect((await admin.get('/users/me/organizations').expect(200)).body.organizations).toHaveLength(2);
  });
});
