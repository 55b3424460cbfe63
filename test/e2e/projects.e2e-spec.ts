import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { adminQuery } from '../helpers/test-db.js';
import { adminOrgId, allPages, api, createProject, newAccount, withClient, type Api } from '../helpers/fixtures.js';

describe('projects', () => {
  let t: TestApp;
  let admin: Api;
  let orgId: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = api(t, t.adminKey);
    orgId = await adminOrgId(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('create', () => {
    let created: Record<string, any>;
    beforeAll(async () => {
      created = await createProject(admin, { name: 'first project' });
    });

    it("answers 201 with Neon's create response: project, branch main, database neondb, role neondb_owner, endpoint, operations", () => {
      const { project, branch, databases, roles, endpoints, operations, connection_uris } = created;
      expect(project).toMatchObject({ name: 'first project', org_id: orgId, region_id: 'local', store_passwords: true });
      expect(project.id).toMatch(/^[a-z]+-[a-z]+-\d{8}$/);
      expect(project.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(project.pg_version).toBeGreaterThanOrEqual(14);
      expect(branch).toMatchObject({ project_id: project.id, name: 'main', default: true, current_state: 'ready' });
      expect(branch.id).toMatch(/^br-[a-z]+-[a-z]+-\d{6}$/);
      expect(branch.parent_id).toBeUndefined();
      expect(databases).toEqual([expect.objectContaining({ branch_id: branch.id, name: 'neondb', owner_name: 'neondb_owner', id: expect.any(Number) })]);
      expect(roles).toEqual([expect.objectContaining({ branch_id: branch.id, name: 'neondb_owner', password: expect.stringMatching(/^npg_/) })]);
      expect(endpoints).toEqual([expect.objectContaining({ project_id: project.id, branch_id: branch.id, type: 'read_write', id: expect.stringMatching(/^ep-/) })]);
      expect(operations.map((o: { action: string }) => o.action)).toEqual(['create_timeline', 'start_compute']);
      expect(operations.every((o: { status: string }) => o.status === 'finished')).toBe(true);
      expect(connection_uris).toHaveLength(1);
      expect(connection_uris[0].connection_parameters).toMatchObject({ password: roles[0].password, host: '127.0.0.1' });
    });

    it('returns a connection URI that really connects, as the project role, and can CREATE TABLE', async () => {
      const { connection_uri, connection_parameters } = created.connection_uris[0];
      const who = await withClient(connection_uri, async (c) => {
        await c.query('CREATE TABLE notes (id int PRIMARY KEY, body text)');
        await c.query(`INSERT INTO notes VALUES (1, 'hello')`);
        return (await c.query('SELECT current_user AS u, current_database() AS d, (SELECT body FROM notes) AS body')).rows[0];
      });
      expect(who).toEqual({ u: connection_parameters.role, d: connection_parameters.database, body: 'hello' });
      expect(connection_parameters.database).toBe(`neondb.${created.branch.id}`);
      expect(connection_parameters.role).toBe(`neondb_owner.${created.project.id}`);
    });

    it('without SECRETS_KEY, generates the secrets key once into DATA_DIR/secrets-key with mode 0600', () => {
      const file = path.join(t.config.dataDir, 'secrets-key');
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(file, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    });

    it("keeps the password only encrypted at rest, and other projects' roles cannot connect to the database", async () => {
      const [row] = await adminQuery<{ password_encrypted: string }>(
        'SELECT password_encrypted FROM branch_roles WHERE branch_id = $1',
        [created.branch.id],
        t.database,
      );
      expect(row.password_encrypted).toMatch(/^v1\./);
      expect(row.password_encrypted).not.toContain(created.roles[0].password);

      const other = await createProject(admin, { name: 'other project' });
      const p = other.connection_uris[0].connection_parameters;
      const intruder = other.connection_uris[0].connection_uri.replace(`/${encodeURIComponent(p.database)}`, `/${encodeURIComponent(created.connection_uris[0].connection_parameters.database)}`);
      await expect(withClient(intruder, async () => undefined)).rejects.toMatchObject({ code: '42501' });
    });

    it('honours branch, database and role names, and refuses names PostgreSQL would truncate', async () => {
      const db63 = 'é'.repeat(31) + 'x'; // 63 bytes: accepted
      const res = await createProject(admin, { branch: { name: 'trunk', database_name: db63, role_name: 'app' } });
      expect(res.branch.name).toBe('trunk');
      expect(res.databases[0]).toMatchObject({ name: db63, owner_name: 'app' });
      const physical = res.connection_uris[0].connection_parameters.database;
      expect(Buffer.byteLength(physical)).toBeLessThanOrEqual(63);
      await withClient(res.connection_uris[0].connection_uri, async (c) => {
        expect((await c.query('SELECT current_database() AS d')).rows[0].d).toBe(physical);
      });

      const tooLong = await admin.post('/projects', { project: { branch: { database_name: 'é'.repeat(32) } } }).expect(400);
      expect(tooLong.body.message).toContain('[project.branch.database_name]');
      expect(tooLong.body.message).toContain('63 bytes');
      const reserved = await admin.post('/projects', { project: { branch: { role_name: 'pg_monitor' } } }).expect(400);
      expect(reserved.body.message).toContain('[project.branch.role_name]');
    });

    it('refuses bad input with 400 naming the field, and creates nothing', async () => {
      const before = await adminQuery<{ n: number }>('SELECT count(*)::int AS n FROM projects', [], t.database);
      const cases: [unknown, string][] = [
        [{}, '[project]'],
        [{ project: { name: 42 } }, '[project.name]'],
        [{ project: { name: '' } }, '[project.name]'],
        [{ project: { nme: 'typo' } }, '[project.nme]'],
        [{ project: {}, extra: 1 }, '[extra]'],
        [{ project: { org_id: 'Not Valid' } }, '[project.org_id]'],
        [{ project: { settings: { allowed_ips: { ips: ['300.1.1.1'] } } } }, '[project.settings.allowed_ips.ips]'],
        [{ project: { history_retention_seconds: -1 } }, '[project.history_retention_seconds]'],
        [{ project: { store_passwords: false } }, 'store_passwords'],
        [{ project: { region_id: 'aws-us-east-2' } }, '[project.region_id]'],
        [{ project: { pg_version: created.project.pg_version === 14 ? 15 : 14 } }, '[project.pg_version]'],
      ];
      for (const [body, field] of cases) {
        const res = await admin.post('/projects', body as object);
        expect({ body, status: res.status }).toEqual({ body, status: 400 });
        expect(res.body).toEqual({ request_id: expect.any(String), code: 'VALIDATION_ERROR', message: expect.stringContaining(field) });
      }
      const after = await adminQuery<{ n: number }>('SELECT count(*)::int AS n FROM projects', [], t.database);
      expect(after).toEqual(before);
    });

    it('404 for an org_id outside reach; org key creates in its own organization', async () => {
      await admin.post('/projects', { project: { org_id: 'org-unknown-12345678' } }).expect(404);
      const key = await admin.post(`/organizations/${orgId}/api_keys`, { key_name: 'ci' }).expect(200);
      const viaOrgKey = await createProject(api(t, key.body.key), {});
      expect(viaOrgKey.project).toMatchObject({ org_id: orgId, owner_id: '' });
      expect(viaOrgKey.project.name).toBe(viaOrgKey.project.id);
    });

    it('personal key without org_id: the only organization, else 400 "org_id is required"', async () => {
      const user = await newAccount(t, 'orgless');
      const none = await api(t, user.key).post('/projects', { project: {} }).expect(400);
      expect(none.body.message).toBe('org_id is required, you can find it on your organization settings page');
      const org1 = await api(t, user.key).post('/organizations', { name: 'One' }).expect(201);
      const p = await createProject(api(t, user.key), {});
      expect(p.project).toMatchObject({ org_id: org1.body.id, owner_id: user.id });
      const org2 = await api(t, user.key).post('/organizations', { name: 'Two' }).expect(201);
      const two = await api(t, user.key).post('/projects', { project: {} }).expect(400);
      expect(two.body.message).toBe('org_id is required, you can find it on your organization settings page');
      const explicit = await createProject(api(t, user.key), { org_id: org2.body.id });
      expect(explicit.project.org_id).toBe(org2.body.id);
    });
  });

  describe('get, update, delete', () => {
    it('GET returns the project; unknown -> 404; malformed id -> 400', async () => {
      const { project } = await createProject(admin, { name: 'readable' });
      const res = await admin.get(`/projects/${project.id}`).expect(200);
      expect(res.body.project).toMatchObject({ id: project.id, name: 'readable', effective_project_permission: 'CAN_MANAGE', history_retention_seconds: 86400 });
      expect(res.body.project.consumption_period_start).toMatch(/-01T00:00:00Z$/);
      const missing = await admin.get('/projects/no-such-project-123').expect(404);
      expect(missing.body.code).toBe('NOT_FOUND');
      const bad = await admin.get('/projects/Bad_Id').expect(400);
      expect(bad.body.message).toContain('project_id');
    });

    it('PATCH stores name, history retention and settings (allowed_ips, block_public_connections), merging settings', async () => {
      const { project } = await createProject(admin, { name: 'before' });
      const res = await admin
        .patch(`/projects/${project.id}`, {
          project: {
            name: 'after',
            history_retention_seconds: 3600,
            settings: { allowed_ips: { ips: ['203.0.113.7', '198.51.100.0/24', '2001:db8::/32', '192.0.2.1-192.0.2.9'] }, block_public_connections: true },
          },
        })
        .expect(200);
      expect(res.body.operations).toEqual([]);
      expect(res.body.project).toMatchObject({ name: 'after', history_retention_seconds: 3600 });
      await admin.patch(`/projects/${project.id}`, { project: { settings: { block_public_connections: false } } }).expect(200);
      const got = await admin.get(`/projects/${project.id}`).expect(200);
      expect(got.body.project.settings).toEqual({
        allowed_ips: { ips: ['203.0.113.7', '198.51.100.0/24', '2001:db8::/32', '192.0.2.1-192.0.2.9'] },
        block_public_connections: false,
      });
      expect(got.body.project.name).toBe('after');

      for (const [body, field] of [
        [{ project: { settings: { allowed_ips: { ips: ['not-an-ip'] } } } }, '[project.settings.allowed_ips.ips]'],
        [{ project: { settings: { allowed_ips: ['1.2.3.4'] } } }, '[project.settings.allowed_ips]'],
        [{ project: { settings: { block_public_connections: 'yes' } } }, '[project.settings.block_public_connections]'],
        [{ project: { settings: { quota: {} } } }, '[project.settings.quota]'],
        [{ project: { name: 'x'.repeat(257) } }, '[project.name]'],
      ] as const) {
        const bad = await admin.patch(`/projects/${project.id}`, body).expect(400);
        expect(bad.body.message).toContain(field);
      }
      expect((await admin.get(`/projects/${project.id}`).expect(200)).body.project.settings.block_public_connections).toBe(false);
      await admin.patch('/projects/no-such-project-123', { project: { name: 'x' } }).expect(404);
    });

    it('DELETE drops the real database and role, and the project is gone', async () => {
      const created = await createProject(admin, { name: 'doomed' });
      const { database, role } = created.connection_uris[0].connection_parameters;
      expect(await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [database])).toHaveLength(1);
      // An open session does not stop the delete: it is ended.
      const session = new pg.Client({ connectionString: created.connection_uris[0].connection_uri });
      session.on('error', () => undefined);
      await session.connect();
      await session.query('SELECT 1');
      const res = await admin.delete(`/projects/${created.project.id}`).expect(200);
      expect(res.body.project).toMatchObject({ id: created.project.id, name: 'doomed' });
      await expect(session.query('SELECT 1')).rejects.toBeDefined();
      await session.end().catch(() => undefined);
      expect(await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [database])).toHaveLength(0);
      expect(await adminQuery('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).toHaveLength(0);
      await admin.get(`/projects/${created.project.id}`).expect(404);
      await admin.delete(`/projects/${created.project.id}`).expect(404);
      const rows = await adminQuery('SELECT 1 FROM branches WHERE project_id = $1', [created.project.id], t.database);
      expect(rows).toHaveLength(0);
    });
  });

  describe('list', () => {
    it('pages with Neon cursors: every project exactly once, and the cursor of a full last page leads to an empty page', async () => {
      const user = await newAccount(t, 'pager');
      const org = await api(t, user.key).post('/organizations', { name: 'Pager' }).expect(201);
      const mine = api(t, user.key);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await createProject(mine, { name: `page-${i}` })).project.id);

      const pages = await allPages<string>(async (cursor) => {
        const res = await mine.get(`/projects?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`).expect(200);
        expect(res.body).toMatchObject({ applications: {}, integrations: {} });
        // neonctl's loop: keep going while pages are full.
        const items = res.body.projects.map((p: { id: string }) => p.id);
        return { items, cursor: items.length === 2 ? res.body.pagination.cursor : undefined };
      });
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
      expect(pages.flat()).toEqual([...ids].reverse()); // newest first, no duplicates, none missing

      const four = await mine.get('/projects?limit=4').expect(200);
      const tail = await mine.get(`/projects?limit=4&cursor=${encodeURIComponent(four.body.pagination.cursor)}`).expect(200);
      expect(tail.body.projects.map((p: { id: string }) => p.id)).toEqual([ids[0]]);
      const end = await mine.get(`/projects?limit=4&cursor=${encodeURIComponent(tail.body.pagination.cursor)}`).expect(200);
      expect(end.body.projects).toEqual([]);
      expect(end.body.pagination).toBeUndefined();

      const defaults = await mine.get('/projects').expect(200);
      expect(defaults.body.projects).toHaveLength(5);
      expect(defaults.body.projects[0]).toMatchObject({ org_id: org.body.id, org_name: 'Pager', effective_project_permission: 'CAN_MANAGE' });

      const search = await mine.get('/projects?search=page-3').expect(200);
      expect(search.body.projects.map((p: { id: string }) => p.id)).toEqual([ids[3]]);
      const byId = await mine.get(`/projects?search=${ids[1].slice(0, -2)}`).expect(200);
      expect(byId.body.projects.map((p: { id: string }) => p.id)).toContain(ids[1]);
      const wildcard = await mine.get('/projects?search=%25').expect(200);
      expect(wildcard.body.projects).toEqual([]);

      const filtered = await mine.get(`/projects?org_id=${org.body.id}&limit=400`).expect(200);
      expect(filtered.body.projects).toHaveLength(5);
      await mine.get(`/projects?org_id=${orgId}`).expect(404);
    });

    it('refuses bad query parameters with 400 naming them', async () => {
      for (const [qs, field] of [
        ['limit=0', 'limit'],
        ['limit=401', 'limit'],
        ['limit=abc', 'limit'],
        ['cursor=not-a-cursor', 'cursor'],
        ['org_id=BAD!', 'org_id'],
        ['recoverable=maybe', 'recoverable'],
        ['unknown=1', 'unknown'],
      ]) {
        const res = await admin.get(`/projects?${qs}`);
        expect({ qs, status: res.status }).toEqual({ qs, status: 400 });
        expect(res.body.message).toContain(field);
      }
    });
  });

  describe('failures leave nothing behind', () => {
    it('a failure after the database was created rolls back the rows and drops the real database and role', async () => {
      // A real fault: the control-plane insert of the database row fails after CREATE DATABASE succeeded.
      await adminQuery(
        `CREATE FUNCTION fail_db_insert() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.name = 'fail_me' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$`,
        [],
        t.database,
      );
      await adminQuery(
        'CREATE TRIGGER fail_db_insert BEFORE INSERT ON branch_databases FOR EACH ROW EXECUTE FUNCTION fail_db_insert()',
        [],
        t.database,
      );
      const before = await adminQuery<{ n: number }>('SELECT count(*)::int AS n FROM projects', [], t.database);
      const res = await admin.post('/projects', { project: { name: 'fails', branch: { database_name: 'fail_me', role_name: 'fail_role' } } });
      expect(res.status).toBe(500);
      expect(res.body.message).toBe('internal server error');
      expect(await adminQuery<{ n: number }>('SELECT count(*)::int AS n FROM projects', [], t.database)).toEqual(before);
      expect(await adminQuery(`SELECT datname FROM pg_database WHERE datname LIKE 'fail\\_me.%'`)).toEqual([]);
      expect(await adminQuery(`SELECT rolname FROM pg_roles WHERE rolname LIKE 'fail\\_role.%'`)).toEqual([]);
      await adminQuery('DROP TRIGGER fail_db_insert ON branch_databases', [], t.database);
    });
  });
});
