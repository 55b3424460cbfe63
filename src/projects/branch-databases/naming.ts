import { randomAlnum } from '../../common/ids.js';
import { ApiError } from '../../common/errors.js';

/**
 * Physical names on the compute server.
 *
 * Postgres roles are cluster-wide and databases share one namespace, while Neon's names are per
 * branch ("neondb", "neondb_owner"). So every real object carries a unique, readable name:
 *
 *   role      <role name>.<project id>       e.g. neondb_owner.shiny-meadow-12345678
 *   database  <database name>.<branch id>    e.g. neondb.br-quiet-river-482913
 *
 * A role is created once per project and shared by every branch that inherits it (a child branch
 * keeps its parent's roles and passwords, as on Neon); a database belongs to exactly one branch.
 * Physical names use only `[A-Za-z0-9_.~-]`, so connection URIs carry them unambiguously for every
 * client (node-postgres decodes the database part of a URI with decodeURI, which leaves `%2F`, `%3F`
 * and friends encoded). Identifiers are at most 63 bytes (NAMEDATALEN - 1; Postgres would silently
 * truncate longer ones). So when the logical name has other characters (they become `_`), when the
 * readable form is too long, or when the name is already taken on the server, the logical part is
 * shortened and a random suffix is added: `<shortened>~<6 random>.<scope>`.
 * Physical names are stored in branch_roles.physical_name / branch_databases.physical_name.
 */
export const MAX_IDENTIFIER_BYTES = 63;

const SUFFIX_BYTES = 7; // "~" + 6 random characters
const MAX_SCOPE_BYTES = 40;
/** Characters that do not go into physical names. */
const UNSAFE = /[^A-Za-z0-9_-]/g;

/** The physical name of `logical` within `scope` (a project or branch id). */
export function physicalName(logical: string, scope: string, withRandomSuffix = false): string {
  const tail = `.${truncateBytes(scope.replace(UNSAFE, '_'), MAX_SCOPE_BYTES)}`;
  const safe = logical.replace(UNSAFE, '_');
  const plain = `${safe}${tail}`;
  if (!withRandomSuffix && safe === logical && plain.length <= MAX_IDENTIFIER_BYTES) return plain;
  const room = MAX_IDENTIFIER_BYTES - tail.length - SUFFIX_BYTES;
  return `${safe.slice(0, room)}~${randomAlnum(6)}${tail}`;
}

/**
 * What is wrong with a database or role name from a request, or undefined when it is acceptable.
 * Neon: 1..63 bytes. Longer names are refused, never truncated; control characters are refused;
 * role names may not start with `pg_` (PostgreSQL reserves that prefix).
 */
export function pgNameProblem(value: unknown, kind: 'database' | 'role'): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  const bytes = byteLength(value);
  if (bytes > MAX_IDENTIFIER_BYTES) return `must be at most ${MAX_IDENTIFIER_BYTES} bytes long (got ${bytes} bytes)`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'must not contain control characters';
  if (kind === 'role' && value.toLowerCase().startsWith('pg_')) return 'must not start with "pg_" (reserved by PostgreSQL)';
  return undefined;
}

/** Throws a 400 naming `field` when `value` is not an acceptable database or role name. */
export function validatePgName(value: unknown, field: string, kind: 'database' | 'role'): string {
  const problem = pgNameProblem(value, kind);
  if (problem) throw ApiError.validation(`invalid request: [${field}] ${problem}`);
  return value as string;
}

export function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/** The longest prefix of `value` that fits in `maxBytes` UTF-8 bytes, cut on a code point boundary. */
export function truncateBytes(value: string, maxBytes: number): string {
  if (byteLength(value) <= maxBytes) return value;
  let out = '';
  let used = 0;
  for (const ch of value) {
    const n = byteLength(ch);
    if (used + n > maxBytes) break;
    out += ch;
    used += n;
  }
  return out;
}
