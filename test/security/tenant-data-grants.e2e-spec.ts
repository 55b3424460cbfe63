import { NeonAuthIntegrationsService } from '../../src/neon-auth/integrations/integrations.service.js';
import { BranchDatabaseCluster } from '../../src/projects/branch-databases/branch-database-cluster.js';
import { api, withClient, type Api } from '../helpers/fixtures.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { adminQuery } from '../helpers/test-db.js';
import { enableAuth, newAuthProject, signUpWithClientKey, usersSync, type AuthProject } from '../neon-auth/users-helpers.js';
import { waitFor } from '../sync/receiver-helpers.js';

/**
 * The control plane reads and writes users_sync as the cluster's tenant-data role, with the rights provisioning
 * granted it. A tenant owns the table and may take them away: then the users API and the sync status say so
 * clearly, nothing else breaks, and an enable (or the grants restored at start) gives them back.
 */
describe('the tenant-data role and its grants', () => {
  let t: TestApp;
  let admin: Api;
  /** The tenant-data role of a project's default database (its physical name is the connection URI's path). */
  const roleOf = (uri: string): string => t.app.get(BranchDatabaseCluster).tenantDataRoleOf(new URL(uri).pathname.slice(1));
  beforeAll(async () => {
    t = await startTestApp({ STACK_AUTH_WEBHOOK_RETRY_DELAY_SECONDS: '1', SYNC_RETRY_DELAY_SECONDS: '1' });
    admin = api(t, t.adminKey);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('has no attributes and no memberships, and may connect only where Neon Auth is provisioned', async () => {
    const p = await newAuthProject(t, 'grants-role');
    const database = new URL(p.uri).pathname.slice(1);
    const role = roleOf(p.uri);
    await t.app.get(BranchDatabaseCluster).ensureTenantDataRole(database);
    const canConnect = async () =>
      (await adminQuery<{ ok: boolean }>('SELECT has_database_privilege($1, $2, $3) AS ok', [role, database, 'CONNECT']))[0].ok;
    expect(await canConnect()).toBe(false);
    await enableAuth(t, p.projectId, p.defaultBranchId, 'stack');
    expect(await canConnect()).toBe(true);
    const [attrs] = await adminQuery<Record<string, unknown>>(
      `SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolinherit, rolcanlogin,
              (SELECT count(*)::int FROM pg_auth_members WHERE member = r.oid) AS memberships
         FROM pg_roles r WHERE rolname = $1`,
      [role],
    );
    expect(attrs).toEqual({ rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false, rolbypassrls: false, rolinherit: false, rolcanlogin: true, memberships: 0 });

    const [table] = await adminQuery<Record<string, boolean>>(
      `SELECT has_table_privilege($1, 'neon_auth.users_sync', 'SELECT') AS s, has_table_privilege($1, 'neon_auth.users_sync', 'INSERT') AS i,
              has_table_privilege($1, 'neon_auth.users_sync', 'UPDATE') AS u, has_table_privilege($1, 'neon_auth.users_sync', 'DELETE') AS d,
              has_table_privilege($1, 'neon_auth.users_sync', 'TRUNCATE') AS t, has_schema_privilege($1, 'neon_auth', 'CREATE') AS c`,
      [role],
      database,
    );
    expect(table).toEqual({ s: true, i: true, u: true, d: false, t: false, c: false });
  });

  it('revoked grants: the users API answers 503 naming the repair, the sync status shows the failure; an enable restores them', async () => {
    const p: AuthProject = await newAuthProject(t, 'grants-revoked');
    const auth = await enableAuth(t, p.projectId, p.defaultBranchId, 'stack');
    const base = `/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`;
    const role = roleOf(p.uri);
    await withClient(p.uri, (c) => c.query(`REVOKE ALL ON neon_auth.users_sync FROM ${role}`));

    const created = await admin.post(`${base}/users`, { email: 'refused@example.com' }).expect(503);
    expect(created.body).toMatchObject({ code: 'NEON_AUTH_USERS_SYNC_UNAVAILABLE', message: expect.stringContaining('grants were revoked') });
    expect(created.body.message).toContain('disable and enable Neon Auth');

    const id = await signUpWithClientKey(t, auth, 'pending@example.com');
    await waitFor(async () => typeof (await admin.get(`${base}/sync`).expect(200)).body.apply_error === 'string', 10_000, 100);
    const status = await admin.get(`${base}/sync`).expect(200);
    expect(status.body.apply_error).toMatch(/refuses the control plane's reads and writes .*grants .* revoked/);
    expect(status.body.queued).toBeGreaterThan(0);

    // An on-demand reconcile says the same (it used to be an unhandled 500).
    const reconciled = await admin.post(`${base}/sync`, {});
    expect(reconciled.status).toBe(503);
    expect(reconciled.body).toMatchObject({ code: 'NEON_AUTH_USERS_SYNC_UNAVAILABLE', message: expect.stringContaining('grants were revoked') });

    // The tenant's table is intact; an enable after a disable (data kept) grants again and the event is applied.
    await admin.delete(base).send({ delete_data: false }).expect(200);
    const again = await enableAuth(t, p.projectId, p.defaultBranchId, 'stack');
    const id2 = await signUpWithClientKey(t, again, 'after@example.com');
    await waitFor(async () => (await usersSync(p.uri, 'id = $1', [id2])).length === 1, 10_000, 100);
    expect(id).not.toBe(id2);
  });

  it('grants missing on an existing integration (an earlier version, or a tenant) are restored at start', async () => {
    const p = await newAuthProject(t, 'grants-restored');
    const auth = await enableAuth(t, p.projectId, p.defaultBranchId, 'stack');
    const database = new URL(p.uri).pathname.slice(1);
    const role = roleOf(p.uri);
    await adminQuery(`REVOKE ALL ON neon_auth.users_sync FROM ${role}`, [], database);
    await adminQuery(`REVOKE CONNECT ON DATABASE "${database}" FROM ${role}`);
    await t.app.get(NeonAuthIntegrationsService).restoreTenantDataGrants();
    const id = await signUpWithClientKey(t, auth, 'restored@example.com');
    await waitFor(async () => (await usersSync(p.uri, 'id = $1', [id])).length === 1, 10_000, 100);
  });
});
