import type pg from 'pg';
import { ApiError } from '../../common/errors.js';
import { decodeCursor, encodeCursor, isoTime } from '../../common/pagination.js';
import { rolesOf } from '../../providers/auth-provider.port.js';
import type { NeonAuthUserDto } from './dto/users.dto.js';

/**
 * Reads `neon_auth.users_sync` for the users list (an extension: Neon's console lists users, its API
 * does not). Newest sign-ups first: ORDER BY coalesce(created_at, '-infinity') DESC, id DESC (byte
 * order), keyset cursors over that key, so pages are stable while users are added or deleted. Rows
 * without created_at (tombstones of users deleted before their creation was synced) come last.
 * Every value is bound; the only identifiers are the fixed schema and table names.
 */

export interface UsersSyncListOptions {
  query?: string;
  cursor?: string;
  limit: number;
  includeDeleted: boolean;
}

interface UsersSyncRowRead {
  raw_json: Record<string, unknown>;
  id: string;
  name: string | null;
  email: string | null;
  created_at: Date | null;
  updated_at: Date | null;
  deleted_at: Date | null;
  sort_key: string;
}

/** `LIKE` pattern matching `text` anywhere (its own %, _ and \ taken literally). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export async function listUsersSync(
  client: pg.ClientBase,
  options: UsersSyncListOptions,
): Promise<{ users: NeonAuthUserDto[]; next?: string }> {
  const cursor = options.cursor !== undefined ? decodeCursor(options.cursor) : undefined;
  const search = options.query !== undefined && options.query !== '' ? options.query : null;
  let result: pg.QueryResult<UsersSyncRowRead>;
  try {
    result = await client.query<UsersSyncRowRead>(
      `SELECT u.raw_json, u.id, u.name, u.email, u.created_at, u.updated_at, u.deleted_at,
              COALESCE(u.created_at, '-infinity'::timestamptz)::text AS sort_key
         FROM neon_auth.users_sync AS u
        WHERE ($1::boolean OR u.deleted_at IS NULL)
          AND ($2::text IS NULL OR u.id = $2::text OR u.email ILIKE $3::text ESCAPE '\\' OR u.name ILIKE $3::text ESCAPE '\\')
          AND ($4::text IS NULL
               OR (COALESCE(u.created_at, '-infinity'::timestamptz), u.id COLLATE "C") < ($4::timestamptz, $5::text COLLATE "C"))
        ORDER BY COALESCE(u.created_at, '-infinity'::timestamptz) DESC, u.id COLLATE "C" DESC
        LIMIT $6`,
      [options.includeDeleted, search, search === null ? null : containsPattern(search), cursor?.k ?? null, cursor?.id ?? null, options.limit + 1],
    );
  } catch (err) {
    // A cursor is client input: one whose key is not a timestamp is a data exception (class 22), i.e. a 400.
    const code = (err as { code?: unknown }).code;
    if (cursor && typeof code === 'string' && code.startsWith('22')) {
      throw ApiError.validation('invalid cursor: pass the value of pagination.next unchanged');
    }
    throw err;
  }
  const rows = result.rows;
  let next: string | undefined;
  if (rows.length > options.limit) {
    rows.length = options.limit;
    const last = rows[rows.length - 1];
    next = encodeCursor({ k: last.sort_key, id: last.id });
  }
  return { users: rows.map(toUserDto), next };
}

function toUserDto(row: UsersSyncRowRead): NeonAuthUserDto {
  const raw = row.raw_json && typeof row.raw_json === 'object' && !Array.isArray(row.raw_json) ? row.raw_json : {};
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    roles: rolesOf(raw),
    created_at: row.created_at ? isoTime(row.created_at) : null,
    updated_at: row.updated_at ? isoTime(row.updated_at) : null,
    deleted_at: row.deleted_at ? isoTime(row.deleted_at) : null,
    raw_json: raw,
  };
}
