import { isDataException, sqlStateOf } from '../../common/db-errors.js';
import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import type { Logger } from 'pino';
import { ApiError, ErrorCode } from '../../common/errors.js';
import { LOGGER } from '../../common/logger.js';
import { decodeCursor, encodeCursor } from '../../common/pagination.js';
import { BranchDatabaseCluster } from '../../projects/branch-databases/branch-database-cluster.js';
import type { BranchDatabase } from '../../projects/branch-databases/branch-databases.service.js';
import { BranchDatabaseGoneError, UsersSyncAccessDeniedError, UsersSyncMissingError, UsersSyncRowError, UsersSyncTableMismatchError } from './users-sync.errors.js';
import {
  NEON_AUTH_SCHEMA,
  readTableShape,
  shapeDifferences,
  USERS_SYNC_QUALIFIED,
  USERS_SYNC_TABLE,
  usersSyncDdl,
  type TableShape,
} from './users-sync.ddl.js';
import {
  chunk,
  containsPattern,
  markDeletedStatement,
  MAX_ID_BYTES,
  MAX_IDS_PER_STATEMENT,
  MAX_ROWS_PER_STATEMENT,
  prepareRow,
  sortById,
  timestampValue,
  upsertStatement,
  upsertUnlessDeletedStatement,
  type PreparedRow,
  type UsersSyncRow,
} from './users-sync.statements.js';

export interface ProvisionResult {
  /** False when Neon's `neon_auth.users_sync` was already there (kept, with its rows). */
  created: boolean;
  /** True when the `neon_auth` schema itself was created by this call. */
  schemaCreated: boolean;
}

export interface DeprovisionResult {
  /** True when the `neon_auth` schema was dropped. */
  dropped: boolean;
  /** Objects outside `neon_auth` that depended on it and were dropped with it (e.g. foreign keys to users_sync). */
  droppedDependents: string[];
}

export interface WriteResult {
  /** Rows inserted or changed. */
  written: number;
  /** Input rows that changed nothing: older than (or equal to) the row's state, or superseded within the call. */
  skipped: number;
}

/** A row of `users_sync` as the users list shows it. */
export interface UsersSyncRecord {
  id: string;
  name: string | null;
  email: string | null;
  raw_json: Record<string, unknown>;
  created_at: Date | null;
  updated_at: Date | null;
  deleted_at: Date | null;
}

export interface UsersSyncListOptions {
  /** Users whose email or name contains this text (case-insensitive), or whose id is exactly this. */
  query?: string;
  /** `next` of the previous page. */
  cursor?: string;
  limit: number;
  includeDeleted: boolean;
}

export interface UsersSyncPage {
  rows: UsersSyncRecord[];
  /** Cursor of the next page; absent on the last one. */
  next?: string;
}

/** pg_advisory_xact_lock key for provisioning DDL (advisory locks are per database, so this serializes per branch database). ASCII "naus". */
const PROVISION_LOCK_KEY = 0x6e61_7573;

/**
 * The one way into a branch database's `neon_auth` schema: every statement the product runs there is run
 * here (a static test holds every other file to that). It provisions and drops the schema and Neon's exact
 * `users_sync` table (users-sync.ddl.ts), writes user states with the ordering rule of
 * users-sync.statements.ts (the sync engine, the users API, the reconciler and an enable's copy all write
 * through upsertUsers / upsertPrepared / markDeleted), and answers the reads they need (the users list,
 * live ids, a user's last update, whether the schema exists).
 *
 * Privilege: the schema and the table belong to the branch's owner role, a tenant, who can put triggers, rules,
 * defaults, index expressions or a view in the way of every statement on them. So every read and write of a row
 * runs as the database's tenant-data role (BranchDatabaseCluster.tenantDataRoleOf: no attributes, member of nothing, rights on these
 * tables only), never as the admin: whatever a tenant's code makes it run, it runs with less than the tenant has.
 * The admin runs only the provisioning DDL, the grants and catalog reads, with search_path pinned to
 * `pg_catalog, pg_temp` and every name qualified.
 *
 * Connections: BranchDatabaseCluster's pools to the branch database, so branching, which
 * closes those pools while it copies a database (`withDatabasesQuiesced`), also waits for this
 * store's work to finish and never finds its idle connections in the way. A missing table or schema
 * (SQLSTATE 42P01 / 3F000) is UsersSyncMissingError, for reads and writes alike.
 *
 * Ownership: the schema and table belong to the database's owner role (Neon's dumps show
 * `neondb_owner`), so the application, which connects as that role, can read them and reference
 * `users_sync(id)` from its own tables.
 *
 * delete_data:true drops `neon_auth` with CASCADE. Neon documents only that the schema is deleted;
 * with RESTRICT, every database that follows Neon's own guide (a todos table with
 * `REFERENCES neon_auth.users_sync(id) ON DELETE CASCADE`) could never be disabled with
 * delete_data. CASCADE drops those foreign-key constraints (the referencing tables and their rows
 * stay) and any view over users_sync; what was dropped is returned and logged.
 */
