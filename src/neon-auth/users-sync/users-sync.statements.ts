import { USERS_SYNC_QUALIFIED } from './users-sync.ddl.js';

/**
 * SQL and input checks of the `users_sync` writes (NeonAuthUsersSyncStore runs them; every writer goes through it).
 *
 * Ordering rule (last writer wins on the provider's clock, never on arrival order). Every row state
 * has the key
 *
 *     (updated_at, deleted_at IS NOT NULL, raw_json, coalesce(deleted_at, '-infinity'))
 *
 * and a row is replaced only by a state with a strictly greater key; a row with no `updated_at`
 * (written by someone else) is always replaced. So:
 *  - a newer `updated_at` wins; an older or equal one is skipped (duplicates change nothing);
 *  - at the same `updated_at` a deletion beats a non-deletion (a delete and an update stamped in the
 *    same millisecond end deleted, whichever arrives first);
 *  - remaining ties are broken by jsonb order, which is arbitrary but the same whatever the arrival
 *    order, so every order of the same events converges to the same row;
 *  - a soft delete (`deleted_at` set, `updated_at` >= the deletion time) therefore cannot be undone by
 *    a late, older update. A state strictly newer than the deletion (a user re-created with the same
 *    id, which Stack Auth never does: its ids are fresh UUIDs) revives the row (`deleted_at` null).
 * Within one statement several states of one id are reduced to the greatest key first
 * (DISTINCT ON with the same order), since ON CONFLICT cannot touch a row twice.
 *
 * Only `raw_json`, `updated_at` and `deleted_at` are written: the other columns are generated.
 * Values are bound; each statement carries at most MAX_ROWS_PER_STATEMENT rows (3 parameters each;
 * PostgreSQL's protocol allows 65,535 parameters per statement). Rows go in id order (byte order,
 * COLLATE "C"), so concurrent writers lock rows in the same order and do not deadlock each other.
 */

export interface UsersSyncRow {
  /** The provider's user object; `id` (non-empty string) is required, it becomes the primary key. */
  raw_json: Record<string, unknown>;
  /** When the provider's user reached this state: the ordering value. */
  updated_at: Date | string;
  /** Set for a deleted user (soft delete); null or absent otherwise. */
  deleted_at?: Date | string | null;
}

const POSTGRES_MAX_PARAMETERS = 65_535;
const PARAMETERS_PER_ROW = 3;
/** Rows per INSERT: well under the parameter limit (21,845 rows), large enough to amortize round trips. */
export const MAX_ROWS_PER_STATEMENT = Math.min(2_000, Math.floor(POSTGRES_MAX_PARAMETERS / PARAMETERS_PER_ROW));
/** Ids per markDeleted statement (one array parameter, so bounded only to keep statements short). */
export const MAX_IDS_PER_STATEMENT = 10_000;
/** Primary-key values must fit a btree entry (about 2,700 bytes); Stack Auth ids are 36-character UUIDs. */
export const MAX_ID_BYTES = 1_024;

/** to_timestamp() accepts 4714-11-24 BC .. 294276 AD; JavaScript dates end at +275760, a tighter upper bound. */
const MIN_MILLIS = -210_866_803_200_000;
const MAX_MILLIS = 8_640_000_000_000_000;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)$/;
/** A JSON \u0000 escape that is not itself an escaped backslash: jsonb refuses the NUL character. */
const JSON_NUL = /(^|[^\\])(\\\\)*\\u0000/;

export interface PreparedRow {
  id: string;
  json: string;
  updatedAt: string;
  deletedAt: string | null;
}

/** A timestamp as bound to `timestamptz`, or a problem. */
export function timestampValue(value: unknown, field: string): { value: string } | { problem: string } {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return { problem: `${field} is an invalid Date` };
    return { value: value.toISOString() };
  }
  if (typeof value === 'string') {
    if (!ISO_TIMESTAMP.test(value) || Number.isNaN(Date.parse(value))) {
      return { problem: `${field} must be an ISO-8601 timestamp with a time zone (got ${JSON.stringify(value.slice(0, 40))})` };
    }
    return { value };
  }
  return { problem: `${field} must be a Date or an ISO-8601 string` };
}

