import { Inject, Injectable } from '@nestjs/common';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';
import { BranchDatabaseCluster } from '../projects/branch-databases/branch-database-cluster.js';
import type { BranchDatabase } from '../projects/branch-databases/branch-databases.service.js';
import { NEON_AUTH_SCHEMA, USERS_SYNC_QUALIFIED } from '../neon-auth/users-sync/users-sync.ddl.js';
import { NeonAuthUsersSyncStore } from '../neon-auth/users-sync/users-sync.store.js';
import { loadBetterAuthLibrary } from './better-auth-library.js';
import { betterAuthOptions } from './better-auth-options.js';
import { DEFAULT_PROJECT_CONFIG_COLUMNS, PROJECT_CONFIG_COLUMNS, parseProjectConfig, projectConfigColumns, type ProjectConfig, type ProjectConfigRow, type ProjectSettings } from './project-config.js';

/** Better Auth's tables in `neon_auth` (with every plugin Neon offers). */
export const BETTER_AUTH_TABLES = ['user', 'session', 'account', 'verification', 'jwks', 'organization', 'member', 'invitation'] as const;
export const PROJECT_CONFIG_TABLE = 'project_config';

/** Roles an RLS policy can name for requests carrying the server's JWTs (`role` claim). Cluster-wide, NOLOGIN. */
export const JWT_ROLES = ['authenticated', 'anonymous'] as const;

const q = (name: string): string => pg.escapeIdentifier(name);
const SCHEMA = q(NEON_AUTH_SCHEMA);
const USER_TABLE = `${SCHEMA}.${q('user')}`;
const CONFIG_TABLE = `${SCHEMA}.${q(PROJECT_CONFIG_TABLE)}`;
const TRIGGER_FUNCTION = `${SCHEMA}.${q('users_sync_from_user')}`;
const CONFIG_TOUCH_FUNCTION = `${SCHEMA}.${q('project_config_touch')}`;

/**
 * The `users_sync.raw_json` of a Better Auth user, from `u`, the user row as jsonb (`to_jsonb(row)`): every column of
 * Better Auth's `user` under its own name (`id`, `name`, `email`, `emailVerified`, `image`, `createdAt`, `updatedAt`,
 * `role`, `banned`, `banReason`, `banExpires`, `phoneNumber`, `phoneNumberVerified`), plus the Stack Auth keys the
 * generated columns and Stack-era readers use:
 * `display_name` = name, `primary_email` = email, `primary_email_verified` = emailVerified, `profile_image_url` = image,
 * `signed_up_at_millis` = createdAt in epoch milliseconds, `server_metadata.roles` = the admin plugin's comma-joined
 * `role` split into a list. So users_sync's `id`, `name`, `email` and `created_at` come out as Better Auth has them.
 */
export function rawJsonSql(u: string): string {
  return `(${u} || pg_catalog.jsonb_build_object(
      'display_name', ${u} -> 'name',
      'primary_email', ${u} -> 'email',
      'primary_email_verified', COALESCE(${u} -> 'emailVerified', 'false'::jsonb),
      'primary_email_auth_enabled', true,
      'profile_image_url', ${u} -> 'image',
      'signed_up_at_millis', pg_catalog.floor(EXTRACT(EPOCH FROM (${u} ->> 'createdAt')::timestamptz) * 1000)::bigint,
      'server_metadata', pg_catalog.jsonb_build_object('roles', COALESCE(
        (SELECT pg_catalog.jsonb_agg(pg_catalog.btrim(r)) FROM pg_catalog.unnest(pg_catalog.string_to_array(${u} ->> 'role', ',')) AS r
          WHERE pg_catalog.btrim(r) <> ''),
        '[]'::jsonb))))`;
}

/**
 * The trigger that keeps `users_sync` in the transaction of every change of Better Auth's `user` table: an insert or
 * update writes the row's raw_json (deleted_at cleared), a delete sets deleted_at. It runs as whoever changes the
 * user (the server's tenant-data role, or the application's own role), with the search_path pinned.
 */
