import pg from 'pg';
import { DataSource } from 'typeorm';
import { api, withClient, type Api } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { BranchDatabaseCluster } from '../../src/projects/branch-databases/branch-database-cluster.js';
import { testAdminUrl } from '../helpers/test-db.js';
import { enableAuth, newAuthProject, signUpWithClientKey, usersSync, type AuthProject, type EnabledAuth } from '../neon-auth/users-helpers.js';
import { waitFor } from '../sync/receiver-helpers.js';

/**
 * A tenant (the owner role of a branch database, whose connection URI any project reader gets) owns
 * `neon_auth.users_sync`, and so can put code in the way of every statement the control plane runs on it. Each
 * case below plants such code — a function that tries to make the tenant a superuser, give it CREATEROLE and
 * CREATEDB, make it a member of a powerful role, and that reports, with pg_notify, which role ran it — and then
 * drives everything that touches the table: a sign-up through the embedded provider (webhook -> applier), a
 * users-API create, a role change, a delete, a reconcile, a disable and a re-enable. Afterwards the tenant role
 * has gained nothing, and it cannot connect to the control-plane database.
 */
const ATTEMPT = (tenant: string) => `
  PERFORM pg_notify('escalation', current_user);
  BEGIN EXECUTE format('ALTER ROLE %I SUPERUSER CREATEROLE CREATEDB BYPASSRLS', '${tenant}'); EXCEPTION WHEN OTHERS THEN NULL; END;
  BEGIN EXECUTE format('GRANT pg_execute_server_program, pg_read_server_files TO %I', '${tenant}'); EXCEPTION WHEN OTHERS THEN NULL; END;`;

interface Planted {
  /** Runs as the tenant on its own database. */
  plant(c: pg.Client, tenant: string, database: string): Promise<void>;
  /** Whether the planted code must have run (some cases only break the table: then writes fail, which is allowed). */
  runs: boolean;
}

const CASES: Record<string, Planted> = {
  'a trigger on users_sync (the reported reproduction)': {
    runs: true,
    async plant(c, tenant) {
      await c.query(`CREATE FUNCTION public.esc_trigger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${ATTEMPT(tenant)} RETURN NEW; END $$`);
      await c.query('CREATE TRIGGER esc BEFORE INSERT OR UPDATE ON neon_auth.users_sync FOR EACH ROW EXECUTE FUNCTION public.esc_trigger()');
    },
  },
  'a rule on users_sync': {
    runs: false,
    async plant(c, tenant) {
      await c.query(`CREATE FUNCTION public.esc_rule() RETURNS void LANGUAGE plpgsql AS $$ BEGIN ${ATTEMPT(tenant)} END $$`);
      await c.query('CREATE RULE esc AS ON UPDATE TO neon_auth.users_sync DO ALSO SELECT public.esc_rule()');
    },
  },
  'a column default': {
    runs: true,
    async plant(c, tenant) {
      await c.query(`CREATE FUNCTION public.esc_default() RETURNS text LANGUAGE plpgsql AS $$ BEGIN ${ATTEMPT(tenant)} RETURN 'x'; END $$`);
      await c.query('ALTER TABLE neon_auth.users_sync ADD COLUMN planted text DEFAULT public.esc_default()');
    },
  },
  'users_sync replaced by a view over a tenant function': {
    runs: true,
    async plant(c, tenant) {
      await c.query(`CREATE FUNCTION public.esc_view() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN ${ATTEMPT(tenant)} RETURN true; END $$`);
      await c.query('ALTER TABLE neon_auth.users_sync RENAME TO users_sync_real');
      await c.query('CREATE VIEW neon_auth.users_sync AS SELECT * FROM neon_auth.users_sync_real WHERE public.esc_view()');
      // A hostile tenant hands the view to whatever role the control plane reads with, so its function is called.
      const { rows } = await c.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname LIKE 'neon_auth_data_%'");
      for (const r of rows) await c.query(`GRANT SELECT, INSERT, UPDATE ON neon_auth.users_sync TO ${pg.escapeIdentifier(r.rolname)}`);
    },
  },
  'functions and operators shadowed through search_path': {
    runs: false,
    async plant(c, tenant, database) {
      await c.query(`CREATE FUNCTION public.esc_arrow(jsonb, text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN ${ATTEMPT(tenant)} RETURN $1 ->> $2; END $$`);
      await c.query('CREATE OPERATOR public.->> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = public.esc_arrow)');
      await c.query(`CREATE FUNCTION public.unnest(text[]) RETURNS SETOF text LANGUAGE plpgsql AS $$ BEGIN ${ATTEMPT(tenant)} RETURN QUERY SELECT pg_catalog.unnest($1); END $$`);
      await c.query(
        `CREATE FUNCTION public.jsonb_build_object(text, text) RETURNS jsonb LANGUAGE plpgsql AS $$ BEGIN ${ATTEMPT(tenant)} RETURN pg_catalog.jsonb_build_object($1, $2); END $$`,
      );
      await c.query(`CREATE FUNCTION neon_auth.to_timestamp(double precision) RETURNS timestamptz LANGUAGE plpgsql AS $$ BEGIN ${ATTEMPT(tenant)} RETURN pg_catalog.to_timestamp($1); END $$`);
      // Every session on this database (the control plane's too) would look in public and neon_auth first.
      await c.query(`ALTER DATABASE ${pg.escapeIdentifier(database)} SET search_path = public, neon_auth, pg_catalog`);
    },
  },
  'an index expression': {
    runs: true,
    async plant(c, tenant) {
      await c.query(`CREATE FUNCTION public.esc_index(text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN ${ATTEMPT(tenant)} RETURN $1; END $$`);
      await c.query('CREATE INDEX esc_idx ON neon_auth.users_sync (public.esc_index(id))');
    },
  },
  "a trigger on the tenant's own table, fired by ON DELETE CASCADE from users_sync": {
    runs: false,
    async plant(c, tenant) {
      await c.query(`CREATE FUNCTION public.esc_cascade() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${ATTEMPT(tenant)} RETURN OLD; END $$`);
      await c.query('CREATE TABLE public.todos (id serial PRIMARY KEY, user_id text REFERENCES neon_auth.users_sync (id) ON DELETE CASCADE ON UPDATE CASCADE)');
      await c.query('CREATE TRIGGER esc BEFORE DELETE OR UPDATE ON public.todos FOR EACH ROW EXECUTE FUNCTION public.esc_cascade()');
      await c.query("INSERT INTO public.todos (user_id) SELECT id FROM neon_auth.users_sync");
    },
  },
};

