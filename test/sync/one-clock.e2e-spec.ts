// One clock: every version that orders users_sync states comes from the control-plane database, never from a
// process's own clock. A server whose clock runs 10 minutes ahead of (or behind) the database's still orders a
// users-API write and a provider webhook correctly, and stamps no version outside the database's clock.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { generateApiKeySecret } from '../../src/iam/api-key-secret.js';
import { api, withClient } from '../helpers/fixtures.js';
import { cleanupServers, freePort, startServer, type ServerProcess } from '../helpers/server-process.js';
import type { TestApp } from '../helpers/test-app.js';
import { adminQuery, createTestDatabase, dropTestDatabase } from '../helpers/test-db.js';
import { enableAuth, newAuthProject, uniqueEmail, usersSyncRow, type AuthProject, type EnabledAuth } from '../neon-auth/users-helpers.js';
import { providerApi, waitFor } from './receiver-helpers.js';
import { replicaEnv } from './reliability-helpers.js';

const SKEWED_CLOCK = fileURLToPath(new URL('../helpers/skewed-clock.mjs', import.meta.url));
const TEN_MINUTES_MS = 10 * 60 * 1000;

describe.each([
  ['ahead of', TEN_MINUTES_MS],
  ['behind', -TEN_MINUTES_MS],
])('one clock: a server whose clock runs 10 minutes %s the database', (_label, skewMs) => {
  let db: { name: string; url: string };
  let server: ServerProcess;
  let t: TestApp;
  let project: AuthProject;
  let auth: EnabledAuth;
  /** The database's clock when the spec began (text, full precision). */
  let startedAt: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const port = await freePort();
    const adminKey = generateApiKeySecret();
    server = await startServer({
      ...replicaEnv({ databaseUrl: db.url, key: adminKey, secretsKey: randomBytes(32).toString('hex'), port }),
      NEON_AUTH_RECONCILE_INTERVAL_SECONDS: '0',
      DATABASE_POOL_SIZE: '5',
      NODE_OPTIONS: `--import ${SKEWED_CLOCK}`,
      TEST_CLOCK_SKEW_MS: String(skewMs),
    });
    t = { baseUrl: server.baseUrl, apiUrl: `${server.baseUrl}/api/v2`, adminKey } as TestApp;
    [{ now: startedAt }] = await adminQuery<{ now: string }>('SELECT clock_timestamp()::text AS now');
    project = await newAuthProject(t, 'one clock');
    auth = await enableAuth(t, project.projectId, project.defaultBranchId, 'stack');
  }, 90_000);
  afterAll(async () => {
    await cleanupServers();
    if (db) await dropTestDatabase(db.name);
  });

  /** users_sync versions (and deletion times) outside [the spec's start, now], both on the database's clock: none. */
  async function versionsOffTheDatabaseClock(): Promise<{ id: string; updated_at: string; deleted_at: string | null }[]> {
    return withClient(project.uri, async (c) =>
      (
        await c.query<{ id: string; updated_at: string; deleted_at: string | null }>(
          `SELECT id, updated_at::text, deleted_at::text FROM neon_auth.users_sync
            WHERE updated_at NOT BETWEEN $1::timestamptz AND clock_timestamp()
               OR deleted_at NOT BETWEEN $1::timestamptz AND clock_timestamp()
            ORDER BY id`,
          [startedAt],
        )
      ).rows,
    );
  }

  it('the process clock really is skewed (the preload works)', async () => {
    // The server's log lines carry its own Date.now(), which the preload moved.
    const before = server.logLines().length;
    await fetch(`${server.baseUrl}/health/live`);
    await waitFor(async () => server.logLines().length > before, 5_000, 10);
    const skewSeen = new Date(String(server.logLines().at(-1)!.time)).getTime() - Date.now();
    expect(Math.abs(skewSeen - skewMs)).toBeLessThan(5_000);
  });

  it('a users-API role change, a provider change arriving by webhook and another role change land in that order', async () => {
    const admin = api(t, t.adminKey);
    const users = `/projects/${project.projectId}/branches/${project.defaultBranchId}/auth/users`;
    const id = (await admin.post(users, { email: uniqueEmail('clock'), name: 'Ada' }).expect(201)).body.id as string;
    expect(await versionsOffTheDatabaseClock()).toEqual([]);

    await admin.put(`${users}/${id}/role`, { roles: ['admin'] }).expect(200);
    expect((await usersSyncRow(project.uri, id))!.raw_json.server_metadata).toEqual({ roles: ['admin'] });
    expect(await versionsOffTheDatabaseClock()).toEqual([]);

    // A change made in the provider reaches users_sync only through its webhook: it is newer than the API's write.
    await providerApi(t, auth).updateUser(id, { display_name: 'Ada Lovelace' }).expect(200);
    await waitFor(async () => (await usersSyncRow(project.uri, id))?.name === 'Ada Lovelace', 10_000, 20);

    // And an API write after it is newer again: in users_sync as soon as the call answers.
    await admin.put(`${users}/${id}/role`, { roles: ['editor'] }).expect(200);
    const row = await usersSyncRow(project.uri, id);
    expect(row).toMatchObject({ name: 'Ada Lovelace', deleted_at: null });
    expect(row!.raw_json.server_metadata).toEqual({ roles: ['editor'] });

    // Whatever the confirmations write meanwhile, the row settles on the provider's state.
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await usersSyncRow(project.uri, id))!.raw_json).toMatchObject({ display_name: 'Ada Lovelace', server_metadata: { roles: ['editor'] } });
    expect(await versionsOffTheDatabaseClock()).toEqual([]);
  });

  it('a users-API delete is final: stamped on the database clock, after every earlier state', async () => {
    const admin = api(t, t.adminKey);
    const users = `/projects/${project.projectId}/branches/${project.defaultBranchId}/auth/users`;
    const id = (await admin.post(users, { email: uniqueEmail('clock-delete') }).expect(201)).body.id as string;
    expect(await versionsOffTheDatabaseClock()).toEqual([]);
    await providerApi(t, auth).updateUser(id, { display_name: 'Renamed' }).expect(200);
    await waitFor(async () => (await usersSyncRow(project.uri, id))?.name === 'Renamed', 10_000, 20);

    await admin.delete(`${users}/${id}`).expect(204);
    expect((await usersSyncRow(project.uri, id))!.deleted_at).not.toBeNull();
    expect(await versionsOffTheDatabaseClock()).toEqual([]);
    await new Promise((r) => setTimeout(r, 1_000)); // the provider's user.deleted webhook and any confirmation
    expect((await usersSyncRow(project.uri, id))!.deleted_at).not.toBeNull();
    expect(await versionsOffTheDatabaseClock()).toEqual([]);
  });
});