function usersSyncTriggerDdl(): string[] {
  return [
    `CREATE OR REPLACE FUNCTION ${TRIGGER_FUNCTION}() RETURNS trigger
       LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $fn$
     DECLARE
       u jsonb;
     BEGIN
       IF TG_OP = 'DELETE' THEN
         UPDATE ${USERS_SYNC_QUALIFIED} SET deleted_at = pg_catalog.clock_timestamp(), updated_at = pg_catalog.clock_timestamp()
          WHERE id = OLD.id::text AND deleted_at IS NULL;
         RETURN OLD;
       END IF;
       u := pg_catalog.to_jsonb(NEW);
       INSERT INTO ${USERS_SYNC_QUALIFIED} AS s (raw_json, updated_at) VALUES (${rawJsonSql('u')}, pg_catalog.clock_timestamp())
       ON CONFLICT (id) DO UPDATE SET raw_json = EXCLUDED.raw_json, updated_at = EXCLUDED.updated_at, deleted_at = NULL;
       RETURN NEW;
     END
     $fn$`,
    `DROP TRIGGER IF EXISTS users_sync_from_user ON ${USER_TABLE}`,
    `CREATE TRIGGER users_sync_from_user AFTER INSERT OR UPDATE OR DELETE ON ${USER_TABLE}
       FOR EACH ROW EXECUTE FUNCTION ${TRIGGER_FUNCTION}()`,
  ];
}