@Injectable()
export class NeonAuthUsersSyncStore {
  private referenceShape?: TableShape;
  /** How long provisioning DDL waits for locks (e.g. a long transaction reading users_sync) before answering 423. */
  ddlLockTimeoutMs = 10_000;

  constructor(
    private readonly cluster: BranchDatabaseCluster,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Creates schema `neon_auth` and Neon's `users_sync` (columns, generated expressions, primary key
   * `users_sync_pkey`, index `users_sync_deleted_at_idx`), owned by the database's owner role, in one
   * transaction (a failure leaves nothing). Idempotent: when the table exists and is Neon's, it is
   * kept with its rows (enable after a disable without delete_data); a different
   * `neon_auth.users_sync` is refused with 409 and left alone. Concurrent calls are serialized.
   */
  async provision(target: BranchDatabase): Promise<ProvisionResult> {
    const schema = pg.escapeIdentifier(NEON_AUTH_SCHEMA);
    const owner = pg.escapeIdentifier(target.ownerRole);
    return this.ddlTransaction(target, async (c) => {
      const existing = await this.usersSyncOid(c);
      if (existing !== undefined) {
        const differences = shapeDifferences(await this.expectedShape(c), await readTableShape(c, existing));
        if (differences.length > 0) throw new UsersSyncTableMismatchError(target.name, differences);
        await this.grantTenantData(c, target);
        return { created: false, schemaCreated: false };
      }
      const schemaExists = await this.hasSchema(c);
      if (!schemaExists) await c.query(`CREATE SCHEMA ${schema}`);
      for (const statement of usersSyncDdl(schema)) await c.query(statement);
      if (schemaExists) {
        // Someone else's schema (made by hand, or left by another tool): the owner still needs to reach the table.
        await c.query(`GRANT USAGE ON SCHEMA ${schema} TO ${owner}`);
      } else {
        await c.query(`ALTER SCHEMA ${schema} OWNER TO ${owner}`);
      }
      await c.query(`ALTER TABLE ${USERS_SYNC_QUALIFIED} OWNER TO ${owner}`);
      await this.grantTenantData(c, target);
      this.logger.info({ database: target.physicalName }, 'provisioned neon_auth.users_sync');
      return { created: true, schemaCreated: !schemaExists };
    });
  }

  /**
   * Grants the tenant-data role its rights again when Neon's users_sync is there (no DDL otherwise): for databases
   * provisioned before the role existed, and to repair revoked grants. Answers whether the table was there.
   */
  async restoreGrants(target: BranchDatabase): Promise<boolean> {
    return this.ddlTransaction(target, async (c) => {
      if ((await this.usersSyncOid(c)) === undefined) return false;
      await this.grantTenantData(c, target);
      return true;
    });
  }

  /**
   * Disable: `deleteData: false` keeps the schema, the table and its rows (a later provision reuses
   * them); `deleteData: true` drops schema `neon_auth` with CASCADE (see the class comment).
   */
  async deprovision(target: BranchDatabase, options: { deleteData: boolean }): Promise<DeprovisionResult> {
    if (!options.deleteData) return { dropped: false, droppedDependents: [] };
    return this.ddlTransaction(target, async (c) => {
      if (!(await this.hasSchema(c))) return { dropped: false, droppedDependents: [] };
      const dependents = await this.outsideDependents(c);
      await c.query(`DROP SCHEMA ${pg.escapeIdentifier(NEON_AUTH_SCHEMA)} CASCADE`);
      if (dependents.length > 0) {
        this.logger.warn({ database: target.physicalName, dropped: dependents }, 'dropping neon_auth also dropped objects that depended on it');
      }
      this.logger.info({ database: target.physicalName }, 'dropped schema neon_auth');
      return { dropped: true, droppedDependents: dependents };
    });
  }

