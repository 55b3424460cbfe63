// The run's one embedded PostgreSQL (the product's own helper), databases per server, and the
// visibility probe: a trigger on users_sync that NOTIFYs every written row, heard by a LISTEN client.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createLogger } from '../src/common/logger.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../src/database/embedded-postgres.js';
import { usersSyncDdl } from '../src/neon-auth/users-sync/users-sync.ddl.js';

export const USERS_SYNC = 'neon_auth.users_sync';
const VISIBLE_CHANNEL = 'bench_visible';

/** Runs `fn` on a fresh connection to `url`, closed afterwards. */
export async function withPgClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export class BenchPostgres {
  private constructor(
    readonly dir: string,
    private readonly handle: EmbeddedPostgresHandle,
    private readonly base: URL,
  ) {}

  /** Starts a fresh server in a temp dir (mode 0755: PostgreSQL runs as "postgres" when we are root). */
  static async start(): Promise<BenchPostgres> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-pg-'));
    fs.chmodSync(dir, 0o755);
    const handle = await startEmbeddedPostgres(dir, { port: await freePort() }, createLogger('warn'));
    return new BenchPostgres(dir, handle, new URL(handle.databaseUrl));
  }

  /** Superuser URL of `database` on this server. */
  url(database: string): string {
    const u = new URL(this.base.toString());
    u.pathname = `/${database}`;
    return u.toString();
  }

  /** The postmaster's pid: the parent of any backend (its process tree is what the CPU figures count as PostgreSQL). */
  async postmasterPid(): Promise<number | undefined> {
    // Read while the backend is connected: it exits with its connection.
    return this.withClient('postgres', async (c) => {
      const backend = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      try {
        const stat = fs.readFileSync(`/proc/${backend}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      } catch {
        return undefined; // not Linux, or another machine
      }
    });
  }

  /** Writes every dirty page out now, so that an earlier scenario's writes are not flushed inside the next one's window. */
  async checkpoint(): Promise<void> {
    await this.withClient('postgres', (c) => c.query('CHECKPOINT'));
  }

  async createDatabase(name: string): Promise<string> {
    await this.withClient('postgres', (c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
    return this.url(name);
  }

  /** A database holding Neon's users_sync table and nothing else (for the baselines). */
  async createUsersSyncDatabase(name: string): Promise<string> {
    const url = await this.createDatabase(name);
    await this.withClient(name, async (c) => {
      await c.query('CREATE SCHEMA neon_auth');
      for (const sql of usersSyncDdl('"neon_auth"')) await c.query(sql);
    });
    return url;
  }

  /** The server's next transaction id and WAL position: their growth counts write transactions and WAL bytes. */
  async writeCounters(): Promise<{ xid: number; walBytes: number }> {
    return this.withClient('postgres', async (c) => {
      const { rows } = await c.query<{ xid: string; wal: string }>(
        `SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xid, (pg_current_wal_lsn() - '0/0'::pg_lsn)::text AS wal`,
      );
      return { xid: Number(rows[0].xid), walBytes: Number(rows[0].wal) };
    });
  }

  withClient<T>(database: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
    return withPgClient(this.url(database), fn);
  }

  async stop(): Promise<void> {
    await this.handle.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A superuser connection to one database, for counts, truncation and the visibility probe. */
export class UsersSyncProbe {
  private constructor(readonly client: pg.Client) {}

  static async connect(url: string): Promise<UsersSyncProbe> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return new UsersSyncProbe(client);
  }

  async count(where = 'TRUE', params: unknown[] = []): Promise<number> {
    const { rows } = await this.client.query<{ n: string }>(`SELECT count(*) AS n FROM ${USERS_SYNC} WHERE ${where}`, params);
    return Number(rows[0].n);
  }

  /** Whether users_sync has a row with this id (an index lookup: cheap enough to poll often). */
  async has(id: string): Promise<boolean> {
    const { rowCount } = await this.client.query(`SELECT 1 FROM ${USERS_SYNC} WHERE id = $1`, [id]);
    return (rowCount ?? 0) > 0;
  }

  async truncate(): Promise<void> {
    await this.client.query(`TRUNCATE ${USERS_SYNC}`);
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

/**
 * Installs `AFTER INSERT OR UPDATE` on users_sync that notifies `<id> <display_name>`, and listens on a
 * connection of its own: `seen` maps each display name token to the first time (performance.now()) it was
 * heard. The trigger costs every write a NOTIFY, so scenarios measuring throughput remove it first.
 */
export class VisibilityListener {
  readonly seen = new Map<string, number>();
  /** performance.now() of the latest notification (any row written), 0 before the first. */
  lastNotificationAt = 0;

  private constructor(
    private readonly listener: pg.Client,
    private readonly url: string,
  ) {}

  static async install(url: string): Promise<VisibilityListener> {
    await withPgClient(url, (admin) =>
      admin.query(`
        CREATE OR REPLACE FUNCTION neon_auth.bench_notify_visible() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_notify('${VISIBLE_CHANNEL}', NEW.id || ' ' || coalesce(NEW.raw_json->>'display_name', ''));
          RETURN NULL;
        END $$;
        DROP TRIGGER IF EXISTS bench_visible ON ${USERS_SYNC};
        CREATE TRIGGER bench_visible AFTER INSERT OR UPDATE ON ${USERS_SYNC}
          FOR EACH ROW EXECUTE FUNCTION neon_auth.bench_notify_visible();`),
    );
    const listener = new pg.Client({ connectionString: url });
    await listener.connect();
    const v = new VisibilityListener(listener, url);
    listener.on('notification', (msg) => v.onNotification(msg.payload ?? ''));
    await listener.query(`LISTEN ${VISIBLE_CHANNEL}`);
    return v;
  }

  private onNotification(payload: string): void {
    const now = performance.now();
    this.lastNotificationAt = now;
    const token = payload.slice(payload.indexOf(' ') + 1);
    if (token === '' || this.seen.has(token)) return;
    this.seen.set(token, now);
  }

  /** Waits until every token was seen or `timeoutMs` passed; answers how many were not seen. */
  async waitForAll(tokens: string[], timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let missing = tokens;
    for (;;) {
      // Only the tokens still missing are looked up again (a run of 10,000 changes would otherwise cost a core here).
      missing = missing.filter((t) => !this.seen.has(t));
      if (missing.length === 0 || Date.now() > deadline) return missing.length;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Drops the trigger and stops listening. */
  async remove(): Promise<void> {
    await this.listener.query(`UNLISTEN ${VISIBLE_CHANNEL}`);
    await this.listener.end();
    await withPgClient(this.url, (admin) => admin.query(`DROP TRIGGER IF EXISTS bench_visible ON ${USERS_SYNC}; DROP FUNCTION IF EXISTS neon_auth.bench_notify_visible()`));
  }
}
