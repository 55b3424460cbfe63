// neon_auth provisioning on real branch databases of a real project (real Postgres, real HTTP for the projects API).
import { and, asc, eq, isNull } from 'drizzle-orm';
import { usersSync } from 'drizzle-orm/neon';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { ApiError } from '../../src/common/errors.js';
import { UsersSyncTableMismatchError } from '../../src/neon-auth/users-sync/users-sync.errors.js';
import { NeonAuthUsersSyncStore } from '../../src/neon-auth/users-sync/users-sync.store.js';
import { BranchDatabasesService, type BranchDatabase } from '../../src/projects/branch-databases/branch-databases.service.js';
import { api, createProject, withClient, type Api } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { adminQuery } from '../helpers/test-db.js';

/**
 * Neon's table exactly as Neon's pg_dumps show it (shared reference, neon-api.md §5.1), kept verbatim
 * here as the oracle. pg_dump prints generated columns as `GENERATED ALWAYS AS (<pg_get_expr>) STORED`
 * and indexes with pg_get_indexdef, so the catalog of a provisioned table must render to these strings.
 */
const NEON_DUMP_TABLE = `CREATE TABLE neon_auth.users_sync (
    raw_json jsonb NOT NULL,
    id text GENERATED ALWAYS AS ((raw_json ->> 'id'::text)) STORED NOT NULL,
    name text GENERATED ALWAYS AS ((raw_json ->> 'display_name'::text)) STORED,
    email text GENERATED ALWAYS AS ((raw_json ->> 'primary_email'::text)) STORED,
    created_at timestamp with time zone GENERATED ALWAYS AS (to_timestamp((trunc((((raw_json ->> 'signed_up_at_millis'::text))::bigint)::double precision) / (1000)::double precision))) STORED,
    updated_at timestamp with time zone,
    deleted_at timestamp with time zone
);`;
const NEON_DUMP_PKEY_INDEX = 'CREATE UNIQUE INDEX users_sync_pkey ON neon_auth.users_sync USING btree (id)';
const NEON_DUMP_DELETED_AT_INDEX = 'CREATE INDEX users_sync_deleted_at_idx ON neon_auth.users_sync USING btree (deleted_at)';

interface DumpColumn {
  name: string;
  type: string;
  generated: string | null;
  notNull: boolean;
}

/** Parses the column lines of the dump above. */
function dumpColumns(): DumpColumn[] {
  const lines = NEON_DUMP_TABLE.split('\n').slice(1, -1).map((l) => l.trim().replace(/,$/, ''));
  return lines.map((line) => {
    const notNull = line.endsWith(' NOT NULL');
    const body = notNull ? line.slice(0, -' NOT NULL'.length) : line;
    const gen = /^(\w+) (.+?) GENERATED ALWAYS AS \((.*)\) STORED$/.exec(body);
    if (gen) return { name: gen[1], type: gen[2], generated: gen[3], notNull };
    const plain = /^(\w+) (.+)$/.exec(body)!;
    return { name: plain[1], type: plain[2], generated: null, notNull };
  });
}

async function catalogColumns(database: string): Promise<DumpColumn[]> {
  const rows = await adminQuery<{ name: string; type: string; attgenerated: string; expr: string | null; notnull: boolean }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attgenerated::text AS attgenerated,
            pg_get_expr(d.adbin, d.adrelid) AS expr, a.attnotnull AS notnull
       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = 'neon_auth.users_sync'::regclass AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [],
    database,
  );
  return rows.map((r) => ({ name: r.name, type: r.type, generated: r.attgenerated === 's' ? r.expr : r.attgenerated || r.expr, notNull: r.notnull }));
}

