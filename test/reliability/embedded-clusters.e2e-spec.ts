import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { generateApiKeySecret } from '../../src/iam/api-key-secret.js';
import { cleanupServers, freePort, makeTempDir, startServer } from '../helpers/server-process.js';

/**
 * `npm start` with no database configured runs two embedded clusters: one for the control plane, one for the
 * branch databases, so no tenant login role exists where accounts, key hashes and secrets are kept.
 */
describe('embedded mode: the control plane and the branch databases in two clusters', () => {
  const dataDir = makeTempDir();
  const key = generateApiKeySecret();
  let env: Record<string, string>;
  let controlPort: number;
  let computePort: number;

  beforeAll(async () => {
    controlPort = await freePort();
    computePort = await freePort();
    env = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(controlPort), EMBEDDED_COMPUTE_PG_PORT: String(computePort), BOOTSTRAP_API_KEY: key };
  });
  afterAll(cleanupServers);

  it("a project's database lives in the second cluster; its role cannot log in to the control plane's", async () => {
    const server = await startServer(env);
    expect(fs.existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);
    expect(fs.existsSync(path.join(dataDir, 'compute-pg', 'PG_VERSION'))).toBe(true);
    expect(server.logLines().some((l) => /share the control-plane database's PostgreSQL cluster/.test(String(l.msg)))).toBe(false);

    const res = await fetch(`${server.baseUrl}/api/v2/projects`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ project: { name: 'two clusters' } }),
    });
    expect(res.status).toBe(201);
    const uri = new URL(((await res.json()) as { connection_uris: { connection_uri: string }[] }).connection_uris[0].connection_uri);
    expect(Number(uri.port)).toBe(computePort);
    // The tenant's own database answers on the compute cluster...
    const tenant = new pg.Client({ connectionString: uri.toString() });
    await tenant.connect();
    expect((await tenant.query('SELECT current_user AS u')).rows[0].u).toBe(decodeURIComponent(uri.username));
    await tenant.end();
    // ...and the same credentials find no such role on the control plane's cluster, whatever the database.
    for (const database of ['control_plane', 'postgres']) {
      const cp = new URL(uri.toString());
      cp.port = String(controlPort);
      cp.pathname = `/${database}`;
      const err = await new pg.Client({ connectionString: cp.toString() }).connect().then(() => undefined, (e: { code?: string }) => e);
      expect(err?.code).toBe('28P01'); // password authentication failed: the role does not exist there
    }
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('a data directory from before the split keeps its branch databases in the one cluster, and says so', async () => {
    const legacyDir = makeTempDir();
    const first = await startServer({ ...env, DATA_DIR: legacyDir });
    await first.stop('SIGTERM');
    // As an older version left it: one cluster, no compute-pg.
    fs.rmSync(path.join(legacyDir, 'compute-pg'), { recursive: true, force: true });
    const server = await startServer({ ...env, DATA_DIR: legacyDir });
    expect(fs.existsSync(path.join(legacyDir, 'compute-pg'))).toBe(false);
    expect(server.logLines().some((l) => /share the control-plane database's PostgreSQL cluster/.test(String(l.msg)))).toBe(true);
    await server.stop('SIGTERM');
  });
});
