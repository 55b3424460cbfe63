import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { adminQuery, createTestDatabase, dropTestDatabase } from '../helpers/test-db.js';
import { cleanupServers, freePort, makeTempDir, startServer, type ServerProcess } from '../helpers/server-process.js';

async function getJson(server: ServerProcess, route: string, key: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.baseUrl}${route}`, { headers: { Authorization: `Bearer ${key}` } });
  return { status: res.status, body: await res.json() };
}

const occurrences = (haystack: string, needle: string): number => haystack.split(needle).length - 1;

describe('npm start on embedded PostgreSQL: the bootstrap API key', () => {
  const dataDir = makeTempDir();
  const keyFile = path.join(dataDir, 'bootstrap-api-key');
  let pgPort: number;
  let computePort: number;
  let key: string;
  let fileStat: fs.Stats;

  beforeAll(async () => {
    pgPort = await freePort();
    computePort = await freePort();
  });
  afterAll(cleanupServers);

  it('first start creates the key file (mode 0600), prints the key once on stdout, and the key works', async () => {
    const server = await startServer({ DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort), EMBEDDED_COMPUTE_PG_PORT: String(computePort) });
    expect(server.logLines().some((l) => l.msg === 'embedded PostgreSQL is up' && l.firstBoot === true)).toBe(true);
    expect(fs.existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);

    fileStat = fs.statSync(keyFile);
    expect(fileStat.mode & 0o777).toBe(0o600);
    key = fs.readFileSync(keyFile, 'utf8').trim();
    expect(key).toMatch(/^\S{40,}$/);
    expect(occurrences(server.stdout, key)).toBe(1);
    expect(server.stderr).not.toContain(key);
    // The one printed occurrence is outside the JSON log stream.
    expect(server.logLines().some((l) => JSON.stringify(l).includes(key))).toBe(false);

    const auth = await getJson(server, '/api/v2/auth', key);
    expect(auth).toMatchObject({ status: 200, body: { auth_method: 'api_key_user' } });
    const orgs = await getJson(server, '/api/v2/users/me/organizations', key);
    expect(orgs.status).toBe(200);
    expect(orgs.body.organizations).toHaveLength(1);
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('a restart creates no other account or key: same key works, file unchanged, still one organization', async () => {
    const server = await startServer({ DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort), EMBEDDED_COMPUTE_PG_PORT: String(computePort) });
    expect(server.logLines().some((l) => l.msg === 'embedded PostgreSQL is up' && l.firstBoot === false)).toBe(true);
    expect(server.stdout).not.toContain(key);
    expect(server.stdout).not.toMatch(/Bootstrap API key/);
    expect(server.logLines().some((l) => /created the bootstrap/.test(String(l.msg)))).toBe(false);

    const after = fs.statSync(keyFile);
    expect(fs.readFileSync(keyFile, 'utf8').trim()).toBe(key);
    expect(after.mtimeMs).toBe(fileStat.mtimeMs);
    expect(after.ino).toBe(fileStat.ino);
    expect(after.mode & 0o777).toBe(0o600);

    expect((await getJson(server, '/api/v2/auth', key)).status).toBe(200);
    const orgs = await getJson(server, '/api/v2/users/me/organizations', key);
    expect(orgs.body.organizations).toHaveLength(1);
    const keys = await getJson(server, '/api/v2/api_keys', key);
    expect(keys.status).toBe(200);
    expect(keys.body).toHaveLength(1);

    // A project's own connection URI connects to its database, but not to the control-plane database.
    const created = await fetch(`${server.baseUrl}/api/v2/projects`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ project: { name: 'isolation' } }),
    });
    expect(created.status).toBe(201);
    const uri = new URL((await created.json()).connection_uris[0].connection_uri);
    const own = new pg.Client({ connectionString: uri.toString() });
    await own.connect();
    await own.end();
    for (const database of ['control_plane', 'postgres', 'template1']) {
      uri.pathname = `/${database}`;
      const intruder = new pg.Client({ connectionString: uri.toString() });
      await expect(intruder.connect()).rejects.toThrow(/permission denied for database|does not exist/); // control_plane is in the other cluster
      await intruder.end().catch(() => undefined);
    }
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});

describe('DATABASE_URL switches to an external PostgreSQL', () => {
  let database: { name: string; url: string };
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await cleanupServers();
    if (database) await dropTestDatabase(database.name);
  });

  it('serves from the external database and creates no embedded data directory (default DATA_DIR ./.data)', async () => {
    const cwd = makeTempDir();
    const server = await startServer({ DATABASE_URL: database.url }, { cwd });
    const listening = server.logLines().find((l) => String(l.msg).startsWith('listening on'));
    expect(listening?.embeddedPostgres).toBe(false);
    expect(server.logLines().some((l) => /embedded PostgreSQL/.test(String(l.msg)))).toBe(false);
    expect(fs.existsSync(path.join(cwd, '.data', 'pg'))).toBe(false);

    // The bootstrap key file lands in the default DATA_DIR; its account is in the external database.
    const key = fs.readFileSync(path.join(cwd, '.data', 'bootstrap-api-key'), 'utf8').trim();
    expect((await getJson(server, '/api/v2/auth', key)).status).toBe(200);
    const rows = await adminQuery<{ email: string }>('SELECT email FROM accounts', [], database.name);
    expect(rows).toEqual([{ email: 'admin@localhost' }]);
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
