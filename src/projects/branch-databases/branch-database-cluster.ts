import { sqlStateOf } from '../../common/db-errors.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import type { Logger } from 'pino';
import { LOGGER } from '../../common/logger.js';
import { SecretsService } from '../../common/secrets.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { inTransaction } from '../../common/pg-transaction.js';

/** The compute server refused because a source database has other sessions (SQLSTATE 55006). */
export class ComputeBusyError extends Error {
  constructor(readonly databases: string[]) {
    super(`database is being accessed by other sessions: ${databases.join(', ')}`);
    this.name = 'ComputeBusyError';
  }
}

/** A role or database of that name already exists, or is being created, on the compute server (SQLSTATE 42710 / 42P04 / 23505). */
export class ComputeNameTakenError extends Error {
  constructor(readonly objectName: string) {
    super(`${objectName} already exists on the compute server`);
    this.name = 'ComputeNameTakenError';
  }
}

export interface NewDatabase {
  /** Physical name of the database to create. */
  name: string;
  /** Physical name of its owning role. */
  owner: string;
  /** Physical name of the database to copy (CREATE DATABASE ... TEMPLATE); default: an empty database. */
  template?: string;
  /** Physical names of other roles that may connect (every role of the branch). */
  connectRoles: string[];
}

export interface ConnectionTarget {
  role: string;
  password: string;
  database: string;
}

/**
 * The login roles the product reads and writes tenant-owned tables with (Neon Auth's `neon_auth` tables): one per
 * branch database (`neon_auth_data_<16 hex derived from SECRETS_KEY and the database's name>`, so replicas share it,
 * and two control planes on one cluster do not take each other's), LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
 * NOREPLICATION NOBYPASSRLS NOINHERIT, member of nothing, granted CONNECT on its own database and rights on its
 * Neon Auth tables, nothing else. Whatever a tenant's trigger, rule, default, index expression or view makes it run,
 * it runs with these rights, which are less than the tenant's own; and what it can do to itself (change its own
 * password or settings, end its own sessions) reaches no other tenant's database, since each database has its own
 * role. The role is re-asserted (password, attributes, settings, memberships) when a process first uses it and
 * whenever a login with it fails, and dropped with its database.
 */
const TENANT_DATA_ROLE_PREFIX = 'neon_auth_data_';

/**
 * Every connection of the product to the cluster resolves names in pg_catalog first and its own temporary schema
 * last, whatever the database's or a role's defaults say (a database owner can ALTER DATABASE ... SET search_path):
 * a tenant's functions or operators in public or neon_auth never shadow the built-ins a statement means.
 */
const PINNED_SEARCH_PATH = '-c search_path=pg_catalog,pg_temp';

/** How long branching waits for other sessions on the parent databases to go away before answering 423. */
const IDLE_WAIT_ATTEMPTS = 6;
const IDLE_WAIT_DELAY_MS = 200;

/**
 * The cluster that holds the branch databases (the "compute" server: COMPUTE_DATABASE_URL, else the
 * control-plane server). Owns an admin pool (to the URL's database, or to `postgres` when it falls
 * back to DATABASE_URL) that creates and drops real roles and databases, and the module's own pools
 * to branch databases, which branching closes while it copies (`withDatabasesQuiesced`):
 * - `adminPoolFor(database)`: the admin's connections to a branch database, for cluster-level work only
 *   (provisioning DDL, grants, catalog reads), never for reading or writing a tenant's rows;
 * - `tenantDataPoolFor(database)`: the tenant-data role's connections, for every read and write of a tenant-owned table.
 * Every pool pins search_path to `pg_catalog, pg_temp`.
 *
 * Every identifier is quoted with escapeIdentifier. Utility statements (CREATE ROLE ... PASSWORD)
 * cannot take bind parameters, so the one literal, a password this server generated, is quoted
 * with escapeLiteral; every other value is bound.
 *
 * The admin should be a superuser (it creates databases owned by other roles and copies them).
 */
