import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MIGRATIONS } from '../../migrations/index.js';
import { cleanupServers, makeTempDir, startServer, type ServerProcess } from '../helpers/server-process.js';
import { adminQuery, testAdminUrl } from '../helpers/test-db.js';

describe('two replicas starting together against one external database', () => {
  const database = `cp_replicas_${randomBytes(5).toString('hex')}`;
  let replicas: ServerProcess[] = [];
  let dataDirs: string[] = [];

  beforeAll(async () => {
    await adminQuery(`CREATE DATABASE ${database}`); // empty: no template, so both must migrate from scratch
  });
  afterAll(async () => {
    await cleanupServers();
    await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  it('both start; migrations are applied exactly once; exactly one bootstrap account and key', async () => {
    const secretsKey = randomBytes(32).toString('hex'); // replicas share it
    dataDirs = [makeTempDir(), makeTempDir()];
    replicas = await Promise.all(
      dataDirs.map((dir) => startServer({ DATABASE_URL: testAdminUrl(database), DATA_DIR: dir, SECRETS_KEY: secretsKey })),
    );

    const migrations = await adminQuery<{ name: string }>('SELECT name FROM typeorm_migrations ORDER BY id', [], database);
    expect(migrations.map((m) => m.name)).toEqual(MIGRATIONS.map((M) => new M().name ?? M.name));

    // One replica applied the migrations; the other waited for the lock and found nothing to do.
    const applied = replicas.map((r) => r.logLines().find((l) => /^applied \d+ migration/.test(String(l.msg))));
    const upToDate = replicas.map((r) => r.logLines().find((l) => l.msg === 'database schema is up to date'));
    expect(applied.filter(Boolean)).toHaveLength(1);
    expect(upToDate.filter(Boolean)).toHaveLength(1);

    const count = async (sql: string) => Number((await adminQuery<{ n: string }>(sql, [], database))[0].n);
    expect(await count('SELECT count(*) AS n FROM accounts')).toBe(1);
    expect(await count('SELECT count(*) AS n FROM organizations')).toBe(1);
    expect(await count('SELECT count(*) AS n FROM api_keys')).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM system_state WHERE key = 'bootstrap'`)).toBe(1);

    // Exactly one replica created (and printed) the key; it works against both.
    const keyFiles = dataDirs.map((dir) => path.join(dir, 'bootstrap-api-key')).filter((f) => fs.existsSync(f));
    expect(keyFiles).toHaveLength(1);
    expect(replicas.filter((r) => /Bootstrap API key/.test(r.stdout))).toHaveLength(1);
    const key = fs.readFileSync(keyFiles[0], 'utf8').trim();
    for (const replica of replicas) {
      const res = await fetch(`${replica.baseUrl}/api/v2/auth`, { headers: { Authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
    }
    for (const replica of replicas) expect(await replica.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