interface RoleState {
  rolsuper: boolean;
  rolcreaterole: boolean;
  rolcreatedb: boolean;
  rolbypassrls: boolean;
  memberships: string[];
}

async function roleState(role: string): Promise<RoleState> {
  return withClient(testAdminUrl(), async (c) => {
    const { rows } = await c.query<RoleState>(
      `SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls,
              COALESCE((SELECT array_agg(g.rolname::text ORDER BY g.rolname) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid), '{}'::text[]) AS memberships
         FROM pg_roles r WHERE r.rolname = $1`,
      [role],
    );
    return rows[0];
  });
}

/** The tenant's connection, listening for the planted code's reports (which role ran it). */
async function listen(uri: string): Promise<{ ranAs: string[]; close(): Promise<void> }> {
  const c = new pg.Client({ connectionString: uri });
  await c.connect();
  const ranAs: string[] = [];
  c.on('notification', (msg) => {
    if (msg.channel === 'escalation') ranAs.push(msg.payload ?? '');
  });
  await c.query('LISTEN escalation');
  return { ranAs, close: () => c.end() };
}

describe('tenants stay tenants: code planted in a branch database never runs with more than the tenant has', () => {
  let t: TestApp;
  let admin: Api;
  beforeAll(async () => {
    t = await startTestApp({ STACK_AUTH_WEBHOOK_RETRY_DELAY_SECONDS: '1' });
    admin = api(t, t.adminKey);
  });
  afterAll(async () => {
    await t?.close();
  });

  /**
   * Waits (at most 5 s, never failing) until the webhook of this user's latest change reached the inbox and was
   * applied or tried once: the planted code may make the apply fail, which is allowed.
   */
  async function triedOnce(userId: string): Promise<void> {
    await waitFor(
      async () =>
        ((await t.app.get(DataSource).query(`SELECT 1 FROM sync_inbox WHERE user_id = $1 AND (status <> 'pending' OR attempts > 0) LIMIT 1`, [userId])) as unknown[])
          .length > 0,
      5_000,
      25,
    ).catch(() => undefined);
  }

  /** Drives every path that reads or writes users_sync; failures caused by the broken table are allowed. */
  async function exercise(p: AuthProject, auth: EnabledAuth): Promise<void> {
    const base = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
    const attacker = await signUpWithClientKey(t, auth, `attacker-${Date.now()}@example.com`);
    const created = await admin.post(`${base}/users`, { email: `victim-${Date.now()}@example.com` });
    expect([201, 409, 503]).toContain(created.status);
    if (created.status === 201) {
      expect([200, 503]).toContain((await admin.put(`${base}/users/${created.body.id}/role`, { roles: ['admin'] })).status);
      expect([204, 503]).toContain((await admin.delete(`${base}/users/${created.body.id}`)).status);
    }
    await admin.get(`${base}/users`);
    await admin.post(`${base}/sync`, {});
    // Give the webhook of the sign-up time to be applied (or to fail) before the disable.
    await triedOnce(attacker);
    await admin.delete(base).send({ delete_data: false }).expect(200);
    const again = await admin.post(base, { auth_provider: 'stack' });
    expect([201, 409]).toContain(again.status);
    if (again.status === 201) {
      await triedOnce(await signUpWithClientKey(t, again.body as EnabledAuth, `again-${Date.now()}@example.com`));
    }
  }

  describe.each(Object.entries(CASES))('%s', (_name, planted) => {
    it('sign-up, users API, reconcile, disable and re-enable run, and the tenant role gains nothing', async () => {
      const p = await newAuthProject(t, 'escalation');
      const auth = await enableAuth(t, p.projectId, p.defaultBranchId, 'stack');
      await triedOnce(await signUpWithClientKey(t, auth, `before-${Date.now()}@example.com`));
      const tenant = new URL(p.uri).username;
      const database = new URL(p.uri).pathname.slice(1);
      const before = await roleState(tenant);
      expect(before).toEqual({ rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolbypassrls: false, memberships: [] });

      await withClient(p.uri, (c) => planted.plant(c, tenant, database));
      const reports = await listen(p.uri);
      try {
        await exercise(p, auth);
      } finally {
        await new Promise((r) => setTimeout(r, 200));
        await reports.close();
      }

      expect(await roleState(tenant)).toEqual(before);
      // Whatever ran the planted code, it was never a superuser or the cluster's admin.
      const supers = await withClient(testAdminUrl(), async (c) =>
        (await c.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolsuper')).rows.map((r) => r.rolname),
      );
      expect(reports.ranAs.filter((r) => supers.includes(r))).toEqual([]);
      if (planted.runs) expect(reports.ranAs.length).toBeGreaterThan(0);
      // The tenant's credentials open no session on the control-plane database.
      const cp = new URL(p.uri);
      cp.pathname = `/${t.database}`;
      const refused = await withClient(cp.toString(), async () => 'connected').catch((err: { code?: string }) => err.code);
      expect(refused).toBe('42501');
    });
  });

  it("the tenant-data role a tenant's code hijacks (its password, its settings, its sessions) reaches no other tenant", async () => {
    const a = await newAuthProject(t, 'hijacker');
    const authA = await enableAuth(t, a.projectId, a.defaultBranchId, 'stack');
    const b = await newAuthProject(t, 'neighbour');
    const authB = await enableAuth(t, b.projectId, b.defaultBranchId, 'stack');
    const dbA = new URL(a.uri).pathname.slice(1);
    const dbB = new URL(b.uri).pathname.slice(1);
    const roleA = t.app.get(BranchDatabaseCluster).tenantDataRoleOf(dbA);
    expect(roleA).not.toBe(t.app.get(BranchDatabaseCluster).tenantDataRoleOf(dbB));
    await withClient(a.uri, async (c) => {
      await c.query(`CREATE FUNCTION public.hijack() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        PERFORM pg_notify('escalation', current_user);
        BEGIN EXECUTE 'ALTER ROLE CURRENT_USER PASSWORD ''stolen-password'''; EXCEPTION WHEN OTHERS THEN NULL; END;
        BEGIN EXECUTE format('ALTER ROLE CURRENT_USER IN DATABASE %I SET default_transaction_read_only = on', '${dbB}'); EXCEPTION WHEN OTHERS THEN NULL; END;
        BEGIN PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename <> current_user AND pid <> pg_backend_pid(); EXCEPTION WHEN OTHERS THEN NULL; END;
        RETURN NEW; END $$`);
      await c.query('CREATE TRIGGER hijack BEFORE INSERT OR UPDATE ON neon_auth.users_sync FOR EACH ROW EXECUTE FUNCTION public.hijack()');
    });
    const reports = await listen(a.uri);
    try {
      await signUpWithClientKey(t, authA, `hijack-${Date.now()}@example.com`);
      await waitFor(async () => reports.ranAs.includes(roleA), 10_000, 100).catch(() => undefined); // asserted below
    } finally {
      await reports.close();
    }
    expect(reports.ranAs).toContain(roleA);
    // The stolen credentials open neither the neighbour's database nor the control plane's.
    for (const database of [dbB, t.database]) {
      const url = new URL(a.uri);
      url.username = roleA;
      url.password = 'stolen-password';
      url.pathname = `/${database}`;
      const refused = await withClient(url.toString(), async () => 'connected').catch((err: { code?: string }) => err.code);
      expect([database, refused]).toEqual([database, '42501']); // permission denied for database
    }
    // The neighbour's sync is untouched.
    const id = await signUpWithClientKey(t, authB, `neighbour-${Date.now()}@example.com`);
    await waitFor(async () => (await usersSync(b.uri, 'id = $1', [id])).length === 1, 10_000, 100);
  });
});
