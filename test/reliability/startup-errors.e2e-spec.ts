import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { cleanupServers, freePort, makeTempDir, spawnServer } from '../helpers/server-process.js';

describe('start-up failures are clear and stop the process', () => {
  let blocker: net.Server | undefined;
  afterAll(async () => {
    await cleanupServers();
    await new Promise((r) => (blocker ? blocker.close(r) : r(undefined)));
  });

  it('EMBEDDED_PG_PORT occupied by another listener: exits non-zero naming the port and EMBEDDED_PG_PORT', async () => {
    blocker = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker!.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const dataDir = makeTempDir();

    const server = spawnServer({ DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(port), EMBEDDED_COMPUTE_PG_PORT: String(await freePort()) });
    const exit = await server.waitForExit(30_000);
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    const fatal = server.logLines().filter((l) => l.level === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(fatal[0].msg).toContain(`port ${port}`);
    expect(fatal[0].msg).toContain('already in use');
    expect(fatal[0].msg).toContain('EMBEDDED_PG_PORT');
    expect(server.logLines().some((l) => String(l.msg).startsWith('listening on'))).toBe(false);
    // Nothing was left running on the data directory.
    expect(fs.existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
  });

  it.each([
    ['on a file system where it cannot be made (under /proc: used to spin forever)', '/proc/neon-auth-data', 'ENOENT'],
    ['on a read-only file system', '/sys/kernel/neon-auth-data', 'EPERM'],
    ['under a file', '/etc/hostname/data', 'is not a directory'],
  ])('DATA_DIR %s: exits non-zero at once with one error naming DATA_DIR', async (_what, dataDir, reason) => {
    const server = spawnServer({ DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()), EMBEDDED_COMPUTE_PG_PORT: String(await freePort()) });
    const exit = await server.waitForExit(15_000);
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    const fatal = server.logLines().filter((l) => l.level === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(JSON.stringify(fatal[0])).toContain(`DATA_DIR ${dataDir} cannot be used`);
    expect(JSON.stringify(fatal[0])).toContain(reason);
  });

  it.each([
    ['a foreign directory where the cluster belongs', (dir: string) => fs.writeFileSync(path.join(dir, 'pg', 'notes.txt'), 'not a database'), 'is not a PostgreSQL data directory'],
    ['a corrupt cluster (PG_VERSION and nothing else)', (dir: string) => fs.writeFileSync(path.join(dir, 'pg', 'PG_VERSION'), '17\n'), 'embedded PostgreSQL failed to start'],
  ])('DATA_DIR holding %s: exits non-zero with one error, leaving nothing running', async (_what, spoil, message) => {
    const dataDir = makeTempDir();
    fs.mkdirSync(path.join(dataDir, 'pg'));
    spoil(dataDir);
    const server = spawnServer({ DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()), EMBEDDED_COMPUTE_PG_PORT: String(await freePort()) });
    const exit = await server.waitForExit(30_000);
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    const fatal = server.logLines().filter((l) => l.level === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(JSON.stringify(fatal[0])).toContain(message);
    // The second cluster, started beside the first, was stopped again.
    expect(fs.existsSync(path.join(dataDir, 'compute-pg', 'postmaster.pid'))).toBe(false);
  });

  it('several bad variables at once: exits non-zero with ONE error that lists every bad variable', async () => {
    const server = spawnServer({
      PORT: 'abc',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'notaurl',
      EMBEDDED_PG_PORT: '70000',
      SECRETS_KEY: 'too-short',
      METRICS_TOKEN: 'short',
    });
    const exit = await server.waitForExit(15_000);
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(server.stdout).toBe(''); // nothing started, nothing logged
    const err = server.stderr;
    expect(err.match(/Invalid configuration/g)).toHaveLength(1);
    for (const name of ['PORT', 'LOG_LEVEL', 'DATABASE_URL', 'EMBEDDED_PG_PORT', 'SECRETS_KEY', 'METRICS_TOKEN']) {
      expect(err).toMatch(new RegExp(`^  - ${name} `, 'm'));
    }
    expect(err).toContain('"abc"');
    expect(err).toContain('"loud"');
    // One error, not a stack trace.
    expect(err).not.toMatch(/\n\s+at /);
  });
});
