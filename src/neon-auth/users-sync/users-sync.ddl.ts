import pg from 'pg';

/** The schema and table Neon Auth keeps its users in (Neon: "do not change the table name"). */
export const NEON_AUTH_SCHEMA = 'neon_auth';
export const USERS_SYNC_TABLE = 'users_sync';
export const USERS_SYNC_PKEY = 'users_sync_pkey';
export const USERS_SYNC_DELETED_AT_INDEX = 'users_sync_deleted_at_idx';

/**
 * Neon's DDL for `neon_auth.users_sync`, statement by statement, as Neon's pg_dumps show it
 * (reference/neon-api.md §5.1; PostgreSQL 17, owner neondb_owner). `schema` is an already quoted
 * identifier: `"neon_auth"` for the real table; provisioning also builds a throw-away copy in
 * `pg_temp` to learn how this server renders Neon's definition, and compares an existing table with it.
 *
 * `id`, `name`, `email` and `created_at` are GENERATED ALWAYS ... STORED from `raw_json` (the Stack
 * Auth user object: `id`, `display_name`, `primary_email`, `signed_up_at_millis`); only `raw_json`,
 * `updated_at` and `deleted_at` can be written.
 */
export function usersSyncDdl(schema: string): string[] {
  const table = `${schema}.${pg.escapeIdentifier(USERS_SYNC_TABLE)}`;
  return [
    `CREATE TABLE ${table} (
    raw_json jsonb NOT NULL,
    id text GENERATED ALWAYS AS ((raw_json ->> 'id'::text)) STORED NOT NULL,
    name text GENERATED ALWAYS AS ((raw_json ->> 'display_name'::text)) STORED,
    email text GENERATED ALWAYS AS ((raw_json ->> 'primary_email'::text)) STORED,
    created_at timestamp with time zone GENERATED ALWAYS AS (to_timestamp((trunc((((raw_json ->> 'signed_up_at_millis'::text))::bigint)::double precision) / (1000)::double precision))) STORED,
    updated_at timestamp with time zone,
    deleted_at timestamp with time zone
)`,
    `ALTER TABLE ONLY ${table}
    ADD CONSTRAINT ${pg.escapeIdentifier(USERS_SYNC_PKEY)} PRIMARY KEY (id)`,
    `CREATE INDEX ${pg.escapeIdentifier(USERS_SYNC_DELETED_AT_INDEX)} ON ${table} USING btree (deleted_at)`,
  ];
}

/** The quoted, schema-qualified name of the real table. */
export const USERS_SYNC_QUALIFIED = `${pg.escapeIdentifier(NEON_AUTH_SCHEMA)}.${pg.escapeIdentifier(USERS_SYNC_TABLE)}`;

export interface ColumnShape {
  name: string;
  /** format_type(), e.g. "timestamp with time zone". */
  type: string;
  notNull: boolean;
  /** pg_attribute.attgenerated: "s" for STORED, "" for none. */
  generated: string;
  /** pg_get_expr() of the default or generation expression, or null. */
  expression: string | null;
  identity: string;
  collation: string | null;
}

export interface IndexShape {
  name: string;
  method: string;
  unique: boolean;
  primary: boolean;
  /** Column or expression of each key, as pg_get_indexdef(index, n, false) renders it. */
  keys: string[];
  predicate: string | null;
  /** Name of the constraint the index backs (a primary key's), or null. */
  constraint: string | null;
}

export interface TableShape {
  /** pg_class.relkind: "r" for an ordinary table. */
  kind: string;
  columns: ColumnShape[];
  indexes: IndexShape[];
  /** Other constraints (check, foreign key, exclusion) on the table, as pg_get_constraintdef renders them. */
  otherConstraints: string[];
}