  /** Whether Neon's `neon_auth.users_sync` exists in the database (false for a different table of that name). */
  async isProvisioned(target: Pick<BranchDatabase, 'physicalName'>): Promise<boolean> {
    return this.withClient(target.physicalName, 'admin', async (c) => {
      const oid = await this.usersSyncOid(c);
      if (oid === undefined) return false;
      await c.query('BEGIN');
      try {
        return shapeDifferences(await this.expectedShape(c), await readTableShape(c, oid)).length === 0;
      } finally {
        await c.query('ROLLBACK');
      }
    });
  }

  /**
   * Applies user states to `users_sync` with the ordering rule of users-sync.writer.ts: multi-row
   * `INSERT ... ON CONFLICT (id) DO UPDATE` of raw_json, updated_at and deleted_at only, at most
   * MAX_ROWS_PER_STATEMENT rows per statement, all statements of one call in one transaction.
   * Every row is checked first; any bad row -> UsersSyncRowError and nothing is written.
   * No table -> UsersSyncMissingError.
   */
  async upsertUsers(target: Pick<BranchDatabase, 'physicalName'>, rows: UsersSyncRow[]): Promise<WriteResult> {
    const prepared: PreparedRow[] = [];
    const problems: { index: number; problem: string }[] = [];
    rows.forEach((row, index) => {
      const p = prepareRow(row);
      if ('problem' in p) problems.push({ index, problem: p.problem });
      else prepared.push(p);
    });
    if (problems.length > 0) throw new UsersSyncRowError(problems);
    return this.upsertPrepared(target, prepared);
  }

  /**
   * upsertUsers for rows already through prepareRow's checks (or equivalent ones: the sync engine's
   * inbox holds user objects the receiver checked, as jsonb text), without building the JSON again.
   */
  async upsertPrepared(target: Pick<BranchDatabase, 'physicalName'>, prepared: PreparedRow[]): Promise<WriteResult> {
    if (prepared.length === 0) return { written: 0, skipped: 0 };
    const statements = chunk(sortById(prepared), MAX_ROWS_PER_STATEMENT).map(upsertStatement);
    const written = await this.write(target.physicalName, statements);
    return { written, skipped: prepared.length - written };
  }

  /**
   * upsertPrepared, except for the users of `guarded` whose row is marked deleted, which are not written: answers
   * those. One statement per MAX_ROWS_PER_STATEMENT rows (all in one transaction when there are several), instead of
   * deletedIds and then upsertPrepared (upsertUnlessDeletedStatement).
   */
  async upsertPreparedUnlessDeleted(target: Pick<BranchDatabase, 'physicalName'>, prepared: PreparedRow[], guarded: Set<string>): Promise<Set<string>> {
    if (prepared.length === 0) return new Set();
    const statements = chunk(sortById(prepared), MAX_ROWS_PER_STATEMENT).map((part) => {
      const guard = [...new Set(part.filter((r) => guarded.has(r.id)).map((r) => r.id))];
      return guard.length > 0 ? upsertUnlessDeletedStatement(part, guard) : upsertStatement(part);
    });
    const held = new Set<string>();
    await this.write(target.physicalName, statements, (rows) => {
      for (const r of rows as { id: string }[]) held.add(r.id);
    });
    return held;
  }

  /** Soft-deletes users at `at` (same ordering rule; unknown ids get a tombstone row). */
  async markDeleted(target: Pick<BranchDatabase, 'physicalName'>, ids: string[], at: Date | string): Promise<WriteResult> {
    const problems: { index: number; problem: string }[] = [];
    ids.forEach((id, index) => {
      if (typeof id !== 'string' || id.length === 0) problems.push({ index, problem: 'id must be a non-empty string' });
      else if (Buffer.byteLength(id, 'utf8') > MAX_ID_BYTES) problems.push({ index, problem: `id is longer than ${MAX_ID_BYTES} bytes` });
      else if (id.includes('\u0000')) problems.push({ index, problem: 'id contains a NUL character' });
    });
    const when = timestampValue(at, 'at');
    if ('problem' in when) problems.push({ index: -1, problem: when.problem });
    if (problems.length > 0) throw new UsersSyncRowError(problems);
    if (ids.length === 0) return { written: 0, skipped: 0 };
    const unique = sortById([...new Set(ids)].map((id) => ({ id }))).map((x) => x.id);
    const statements = chunk(unique, MAX_IDS_PER_STATEMENT).map((part) => markDeletedStatement(part, (when as { value: string }).value));
    const written = await this.write(target.physicalName, statements);
    return { written, skipped: ids.length - written };
  }