async function neonAuthObjects(database: string): Promise<{ schema: boolean; table: boolean }> {
  const [row] = await adminQuery<{ schema: boolean; table: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'neon_auth') AS schema,
            to_regclass('neon_auth.users_sync') IS NOT NULL AS table`,
    [],
    database,
  );
  return row;
}

function stackUser(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    display_name: `User ${id}`,
    primary_email: `${id}@example.com`,
    primary_email_verified: true,
    signed_up_at_millis: 1_767_225_600_123, // 2026-01-01T00:00:00.123Z
    client_metadata: null,
    server_metadata: { roles: [] },
    ...extra,
  };
}

describe('neon_auth provisioning', () => {
  let t: TestApp;
  let admin: Api;
  let svc: NeonAuthUsersSyncStore;
  let projectId: string;
  let mainId: string;
  let appUri: string;
  let main: BranchDatabase;

  /** A new empty database on the main branch (real, through the projects API), resolved for provisioning. */
  let dbCounter = 0;
  async function newDatabase(): Promise<BranchDatabase> {
    const name = `extra_${++dbCounter}`;
    await admin.post(`/projects/${projectId}/branches/${mainId}/databases`, { database: { name, owner_name: 'neondb_owner' } }).expect(201);
    return t.app.get(BranchDatabasesService).resolve(projectId, mainId, name);
  }

  /** The application's own connection (the owner role's URI from the API) to a database of the main branch. */
  async function appUriOf(databaseName: string): Promise<string> {
    const res = await admin.get(`/projects/${projectId}/connection_uri?database_name=${databaseName}&role_name=neondb_owner`).expect(200);
    return res.body.uri;
  }

  beforeAll(async () => {
    t = await startTestApp();
    admin = api(t, t.adminKey);
    svc = t.app.get(NeonAuthUsersSyncStore);
    const created = await createProject(admin, { name: 'auth-provisioning' });
    projectId = created.project.id;
    mainId = created.branch.id;
    appUri = created.connection_uris[0].connection_uri;
    main = await t.app.get(BranchDatabasesService).resolve(projectId, mainId);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('resolveBranchDatabase', () => {
    it("defaults to the branch's first database and names the real database and owner role", async () => {
      expect(main).toEqual({ branchId: mainId, name: 'neondb', physicalName: `neondb.${mainId}`, ownerRole: expect.stringMatching(/^neondb_owner\./) });
      expect(await t.app.get(BranchDatabasesService).resolve(projectId, mainId, 'neondb')).toEqual(main);
      const [db] = await adminQuery<{ owner: string }>('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [main.physicalName]);
      expect(db.owner).toBe(main.ownerRole);
    });

    it('validates database_name from requests (400 naming the field) and answers 404 for unknown branches and databases', async () => {
      for (const bad of ['', 'x'.repeat(64), 'é'.repeat(32), 'bad\nname', 'nul\u0000']) {
        const err = await t.app.get(BranchDatabasesService).resolve(projectId, mainId, bad).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ApiError);
        expect(err).toMatchObject({ code: 'VALIDATION_ERROR', status: 400, message: expect.stringContaining('[database_name]') });
      }
      const field = await t.app.get(BranchDatabasesService).resolve(projectId, mainId, '', 'auth.database_name').catch((e: unknown) => e);
      expect((field as Error).message).toContain('[auth.database_name]');
      await expect(t.app.get(BranchDatabasesService).resolve(projectId, mainId, 'nope')).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
      await expect(t.app.get(BranchDatabasesService).resolve(projectId, 'br-missing-branch-000000')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(t.app.get(BranchDatabasesService).resolve('other-project-12345678', mainId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
  });

  describe('provision', () => {
    beforeAll(async () => {
      expect(await svc.isProvisioned(main)).toBe(false);
      expect(await svc.provision(main)).toEqual({ created: true, schemaCreated: true });
    });

    it("creates Neon's exact users_sync: columns, generated expressions, nullability, primary key and index", async () => {
      expect(await catalogColumns(main.physicalName)).toEqual(dumpColumns());
      const indexes = await adminQuery<{ def: string }>(
        `SELECT pg_get_indexdef(indexrelid) AS def FROM pg_index WHERE indrelid = 'neon_auth.users_sync'::regclass ORDER BY 1`,
        [],
        main.physicalName,
      );
      expect(indexes.map((i) => i.def)).toEqual([NEON_DUMP_DELETED_AT_INDEX, NEON_DUMP_PKEY_INDEX]);
      const constraints = await adminQuery<{ conname: string; contype: string; def: string }>(
        `SELECT conname, contype::text, pg_get_constraintdef(oid) AS def FROM pg_constraint
          WHERE conrelid = 'neon_auth.users_sync'::regclass AND contype <> 'n' ORDER BY conname`,
        [],
        main.physicalName,
      );
      expect(constraints).toEqual([{ conname: 'users_sync_pkey', contype: 'p', def: 'PRIMARY KEY (id)' }]);
      const [rel] = await adminQuery<{ relkind: string; relpersistence: string }>(
        `SELECT relkind::text, relpersistence::text FROM pg_class WHERE oid = 'neon_auth.users_sync'::regclass`,
        [],
        main.physicalName,
      );
      expect(rel).toEqual({ relkind: 'r', relpersistence: 'p' });
      expect(await svc.isProvisioned(main)).toBe(true);
    });

    it("belongs to the database's owner role, as on Neon (neondb_owner)", async () => {
      const [owners] = await adminQuery<{ schema_owner: string; table_owner: string }>(
        `SELECT pg_get_userbyid(n.nspowner) AS schema_owner, pg_get_userbyid(c.relowner) AS table_owner
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = 'neon_auth.users_sync'::regclass`,
        [],
        main.physicalName,
      );
      expect(owners).toEqual({ schema_owner: main.ownerRole, table_owner: main.ownerRole });
    });

    it('lets the application write raw_json (generated columns follow) and refuses writes to generated columns', async () => {
      await withClient(appUri, async (c) => {
        await c.query(`INSERT INTO neon_auth.users_sync (raw_json, updated_at) VALUES ($1, now())`, [JSON.stringify(stackUser('gen-1'))]);
        const { rows } = await c.query(`SELECT id, name, email, created_at, deleted_at FROM neon_auth.users_sync WHERE id = 'gen-1'`);
        expect(rows).toEqual([
          { id: 'gen-1', name: 'User gen-1', email: 'gen-1@example.com', created_at: new Date('2026-01-01T00:00:00.123Z'), deleted_at: null },
        ]);
        for (const column of ['id', 'name', 'email', 'created_at']) {
          const value = column === 'created_at' ? 'now()' : `'x'`;
          const insert = await c
            .query(`INSERT INTO neon_auth.users_sync (raw_json, ${column}) VALUES ('{"id":"gen-2"}', ${value})`)
            .catch((e: { code?: string; message: string }) => e);
          expect(insert).toMatchObject({ code: '428C9', message: expect.stringContaining(`cannot insert a non-DEFAULT value into column "${column}"`) });
          const update = await c.query(`UPDATE neon_auth.users_sync SET ${column} = ${value} WHERE id = 'gen-1'`).catch((e: { code?: string }) => e);
          expect(update).toMatchObject({ code: '428C9', message: expect.stringContaining(`column "${column}" can only be updated to DEFAULT`) });
        }
        // raw_json without an id cannot exist: id is NOT NULL.
        const noId = await c.query(`INSERT INTO neon_auth.users_sync (raw_json) VALUES ('{"display_name":"x"}')`).catch((e: { code?: string }) => e);
        expect(noId).toMatchObject({ code: '23502' });
        // Changing raw_json moves the generated columns.
        await c.query(`UPDATE neon_auth.users_sync SET raw_json = raw_json || '{"primary_email":"new@example.com"}' WHERE id = 'gen-1'`);
        expect((await c.query(`SELECT email FROM neon_auth.users_sync WHERE id = 'gen-1'`)).rows).toEqual([{ email: 'new@example.com' }]);
      });
    });

    it("is read by drizzle-orm's usersSync table from drizzle-orm/neon (node-postgres driver)", async () => {
      await svc.upsertUsers(main, [
        { raw_json: stackUser('drizzle-a'), updated_at: '2026-02-01T10:00:00Z' },
        { raw_json: stackUser('drizzle-b', { display_name: null }), updated_at: '2026-02-01T10:00:01Z' },
        { raw_json: stackUser('drizzle-c'), updated_at: '2026-02-01T10:00:02Z', deleted_at: '2026-02-01T10:00:02Z' },
      ]);
      const pool = new pg.Pool({ connectionString: appUri, max: 1 });
      try {
        const db = drizzle(pool);
        const live = await db
          .select()
          .from(usersSync)
          .where(and(isNull(usersSync.deletedAt), eq(usersSync.email, 'drizzle-a@example.com')))
          .orderBy(asc(usersSync.id));
        expect(live).toHaveLength(1);
        expect(live[0]).toMatchObject({ id: 'drizzle-a', name: 'User drizzle-a', email: 'drizzle-a@example.com', deletedAt: null });
        expect(live[0].rawJson).toEqual(stackUser('drizzle-a'));
        expect(new Date(live[0].createdAt!).toISOString()).toBe('2026-01-01T00:00:00.123Z'); // to_timestamp(ms / 1000) keeps the milliseconds
        expect(new Date(live[0].updatedAt!).toISOString()).toBe('2026-02-01T10:00:00.000Z');
        const drizzleRows = await db.select({ id: usersSync.id, name: usersSync.name, deletedAt: usersSync.deletedAt }).from(usersSync).orderBy(asc(usersSync.id));
        expect(drizzleRows.filter((r) => r.id.startsWith('drizzle-'))).toEqual([
          { id: 'drizzle-a', name: 'User drizzle-a', deletedAt: null },
          { id: 'drizzle-b', name: null, deletedAt: null },
          { id: 'drizzle-c', name: 'User drizzle-c', deletedAt: expect.any(String) },
        ]);
      } finally {
        await pool.end();
      }
    });

    it("supports a todos table with REFERENCES neon_auth.users_sync(id) ON DELETE CASCADE, as Neon's docs show", async () => {
      await svc.upsertUsers(main, [{ raw_json: stackUser('todo-owner'), updated_at: '2026-02-02T00:00:00Z' }]);
      await withClient(appUri, async (c) => {
        await c.query(`CREATE TABLE todos (
          id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
          task text NOT NULL,
          is_complete boolean NOT NULL DEFAULT false,
          user_id text NOT NULL REFERENCES neon_auth.users_sync(id) ON DELETE CASCADE
        )`);
        await c.query(`INSERT INTO todos (task, user_id) VALUES ('write tests', 'todo-owner'), ('ship', 'todo-owner')`);
        const fk = await c.query(`INSERT INTO todos (task, user_id) VALUES ('orphan', 'nobody')`).catch((e: { code?: string }) => e);
        expect(fk).toMatchObject({ code: '23503' });
        const joined = await c.query(
          `SELECT t.task, u.email FROM todos t JOIN neon_auth.users_sync u ON u.id = t.user_id WHERE u.deleted_at IS NULL ORDER BY t.id`,
        );
        expect(joined.rows).toEqual([
          { task: 'write tests', email: 'todo-owner@example.com' },
          { task: 'ship', email: 'todo-owner@example.com' },
        ]);
        // A soft delete keeps the todos; a hard delete of the user row cascades to them.
        await svc.markDeleted(main, ['todo-owner'], '2026-02-03T00:00:00Z');
        expect((await c.query('SELECT count(*)::int AS n FROM todos')).rows).toEqual([{ n: 2 }]);
        await c.query(`DELETE FROM neon_auth.users_sync WHERE id = 'todo-owner'`);
        expect((await c.query('SELECT count(*)::int AS n FROM todos')).rows).toEqual([{ n: 0 }]);
        await c.query(`INSERT INTO todos (task, user_id) VALUES ('still here', 'drizzle-a')`);
      });
    });

    it('is idempotent: provisioning again keeps the table and its rows', async () => {
      const before = await adminQuery<{ n: number }>('SELECT count(*)::int AS n FROM neon_auth.users_sync', [], main.physicalName);
      expect(before[0].n).toBeGreaterThan(0);
      expect(await svc.provision(main)).toEqual({ created: false, schemaCreated: false });
      const after = await adminQuery<{ n: number }>('SELECT count(*)::int AS n FROM neon_auth.users_sync', [], main.physicalName);
      expect(after).toEqual(before);
    });

    it('accepts extra indexes people add (e.g. on email) when provisioning again', async () => {
      await withClient(appUri, (c) => c.query('CREATE INDEX users_sync_email_idx ON neon_auth.users_sync (email)'));
      expect(await svc.provision(main)).toEqual({ created: false, schemaCreated: false });
      expect(await svc.isProvisioned(main)).toBe(true);
    });

    it('keeps working on a branch created after provisioning (the copy carries users_sync and its rows)', async () => {
      const child = (await admin.post(`/projects/${projectId}/branches`, { branch: { name: 'auth-child' } }).expect(201)).body;
      const childDb = await t.app.get(BranchDatabasesService).resolve(projectId, child.branch.id);
      expect(childDb.physicalName).not.toBe(main.physicalName);
      expect(await svc.isProvisioned(childDb)).toBe(true);
      expect(await svc.provision(childDb)).toEqual({ created: false, schemaCreated: false });
      await svc.upsertUsers(childDb, [{ raw_json: stackUser('only-in-child'), updated_at: '2026-02-04T00:00:00Z' }]);
      const inChild = await adminQuery<{ id: string }>(`SELECT id FROM neon_auth.users_sync WHERE id LIKE 'drizzle-%' OR id = 'only-in-child' ORDER BY id`, [], childDb.physicalName);
      expect(inChild.map((r) => r.id)).toEqual(['drizzle-a', 'drizzle-b', 'drizzle-c', 'only-in-child']);
      const inMain = await adminQuery(`SELECT 1 FROM neon_auth.users_sync WHERE id = 'only-in-child'`, [], main.physicalName);
      expect(inMain).toEqual([]);
      // Branching again right after this service used its pools: they were closed for the copy, and reopen after.
      await admin.post(`/projects/${projectId}/branches`, { branch: { name: 'auth-child-2', parent_id: child.branch.id } }).expect(201);
      expect(await svc.upsertUsers(childDb, [{ raw_json: stackUser('after-branching'), updated_at: '2026-02-04T00:00:01Z' }])).toEqual({ written: 1, skipped: 0 });
    });
  });

  describe('deprovision', () => {
    it('delete_data:false keeps schema, table and rows; enabling again reuses them', async () => {
      const db = await newDatabase();
      await svc.provision(db);
      await svc.upsertUsers(db, [{ raw_json: stackUser('kept'), updated_at: '2026-03-01T00:00:00Z' }]);
      expect(await svc.deprovision(db, { deleteData: false })).toEqual({ dropped: false, droppedDependents: [] });
      expect(await neonAuthObjects(db.physicalName)).toEqual({ schema: true, table: true });
      expect(await svc.provision(db)).toEqual({ created: false, schemaCreated: false });
      const rows = await adminQuery<{ id: string; email: string }>('SELECT id, email FROM neon_auth.users_sync', [], db.physicalName);
      expect(rows).toEqual([{ id: 'kept', email: 'kept@example.com' }]);
    });

    it('delete_data:true drops the schema with CASCADE: foreign keys to users_sync go, the referencing tables and rows stay', async () => {
      const db = await newDatabase();
      await svc.provision(db);
      await svc.upsertUsers(db, [{ raw_json: stackUser('gone'), updated_at: '2026-03-01T00:00:00Z' }]);
      await withClient(await appUriOf(db.name), async (c) => {
        await c.query(`CREATE TABLE todos (id int PRIMARY KEY, user_id text REFERENCES neon_auth.users_sync(id) ON DELETE CASCADE)`);
        await c.query(`INSERT INTO todos VALUES (1, 'gone')`);
        await c.query(`CREATE VIEW active_users AS SELECT id, email FROM neon_auth.users_sync WHERE deleted_at IS NULL`);
        await c.query(`CREATE TABLE notes (id int PRIMARY KEY)`);
      });
      const result = await svc.deprovision(db, { deleteData: true });
      expect(result).toEqual({ dropped: true, droppedDependents: ['constraint todos_user_id_fkey on table public.todos', 'view public.active_users'] });
      expect(await adminQuery(`SELECT to_regclass('active_users') IS NULL AS gone, to_regclass('notes') IS NOT NULL AS kept`, [], db.physicalName)).toEqual([
        { gone: true, kept: true },
      ]);
      expect(await neonAuthObjects(db.physicalName)).toEqual({ schema: false, table: false });
      expect(await adminQuery('SELECT id, user_id FROM todos', [], db.physicalName)).toEqual([{ id: 1, user_id: 'gone' }]);
      expect(await adminQuery(`SELECT conname FROM pg_constraint WHERE conrelid = 'todos'::regclass AND contype = 'f'`, [], db.physicalName)).toEqual([]);
      // Again: nothing to drop. Then enabling again starts empty.
      expect(await svc.deprovision(db, { deleteData: true })).toEqual({ dropped: false, droppedDependents: [] });
      expect(await svc.provision(db)).toEqual({ created: true, schemaCreated: true });
      expect(await adminQuery('SELECT * FROM neon_auth.users_sync', [], db.physicalName)).toEqual([]);
    });

    it('delete_data:true waits a bounded time for a transaction holding users_sync, then answers 423 and changes nothing', async () => {
      const db = await newDatabase();
      await svc.provision(db);
      const holder = new pg.Client({ connectionString: await appUriOf(db.name) });
      await holder.connect();
      const previous = svc.ddlLockTimeoutMs;
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT * FROM neon_auth.users_sync');
        svc.ddlLockTimeoutMs = 300;
        const started = Date.now();
        const err = await svc.deprovision(db, { deleteData: true }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'LOCKED', status: 423 });
        expect(Date.now() - started).toBeLessThan(5_000);
      } finally {
        svc.ddlLockTimeoutMs = previous;
        await holder.query('ROLLBACK').catch(() => undefined);
        await holder.end();
      }
      expect(await neonAuthObjects(db.physicalName)).toEqual({ schema: true, table: true });
      expect((await svc.deprovision(db, { deleteData: true })).dropped).toBe(true);
    });
  });

  describe('refusals and atomicity', () => {
    it('refuses a different neon_auth.users_sync with 409 naming the differences, and leaves it untouched', async () => {
      const db = await newDatabase();
      await adminQuery(
        `CREATE SCHEMA neon_auth;
         CREATE TABLE neon_auth.users_sync (id text PRIMARY KEY, raw_json jsonb, email text);
         INSERT INTO neon_auth.users_sync VALUES ('mine', '{}', 'me@example.com');`,
        [],
        db.physicalName,
      );
      const err = await svc.provision(db).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsersSyncTableMismatchError);
      expect(err).toMatchObject({ code: 'CONFLICT', status: 409 });
      const differences = (err as UsersSyncTableMismatchError).differences;
      expect(differences).toEqual(
        expect.arrayContaining([
          'column raw_json is "jsonb", expected "jsonb NOT NULL"',
          'column id is "text NOT NULL", expected "text GENERATED ALWAYS AS (raw_json ->> \'id\'::text) STORED NOT NULL"',
          'column name is missing',
          'index users_sync_deleted_at_idx is missing (expected INDEX USING btree (deleted_at))',
        ]),
      );
      expect((err as Error).message).toContain('neon_auth.users_sync that is not Neon Auth');
      expect(await svc.isProvisioned(db)).toBe(false);
      expect(await adminQuery('SELECT id, email FROM neon_auth.users_sync', [], db.physicalName)).toEqual([{ id: 'mine', email: 'me@example.com' }]);
    });

    it("refuses Neon's columns without Neon's index, and a view of that name", async () => {
      const noIndex = await newDatabase();
      await svc.provision(noIndex);
      await adminQuery('DROP INDEX neon_auth.users_sync_deleted_at_idx', [], noIndex.physicalName);
      await expect(svc.provision(noIndex)).rejects.toMatchObject({
        differences: ['index users_sync_deleted_at_idx is missing (expected INDEX USING btree (deleted_at))'],
      });
      const view = await newDatabase();
      await adminQuery(`CREATE SCHEMA neon_auth; CREATE VIEW neon_auth.users_sync AS SELECT '{}'::jsonb AS raw_json`, [], view.physicalName);
      await expect(svc.provision(view)).rejects.toMatchObject({ status: 409, differences: ['it is not an ordinary table (relkind v)'] });
    });

    it('creates the table in an existing neon_auth schema it did not make, and grants the owner USAGE on it', async () => {
      const db = await newDatabase();
      await adminQuery('CREATE SCHEMA neon_auth; CREATE TABLE neon_auth.project_config (id int)', [], db.physicalName);
      expect(await svc.provision(db)).toEqual({ created: true, schemaCreated: false });
      await withClient(await appUriOf(db.name), async (c) => {
        await c.query(`INSERT INTO neon_auth.users_sync (raw_json) VALUES ('{"id":"u1"}')`);
        expect((await c.query('SELECT id FROM neon_auth.users_sync')).rows).toEqual([{ id: 'u1' }]);
      });
    });

    it('leaves nothing half-created when a step fails after the schema and table were made (unknown owner role)', async () => {
      const db = await newDatabase();
      const err = await svc.provision({ ...db, ownerRole: 'no_such_role' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: '42704' }); // role "no_such_role" does not exist (raised by ALTER ... OWNER TO, the last steps)
      expect(await neonAuthObjects(db.physicalName)).toEqual({ schema: false, table: false });
      expect(await svc.provision(db)).toEqual({ created: true, schemaCreated: true });
    });

    it('leaves nothing half-created when the index cannot be made (its name is taken in the schema)', async () => {
      const db = await newDatabase();
      await adminQuery(
        'CREATE SCHEMA neon_auth; CREATE TABLE neon_auth.other (deleted_at timestamptz); CREATE INDEX users_sync_deleted_at_idx ON neon_auth.other (deleted_at)',
        [],
        db.physicalName,
      );
      const err = await svc.provision(db).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: '42P07' }); // relation "users_sync_deleted_at_idx" already exists
      expect(await neonAuthObjects(db.physicalName)).toEqual({ schema: true, table: false });
      expect(await adminQuery(`SELECT to_regclass('neon_auth.other') IS NOT NULL AS kept`, [], db.physicalName)).toEqual([{ kept: true }]);
    });

    it('serializes concurrent provisioning of one database: one creates, the others find it', async () => {
      const db = await newDatabase();
      const results = await Promise.all([svc.provision(db), svc.provision(db), svc.provision(db)]);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(results.filter((r) => !r.created)).toHaveLength(2);
      expect(await catalogColumns(db.physicalName)).toEqual(dumpColumns());
    });
  });
});
