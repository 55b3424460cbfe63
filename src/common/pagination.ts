import { isDataException } from './db-errors.js';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { ApiError } from './errors.js';

/** An opaque keyset cursor: the sort key and id of the last row of a page. */
interface CursorPayload {
  /** Sort key as text (timestamps keep their microseconds this way). */
  k: string;
  id: string;
}

export function encodeCursor(payload: CursorPayload): string {
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

export function decodeCursor(raw: string): CursorPayload {
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    if (
      parsed &&
      typeof parsed === 'object' &&
      typeof (parsed as CursorPayload).k === 'string' &&
      typeof (parsed as CursorPayload).id === 'string' &&
      !`${(parsed as CursorPayload).k}${(parsed as CursorPayload).id}`.includes('\u0000')
    ) {
      return parsed as CursorPayload;
    }
  } catch {
    // fall through
  }
  throw invalidCursor();
}

/** 400 for a cursor this server did not issue (or one of another listing). */
export function invalidCursor(): ApiError {
  return ApiError.validation('invalid cursor: pass the value of pagination.next (or pagination.cursor) unchanged');
}

export interface KeysetOptions {
  /** SQL expression to sort by, e.g. `p.created_at`. */
  sortExpr: string;
  /** Postgres type the sort key is cast back to when comparing, e.g. `timestamptz` or `text`. */
  sortType: 'timestamptz' | 'text';
  /** SQL expression of a unique tie-breaker, e.g. `p.id`. */
  idExpr: string;
  order: 'asc' | 'desc';
  /** Page size; undefined means everything. */
  limit?: number;
  cursor?: string;
}

export interface KeysetPage<T> {
  rows: T[];
  /** Cursor of the next page, or undefined when this is the last one. */
  next?: string;
}

/**
 * Keyset pagination over a TypeORM query: stable under inserts and deletes, and O(page) however
 * deep the caller pages. Rows are fetched raw along with the two keys.
 */
export async function keysetPage<T extends ObjectLiteral, R extends Record<string, unknown>>(
  qb: SelectQueryBuilder<T>,
  opts: KeysetOptions,
): Promise<KeysetPage<R>> {
  const dir = opts.order === 'asc' ? 'ASC' : 'DESC';
  const cmp = opts.order === 'asc' ? '>' : '<';
  qb.addSelect(`(${opts.sortExpr})::text`, '__sort_key').addSelect(`(${opts.idExpr})::text`, '__id');
  if (opts.cursor) {
    const c = decodeCursor(opts.cursor);
    qb.andWhere(`((${opts.sortExpr}), (${opts.idExpr})::text) ${cmp} ((CAST(:__k AS ${opts.sortType})), :__id)`, {
      __k: c.k,
      __id: c.id,
    });
  }
  qb.orderBy(opts.sortExpr, dir).addOrderBy(`(${opts.idExpr})::text`, dir);
  if (opts.limit !== undefined) qb.limit(opts.limit + 1);
  let raw: (R & { __sort_key: string; __id: string })[];
  try {
    raw = (await qb.getRawMany()) as (R & { __sort_key: string; __id: string })[];
  } catch (err) {
    // A cursor is client input: one whose key does not cast to the sort's type (e.g. a cursor of another
    // sort_by, or a forged one) makes PostgreSQL raise a data exception (SQLSTATE class 22). That is a 400.
    if (opts.cursor && isDataException(err)) throw invalidCursor();
    throw err;
  }
  let next: string | undefined;
  if (opts.limit !== undefined && raw.length > opts.limit) {
    raw.length = opts.limit;
    const last = raw[raw.length - 1];
    next = encodeCursor({ k: last.__sort_key, id: last.__id });
  }
  return { rows: raw, next };
}

/** ISO-8601 UTC without fractional seconds, as Neon prints timestamps ("2026-02-26T04:29:05Z"). */
export function isoTime(value: Date | string): string {
  const d = value instanceof Date ? value : new Date(value);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