  // ---- reads ----

  /** Whether schema `neon_auth` exists in the database. */
  schemaExists(target: Pick<BranchDatabase, 'physicalName'>): Promise<boolean> {
    return this.withClient(target.physicalName, 'admin', (c) => this.hasSchema(c));
  }

  /** Ids of the users not marked deleted; with `among`, only those of these ids. */
  async liveIds(target: Pick<BranchDatabase, 'physicalName'>, among?: string[]): Promise<string[]> {
    const { rows } =
      among === undefined
        ? await this.read(target, (c) => c.query<{ id: string }>(`SELECT id FROM ${USERS_SYNC_QUALIFIED} WHERE deleted_at IS NULL`))
        : await this.read(target, (c) =>
            c.query<{ id: string }>(`SELECT id FROM ${USERS_SYNC_QUALIFIED} WHERE deleted_at IS NULL AND id = ANY($1::text[])`, [among]),
          );
    return rows.map((r) => r.id);
  }

  /** Ids of the users not marked deleted whose row was last written after `after` (a control-plane clock time). */
  async liveIdsWrittenAfter(target: Pick<BranchDatabase, 'physicalName'>, after: string): Promise<string[]> {
    const { rows } = await this.read(target, (c) =>
      c.query<{ id: string }>(`SELECT id FROM ${USERS_SYNC_QUALIFIED} WHERE deleted_at IS NULL AND updated_at > $1::timestamptz`, [after]),
    );
    return rows.map((r) => r.id);
  }

  /** Of these ids, those whose row is marked deleted. */
  async deletedIds(target: Pick<BranchDatabase, 'physicalName'>, among: string[]): Promise<Set<string>> {
    if (among.length === 0) return new Set();
    const { rows } = await this.read(target, (c) =>
      c.query<{ id: string }>(`SELECT id FROM ${USERS_SYNC_QUALIFIED} WHERE deleted_at IS NOT NULL AND id = ANY($1::text[])`, [among]),
    );
    return new Set(rows.map((r) => r.id));
  }

  /** Every row's id and whether it is marked deleted. */
  async rowStates(target: Pick<BranchDatabase, 'physicalName'>): Promise<Map<string, boolean>> {
    const { rows } = await this.read(target, (c) => c.query<{ id: string; d: boolean }>(`SELECT id, deleted_at IS NOT NULL AS d FROM ${USERS_SYNC_QUALIFIED}`));
    return new Map(rows.map((r) => [r.id, r.d]));
  }

  /** Of these users (with rows), the ids whose row holds another `raw_json` (jsonb equality) or is marked deleted. */
  async differing(target: Pick<BranchDatabase, 'physicalName'>, users: { id: string; raw: Record<string, unknown> }[]): Promise<Set<string>> {
    if (users.length === 0) return new Set();
    const { rows } = await this.read(target, (c) =>
      c.query<{ id: string }>(
        `SELECT v.id FROM unnest($1::text[], $2::jsonb[]) AS v (id, raw_json)
           JOIN ${USERS_SYNC_QUALIFIED} u ON u.id = v.id
          WHERE u.raw_json IS DISTINCT FROM v.raw_json OR u.deleted_at IS NOT NULL`,
        [users.map((u) => u.id), users.map((u) => JSON.stringify(u.raw))],
      ),
    );
    return new Set(rows.map((r) => r.id));
  }

  /** The user's row: its `updated_at` and whether it is marked deleted; undefined without a row. */
  async rowOf(target: Pick<BranchDatabase, 'physicalName'>, userId: string): Promise<{ updatedAt: Date | null; deleted: boolean } | undefined> {
    const { rows } = await this.read(target, (c) =>
      c.query<{ updated_at: Date | null; deleted: boolean }>(`SELECT updated_at, deleted_at IS NOT NULL AS deleted FROM ${USERS_SYNC_QUALIFIED} WHERE id = $1`, [userId]),
    );
    return rows[0] ? { updatedAt: rows[0].updated_at, deleted: rows[0].deleted } : undefined;
  }

