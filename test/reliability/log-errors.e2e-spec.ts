import { generateApiKeySecret } from '../../src/iam/api-key-secret.js';
import { withClient } from '../helpers/fixtures.js';
import { cleanupServers, freePort, makeTempDir, startServer, type ServerProcess } from '../helpers/server-process.js';
import { createTestDatabase, dropTestDatabase, testAdminUrl } from '../helpers/test-db.js';

/**
 * A real PostgreSQL failure whose DETAIL names a person's e-mail, logged by the built server on its stdout:
 * the sync applier's unique violation when a customer has put a unique index on users_sync.email and two
 * provider users share an address. The log line says what failed (SQLSTATE 23505, the constraint) and
 * never the address, the failing row, the statement or its bound values.
 */
describe('error logs carry no row data (real process stdout)', () => {
  const adminKey = generateApiKeySecret();
  let database: { name: string; url: string };
  let server: ServerProcess;

  beforeAll(async () => {
    database = await createTestDatabase();
    const port = await freePort();
    server = await startServer({
      DATABASE_URL: database.url,
      COMPUTE_DATABASE_URL: testAdminUrl(),
      DATA_DIR: makeTempDir(),
      BOOTSTRAP_API_KEY: adminKey,
      LOG_LEVEL: 'info',
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
    });
  });
  afterAll(async () => {
    await cleanupServers();
    if (database) await dropTestDatabase(database.name);
  });

  it('a unique violation in the sync applier is logged with its SQLSTATE, never the e-mail in its DETAIL', async () => {
    const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${adminKey}` }) => {
      const res = await fetch(`${server.baseUrl}${path}`, {
        method,
        headers: { ...headers, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
    };

    const project = await api('POST', '/api/v2/projects', { project: { name: 'log hygiene' } });
    expect(project.status).toBe(201);
    const { id: projectId } = project.body.project;
    const branchId = project.body.branch.id as string;
    const uri = project.body.connection_uris[0].connection_uri as string;
    const enabled = await api('POST', `/api/v2/projects/${projectId}/branches/${branchId}/auth`, { auth_provider: 'stack' });
    expect(enabled.status).toBe(201);
    // The customer's own rule on their table: one row per address.
    await withClient(uri, (c) => c.query('CREATE UNIQUE INDEX users_sync_email_unique ON neon_auth.users_sync (email)'));

    const email = `shared.address.${Date.now()}@example.com`;
    const server_ = {
      'x-stack-access-type': 'server',
      'x-stack-project-id': enabled.body.auth_provider_project_id as string,
      'x-stack-secret-server-key': enabled.body.secret_server_key as string,
    };
    // Neither uses the address to sign in, so the provider takes both; users_sync cannot.
    for (const name of ['First', 'Second']) {
      const created = await api('POST', '/stack-auth/api/v1/users', { primary_email: email, display_name: name }, server_);
      expect(created.status).toBe(201);
    }

    const line = await server.waitForLog(/^sync: applying events failed/);
    expect(line).toMatchObject({ level: 'warn', err: { type: 'DatabaseError', code: '23505', constraint: 'users_sync_email_unique' } });
    expect(JSON.stringify(line)).not.toContain(email);

    // Stop the process so every line is flushed, then check all it wrote.
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const failures = server.logLines().filter((l) => JSON.stringify(l).includes('23505'));
    expect(failures.length).toBeGreaterThan(0);
    expect(server.output).not.toContain(email);
    for (const field of ['"detail"', '"where"', '"internalQuery"', '"parameters"', '"query"', '"driverError"']) expect(server.output).not.toContain(field);
  });
});