/** Reads the shape of one relation through the catalog (names, not OIDs, so two tables compare). */
export async function readTableShape(client: pg.ClientBase, relid: number): Promise<TableShape> {
  const kind = await client.query<{ relkind: string }>('SELECT relkind FROM pg_class WHERE oid = $1', [relid]);
  const columns = await client.query<ColumnShape>(
    `SELECT a.attname AS name,
            format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS "notNull",
            a.attgenerated::text AS generated,
            pg_get_expr(d.adbin, d.adrelid) AS expression,
            a.attidentity::text AS identity,
            CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text END AS collation
       FROM pg_attribute a
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [relid],
  );
  const indexes = await client.query<IndexShape>(
    `SELECT c.relname AS name,
            am.amname AS method,
            i.indisunique AS unique,
            i.indisprimary AS primary,
            ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, false) FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k) AS keys,
            pg_get_expr(i.indpred, i.indrelid) AS predicate,
            (SELECT conname FROM pg_constraint WHERE conindid = i.indexrelid AND conrelid = i.indrelid LIMIT 1) AS constraint
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_am am ON am.oid = c.relam
      WHERE i.indrelid = $1
      ORDER BY c.relname`,
    [relid],
  );
  const constraints = await client.query<{ def: string }>(
    `SELECT conname || ': ' || pg_get_constraintdef(oid) AS def
       FROM pg_constraint
      WHERE conrelid = $1 AND contype NOT IN ('p', 'u', 'n')
      ORDER BY conname`,
    [relid],
  );
  return {
    kind: kind.rows[0]?.relkind ?? '?',
    columns: columns.rows,
    indexes: indexes.rows,
    otherConstraints: constraints.rows.map((r) => r.def),
  };
}

/**
 * What an existing `neon_auth.users_sync` lacks or has differently from `expected` (Neon's table as
 * this server builds it). Columns, the primary key `users_sync_pkey` and the index
 * `users_sync_deleted_at_idx` must match; extra indexes (people add one on `email`) are fine, extra
 * columns and constraints are not (writers insert only raw_json, updated_at and deleted_at).
 * Returns an empty list when the table is Neon's.
 */
export function shapeDifferences(expected: TableShape, actual: TableShape): string[] {
  const out: string[] = [];
  if (actual.kind !== expected.kind) {
    out.push(`it is not an ordinary table (relkind ${actual.kind})`);
    return out;
  }
  const actualColumns = new Map(actual.columns.map((c) => [c.name, c]));
  for (const want of expected.columns) {
    const have = actualColumns.get(want.name);
    if (!have) {
      out.push(`column ${want.name} is missing`);
      continue;
    }
    actualColumns.delete(want.name);
    const wantText = describeColumn(want);
    const haveText = describeColumn(have);
    if (wantText !== haveText) out.push(`column ${want.name} is "${haveText}", expected "${wantText}"`);
  }
  for (const extra of actualColumns.keys()) out.push(`unexpected column ${extra}`);

  const actualIndexes = new Map(actual.indexes.map((i) => [i.name, i]));
  for (const want of expected.indexes) {
    const have = actualIndexes.get(want.name);
    const wantText = describeIndex(want);
    if (!have) out.push(`${want.primary ? 'primary key' : 'index'} ${want.name} is missing (expected ${wantText})`);
    else if (describeIndex(have) !== wantText) out.push(`index ${want.name} is "${describeIndex(have)}", expected "${wantText}"`);
  }
  for (const have of actual.indexes) {
    if (have.primary && !expected.indexes.some((e) => e.name === have.name)) out.push(`unexpected primary key ${have.name}`);
  }
  for (const c of actual.otherConstraints) {
    if (!expected.otherConstraints.includes(c)) out.push(`unexpected constraint ${c}`);
  }
  return out;
}

function describeColumn(c: ColumnShape): string {
  const parts = [c.type];
  if (c.collation) parts.push(`COLLATE ${c.collation}`);
  if (c.generated === 's') parts.push(`GENERATED ALWAYS AS ${c.expression ?? '?'} STORED`);
  else if (c.generated) parts.push(`GENERATED (${c.generated}) AS ${c.expression ?? '?'}`);
  else if (c.expression !== null) parts.push(`DEFAULT ${c.expression}`);
  if (c.identity) parts.push(`IDENTITY (${c.identity})`);
  if (c.notNull) parts.push('NOT NULL');
  return parts.join(' ');
}

function describeIndex(i: IndexShape): string {
  const kind = i.primary ? 'PRIMARY KEY' : i.unique ? 'UNIQUE INDEX' : 'INDEX';
  const pred = i.predicate ? ` WHERE ${i.predicate}` : '';
  const constraint = i.constraint ? ` (constraint ${i.constraint})` : '';
  return `${kind} USING ${i.method} (${i.keys.join(', ')})${pred}${constraint}`;
}