/**
 * What prepareRow finds wrong with a user object before serializing it (its type, id and signed_up_at_millis), or
 * undefined. For a user object just parsed from JSON text without a `\u0000` escape, this is all of prepareRow's
 * check: such an object serializes, and without a NUL character.
 */
export function rawJsonProblem(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return 'raw_json must be a JSON object';
  const { id, signed_up_at_millis: millis } = raw as Record<string, unknown>;
  if (typeof id !== 'string' || id.length === 0) return 'raw_json.id must be a non-empty string';
  if (Buffer.byteLength(id, 'utf8') > MAX_ID_BYTES) return `raw_json.id is longer than ${MAX_ID_BYTES} bytes`;
  if (millis !== undefined && millis !== null) {
    // created_at is generated as to_timestamp(trunc((raw_json ->> 'signed_up_at_millis')::bigint) / 1000).
    const n = typeof millis === 'number' ? millis : typeof millis === 'string' && /^-?\d{1,19}$/.test(millis) ? Number(millis) : NaN;
    if (!Number.isInteger(n) || n < MIN_MILLIS || n > MAX_MILLIS) {
      return 'raw_json.signed_up_at_millis must be an integer number of milliseconds within the timestamp range';
    }
  }
  return undefined;
}

/** Checks one row and serializes it; a problem is what would make PostgreSQL refuse it. */
export function prepareRow(row: UsersSyncRow): PreparedRow | { problem: string } {
  if (row === null || typeof row !== 'object') return { problem: 'not an object' };
  const raw = row.raw_json;
  const problem = rawJsonProblem(raw);
  if (problem !== undefined) return { problem };
  const id = raw.id as string;
  let json: string;
  try {
    json = JSON.stringify(raw);
  } catch (err) {
    return { problem: `raw_json cannot be serialized: ${(err as Error).message}` };
  }
  if (json.includes('\\u0000') && JSON_NUL.test(json)) return { problem: 'raw_json contains a NUL character (\\u0000), which jsonb cannot store' };
  const updated = timestampValue(row.updated_at, 'updated_at');
  if ('problem' in updated) return updated;
  let deletedAt: string | null = null;
  if (row.deleted_at !== undefined && row.deleted_at !== null) {
    const deleted = timestampValue(row.deleted_at, 'deleted_at');
    if ('problem' in deleted) return deleted;
    deletedAt = deleted.value;
  }
  return { id, json, updatedAt: updated.value, deletedAt };
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** Sorts by id in byte order (what COLLATE "C" uses), the order rows are locked in. */
export function sortById<T extends { id: string }>(items: T[]): T[] {
  // Without surrogate pairs, UTF-16 code unit order is code point order, which is UTF-8 byte order: compare strings.
  if (!items.some((item) => SURROGATE.test(item.id))) return [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const keyed = items.map((item) => ({ item, key: Buffer.from(item.id, 'utf8') }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  return keyed.map((k) => k.item);
}

/** One multi-row INSERT ... ON CONFLICT (id) DO UPDATE for up to MAX_ROWS_PER_STATEMENT rows. */
export function upsertStatement(rows: PreparedRow[]): { text: string; values: unknown[] } {
  const { tuples, values } = upsertValues(rows);
  return { text: upsertSql(tuples, ''), values };
}

/**
 * upsertStatement, except for the users of `guarded` whose row is marked deleted: those are not written, and the
 * statement answers their ids (`SELECT id`). One statement instead of a read of the deleted rows and then the
 * upsert: what the sync engine writes for users whose deletion it does not know of (a late create or update never
 * revives a deleted user; see SyncApplierService.writeToBranch). The deleted rows are read from the statement's
 * snapshot, as a separate read before the upsert would.
 */
export function upsertUnlessDeletedStatement(rows: PreparedRow[], guarded: string[]): { text: string; values: unknown[] } {
  const { tuples, values } = upsertValues(rows);
  values.push(guarded);
  const text = `WITH held AS MATERIALIZED (
  SELECT id FROM ${USERS_SYNC_QUALIFIED} WHERE deleted_at IS NOT NULL AND id = ANY($${values.length}::text[])
), written AS (
${upsertSql(tuples, 'WHERE NOT EXISTS (SELECT 1 FROM held h WHERE h.id = (v.raw_json ->> \'id\'))')}
)
SELECT id FROM held`;
  return { text, values };
}

function upsertValues(rows: PreparedRow[]): { tuples: string; values: unknown[] } {
  if (rows.length === 0 || rows.length > MAX_ROWS_PER_STATEMENT) throw new Error(`upsertStatement takes 1..${MAX_ROWS_PER_STATEMENT} rows`);
  const values: unknown[] = new Array(rows.length * PARAMETERS_PER_ROW);
  const tuples: string[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const p = i * PARAMETERS_PER_ROW;
    values[p] = rows[i].json;
    values[p + 1] = rows[i].updatedAt;
    values[p + 2] = rows[i].deletedAt;
    tuples[i] = `($${p + 1}::jsonb, $${p + 2}::timestamptz, $${p + 3}::timestamptz)`;
  }
  return { tuples: tuples.join(', '), values };
}

/** The upsert of the ordering rule over `tuples` (VALUES rows), with an optional WHERE on `v` before the reduction. */
function upsertSql(tuples: string, where: string): string {
  return `INSERT INTO ${USERS_SYNC_QUALIFIED} AS u (raw_json, updated_at, deleted_at)
SELECT DISTINCT ON ((v.raw_json ->> 'id') COLLATE "C") v.raw_json, v.updated_at, v.deleted_at
  FROM (VALUES ${tuples}) AS v (raw_json, updated_at, deleted_at)${where ? `\n ${where}` : ''}
 ORDER BY (v.raw_json ->> 'id') COLLATE "C", v.updated_at DESC, (v.deleted_at IS NOT NULL) DESC, v.raw_json DESC,
          COALESCE(v.deleted_at, '-infinity'::timestamptz) DESC
ON CONFLICT (id) DO UPDATE
   SET raw_json = EXCLUDED.raw_json, updated_at = EXCLUDED.updated_at, deleted_at = EXCLUDED.deleted_at
 WHERE u.updated_at IS NULL
    OR (EXCLUDED.updated_at, EXCLUDED.deleted_at IS NOT NULL, EXCLUDED.raw_json, COALESCE(EXCLUDED.deleted_at, '-infinity'::timestamptz))
     > (u.updated_at, u.deleted_at IS NOT NULL, u.raw_json, COALESCE(u.deleted_at, '-infinity'::timestamptz))`;
}

/**
 * Soft-deletes `ids` at `at` with the same rule: the deletion state is (at, deleted), so it applies
 * when `at` is newer than the row's `updated_at`, or equal while the row is not deleted; it sets
 * `updated_at` and `deleted_at` to `at` and keeps the last known `raw_json`. An id with no row yet
 * (the delete arrived before the create) gets a tombstone `{"id": ...}` so a late create stays deleted.
 */
export function markDeletedStatement(ids: string[], at: string): { text: string; values: unknown[] } {
  const text = `INSERT INTO ${USERS_SYNC_QUALIFIED} AS u (raw_json, updated_at, deleted_at)
SELECT jsonb_build_object('id', i.id), $2::timestamptz, $2::timestamptz
  FROM (SELECT DISTINCT x.id FROM unnest($1::text[]) AS x (id)) AS i
 ORDER BY i.id COLLATE "C"
ON CONFLICT (id) DO UPDATE
   SET updated_at = EXCLUDED.updated_at, deleted_at = EXCLUDED.deleted_at
 WHERE u.updated_at IS NULL
    OR EXCLUDED.updated_at > u.updated_at
    OR (EXCLUDED.updated_at = u.updated_at AND u.deleted_at IS NULL)`;
  return { text, values: [ids, at] };
}

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `LIKE` pattern matching `text` anywhere (its own %, _ and \ taken literally). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