/** Neon's `project_config` (reference §5.2), with updated_at kept by a trigger so any edit is seen by the servers. */
function projectConfigDdl(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${CONFIG_TABLE} (
       id uuid DEFAULT pg_catalog.gen_random_uuid() NOT NULL PRIMARY KEY,
       name text NOT NULL,
       endpoint_id text NOT NULL UNIQUE,
       created_at timestamptz DEFAULT now() NOT NULL,
       updated_at timestamptz DEFAULT now() NOT NULL,
       trusted_origins jsonb NOT NULL,
       social_providers jsonb NOT NULL,
       email_provider jsonb,
       email_and_password jsonb,
       allow_localhost boolean NOT NULL,
       plugin_configs jsonb,
       webhook_config jsonb
     )`,
    `CREATE OR REPLACE FUNCTION ${CONFIG_TOUCH_FUNCTION}() RETURNS trigger
       LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS $fn$
     BEGIN
       NEW.updated_at := pg_catalog.clock_timestamp();
       RETURN NEW;
     END
     $fn$`,
    `DROP TRIGGER IF EXISTS project_config_touch ON ${CONFIG_TABLE}`,
    `CREATE TRIGGER project_config_touch BEFORE UPDATE ON ${CONFIG_TABLE} FOR EACH ROW EXECUTE FUNCTION ${CONFIG_TOUCH_FUNCTION}()`,
  ];
}

/** A Kysely pool that hands out one client (a transaction in progress) and never releases or ends it. */
function singleClientPool(client: pg.ClientBase): PostgresPool {
  const wrapped = { query: client.query.bind(client), release: () => undefined } as unknown as PostgresPoolClient;
  return { connect: async () => wrapped, end: async () => undefined };
}

export interface BetterAuthProvisioning {
  /** The id of the branch database's project_config row: the integration's auth_provider_project_id. */
  configId: string;
  /** Better Auth's own migration statements run (none when the schema was already complete). */
  migrated: number;
}

/**
 * The Better Auth side of `neon_auth` in a branch database: Better Auth's tables as Better Auth itself migrates them
 * (with `schemaName: "neon_auth"` and uuid ids, which is Neon's column layout), Neon's `project_config` with its
 * default row, the users_sync trigger, the JWT roles, and the tenant-data role's rights. Runs as the cluster admin in
 * one provisioning transaction (NeonAuthUsersSyncStore.ddlTransaction: serialized, search_path pinned, 423 on a lock
 * wait), after users_sync exists; everything is owned by the database's owner role, as users_sync is.
 *
 * Idempotent: what exists is kept (rows included), what is missing is added (Better Auth's migration check finds
 * nothing to do afterwards), so a crash half-way is repaired by running it again, and a branch copied from a
 * provisioned database is adopted as it is.
 */
@Injectable()
export class BetterAuthSchema {
  constructor(
    private readonly usersSync: NeonAuthUsersSyncStore,
    private readonly cluster: BranchDatabaseCluster,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Provisions (or completes) the schema. The project_config row gets id `configId` and endpoint `endpointId` (kept
   * settings otherwise; a new row has Neon's defaults and `name`).
   */
  async provision(target: BranchDatabase, row: { configId: string; endpointId: string; name: string }): Promise<BetterAuthProvisioning> {
    const owner = q(target.ownerRole);
    // DDL only, as the cluster admin: no statement here reads or writes a row of a table the tenant owns (a trigger, a
    // rule or a view of theirs would run with the admin's rights).
    const migrated = await this.usersSync.ddlTransaction(target, async (c) => {
      const statements = await this.migrate(c);
      for (const statement of projectConfigDdl()) await c.query(statement);
      for (const statement of usersSyncTriggerDdl()) await c.query(statement);
      await this.createJwtRoles(c);
      for (const table of [...BETTER_AUTH_TABLES, PROJECT_CONFIG_TABLE]) await c.query(`ALTER TABLE ${SCHEMA}.${q(table)} OWNER TO ${owner}`);
      await c.query(`ALTER FUNCTION ${TRIGGER_FUNCTION}() OWNER TO ${owner}`);
      await c.query(`ALTER FUNCTION ${CONFIG_TOUCH_FUNCTION}() OWNER TO ${owner}`);
      await this.grantTenantData(c, target);
      return statements;
    });
    await this.settleRows(target, row);
    if (migrated > 0) this.logger.info({ database: target.physicalName, statements: migrated }, 'provisioned Better Auth in neon_auth');
    return { configId: row.configId, migrated };
  }

  /**
   * The rows, as the tenant-data role (whatever the tenant attached to these tables runs with no more rights than the
   * servers have), in one transaction: the settings row made this integration's (a new one with Neon's defaults; one
   * kept from an earlier enable or copied from the parent branch keeps its settings under the new id), and users_sync
   * completed from the user table (rows a copy or a disabled trigger left behind). Idempotent.
   */
  private async settleRows(target: BranchDatabase, row: { configId: string; endpointId: string; name: string }): Promise<void> {
    const client = await (await this.cluster.tenantDataPoolFor(target.physicalName)).connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: string }>(`SELECT id FROM ${CONFIG_TABLE} ORDER BY created_at, id LIMIT 1 FOR UPDATE`);
      if (rows.length === 0) {
        const d = DEFAULT_PROJECT_CONFIG_COLUMNS;
        await client.query(
          `INSERT INTO ${CONFIG_TABLE} (id, name, endpoint_id, trusted_origins, social_providers, email_provider, email_and_password, allow_localhost, plugin_configs, webhook_config)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT DO NOTHING`,
          [row.configId, row.name, row.endpointId, JSON.stringify(d.trusted_origins), JSON.stringify(d.social_providers), JSON.stringify(d.email_provider), JSON.stringify(d.email_and_password), d.allow_localhost, JSON.stringify(d.plugin_configs), JSON.stringify(d.webhook_config)],
        );
      } else if (rows[0].id !== row.configId) {
        await client.query(`DELETE FROM ${CONFIG_TABLE} WHERE id <> $1`, [rows[0].id]);
        await client.query(`UPDATE ${CONFIG_TABLE} SET id = $1, endpoint_id = $2 WHERE id = $3`, [row.configId, row.endpointId, rows[0].id]);
      }
      await client.query(
        `INSERT INTO ${USERS_SYNC_QUALIFIED} (raw_json, updated_at)
         SELECT ${rawJsonSql('j.u')}, pg_catalog.clock_timestamp() FROM ${USER_TABLE} x, LATERAL (SELECT pg_catalog.to_jsonb(x) AS u) j
          WHERE NOT EXISTS (SELECT 1 FROM ${USERS_SYNC_QUALIFIED} s WHERE s.id = x.id::text AND s.deleted_at IS NULL AND s.raw_json = ${rawJsonSql('j.u')})
         ON CONFLICT (id) DO UPDATE SET raw_json = EXCLUDED.raw_json, updated_at = EXCLUDED.updated_at, deleted_at = NULL`,
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr));
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** A database copied with its branch (or provisioned by an older version): users_sync and the rest made this branch's. */
  async adopt(target: BranchDatabase, row: { configId: string; endpointId: string; name: string }): Promise<BetterAuthProvisioning> {
    await this.usersSync.provision(target);
    return this.provision(target, row);
  }

  /** What Better Auth's own migration check would still do on the database (empty once provisioned). */
  async pendingMigrations(target: BranchDatabase): Promise<{ toBeCreated: string[]; toBeAdded: string[] }> {
    const pool = await this.cluster.adminPoolFor(target.physicalName);
    const client = await pool.connect();
    try {
      const lib = await loadBetterAuthLibrary();
      const m = await lib.getMigrations(betterAuthOptions(lib, schemaSettings(singleClientPool(client)), true));
      return { toBeCreated: m.toBeCreated.map((t) => t.table), toBeAdded: m.toBeAdded.map((t) => t.table) };
    } finally {
      client.release();
    }
  }

  /** The branch database's settings row (read as the tenant-data role); undefined when there is none. */
  async readConfig(physicalName: string): Promise<ProjectConfig | undefined> {
    const pool = await this.cluster.tenantDataPoolFor(physicalName);
    const { rows } = await pool.query<ProjectConfigRow>(`SELECT ${PROJECT_CONFIG_COLUMNS} FROM ${CONFIG_TABLE} ORDER BY created_at LIMIT 1`);
    return rows[0] ? parseProjectConfig(rows[0]) : undefined;
  }

  /**
   * Read-modify-write of the settings row `configId`, as the tenant-data role, in one transaction holding the row's
   * lock: concurrent changes apply one after the other, each to the other's result, and a `change` that throws (bad
   * input found against the current settings) rolls back and changes nothing. Answers the row as stored, or undefined
   * when the database has no row with that id (a branch copy not adopted yet).
   */
  async updateConfig(physicalName: string, configId: string, change: (current: ProjectConfig) => ProjectSettings | Promise<ProjectSettings>): Promise<ProjectConfig | undefined> {
    const client = await (await this.cluster.tenantDataPoolFor(physicalName)).connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      // A tenant may hold the row or slow its triggers: a settings call waits a bounded time, then fails (503).
      await client.query(`SET LOCAL lock_timeout = '5s'; SET LOCAL statement_timeout = '15s'`);
      const { rows } = await client.query<ProjectConfigRow>(`SELECT ${PROJECT_CONFIG_COLUMNS} FROM ${CONFIG_TABLE} WHERE id = $1 FOR UPDATE`, [configId]);
      if (!rows[0]) {
        await client.query('ROLLBACK');
        return undefined;
      }
      const current = parseProjectConfig(rows[0]);
      const before: Record<string, unknown> = { ...projectConfigColumns(current) };
      // Only the columns the change altered are written: a column this server cannot read (a tenant's own keys, a
      // value it does not understand) stays as it is unless the change is about it.
      const changed = Object.entries(projectConfigColumns(await change(current))).filter(([name, value]) => JSON.stringify(value) !== JSON.stringify(before[name]));
      if (changed.length === 0) {
        await client.query('COMMIT');
        return current;
      }
      const { rows: stored } = await client.query<ProjectConfigRow>(
        `UPDATE ${CONFIG_TABLE} SET ${changed.map(([name], i) => `${q(name)} = $${i + 2}`).join(', ')}, updated_at = pg_catalog.clock_timestamp()
          WHERE id = $1 RETURNING ${PROJECT_CONFIG_COLUMNS}`,
        [configId, ...changed.map(([name, value]) => (name === 'name' || name === 'allow_localhost' ? value : JSON.stringify(value)))],
      );
      // A tenant's BEFORE UPDATE trigger may cancel the write: nothing was stored, say so rather than pretend.
      if (!stored[0]) throw new Error(`the update of neon_auth.project_config ${configId} was cancelled by a trigger on the table`);
      await client.query('COMMIT');
      return parseProjectConfig(stored[0]);
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr));
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** When the settings row last changed (null: no row), as the tenant-data role: what the servers poll. */
  async configVersion(physicalName: string): Promise<number | null> {
    const pool = await this.cluster.tenantDataPoolFor(physicalName);
    const { rows } = await pool.query<{ v: Date }>(`SELECT max(updated_at) AS v FROM ${CONFIG_TABLE}`);
    return rows[0]?.v ? rows[0].v.getTime() : null;
  }

  /** Better Auth's migration, run inside the provisioning transaction (its introspection sees this transaction). */
  private async migrate(c: pg.PoolClient): Promise<number> {
    const lib = await loadBetterAuthLibrary();
    const migrations = await lib.getMigrations(betterAuthOptions(lib, schemaSettings(singleClientPool(c)), true));
    if (migrations.toBeCreated.length === 0 && migrations.toBeAdded.length === 0 && (migrations.toBeAddedIndexes?.length ?? 0) === 0) return 0;
    const sql = await migrations.compileMigrations();
    const statements = sql.split(/;\s*\n/).map((s) => s.trim()).filter((s) => s !== '');
    for (const statement of statements) await c.query(statement);
    return statements.length;
  }

  private async createJwtRoles(c: pg.PoolClient): Promise<void> {
    for (const role of JWT_ROLES) {
      const { rows } = await c.query('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [role]);
      if (rows.length > 0) continue;
      // Roles are cluster-wide: another database's provisioning may create it at the same moment.
      await c.query('SAVEPOINT jwt_role');
      try {
        await c.query(`CREATE ROLE ${q(role)} NOLOGIN NOINHERIT`);
        await c.query('RELEASE SAVEPOINT jwt_role');
      } catch (err) {
        await c.query('ROLLBACK TO SAVEPOINT jwt_role');
        const { rows: again } = await c.query('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [role]);
        if (again.length === 0) throw err;
      }
    }
  }

  /**
   * The tenant-data role (the server's connections) reads and writes Better Auth's tables and reads the settings row;
   * roles of other databases (grants copied with a branch) keep nothing.
   */
  private async grantTenantData(c: pg.PoolClient, target: BranchDatabase): Promise<void> {
    const roleName = this.cluster.tenantDataRoleOf(target.physicalName);
    const role = q(roleName);
    const tables = BETTER_AUTH_TABLES.map((t) => `${SCHEMA}.${q(t)}`);
    const { rows: others } = await c.query<{ grantee: string }>(
      `SELECT DISTINCT r.rolname AS grantee
         FROM pg_catalog.pg_class t JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace,
              pg_catalog.aclexplode(t.relacl) a JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
        WHERE n.nspname = $1 AND t.relname = ANY($2) AND r.rolname LIKE 'neon\\_auth\\_data\\_%' AND r.rolname <> $3`,
      [NEON_AUTH_SCHEMA, [...BETTER_AUTH_TABLES, PROJECT_CONFIG_TABLE], roleName],
    );
    for (const o of others) await c.query(`REVOKE ALL ON ${[...tables, CONFIG_TABLE].join(', ')} FROM ${q(o.grantee)}`);
    await c.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${tables.join(', ')} TO ${role}`);
    await c.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${CONFIG_TABLE} TO ${role}`);
  }
}

/** Options good enough for Better Auth's migration check (no server is built from them). */
function schemaSettings(pool: PostgresPool) {
  return {
    baseUrl: 'http://localhost/neon-auth/schema/check/auth',
    secret: 'schema-check-only-never-signs-anything-0000',
    config: parseProjectConfig({ id: '', name: 'schema', endpoint_id: '', updated_at: new Date(0), trusted_origins: [], allow_localhost: true, social_providers: null, email_provider: null, email_and_password: null, plugin_configs: null, webhook_config: null }),
    pool,
    send: async () => undefined,
    trustedOrigins: () => [],
  };
}