  /**
   * The users list: newest sign-ups first, ORDER BY coalesce(created_at, '-infinity') DESC, id DESC (byte
   * order), keyset cursors over that key, so pages are stable while users are added or deleted. Rows without
   * created_at (tombstones of users deleted before their creation was synced) come last. A cursor that does
   * not decode, or whose key is not a timestamp, is a 400.
   */
  async list(target: Pick<BranchDatabase, 'physicalName'>, options: UsersSyncListOptions): Promise<UsersSyncPage> {
    const cursor = options.cursor !== undefined ? decodeCursor(options.cursor) : undefined;
    const search = options.query !== undefined && options.query !== '' ? options.query : null;
    let rows: (UsersSyncRecord & { sort_key: string })[];
    try {
      ({ rows } = await this.read(target, (c) =>
        c.query<UsersSyncRecord & { sort_key: string }>(
          `SELECT u.raw_json, u.id, u.name, u.email, u.created_at, u.updated_at, u.deleted_at,
                  COALESCE(u.created_at, '-infinity'::timestamptz)::text AS sort_key
             FROM ${USERS_SYNC_QUALIFIED} AS u
            WHERE ($1::boolean OR u.deleted_at IS NULL)
              AND ($2::text IS NULL OR u.id = $2::text OR u.email ILIKE $3::text ESCAPE '\\' OR u.name ILIKE $3::text ESCAPE '\\')
              AND ($4::text IS NULL
                   OR (COALESCE(u.created_at, '-infinity'::timestamptz), u.id COLLATE "C") < ($4::timestamptz, $5::text COLLATE "C"))
            ORDER BY COALESCE(u.created_at, '-infinity'::timestamptz) DESC, u.id COLLATE "C" DESC
            LIMIT $6`,
          [options.includeDeleted, search, search === null ? null : containsPattern(search), cursor?.k ?? null, cursor?.id ?? null, options.limit + 1],
        ),
      ));
    } catch (err) {
      // A cursor is client input: one whose key is not a timestamp is a data exception (class 22), i.e. a 400.
      if (cursor && isDataException(err)) throw ApiError.validation('invalid cursor: pass the value of pagination.next unchanged');
      throw err;
    }
    let next: string | undefined;
    if (rows.length > options.limit) {
      rows.length = options.limit;
      const last = rows[rows.length - 1];
      next = encodeCursor({ k: last.sort_key, id: last.id });
    }
    return { rows: rows.map(({ sort_key: _key, ...row }) => row), next };
  }

  /** Runs a read on the database as the tenant-data role (errors as dataError names them). */
  private async read<T>(target: Pick<BranchDatabase, 'physicalName'>, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    try {
      return await this.withClient(target.physicalName, 'data', fn);
    } catch (err) {
      throw await this.dataError(target.physicalName, err);
    }
  }

  /**
   * What a failed read or write of the tenant-data role means: a missing table or schema is
   * UsersSyncMissingError; a missing database (its branch was deleted meanwhile) BranchDatabaseGoneError; a refusal (SQLSTATE 42501: no CONNECT on a database never provisioned, or grants a
   * tenant revoked) is UsersSyncMissingError when Neon's table is not there, else UsersSyncAccessDeniedError.
   */
  private async dataError(database: string, err: unknown): Promise<unknown> {
    const code = sqlStateOf(err);
    if (code === '42P01' || code === '3F000') return new UsersSyncMissingError(database);
    if (code === '3D000') return new BranchDatabaseGoneError(database);
    if (code !== '42501') return err;
    const exists = await this.withClient(database, 'admin', async (c) => (await this.usersSyncOid(c)) !== undefined).catch(() => true);
    return exists ? new UsersSyncAccessDeniedError(database, (err as Error).message) : new UsersSyncMissingError(database);
  }

  // ---- internals ----

