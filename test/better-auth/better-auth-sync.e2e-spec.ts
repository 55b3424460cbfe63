// users_sync on better_auth branches: written by a trigger in the transaction of every change of Better Auth's user
// table (sign-up, update, ban, delete), so a SIGKILL during a burst of sign-ups leaves it equal to the user table;
// the sync status says so, and the reconciler repairs it from the user table.
import { randomBytes } from 'node:crypto';
import { generateApiKeySecret } from '../../src/iam/api-key-secret.js';
import { withClient } from '../helpers/fixtures.js';
import { cleanupServers, freePort, startServer, type ServerProcess } from '../helpers/server-process.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/test-db.js';
import { replicaEnv } from '../sync/reliability-helpers.js';

/** The user table as users_sync should mirror it: live rows and their raw_json, compared with users_sync. */
async function drift(uri: string): Promise<{ missing: string[]; stale: string[]; differing: string[] }> {
  return withClient(uri, async (c) => {
    const { rows } = await c.query<{ id: string; missing: boolean; stale: boolean; differing: boolean }>(`
      SELECT coalesce(u.id::text, s.id) AS id,
             s.id IS NULL OR s.deleted_at IS NOT NULL AND u.id IS NOT NULL AS missing,
             u.id IS NULL AND s.deleted_at IS NULL AS stale,
             u.id IS NOT NULL AND s.id IS NOT NULL AND (s.name IS DISTINCT FROM u.name OR s.email IS DISTINCT FROM u.email
               OR s.raw_json->>'banned' IS DISTINCT FROM u.banned::text OR s.raw_json->'server_metadata'->'roles' IS NULL) AS differing
        FROM neon_auth."user" u FULL JOIN neon_auth.users_sync s ON s.id = u.id::text`);
    return { missing: rows.filter((r) => r.missing).map((r) => r.id), stale: rows.filter((r) => r.stale).map((r) => r.id), differing: rows.filter((r) => r.differing).map((r) => r.id) };
  });
}

