// Better Auth hosted per branch, driven by the real neonctl (npm, child process): `neon-auth enable` (neonctl asks for
// better_auth), a second enable (409, then neonctl reads the integration), `status`, `user create / set-role / delete`
// and `disable` with and without --delete-data. The printed output and exit codes are asserted, and so are the effects
// in the branch database: Better Auth's own `neon_auth."user"` table and `neon_auth.users_sync` (kept by its trigger).
import { api, withClient, type Api } from '../helpers/fixtures.js';
import { neonctl, type NeonctlResult } from '../helpers/neonctl.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { newAuthProject, uniqueEmail, usersSyncRow, type AuthProject } from '../neon-auth/users-helpers.js';

/** A row of Better Auth's `neon_auth."user"` table (the columns this spec looks at). */
interface BetterAuthUserRow {
  id: string;
  email: string;
  name: string;
  role: string | null;
}

async function betterAuthUser(uri: string, id: string): Promise<BetterAuthUserRow | undefined> {
  return withClient(uri, async (c) => (await c.query<BetterAuthUserRow>(`SELECT id::text AS id, email, name, role FROM neon_auth."user" WHERE id::text = $1`, [id])).rows[0]);
}

async function neonAuthSchemaExists(uri: string): Promise<boolean> {
  return withClient(uri, async (c) => (await c.query(`SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'neon_auth'`)).rowCount === 1);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('Better Auth per branch: neonctl neon-auth', () => {
  let t: TestApp;
  let admin: Api;
  let p: AuthProject;
  let baseUrl: string;
  let jwksUrl: string;
  /** Users created through the CLI before the disable (the second one is kept; the first is deleted). */
  let kept: { id: string; email: string };

  const cli = (...args: string[]): Promise<NeonctlResult> => neonctl(t.apiUrl, t.adminKey, ['neon-auth', ...args, '--project-id', p.projectId]);

  beforeAll(async () => {
    t = await startTestApp();
    admin = api(t, t.adminKey);
    p = await newAuthProject(t, 'better auth neonctl');
    baseUrl = `${t.baseUrl}/neon-auth/${p.defaultBranchId}/neondb/auth`;
    jwksUrl = `${baseUrl}/.well-known/jwks.json`;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('neon-auth enable provisions Better Auth on the default branch; a second enable prints "already enabled"', async () => {
    const enabled = await cli('enable');
    expect([enabled.code, enabled.stderr]).toEqual([0, '']);
    // The 201 body has no db_name, so neonctl prints no Database line.
    expect(enabled.stdout).toBe(
      '\nNeon Auth enabled\n' +
        '  Auth Provider:  better_auth\n' +
        `  Base URL:       ${baseUrl}\n` +
        '  Schema Name:    neon_auth\n' +
        '  Table Name:     users_sync\n' +
        `  JWKS URL:       ${jwksUrl}\n` +
        '\n' +
        '  Set this environment variable in your application:\n' +
        `  NEON_AUTH_BASE_URL=${baseUrl}\n\n`,
    );
    const got = (await admin.get(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`).expect(200)).body;
    expect(got).toMatchObject({ auth_provider: 'better_auth', branch_id: p.defaultBranchId, db_name: 'neondb', base_url: baseUrl, jwks_url: jwksUrl });
    // Better Auth's tables and users_sync exist in the branch database, empty.
    await withClient(p.uri, async (c) => {
      const { rows } = await c.query(`SELECT to_regclass('neon_auth."user"') IS NOT NULL AS u, to_regclass('neon_auth.users_sync') IS NOT NULL AS s`);
      expect(rows[0]).toEqual({ u: true, s: true });
      expect((await c.query('SELECT count(*)::int AS n FROM neon_auth."user"')).rows[0].n).toBe(0);
    });
    // The JWKS URL neonctl printed answers.
    const jwks = await fetch(jwksUrl);
    expect(jwks.status).toBe(200);
    expect(((await jwks.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);

    // Again: the API answers 409, neonctl reads the integration (GET, which has db_name) and exits 0.
    const again = await cli('enable');
    expect([again.code, again.stderr]).toEqual([0, '']);
    expect(again.stdout).toBe(
      '\nNeon Auth is already enabled\n' +
        '  Auth Provider:  better_auth\n' +
        '  Database:       neondb\n' +
        `  Base URL:       ${baseUrl}\n` +
        `  JWKS URL:       ${jwksUrl}\n` +
        '\n' +
        '  Set this environment variable in your application:\n' +
        `  NEON_AUTH_BASE_URL=${baseUrl}\n\n`,
    );
  });

  it('neon-auth status prints the integration', async () => {
    const got = (await admin.get(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`).expect(200)).body;
    const status = await cli('status');
    expect([status.code, status.stderr]).toEqual([0, '']);
    expect(status.stdout).toBe(
      '\nNeon Auth status\n' +
        '  Auth Provider:  better_auth\n' +
        `  Branch ID:      ${p.defaultBranchId}\n` +
        '  Database:       neondb\n' +
        `  Base URL:       ${baseUrl}\n` +
        `  Created At:     ${got.created_at}\n` +
        `  JWKS URL:       ${jwksUrl}\n\n`,
    );
  });

  it('neon-auth user create / set-role / delete go through Better Auth: neon_auth."user" and users_sync change at once', async () => {
    // Without --name neonctl sends the email as the name and prints no Name line.
    const email = uniqueEmail('ba-cli');
    const created = await cli('user', 'create', '--email', email);
    expect([created.code, created.stderr]).toEqual([0, '']);
    const id = /ID: {6}(\S+)/.exec(created.stdout)?.[1];
    expect(id).toMatch(UUID);
    expect(created.stdout).toBe(`\nUser created\n  ID:      ${id}\n  Email:   ${email}\n\n`);
    // Better Auth's admin plugin gives a new user its default role, `user`; users_sync lists it.
    expect(await betterAuthUser(p.uri, id!)).toEqual({ id, email, name: email, role: 'user' });
    const row = await usersSyncRow(p.uri, id!);
    expect(row).toMatchObject({ id, email, name: email, deleted_at: null });
    expect(row!.raw_json.server_metadata).toEqual({ roles: ['user'] });

    const namedEmail = uniqueEmail('ba-cli-named');
    const named = await cli('user', 'create', '--email', namedEmail, '--name', 'Cli Person');
    expect([named.code, named.stderr]).toEqual([0, '']);
    const namedId = /ID: {6}(\S+)/.exec(named.stdout)?.[1];
    expect(namedId).toMatch(UUID);
    expect(named.stdout).toBe(`\nUser created\n  ID:      ${namedId}\n  Email:   ${namedEmail}\n  Name:    Cli Person\n\n`);
    expect(await betterAuthUser(p.uri, namedId!)).toEqual({ id: namedId, email: namedEmail, name: 'Cli Person', role: 'user' });
    expect(await usersSyncRow(p.uri, namedId!)).toMatchObject({ id: namedId, email: namedEmail, name: 'Cli Person', deleted_at: null });
    kept = { id: namedId!, email: namedEmail };

    // Roles: Better Auth's admin plugin stores them comma-joined in user.role; users_sync has them as a list.
    const roles = await cli('user', 'set-role', id!, '--roles', 'admin', 'editor');
    expect([roles.code, roles.stderr]).toEqual([0, '']);
    expect(roles.stdout).toBe(`\nRoles updated\n  User ID:   ${id}\n  Roles:     admin, editor\n\n`);
    expect((await betterAuthUser(p.uri, id!))!.role).toBe('admin,editor');
    expect((await usersSyncRow(p.uri, id!))!.raw_json.server_metadata).toEqual({ roles: ['admin', 'editor'] });
    // The other user is untouched.
    expect((await betterAuthUser(p.uri, namedId!))!.role).toBe('user');

    const deleted = await cli('user', 'delete', id!);
    expect([deleted.code, deleted.stderr]).toEqual([0, '']);
    expect(deleted.stdout).toBe(`\nUser "${id}" deleted\n\n`);
    expect(await betterAuthUser(p.uri, id!)).toBeUndefined();
    const tombstone = await usersSyncRow(p.uri, id!);
    expect(tombstone).toMatchObject({ id, email });
    expect(tombstone!.deleted_at).toBeInstanceOf(Date);
    expect(await usersSyncRow(p.uri, namedId!)).toMatchObject({ deleted_at: null });
  }, 60_000);

  it('neon-auth disable keeps the data, status says not configured, enable again reuses the users, disable --delete-data drops the schema', async () => {
    const disabled = await cli('disable');
    expect([disabled.code, disabled.stderr]).toEqual([0, '']);
    expect(disabled.stdout).toBe('\nNeon Auth has been disabled\n\n');
    // neonctl sends delete_data: false: the schema, Better Auth's rows and users_sync stay.
    expect(await neonAuthSchemaExists(p.uri)).toBe(true);
    expect(await betterAuthUser(p.uri, kept.id)).toMatchObject({ email: kept.email, name: 'Cli Person' });
    expect(await usersSyncRow(p.uri, kept.id)).toMatchObject({ email: kept.email, deleted_at: null });
    await admin.get(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`).expect(404);

    const status = await cli('status');
    expect([status.code, status.stderr]).toEqual([0, '']);
    expect(status.stdout).toBe('\nNeon Auth is not configured for this branch\n\n');

    const reenabled = await cli('enable');
    expect([reenabled.code, reenabled.stderr]).toEqual([0, '']);
    expect(reenabled.stdout).toContain('\nNeon Auth enabled\n  Auth Provider:  better_auth\n');
    expect(reenabled.stdout).toContain(`  NEON_AUTH_BASE_URL=${baseUrl}\n`);
    // The earlier user is still there, in Better Auth's table, in users_sync and through the server's users API.
    expect(await betterAuthUser(p.uri, kept.id)).toMatchObject({ email: kept.email, name: 'Cli Person' });
    expect(await usersSyncRow(p.uri, kept.id)).toMatchObject({ email: kept.email, deleted_at: null });
    const listed = await admin.get(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth/users?query=${encodeURIComponent(kept.email)}`).expect(200);
    expect(listed.body.users).toEqual([expect.objectContaining({ id: kept.id, email: kept.email, name: 'Cli Person' })]);

    const dropped = await cli('disable', '--delete-data');
    expect([dropped.code, dropped.stderr]).toEqual([0, '']);
    expect(dropped.stdout).toBe('\nNeon Auth has been disabled\n\n');
    expect(await neonAuthSchemaExists(p.uri)).toBe(false);
    await admin.get(`/projects/${p.projectId}/branches/${p.defaultBranchId}/auth`).expect(404);
  }, 60_000);
});