  /** Runs the statements (in one transaction when several) and answers their row counts' sum; `onRows` sees the rows each one returned. */
  private async write(database: string, statements: { text: string; values: unknown[] }[], onRows?: (rows: unknown[]) => void): Promise<number> {
    const run = async (c: pg.PoolClient, s: { text: string; values: unknown[] }): Promise<number> => {
      const result = await c.query(s);
      onRows?.(result.rows);
      return result.rowCount ?? 0;
    };
    try {
      return await this.withClient(database, 'data', async (c) => {
        // One statement is atomic by itself; several go in one transaction so a call applies whole or not at all.
        if (statements.length === 1) return run(c, statements[0]);
        await c.query('BEGIN');
        let written = 0;
        for (const s of statements) written += await run(c, s);
        await c.query('COMMIT');
        return written;
      }, true);
    } catch (err) {
      throw await this.dataError(database, err);
    }
  }

  /**
   * Runs provisioning DDL in `neon_auth` as the cluster admin (search_path pinned), in a transaction that waits at most
   * ddlLockTimeoutMs for locks (then 423), serialized per database with every other provisioning of the schema.
   */
  async ddlTransaction<T>(target: BranchDatabase, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    try {
      return await this.withClient(
        target.physicalName,
        'admin',
        async (c) => {
          await c.query('BEGIN');
          await c.query(`SELECT set_config('lock_timeout', $1, true)`, [`${Math.max(1, Math.floor(this.ddlLockTimeoutMs))}ms`]);
          await c.query('SELECT pg_advisory_xact_lock($1)', [PROVISION_LOCK_KEY]);
          const result = await fn(c);
          await c.query('COMMIT');
          return result;
        },
        true,
      );
    } catch (err) {
      if (sqlStateOf(err) === '55P03') {
        throw new ApiError(
          ErrorCode.Locked,
          `neon_auth in database ${target.name} is in use by another transaction; retry when it has finished`,
        );
      }
      throw err;
    }
  }

