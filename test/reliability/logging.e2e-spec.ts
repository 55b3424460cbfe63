import { generateApiKeySecret } from '../../src/iam/api-key-secret.js';
import { cleanupServers, makeTempDir, startServer, type ServerProcess } from '../helpers/server-process.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/test-db.js';

describe('JSON logs (LOG_LEVEL=info, real process stdout)', () => {
  const adminKey = generateApiKeySecret();
  let database: { name: string; url: string };
  let server: ServerProcess;

  beforeAll(async () => {
    database = await createTestDatabase();
    server = await startServer({ DATABASE_URL: database.url, DATA_DIR: makeTempDir(), BOOTSTRAP_API_KEY: adminKey, LOG_LEVEL: 'info' });
  });
  afterAll(async () => {
    await cleanupServers();
    if (database) await dropTestDatabase(database.name);
  });

  it('carry the request id and never an API key or the Authorization header', async () => {
    const call = (route: string, key: string, requestId: string, init: RequestInit = {}) =>
      fetch(`${server.baseUrl}${route}`, {
        ...init,
        headers: { Authorization: `Bearer ${key}`, 'X-Request-ID': requestId, 'Content-Type': 'application/json', Cookie: `zenith=${key}` },
      });

    expect((await call('/api/v2/auth', adminKey, 'log-test-ok-1')).status).toBe(200);
    const created = await call('/api/v2/api_keys', adminKey, 'log-test-create-2', { method: 'POST', body: JSON.stringify({ key_name: 'logged?' }) });
    expect(created.status).toBe(200);
    const newKey = ((await created.json()) as { key: string }).key;
    expect(newKey).toMatch(/^napi_/);
    expect((await call('/api/v2/users/me', newKey, 'log-test-newkey-3')).status).toBe(200);
    const badKey = generateApiKeySecret();
    expect((await call('/api/v2/auth', badKey, 'log-test-bad-4')).status).toBe(401);

    // Stop the process so every line is flushed, then read all it wrote.
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const lines = server.logLines();
    const nonEmpty = server.stdout.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(nonEmpty.length); // every stdout line is a JSON log line

    for (const [id, status] of [['log-test-ok-1', 200], ['log-test-create-2', 200], ['log-test-newkey-3', 200], ['log-test-bad-4', 401]] as const) {
      const line = lines.find((l) => (l.req as { id?: string } | undefined)?.id === id);
      expect(line).toMatchObject({ level: status === 200 ? 'info' : 'warn', res: { statusCode: status } });
    }

    const everything = server.output;
    for (const secret of [adminKey, newKey, badKey]) expect(everything).not.toContain(secret);
    expect(everything).not.toMatch(/authorization/i);
    expect(everything).not.toMatch(/bearer/i);
    expect(everything).not.toContain('zenith=');
  });
});