@Injectable()
export class BranchDatabaseCluster implements OnApplicationShutdown {
  private admin?: pg.Pool;
  /** Per database: the admin's pool and the tenant-data role's pool. */
  private readonly pools = new Map<string, { admin?: pg.Pool; data?: pg.Pool }>();
  /** Per database: the set-up of its tenant-data role in this process. */
  private readonly tenantDataRoles = new Map<string, Promise<void>>();
  private readonly gates = new Map<string, { count: number; released: Promise<void>; release: () => void }>();
  private majorVersion?: number;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly secrets: SecretsService,
  ) {}

  /** Last of the shutdown (after the sync engine and other users of the pools have finished in beforeApplicationShutdown). */
  async onApplicationShutdown(): Promise<void> {
    const pools = [...this.pools.values()].flatMap((p) => [p.admin, p.data]).filter((p): p is pg.Pool => p !== undefined);
    if (this.admin) pools.push(this.admin);
    this.pools.clear();
    this.admin = undefined;
    await Promise.allSettled(pools.map((p) => p.end()));
  }

  /** Host and port put into connection URIs. */
  get publicAddress(): { host: string; port: number } {
    const url = this.adminUrl();
    return {
      host: this.config.computePublicHost ?? url.hostname,
      port: this.config.computePublicPort ?? (url.port ? Number(url.port) : 5432),
    };
  }

  /** A libpq/node-postgres connection URI for a role and database on the compute server. */
  connectionUri(target: ConnectionTarget): string {
    const { host, port } = this.publicAddress;
    const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    const e = encodeURIComponent;
    return `postgresql://${e(target.role)}:${e(target.password)}@${hostPart}:${port}/${e(target.database)}`;
  }

  /** Major version of the compute server, e.g. 17. */
  async serverMajorVersion(): Promise<number> {
    if (this.majorVersion === undefined) {
      const { rows } = await this.adminPool().query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
      this.majorVersion = Math.floor(Number(rows[0].v) / 10000);
    }
    return this.majorVersion;
  }

  /**
   * Creates a login role with this password, or, when it exists, sets its attributes and password again
   * (idempotent: a step an interrupted operation runs twice). Concurrent calls for one name take turns.
   */
  async ensureRole(name: string, password: string, login = true): Promise<void> {
    const attributes = `${login ? 'LOGIN' : 'NOLOGIN'} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT`;
    await this.adminTransaction(async (client) => {
      await client.query('SELECT pg_catalog.pg_advisory_xact_lock($1, pg_catalog.hashtext($2))', [ROLE_LOCK_KEY, name]);
      await quietPasswordStatements(client);
      const { rows } = await client.query('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [name]);
      const verb = rows.length === 0 ? 'CREATE' : 'ALTER';
      await client.query(`${verb} ROLE ${ident(name)} WITH ${attributes} PASSWORD ${pg.escapeLiteral(password)}`);
    });
  }

  async dropRole(name: string): Promise<void> {
    await this.adminPool().query(`DROP ROLE IF EXISTS ${ident(name)}`);
  }

  async disableLogin(name: string): Promise<void> {
    await this.adminPool().query(`ALTER ROLE ${ident(name)} NOLOGIN`);
  }

  /**
   * Creates a database (empty, from template0, or a copy of `template`), closes it to PUBLIC and
   * lets the branch's roles connect. Leaves nothing behind when a step fails.
   * Copying needs the template to have no other sessions: ComputeBusyError otherwise.
   */
  async createDatabase(db: NewDatabase): Promise<void> {
    const template = db.template ?? 'template0';
    try {
      await this.adminPool().query(`CREATE DATABASE ${ident(db.name)} OWNER ${ident(db.owner)} TEMPLATE ${ident(template)}`);
    } catch (err) {
      // 42P04: the database exists. 23505: another session is creating it right now (pg_database's unique index).
      if (sqlStateOf(err) === '42P04' || sqlStateOf(err) === '23505') throw new ComputeNameTakenError(`database ${db.name}`);
      if (sqlStateOf(err) === '55006') throw new ComputeBusyError([template]);
      throw err;
    }
    try {
      await this.grantConnect(db.name, db.connectRoles);
    } catch (err) {
      await this.dropDatabase(db.name).catch((dropErr: unknown) =>
        this.logger.error({ err: dropErr, database: db.name }, 'could not drop a half-created database'),
      );
      throw err;
    }
  }

  /** Revokes CONNECT/TEMPORARY from PUBLIC, so other projects' roles cannot connect, and grants them to `roles`. */
  async grantConnect(database: string, roles: string[]): Promise<void> {
    await this.adminTransaction(async (client) => {
      await client.query(`REVOKE ALL ON DATABASE ${ident(database)} FROM PUBLIC`);
      if (roles.length > 0) {
        await client.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${ident(database)} TO ${roles.map(ident).join(', ')}`);
      }
    });
  }

  /**
   * Takes CONNECT and TEMPORARY on a database back from a role (a role removed from one branch while others keep it).
   * A database or role that no longer exists has nothing to take back.
   */
  async revokeConnect(database: string, role: string): Promise<void> {
    try {
      await this.adminPool().query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${ident(database)} FROM ${ident(role)}`);
    } catch (err) {
      // 3D000: no such database; 42704: no such role.
      if (sqlStateOf(err) !== '3D000' && sqlStateOf(err) !== '42704') throw err;
    }
  }

  /** Drops a database, ending its sessions (ours first, then everyone's: WITH (FORCE)). Idempotent. */
  async dropDatabase(name: string): Promise<void> {
    await this.withDatabasesQuiesced([name], async () => {
      await this.adminPool().query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
    });
    await this.dropTenantDataRole(name);
  }

  /**
   * Drops a dropped database's tenant-data role. Copies of the database (branches) may still hold grants to it on
   * their tables; then the role only loses its login (it can connect nowhere: CONNECT is granted per database).
   */
  private async dropTenantDataRole(database: string): Promise<void> {
    this.tenantDataRoles.delete(database);
    const role = ident(this.tenantDataRoleOf(database));
    try {
      await this.adminPool().query(`DROP ROLE IF EXISTS ${role}`);
    } catch (err) {
      if (sqlStateOf(err) !== '2BP01') throw err; // dependent privileges in a copy of the database
      await this.adminPool().query(`ALTER ROLE ${role} NOLOGIN`);
    }
  }

  /** Whether a database exists on the compute server. */
  async databaseExists(name: string): Promise<boolean> {
    const { rows } = await this.adminPool().query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rows.length > 0;
  }

  /**
   * Waits briefly until no client sessions are connected to `databases` (CREATE DATABASE ... TEMPLATE
   * refuses otherwise). Throws ComputeBusyError naming the busy databases when they stay busy.
   */
  async waitUntilIdle(databases: string[]): Promise<void> {
    let busy: string[] = [];
    for (let attempt = 0; attempt < IDLE_WAIT_ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(IDLE_WAIT_DELAY_MS);
      const { rows } = await this.adminPool().query<{ datname: string }>(
        `SELECT DISTINCT datname FROM pg_stat_activity
          WHERE datname = ANY($1::text[]) AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
        [databases],
      );
      busy = rows.map((r) => r.datname);
      if (busy.length === 0) return;
    }
    throw new ComputeBusyError(busy);
  }

  /**
   * Runs `fn` while this process's own pools to `databases` are closed and new ones wait
   * (`poolFor` blocks until `fn` settles). Used around copying and dropping branch databases.
   */
  async withDatabasesQuiesced<T>(databases: string[], fn: () => Promise<T>): Promise<T> {
    const names = [...new Set(databases)];
    for (const name of names) {
      const gate = this.gates.get(name);
      if (gate) {
        gate.count++;
      } else {
        let release!: () => void;
        const released = new Promise<void>((resolve) => (release = resolve));
        this.gates.set(name, { count: 1, released, release });
      }
    }
    try {
      await Promise.all(
        names.map(async (name) => {
          const pools = this.pools.get(name);
          this.pools.delete(name);
          await Promise.all([pools?.admin?.end(), pools?.data?.end()]);
        }),
      );
      return await fn();
    } finally {
      for (const name of names) {
        const gate = this.gates.get(name)!;
        if (--gate.count === 0) {
          this.gates.delete(name);
          gate.release();
        }
      }
    }
  }

  /**
   * This process's admin pool to a branch database, created on first use: for cluster-level work in it
   * (provisioning DDL, grants, catalog reads), never for a tenant's rows (see tenantDataPoolFor).
   */
  async adminPoolFor(database: string): Promise<pg.Pool> {
    await this.gateOf(database);
    const pools = this.poolsOf(database);
    pools.admin ??= this.newPool(database, 4);
    return pools.admin;
  }

  /** The tenant-data role of a branch database (see TENANT_DATA_ROLE_PREFIX). */
  tenantDataRoleOf(database: string): string {
    return `${TENANT_DATA_ROLE_PREFIX}${this.secrets.derive(`compute cluster tenant data role name v2:${database}`).slice(0, 16)}`;
  }

  /**
   * This process's pool to a branch database as its tenant-data role (see TENANT_DATA_ROLE_PREFIX), created on first
   * use. The role gets CONNECT and table rights from the provisioning of the objects it uses (grantTenantDataConnect).
   * A login the server refuses (SQLSTATE 28P01: someone changed the role's password) re-asserts the role once.
   */
  async tenantDataPoolFor(database: string): Promise<pg.Pool> {
    await this.ensureTenantDataRole(database);
    await this.gateOf(database);
    const pools = this.poolsOf(database);
    pools.data ??= this.newPool(database, 4, { user: this.tenantDataRoleOf(database), password: this.tenantDataPassword(database) });
    return pools.data;
  }

  /** After a refused login: drops the pool and sets the role up again, so the next tenantDataPoolFor works. */
  async resetTenantDataRole(database: string): Promise<void> {
    const pools = this.pools.get(database);
    const data = pools?.data;
    if (pools) pools.data = undefined;
    await data?.end().catch(() => undefined);
    this.tenantDataRoles.delete(database);
    await this.ensureTenantDataRole(database);
  }

  /**
   * Creates the database's tenant-data role if it does not exist, and (on first use in a process) sets what it must
   * be: its password, no attributes beyond LOGIN, no settings of its own in any database but the pinned search_path,
   * member of no role. Replicas derive the same password from the secrets key and take turns (an advisory lock).
   */
  ensureTenantDataRole(database: string): Promise<void> {
    let ready = this.tenantDataRoles.get(database);
    if (!ready) {
      ready = this.setUpTenantDataRole(database).catch((err: unknown) => {
        this.tenantDataRoles.delete(database);
        throw err;
      });
      this.tenantDataRoles.set(database, ready);
    }
    return ready;
  }

  private async setUpTenantDataRole(database: string): Promise<void> {
    const name = this.tenantDataRoleOf(database);
    const role = ident(name);
    const attributes = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT';
    await this.adminTransaction(async (client) => {
      await client.query('SELECT pg_catalog.pg_advisory_xact_lock($1, pg_catalog.hashtext($2))', [TENANT_DATA_ROLE_LOCK_KEY, name]);
      await quietPasswordStatements(client);
      const { rows } = await client.query('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [name]);
      const password = pg.escapeLiteral(this.tenantDataPassword(database));
      await client.query(rows.length === 0 ? `CREATE ROLE ${role} WITH ${attributes} PASSWORD ${password}` : `ALTER ROLE ${role} WITH ${attributes} PASSWORD ${password}`);
      // No settings of its own (a tenant's code, running as the role, can ALTER ROLE CURRENT_USER SET ...), but the pin.
      const { rows: settings } = await client.query<{ datname: string | null }>(
        `SELECT d.datname FROM pg_catalog.pg_db_role_setting s LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
          WHERE s.setrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1)`,
        [name],
      );
      for (const st of settings) await client.query(`ALTER ROLE ${role}${st.datname === null ? '' : ` IN DATABASE ${ident(st.datname)}`} RESET ALL`);
      await client.query(`ALTER ROLE ${role} SET search_path = pg_catalog, pg_temp`);
      // Member of nothing: whatever granted it a role since is taken back.
      const { rows: memberships } = await client.query<{ rolname: string }>(
        `SELECT r.rolname FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles r ON r.oid = m.roleid
          WHERE m.member = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1)`,
        [name],
      );
      for (const m of memberships) await client.query(`REVOKE ${ident(m.rolname)} FROM ${role}`);
    });
  }

  /** Runs `fn` in a transaction on an admin connection: committed when it returns, rolled back when it throws. */
  private adminTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.adminPool(), fn);
  }


  /** The database's tenant-data role may connect to it (admin; idempotent). Table rights are granted with the tables. */
  async grantTenantDataConnect(client: pg.ClientBase, database: string): Promise<void> {
    await this.ensureTenantDataRole(database);
    await client.query(`GRANT CONNECT ON DATABASE ${ident(database)} TO ${ident(this.tenantDataRoleOf(database))}`);
  }

  private tenantDataPassword(database: string): string {
    return this.secrets.derive(`compute cluster tenant data role password v2:${database}`);
  }

  private async gateOf(database: string): Promise<void> {
    for (let gate = this.gates.get(database); gate; gate = this.gates.get(database)) await gate.released;
  }

  private poolsOf(database: string): { admin?: pg.Pool; data?: pg.Pool } {
    let pools = this.pools.get(database);
    if (!pools) {
      pools = {};
      this.pools.set(database, pools);
    }
    return pools;
  }

  private adminPool(): pg.Pool {
    this.admin ??= this.newPool(undefined, 4);
    return this.admin;
  }

  private newPool(database: string | undefined, max: number, login?: { user: string; password: string }): pg.Pool {
    const url = this.adminUrl();
    if (login) {
      url.username = encodeURIComponent(login.user);
      url.password = encodeURIComponent(login.password);
    }
    if (database !== undefined) {
      // Physical names are URI-safe by construction (naming.ts); refuse anything else rather than mis-encode it.
      if (!/^[A-Za-z0-9_.~-]+$/.test(database)) throw new Error(`not a physical database name: ${JSON.stringify(database)}`);
      url.pathname = `/${database}`;
    }
    const pool = new pg.Pool({
      connectionString: url.toString(),
      max,
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: 10_000,
      application_name: login ? 'neon-auth-control-plane:tenant-data' : 'neon-auth-control-plane:compute',
      options: PINNED_SEARCH_PATH,
    });
    pool.on('error', (err) => this.logger.warn({ err, database }, 'idle compute connection failed'));
    return pool;
  }

  private adminUrl(): URL {
    const raw = this.config.computeDatabaseUrl ?? this.config.databaseUrl;
    if (!raw) throw new Error('no compute server: neither COMPUTE_DATABASE_URL nor DATABASE_URL is set');
    const url = new URL(raw);
    if (!this.config.computeDatabaseUrl) url.pathname = '/postgres';
    return url;
  }
}

function ident(name: string): string {
  return pg.escapeIdentifier(name);
}

/** pg_advisory_xact_lock key serializing the creation of a branch role across replicas. ASCII "role". */
const ROLE_LOCK_KEY = 0x726f_6c65;

/** pg_advisory_xact_lock key serializing the tenant-data role's set-up across replicas. ASCII "tdat". */
const TENANT_DATA_ROLE_LOCK_KEY = 0x7464_6174;

/**
 * In an open transaction: statements that carry a password stay out of the server log, whatever log_statement or
 * log_min_error_statement say (superuser-only settings; on a lesser account they stay as configured).
 */
async function quietPasswordStatements(client: pg.ClientBase): Promise<void> {
  await client.query('SAVEPOINT quiet');
  try {
    await client.query(`SET LOCAL log_statement = 'none'`);
    await client.query(`SET LOCAL log_min_error_statement = 'panic'`);
    await client.query('RELEASE SAVEPOINT quiet');
  } catch {
    await client.query('ROLLBACK TO SAVEPOINT quiet');
  }
}
