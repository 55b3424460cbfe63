import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { generateApiKeySecret } from '../../src/iam/api-key-secret.js';
import {
  cleanupServers,
  deadPid,
  freePort,
  isProcessAlive,
  makeTempDir,
  postmasterPid,
  startServer,
  waitUntil,
  type ServerProcess,
} from '../helpers/server-process.js';

/**
 * A request that is still being received while the server is told to stop: headers and half the
 * body are sent first; `finish()` sends the rest. Resolves with the raw HTTP response.
 */
async function startSlowRequest(server: ServerProcess, key: string): Promise<{ finish(): void; response: Promise<{ status: number; body: any }> }> {
  const body = JSON.stringify({ key_name: 'created-during-shutdown' });
  const socket = net.connect(server.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let raw = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (raw += chunk));
  const response = new Promise<{ status: number; body: any }>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', () => {
      const [head, ...rest] = raw.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head ?? '')?.[1]);
      if (!status) return reject(new Error(`no HTTP response before the connection closed: ${JSON.stringify(raw)}`));
      resolve({ status, body: JSON.parse(rest.join('\r\n\r\n')) });
    });
  });
  socket.write(
    'POST /api/v2/api_keys HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n' +
      `Authorization: Bearer ${key}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`,
  );
  // Let the server read the request line and headers, so that the request is in progress.
  await new Promise((r) => setTimeout(r, 300));
  // write, not end: a half-closed socket makes Node's HTTP server abort the request.
  return { finish: () => socket.write(body.slice(10)), response };
}

async function authStatus(server: ServerProcess, key: string): Promise<number> {
  return (await fetch(`${server.baseUrl}/api/v2/auth`, { headers: { Authorization: `Bearer ${key}` } })).status;
}

describe('embedded PostgreSQL across crashes and signals (one data directory, in order)', () => {
  const dataDir = makeTempDir();
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  const key = generateApiKeySecret();
  let env: Record<string, string>;

  beforeAll(async () => {
    env = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()), EMBEDDED_COMPUTE_PG_PORT: String(await freePort()), BOOTSTRAP_API_KEY: key };
  });
  afterAll(cleanupServers);

  it('with BOOTSTRAP_API_KEY set, that key works and no key file is written or printed', async () => {
    const server = await startServer(env);
    expect(await authStatus(server, key)).toBe(200);
    expect(fs.existsSync(path.join(dataDir, 'bootstrap-api-key'))).toBe(false);
    expect(server.output).not.toContain(key);
    expect(server.stdout).not.toMatch(/Bootstrap API key/);
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('after SIGKILL orphans PostgreSQL, a restart stops the orphan, recovers by itself and says so', async () => {
    const crashed = await startServer(env);
    const orphan = postmasterPid(dataDir)!;
    expect(isProcessAlive(orphan)).toBe(true);
    expect(await crashed.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    expect(isProcessAlive(orphan)).toBe(true); // nobody stopped it

    const server = await startServer(env);
    const messages = server.logLines().map((l) => String(l.msg));
    expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(/still running .*stopping it/), expect.stringMatching(/orphaned embedded PostgreSQL stopped; recovering/)]));
    expect(isProcessAlive(orphan)).toBe(false);
    expect(postmasterPid(dataDir)).not.toBe(orphan);
    expect(await authStatus(server, key)).toBe(200);
    await server.stop('SIGTERM');
  });

  it('SIGTERM: the in-flight request completes, the process exits 0, and PostgreSQL is gone', async () => {
    const server = await startServer(env);
    const postmaster = postmasterPid(dataDir)!;
    expect(isProcessAlive(postmaster)).toBe(true);
    const slow = await startSlowRequest(server, key);
    server.signal('SIGTERM');
    await server.waitForLog(/^shutting down/, 10_000);
    slow.finish();
    const res = await slow.response;
    expect(res).toMatchObject({ status: 200, body: { name: 'created-during-shutdown', key: expect.stringMatching(/^napi_/) } });
    expect(await server.waitForExit()).toEqual({ code: 0, signal: null });
    await waitUntil('the postmaster exits', () => !isProcessAlive(postmaster), 5000);
    expect(fs.existsSync(pidFile)).toBe(false);
  });

  it('a postmaster.pid naming a dead process is removed and logged, and the server starts', async () => {
    const pid = await deadPid();
    expect(isProcessAlive(pid)).toBe(false);
    fs.writeFileSync(pidFile, `${pid}\n${path.join(dataDir, 'pg')}\n1700000000\n${env.EMBEDDED_PG_PORT}\n\n127.0.0.1\n`);
    const server = await startServer(env);
    expect(server.logLines().some((l) => /removing stale postmaster\.pid/.test(String(l.msg)))).toBe(true);
    expect(postmasterPid(dataDir)).not.toBe(pid);
    expect(await authStatus(server, key)).toBe(200);
    await server.stop('SIGTERM');
  });

  it('SIGINT: the in-flight request completes, the process exits 0, and PostgreSQL is gone', async () => {
    const server = await startServer(env);
    const postmaster = postmasterPid(dataDir)!;
    const slow = await startSlowRequest(server, key);
    server.signal('SIGINT');
    await server.waitForLog(/^shutting down/, 10_000);
    slow.finish();
    expect((await slow.response).status).toBe(200);
    expect(await server.waitForExit()).toEqual({ code: 0, signal: null });
    await waitUntil('the postmaster exits', () => !isProcessAlive(postmaster), 5000);
    expect(fs.existsSync(pidFile)).toBe(false);
  });
});
