import type { DataSource } from 'typeorm';
import { micros } from '../../common/db-clock.js';
import { StackStatusError } from '../http/known-errors.js';
import { MAX_USERS_PAGE_SIZE, parseUsersCursor, usersCursor, type ListUsersQuery } from './dto/list-users-query.dto.js';
import { isUuid } from '../../common/validation.js';
import type { UsersPage } from './stack-users.service.js';
import { userColumns, userFromRow, type UserRow } from './stack-users.store.js';
import { toServerUser } from './user-shapes.js';

/** Newest Stack Auth's check of `excluded_email_domains` entries: exact domains only. */
const EMAIL_DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const MAX_EXCLUDED_EMAIL_DOMAINS = 100;

function normalizeExcludedEmailDomains(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  const domains = new Set<string>();
  for (const part of raw.split(',')) {
    const domain = part.trim().replace(/^@/, '').toLowerCase();
    if (domain === '') continue;
    if (!EMAIL_DOMAIN.test(domain)) throw new StackStatusError(400, 'excluded_email_domains must be a comma-separated list of valid domains');
    domains.add(domain);
  }
  if (domains.size > MAX_EXCLUDED_EMAIL_DOMAINS) {
    throw new StackStatusError(400, `excluded_email_domains cannot contain more than ${MAX_EXCLUDED_EMAIL_DOMAINS} domains`);
  }
  return [...domains];
}

/** `%`, `_` and `\` match themselves in the LIKE pattern built from `text`. */
function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}

/** A row of the listing query: the user's columns (userColumns) and the sort value in microseconds. */
interface ListedRow extends UserRow {
  sort_us: string;
}

const COLUMNS = userColumns('u');


/**
 * GET /users of the embedded provider: one page of the project's users, ordered by (order_by, id). `next_cursor` is
 * a keyset position: the last user's sort value (to the microsecond) and id, so the next page starts right after it
 * even when that user was deleted meanwhile. A bare user id is accepted as the cursor too (Stack Auth's form:
 * exclusive, its row supplies the position; an unknown id gives an empty page, as with Stack Auth's Prisma cursor).
 *
 * Plain SQL on the (project_id, order_by, id) indexes, rows mapped straight to the server user object. The query
 * runs with `enable_sort` off (SET LOCAL, in its own transaction), so PostgreSQL reads the index in order and stops
 * after the page: without that, a table whose statistics are missing or stale (a bulk import a moment ago) gets a
 * plan that fetches every user after the cursor and sorts them for each page, which makes reading all users in
 * pages quadratic (100,000 users: 60 ms a page instead of 6).
 */
export async function listUsers(db: DataSource, projectId: string, query: ListUsersQuery): Promise<UsersPage> {
  const onlyAnonymous = query.only_anonymous === 'true';
  const includeAnonymous = query.include_anonymous === 'true';
  if (onlyAnonymous && !includeAnonymous) throw new StackStatusError(400, 'only_anonymous=true requires include_anonymous=true');
  const includeRestricted = query.include_restricted === 'true' || includeAnonymous;
  const excludedDomains = normalizeExcludedEmailDomains(query.excluded_email_domains);
  const limit = query.limit === undefined ? undefined : Number(query.limit.trim());
  // Embedded projects have no teams, so no user is a member of any team.
  if (query.team_id !== undefined) return { items: [], is_paginated: true, pagination: { next_cursor: null } };

  const column = query.order_by === 'last_active_at' ? 'last_active_at' : 'signed_up_at';
  const direction = query.desc === 'true' ? 'DESC' : 'ASC';
  const params: unknown[] = [projectId];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const where = ['u.project_id = $1::uuid'];
  if (onlyAnonymous) where.push('u.is_anonymous = true');
  else if (!includeAnonymous) where.push('u.is_anonymous = false');
  if (!includeRestricted) where.push('u.restricted_by_admin = false');
  if (excludedDomains.length > 0) {
    where.push(`NOT (COALESCE(u.primary_email, '') LIKE ANY (${param(excludedDomains.map((d) => `%@${d}`))}::text[]))`);
  }
  if (query.query) {
    const pattern = param(likeContains(query.query));
    const conditions = [`u.display_name ILIKE ${pattern}::text`, `u.primary_email ILIKE ${pattern}::text`];
    const maybeId = query.query.replace(/[^a-zA-Z0-9\-_.]/g, '');
    if (isUuid(maybeId)) conditions.push(`u.id = ${param(maybeId.toLowerCase())}::uuid`);
    where.push(`(${conditions.join(' OR ')})`);
  }
  if (query.cursor !== undefined) {
    const after = direction === 'ASC' ? '>' : '<';
    const keyset = parseUsersCursor(query.cursor);
    if (keyset) {
      if (keyset.column !== column) throw new StackStatusError(400, `The cursor belongs to a listing ordered by ${keyset.column}, not ${column}.`);
      const seconds = param(String(keyset.micros / 1_000_000n));
      const micro = param(String(keyset.micros % 1_000_000n));
      where.push(`(u.${column}, u.id) ${after} (to_timestamp(${seconds}::bigint) + ${micro}::bigint * interval '1 microsecond', ${param(keyset.id)}::uuid)`);
    } else {
      // A user id: its row supplies the position; an unknown id compares with NULL and the page is empty.
      where.push(`(u.${column}, u.id) ${after} (SELECT c.${column}, c.id FROM stack_auth.users c WHERE c.project_id = $1::uuid AND c.id = ${param(query.cursor.toLowerCase())}::uuid)`);
    }
  }
  const sql = `SELECT ${COLUMNS}, ${micros(`u.${column}`)} AS sort_us
  FROM stack_auth.users u
 WHERE ${where.join('\n   AND ')}
 ORDER BY u.${column} ${direction}, u.id ${direction}
 LIMIT ${param((limit ?? MAX_USERS_PAGE_SIZE) + 1)}`;
  const rows = await db.transaction(async (tx) => {
    await tx.query('SET LOCAL enable_sort = off');
    return (await tx.query(sql, params)) as ListedRow[];
  });
  if (limit === undefined && rows.length > MAX_USERS_PAGE_SIZE) {
    throw new StackStatusError(400, `Listing more than ${MAX_USERS_PAGE_SIZE} users requires a limit. Pass limit and paginate using cursor.`);
  }
  const page = limit === undefined ? rows : rows.slice(0, limit);
  const hasMore = limit !== undefined && rows.length > limit;
  const last = page[page.length - 1];
  return {
    items: page.map((r) => toServerUser(userFromRow(r))),
    is_paginated: true,
    pagination: { next_cursor: hasMore && last !== undefined ? usersCursor(column, last.sort_us, last.id) : null },
  };
}