describe('users_sync on better_auth branches', () => {
  let database: { name: string; url: string };
  let env: Record<string, string>;
  let server: ServerProcess;
  let baseUrl: string;
  let project: { projectId: string; branchId: string; uri: string; authBase: string };
  const key = generateApiKeySecret();
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

  beforeAll(async () => {
    database = await createTestDatabase();
    const port = await freePort();
    env = replicaEnv({ databaseUrl: database.url, key, secretsKey: randomBytes(32).toString('hex'), port }, { BETTER_AUTH_RATE_LIMIT_PER_IP: '0' });
    baseUrl = `http://127.0.0.1:${port}`;
    server = await startServer(env);
    const p = await fetch(`${baseUrl}/api/v2/projects`, { method: 'POST', headers, body: JSON.stringify({ project: { name: 'ba sync' } }) });
    const body = (await p.json()) as { project: { id: string }; branch: { id: string }; connection_uris: { connection_uri: string }[] };
    const enabled = await fetch(`${baseUrl}/api/v2/projects/${body.project.id}/branches/${body.branch.id}/auth`, { method: 'POST', headers, body: JSON.stringify({ auth_provider: 'better_auth' }) });
    expect(enabled.status).toBe(201);
    project = { projectId: body.project.id, branchId: body.branch.id, uri: body.connection_uris[0].connection_uri, authBase: ((await enabled.json()) as { base_url: string }).base_url };
  });

  afterAll(async () => {
    await cleanupServers();
    if (database) await dropTestDatabase(database.name);
  });

  function signUp(i: number): Promise<Response> {
    return fetch(`${project.authBase}/sign-up/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: baseUrl },
      body: JSON.stringify({ email: `burst-${i}@example.com`, password: 'burst password', name: `Burst ${i}` }),
    });
  }

  it('update, ban, role change and delete reach users_sync in the same transaction; the status says so', async () => {
    const created = await fetch(`${baseUrl}/api/v2/projects/${project.projectId}/branches/${project.branchId}/auth/users`, { method: 'POST', headers, body: JSON.stringify({ email: 'ban-me@example.com', name: 'Ban Me' }) });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as { id: string }).id;
    // The application changes Better Auth's table itself: the trigger follows it as well.
    await withClient(project.uri, (c) => c.query(`UPDATE neon_auth."user" SET name = 'Renamed', banned = true, "banReason" = 'spam' WHERE id = $1`, [id]));
    const row = await withClient(project.uri, async (c) => (await c.query(`SELECT name, raw_json FROM neon_auth.users_sync WHERE id = $1`, [id])).rows[0]);
    expect(row).toMatchObject({ name: 'Renamed', raw_json: { banned: true, banReason: 'spam', display_name: 'Renamed' } });
    const role = await fetch(`${baseUrl}/api/v2/projects/${project.projectId}/branches/${project.branchId}/auth/users/${id}/role`, { method: 'PUT', headers, body: JSON.stringify({ roles: ['admin', 'support'] }) });
    expect(role.status).toBe(200);
    const roles = await withClient(project.uri, async (c) => (await c.query(`SELECT raw_json->'server_metadata'->'roles' AS r FROM neon_auth.users_sync WHERE id = $1`, [id])).rows[0].r);
    expect(roles).toEqual(['admin', 'support']);
    const del = await fetch(`${baseUrl}/api/v2/projects/${project.projectId}/branches/${project.branchId}/auth/users/${id}`, { method: 'DELETE', headers });
    expect(del.status).toBe(204);
    const deleted = await withClient(project.uri, async (c) => (await c.query(`SELECT deleted_at FROM neon_auth.users_sync WHERE id = $1`, [id])).rows[0]);
    expect(deleted.deleted_at).toBeInstanceOf(Date);
    const again = await fetch(`${baseUrl}/api/v2/projects/${project.projectId}/branches/${project.branchId}/auth/users/${id}`, { method: 'DELETE', headers });
    expect(again.status).toBe(404);

    const status = await fetch(`${baseUrl}/api/v2/projects/${project.projectId}/branches/${project.branchId}/auth/sync`, { headers });
    expect(await status.json()).toMatchObject({ delivery: 'in_transaction', lag_ms: { p50: 0, p99: 0 }, queued: 0, dead_letters: 0 });
  });

  it('the reconciler repairs users_sync from Better Auth\'s user table', async () => {
    for (const email of ['keep-a@example.com', 'keep-b@example.com']) {
      const res = await fetch(`${baseUrl}/api/v2/projects/${project.projectId}/branches/${project.branchId}/auth/users`, { method: 'POST', headers, body: JSON.stringify({ email }) });
      expect(res.status).toBe(201);
    }
    const ids = await withClient(project.uri, async (c) => (await c.query<{ id: string }>(`SELECT id::text FROM neon_auth."user" ORDER BY id LIMIT 2`)).rows.map((r) => r.id));
    expect(ids).toHaveLength(2);
    await withClient(project.uri, async (c) => {
      // Drift a trigger cannot cause, made by hand: a row gone, a row altered, a row of nobody.
      await c.query('ALTER TABLE neon_auth."user" DISABLE TRIGGER users_sync_from_user');
      await c.query(`DELETE FROM neon_auth.users_sync WHERE id = $1`, [ids[0]]);
      await c.query(`UPDATE neon_auth.users_sync SET raw_json = raw_json || '{"display_name": "tampered"}' WHERE id = $1`, [ids[1]]);
      await c.query(`INSERT INTO neon_auth.users_sync (raw_json, updated_at) VALUES ('{"id": "00000000-0000-0000-0000-000000000001", "primary_email": "ghost@example.com", "signed_up_at_millis": 0}', now() - interval '1 hour')`);
      await c.query('ALTER TABLE neon_auth."user" ENABLE TRIGGER users_sync_from_user');
    });
    expect(await drift(project.uri)).not.toEqual({ missing: [], stale: [], differing: [] });
    const res = await fetch(`${baseUrl}/api/v2/projects/${project.projectId}/branches/${project.branchId}/auth/sync`, { method: 'POST', headers });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ inserted: 1, updated: 1, deleted: 1, complete: true });
    expect(await drift(project.uri)).toEqual({ missing: [], stale: [], differing: [] });
  });

  // Last: the server stays down afterwards.
  it('a SIGKILL during a burst of sign-ups leaves users_sync equal to the user table', async () => {
    let answered = 0;
    let next = 0;
    const TOTAL = 400;
    const worker = async (): Promise<void> => {
      while (next < TOTAL) {
        const i = next++;
        try {
          const res = await signUp(i);
          if (res.status === 200) answered++;
          await res.arrayBuffer();
        } catch {
          return; // the server is gone
        }
      }
    };
    const burst = Promise.all(Array.from({ length: 16 }, worker));
    while (answered < 30) await new Promise((r) => setTimeout(r, 5));
    server.signal('SIGKILL');
    await burst;
    await server.exited;
    const users = await withClient(project.uri, async (c) => Number((await c.query('SELECT count(*) AS n FROM neon_auth."user"')).rows[0].n));
    expect(users).toBeGreaterThanOrEqual(answered);
    expect(users).toBeLessThan(TOTAL);
    expect(await drift(project.uri)).toEqual({ missing: [], stale: [], differing: [] });
  });
});