  /**
   * Runs `fn` on a client of one of BranchDatabaseCluster's pools to `database`: `admin` for DDL, grants and
   * catalog reads; `data` (the tenant-data role, with no more rights than the tenant) for every read and write of
   * a row. A pool that branching closed between getting it and `connect` is replaced (getting one waits for the
   * copy to finish). With `transactional`, a failure rolls back; a client whose rollback fails is discarded.
   */
  private async withClient<T>(database: string, as: 'admin' | 'data', fn: (c: pg.PoolClient) => Promise<T>, transactional = false): Promise<T> {
    let client: pg.PoolClient | undefined;
    for (let attempt = 0; !client; attempt++) {
      const pool = as === 'admin' ? await this.cluster.adminPoolFor(database) : await this.cluster.tenantDataPoolFor(database);
      try {
        client = await pool.connect();
      } catch (err) {
        if ((pool.ending || pool.ended) && attempt < 3) continue;
        // The tenant-data role's login was refused: its password was changed (a tenant's code can, as the role).
        if (as === 'data' && sqlStateOf(err) === '28P01' && attempt < 1) {
          await this.cluster.resetTenantDataRole(database);
          continue;
        }
        throw err;
      }
    }
    let broken: Error | undefined;
    try {
      return await fn(client);
    } catch (err) {
      if (transactional) {
        await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr));
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /**
   * The rights the tenant-data role needs and nothing more: CONNECT on the database, USAGE on the schema, and
   * SELECT, INSERT, UPDATE on users_sync (an upsert; soft deletes are updates). Granted again on every provision,
   * so an enable repairs grants a tenant revoked.
   */
  private async grantTenantData(c: pg.ClientBase, target: Pick<BranchDatabase, 'physicalName'>): Promise<void> {
    const roleName = this.cluster.tenantDataRoleOf(target.physicalName);
    const role = pg.escapeIdentifier(roleName);
    await this.cluster.grantTenantDataConnect(c, target.physicalName);
    // A branch copied from a provisioned database carries its parent's grants: only this database's role keeps any.
    const { rows: others } = await c.query<{ grantee: string }>(
      `SELECT DISTINCT r.rolname AS grantee
         FROM pg_catalog.pg_class t, pg_catalog.aclexplode(t.relacl) a JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
        WHERE t.oid = $1::regclass AND r.rolname LIKE 'neon\\_auth\\_data\\_%' AND r.rolname <> $2`,
      [`${NEON_AUTH_SCHEMA}.${USERS_SYNC_TABLE}`, roleName],
    );
    for (const o of others) await c.query(`REVOKE ALL ON ${USERS_SYNC_QUALIFIED} FROM ${pg.escapeIdentifier(o.grantee)}`);
    await c.query(`GRANT USAGE ON SCHEMA ${pg.escapeIdentifier(NEON_AUTH_SCHEMA)} TO ${role}`);
    await c.query(`GRANT SELECT, INSERT, UPDATE ON ${USERS_SYNC_QUALIFIED} TO ${role}`);
  }

  private async usersSyncOid(c: pg.ClientBase): Promise<number | undefined> {
    const { rows } = await c.query<{ oid: number }>(
      `SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
      [NEON_AUTH_SCHEMA, USERS_SYNC_TABLE],
    );
    return rows[0]?.oid;
  }

  private async hasSchema(c: pg.ClientBase): Promise<boolean> {
    const { rows } = await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [NEON_AUTH_SCHEMA]);
    return rows.length > 0;
  }

  /**
   * Neon's table as this server renders it: built in pg_temp inside a savepoint of the caller's
   * transaction and rolled back, so comparing with an existing table does not depend on how a
   * PostgreSQL version prints expressions. Cached: one compute server, one rendering.
   */
  private async expectedShape(c: pg.ClientBase): Promise<TableShape> {
    if (this.referenceShape) return this.referenceShape;
    await c.query('SAVEPOINT users_sync_reference');
    try {
      for (const statement of usersSyncDdl('pg_temp')) await c.query(statement);
      const { rows } = await c.query<{ oid: number }>(`SELECT 'pg_temp.users_sync'::regclass::oid AS oid`);
      this.referenceShape = await readTableShape(c, rows[0].oid);
      return this.referenceShape;
    } finally {
      await c.query('ROLLBACK TO SAVEPOINT users_sync_reference');
    }
  }

  /** Objects outside `neon_auth` that depend on a relation or type in it (foreign keys, views, functions, ...), described. */
  private async outsideDependents(c: pg.ClientBase): Promise<string[]> {
    const { rows } = await c.query<{ what: string }>(
      `WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = $1),
            dep AS (
              SELECT d.classid, d.objid,
                     CASE d.classid
                       WHEN 'pg_constraint'::regclass THEN (SELECT r.relnamespace FROM pg_constraint k JOIN pg_class r ON r.oid = k.conrelid WHERE k.oid = d.objid)
                       WHEN 'pg_rewrite'::regclass THEN (SELECT r.relnamespace FROM pg_rewrite w JOIN pg_class r ON r.oid = w.ev_class WHERE w.oid = d.objid)
                       WHEN 'pg_attrdef'::regclass THEN (SELECT r.relnamespace FROM pg_attrdef a JOIN pg_class r ON r.oid = a.adrelid WHERE a.oid = d.objid)
                       WHEN 'pg_trigger'::regclass THEN (SELECT r.relnamespace FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid WHERE t.oid = d.objid)
                       WHEN 'pg_class'::regclass THEN (SELECT r.relnamespace FROM pg_class r WHERE r.oid = d.objid)
                       WHEN 'pg_proc'::regclass THEN (SELECT p.pronamespace FROM pg_proc p WHERE p.oid = d.objid)
                       WHEN 'pg_type'::regclass THEN (SELECT t.typnamespace FROM pg_type t WHERE t.oid = d.objid)
                     END AS owner_ns
                FROM pg_depend d
               WHERE d.deptype = 'n'
                 AND ((d.refclassid = 'pg_class'::regclass AND d.refobjid IN (SELECT oid FROM pg_class WHERE relnamespace = (SELECT oid FROM ns)))
                   OR (d.refclassid = 'pg_type'::regclass AND d.refobjid IN (SELECT oid FROM pg_type WHERE typnamespace = (SELECT oid FROM ns))))
            )
       SELECT DISTINCT CASE WHEN classid = 'pg_rewrite'::regclass
                            THEN pg_describe_object('pg_class'::regclass, (SELECT ev_class FROM pg_rewrite WHERE oid = objid), 0)
                            ELSE pg_describe_object(classid, objid, 0) END AS what
         FROM dep
        WHERE owner_ns IS DISTINCT FROM (SELECT oid FROM ns)
        ORDER BY 1`,
      [NEON_AUTH_SCHEMA],
    );
    return rows.map((r) => r.what);
  }
}
