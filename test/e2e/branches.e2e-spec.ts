import pg from 'pg';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { adminQuery } from '../helpers/test-db.js';
import { allPages, api, createProject, withClient, type Api } from '../helpers/fixtures.js';

describe('branches', () => {
  let t: TestApp;
  let admin: Api;
  let project: Record<string, any>;
  let projectId: string;
  let mainId: string;
  let mainUri: string;

  const uriOf = async (query: string) => (await admin.get(`/projects/${projectId}/connection_uri?${query}`).expect(200)).body.uri as string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = api(t, t.adminKey);
    project = await createProject(admin, { name: 'branchy' });
    projectId = project.project.id;
    mainId = project.branch.id;
    mainUri = project.connection_uris[0].connection_uri;
    await withClient(mainUri, async (c) => {
      await c.query('CREATE TABLE items (id int PRIMARY KEY, label text)');
      await c.query(`INSERT INTO items VALUES (1, 'from main')`);
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('create', () => {
    let dev: Record<string, any>;
    beforeAll(async () => {
      dev = (await admin.post(`/projects/${projectId}/branches`, { branch: { name: 'dev' } }).expect(201)).body;
    });

    it("copies the parent's data into a real database of its own", async () => {
      expect(dev.branch).toMatchObject({ project_id: projectId, parent_id: mainId, name: 'dev', default: false, protected: false, init_source: 'parent-data' });
      expect(dev.branch.id).toMatch(/^br-[a-z]+-[a-z]+-\d{6}$/);
      expect(dev.databases).toEqual([expect.objectContaining({ branch_id: dev.branch.id, name: 'neondb', owner_name: 'neondb_owner' })]);
      expect(dev.roles).toEqual([expect.objectContaining({ branch_id: dev.branch.id, name: 'neondb_owner' })]);
      expect(dev.roles[0].password).toBeUndefined();
      expect(dev.endpoints).toEqual([expect.objectContaining({ branch_id: dev.branch.id, type: 'read_write' })]);
      expect(dev.operations.every((o: { status: string }) => o.status === 'finished')).toBe(true);
      const devUri: string = dev.connection_uris[0].connection_uri;
      expect(dev.connection_uris[0].connection_parameters.database).toBe(`neondb.${dev.branch.id}`);

      const seen = await withClient(devUri, async (c) => {
        const rows = (await c.query('SELECT id, label FROM items ORDER BY id')).rows;
        await c.query(`INSERT INTO items VALUES (2, 'only in dev')`);
        return rows;
      });
      expect(seen).toEqual([{ id: 1, label: 'from main' }]);
      const inMain = await withClient(mainUri, async (c) => (await c.query('SELECT id FROM items ORDER BY id')).rows);
      expect(inMain).toEqual([{ id: 1 }]);
    });

    it('takes the endpoints option neonctl sends, a parent_id, and refuses bad input with 400 naming the field', async () => {
      const fromDev = await admin
        .post(`/projects/${projectId}/branches`, { branch: { name: 'feature', parent_id: dev.branch.id }, endpoints: [{ type: 'read_write', suspend_timeout_seconds: 300 }], annotation_value: {} })
        .expect(201);
      expect(fromDev.body.branch.parent_id).toBe(dev.branch.id);
      const rows = await withClient(fromDev.body.connection_uris[0].connection_uri, async (c) => (await c.query('SELECT id FROM items ORDER BY id')).rows);
      expect(rows).toEqual([{ id: 1 }, { id: 2 }]);

      const unnamed = await admin.post(`/projects/${projectId}/branches`).expect(201);
      expect(unnamed.body.branch.name).toBe(unnamed.body.branch.id);
      expect(unnamed.body.branch.parent_id).toBe(mainId);

      const before = (await admin.get(`/projects/${projectId}/branches`).expect(200)).body.branches.length;
      for (const [body, status, text] of [
        [{ branch: { name: 'dev' } }, 409, 'dev'],
        [{ branch: { parent_id: 'br-no-such-000000' } }, 404, 'br-no-such-000000'],
        [{ branch: { parent_id: 'BAD ID' } }, 400, '[branch.parent_id]'],
        [{ branch: { name: '' } }, 400, '[branch.name]'],
        [{ branch: { name: 7 } }, 400, '[branch.name]'],
        [{ branch: { parent_lsn: '0/1' } }, 400, '[branch.parent_lsn]'],
        [{ branch: {}, endpoints: [{ type: 'read_only' }] }, 400, '[endpoints.0.type]'],
        [{ branch: {}, unknown: true }, 400, '[unknown]'],
        [{ branch: {}, annotation_value: { env: 'ci' } }, 400, '[annotation_value]'],
      ] as const) {
        const res = await admin.post(`/projects/${projectId}/branches`, body);
        expect({ body, status: res.status }).toEqual({ body, status });
        expect(res.body.message).toContain(text);
      }
      expect((await admin.get(`/projects/${projectId}/branches`).expect(200)).body.branches).toHaveLength(before);
      await admin.post('/projects/no-such-project-1/branches', {}).expect(404);
    });
  });

  it('answers 423 Locked in Neon\'s error shape while the parent has open connections, and succeeds once they close', async () => {
    const holder = new pg.Client({ connectionString: mainUri });
    await holder.connect();
    const started = Date.now();
    let res;
    try {
      res = await admin.post(`/projects/${projectId}/branches`, { branch: { name: 'while-busy' } });
    } finally {
      await holder.end();
    }
    expect(res.status).toBe(423);
    expect(res.body).toEqual({ request_id: expect.any(String), code: 'LOCKED', message: expect.stringContaining('open connections') });
    expect(Date.now() - started).toBeLessThan(5000);
    const names = (await admin.get(`/projects/${projectId}/branches?search=while-busy`).expect(200)).body.branches;
    expect(names).toEqual([]);
    const retried = await admin.post(`/projects/${projectId}/branches`, { branch: { name: 'while-busy' } }).expect(201);
    expect(retried.body.branch.name).toBe('while-busy');
  });

  it('GET one branch; unknown -> 404; malformed -> 400', async () => {
    const res = await admin.get(`/projects/${projectId}/branches/${mainId}`).expect(200);
    expect(res.body.branch).toMatchObject({ id: mainId, name: 'main', default: true, primary: true });
    await admin.get(`/projects/${projectId}/branches/br-no-such-000000`).expect(404);
    await admin.get(`/projects/${projectId}/branches/Not_An_Id`).expect(400);
    await admin.get(`/projects/no-such-project-1/branches/${mainId}`).expect(404);
  });

  it('lists with cursor pagination (neonctl style), sorted as asked, every branch exactly once', async () => {
    const p = await createProject(admin, { name: 'many branches' });
    const pid = p.project.id;
    const created = [p.branch.id];
    for (const name of ['delta', 'alpha', 'echo', 'charlie', 'bravo']) {
      created.push((await admin.post(`/projects/${pid}/branches`, { branch: { name } }).expect(201)).body.branch.id);
    }
    const collect = (qs: string) =>
      allPages<{ id: string; name: string; default: boolean }>(async (cursor) => {
        const res = await admin.get(`/projects/${pid}/branches?${qs}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`).expect(200);
        expect(res.body.annotations).toEqual({});
        return { items: res.body.branches, cursor: res.body.pagination?.next };
      });

    const byName = await collect('limit=2&sort_by=name&sort_order=asc');
    expect(byName.map((page) => page.length)).toEqual([2, 2, 2]);
    expect(byName.flat().map((b) => b.name)).toEqual(['alpha', 'bravo', 'charlie', 'delta', 'echo', 'main']);

    const newest = await collect('limit=4&sort_by=created_at');
    expect(newest.flat().map((b) => b.id)).toEqual([...created].reverse());

    const byDefault = (await collect('limit=100')).flat();
    expect(byDefault.map((b) => b.id).sort()).toEqual([...created].sort());
    expect(byDefault.filter((b) => b.default).map((b) => b.id)).toEqual([p.branch.id]);

    const first = await admin.get(`/projects/${pid}/branches?limit=1&sort_by=name`).expect(200);
    expect(first.body.pagination).toEqual({ next: expect.any(String), sort_by: 'name', sort_order: 'desc' });
    const all = await admin.get(`/projects/${pid}/branches`).expect(200);
    expect(all.body.branches).toHaveLength(6);
    expect(all.body.pagination).toEqual({ sort_by: 'updated_at', sort_order: 'desc' });
    const search = await admin.get(`/projects/${pid}/branches?search=har`).expect(200);
    expect(search.body.branches.map((b: { name: string }) => b.name)).toEqual(['charlie']);

    for (const qs of ['limit=0', 'limit=10001', 'sort_by=size', 'sort_order=up', 'cursor=%%%', 'include_deleted=perhaps', 'page=2']) {
      const res = await admin.get(`/projects/${pid}/branches?${qs}`);
      expect({ qs, status: res.status }).toEqual({ qs, status: 400 });
      expect(res.body.message).toContain(qs.split('=')[0]);
    }
  });

  describe('databases', () => {
    it('lists and creates real databases owned by a role of the branch', async () => {
      const list = await admin.get(`/projects/${projectId}/branches/${mainId}/databases`).expect(200);
      expect(list.body.databases.map((d: { name: string }) => d.name)).toEqual(['neondb']);

      const created = await admin
        .post(`/projects/${projectId}/branches/${mainId}/databases`, { database: { name: 'analytics', owner_name: 'neondb_owner' } })
        .expect(201);
      expect(created.body.database).toMatchObject({ branch_id: mainId, name: 'analytics', owner_name: 'neondb_owner', id: expect.any(Number) });
      expect(created.body.operations).toEqual([expect.objectContaining({ action: 'apply_config', status: 'finished' })]);
      const after = await admin.get(`/projects/${projectId}/branches/${mainId}/databases`).expect(200);
      expect(after.body.databases.map((d: { name: string }) => d.name)).toEqual(['neondb', 'analytics']);

      const uri = await uriOf('database_name=analytics&role_name=neondb_owner');
      const owner = await withClient(uri, async (c) => {
        await c.query('CREATE TABLE facts (n int)');
        return (await c.query('SELECT d.datname, pg_get_userbyid(d.datdba) AS owner FROM pg_database d WHERE d.datname = current_database()')).rows[0];
      });
      expect(owner).toEqual({ datname: `analytics.${mainId}`, owner: `neondb_owner.${projectId}` });

      for (const [body, status, text] of [
        [{ database: { name: 'analytics', owner_name: 'neondb_owner' } }, 409, 'analytics'],
        [{ database: { name: 'x', owner_name: 'nobody' } }, 400, '[database.owner_name]'],
        [{ database: { name: 'x' } }, 400, '[database.owner_name]'],
        [{ database: { name: 'd'.repeat(64), owner_name: 'neondb_owner' } }, 400, '[database.name]'],
        [{ database: { name: 'bad\nname', owner_name: 'neondb_owner' } }, 400, '[database.name]'],
        [{ database: 'analytics' }, 400, '[database]'],
        [{}, 400, '[database]'],
      ] as const) {
        const res = await admin.post(`/projects/${projectId}/branches/${mainId}/databases`, body);
        expect({ body, status: res.status }).toEqual({ body, status });
        expect(res.body.message).toContain(text);
      }
      await admin.get(`/projects/${projectId}/branches/br-no-such-000000/databases`).expect(404);
      await admin.post(`/projects/${projectId}/branches/br-no-such-000000/databases`, { database: { name: 'x', owner_name: 'neondb_owner' } }).expect(404);

      // A branch of a branch with two databases copies both; no single connection URI then (as on Neon).
      const two = await admin.post(`/projects/${projectId}/branches`, { branch: { name: 'two-dbs' } }).expect(201);
      expect(two.body.databases.map((d: { name: string }) => d.name)).toEqual(['neondb', 'analytics']);
      expect(two.body.connection_uris).toBeUndefined();
      const copied = await uriOf(`branch_id=${two.body.branch.id}&database_name=analytics&role_name=neondb_owner`);
      await withClient(copied, async (c) => {
        expect((await c.query(`SELECT to_regclass('facts') IS NOT NULL AS t`)).rows[0].t).toBe(true);
      });
    });
  });

  describe('connection_uri', () => {
    it('takes branch_id, endpoint_id, database_name, role_name and pooled; every URI connects to the right database', async () => {
      const child = (await admin.post(`/projects/${projectId}/branches`, { branch: { name: 'uri-child' } }).expect(201)).body;
      // main has two databases by now (see "databases"), so the response carries no connection URI: ask for one.
      expect(child.connection_uris).toBeUndefined();
      const childUri = await uriOf(`branch_id=${child.branch.id}&database_name=neondb&role_name=neondb_owner`);
      await withClient(childUri, (c) => c.query(`INSERT INTO items VALUES (3, 'uri-child')`));
      const dbOf = (uri: string) => withClient(uri, async (c) => (await c.query('SELECT current_database() AS d, current_user AS u')).rows[0]);

      const onDefault = await uriOf('database_name=neondb&role_name=neondb_owner');
      expect(await dbOf(onDefault)).toEqual({ d: `neondb.${mainId}`, u: `neondb_owner.${projectId}` });
      expect(onDefault).toBe(mainUri);
      const byBranch = await uriOf(`branch_id=${child.branch.id}&database_name=neondb&role_name=neondb_owner`);
      expect((await dbOf(byBranch)).d).toBe(`neondb.${child.branch.id}`);
      const byEndpoint = await uriOf(`endpoint_id=${child.endpoints[0].id}&database_name=neondb&role_name=neondb_owner`);
      expect(byEndpoint).toBe(byBranch);
      const both = await uriOf(`branch_id=${child.branch.id}&endpoint_id=${child.endpoints[0].id}&database_name=neondb&role_name=neondb_owner`);
      expect(both).toBe(byBranch);
      const pooled = await uriOf(`branch_id=${child.branch.id}&database_name=neondb&role_name=neondb_owner&pooled=true`);
      expect((await dbOf(pooled)).d).toBe(`neondb.${child.branch.id}`);
      const rows = await withClient(byEndpoint, async (c) => (await c.query('SELECT id FROM items WHERE id = 3')).rows);
      expect(rows).toEqual([{ id: 3 }]);

      const cases: [string, number, string][] = [
        ['role_name=neondb_owner', 400, 'database_name'],
        ['database_name=neondb', 400, 'role_name'],
        ['database_name=neondb&role_name=neondb_owner&pooled=yes', 400, 'pooled'],
        ['database_name=neondb&role_name=neondb_owner&branch_id=NOPE!', 400, 'branch_id'],
        [`database_name=neondb&role_name=neondb_owner&branch_id=${mainId}&endpoint_id=${child.endpoints[0].id}`, 400, 'endpoint_id'],
        ['database_name=neondb&role_name=neondb_owner&branch_id=br-no-such-000000', 404, 'br-no-such-000000'],
        ['database_name=neondb&role_name=neondb_owner&endpoint_id=ep-no-such-000000', 404, 'ep-no-such-000000'],
        ['database_name=nodb&role_name=neondb_owner', 404, 'nodb'],
        ['database_name=neondb&role_name=nobody', 404, 'nobody'],
        [`database_name=${'d'.repeat(64)}&role_name=neondb_owner`, 400, 'database_name'],
      ];
      for (const [qs, status, text] of cases) {
        const res = await admin.get(`/projects/${projectId}/connection_uri?${qs}`);
        expect({ qs, status: res.status }).toEqual({ qs, status });
        expect(res.body.message).toContain(text);
      }
    });
  });

  describe('delete', () => {
    it('drops the branch database; refuses the default branch and branches with children (409)', async () => {
      const parent = (await admin.post(`/projects/${projectId}/branches`, { branch: { name: 'to-delete' } }).expect(201)).body;
      const child = (await admin.post(`/projects/${projectId}/branches`, { branch: { name: 'to-delete-child', parent_id: parent.branch.id } }).expect(201)).body;

      const def = await admin.delete(`/projects/${projectId}/branches/${mainId}`).expect(409);
      expect(def.body.message).toContain('default branch');
      const withChildren = await admin.delete(`/projects/${projectId}/branches/${parent.branch.id}`).expect(409);
      expect(withChildren.body.message).toContain(child.branch.id);

      const childDb = `neondb.${child.branch.id}`;
      expect(await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [childDb])).toHaveLength(1);
      const gone = await admin.delete(`/projects/${projectId}/branches/${child.branch.id}?hard_delete=true`).expect(200);
      expect(gone.body.branch.id).toBe(child.branch.id);
      expect(gone.body.operations.map((o: { action: string }) => o.action)).toEqual(['suspend_compute', 'delete_timeline']);
      expect(await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [childDb])).toHaveLength(0);
      await admin.get(`/projects/${projectId}/branches/${child.branch.id}`).expect(404);
      await admin.delete(`/projects/${projectId}/branches/${child.branch.id}`).expect(404);

      await admin.delete(`/projects/${projectId}/branches/${parent.branch.id}`).expect(200);
      // The role is shared with the remaining branches, so it stays and main still connects.
      expect(await adminQuery('SELECT 1 FROM pg_roles WHERE rolname = $1', [`neondb_owner.${projectId}`])).toHaveLength(1);
      await withClient(mainUri, (c) => c.query('SELECT 1'));
      await admin.delete(`/projects/${projectId}/branches/Bad_Id`).expect(400);
      await admin.delete(`/projects/${projectId}/branches/${parent.branch.id}?hard_delete=sure`).expect(400);
    });
  });

  it('a failure while copying leaves no database behind', async () => {
    const p = await createProject(admin, { branch: { database_name: 'copyfail' } });
    await adminQuery(
      `CREATE FUNCTION fail_branch_db() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF NEW.name = 'copyfail' AND NEW.branch_id <> '${p.branch.id}' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$`,
      [],
      t.database,
    );
    await adminQuery('CREATE TRIGGER fail_branch_db BEFORE INSERT ON branch_databases FOR EACH ROW EXECUTE FUNCTION fail_branch_db()', [], t.database);
    try {
      const res = await admin.post(`/projects/${p.project.id}/branches`, { branch: { name: 'never' } });
      expect(res.status).toBe(500);
      expect(await adminQuery(`SELECT datname FROM pg_database WHERE datname LIKE 'copyfail.%'`)).toEqual([{ datname: `copyfail.${p.branch.id}` }]);
      expect((await admin.get(`/projects/${p.project.id}/branches`).expect(200)).body.branches).toHaveLength(1);
    } finally {
      await adminQuery('DROP TRIGGER fail_branch_db ON branch_databases', [], t.database);
    }
  });
});
