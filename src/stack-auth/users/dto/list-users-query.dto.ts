import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsString, Max, Min, ValidateBy } from 'class-validator';
import { isUuid } from '../../../common/validation.js';
import { Opt } from './stack-validation.js';

/** The most users one page (or an unpaginated list) may hold, as in the newest Stack Auth backend. */
export const MAX_USERS_PAGE_SIZE = 1000;

const IsUuidString = () =>
  ValidateBy({ name: 'isUuidString', validator: { validate: (v: unknown) => isUuid(v), defaultMessage: () => '$property must be a valid UUID' } });

/** The sort columns of GET /users. */
export type UsersSortColumn = 'signed_up_at' | 'last_active_at';

/**
 * The `next_cursor` this provider issues: `c1.` + `s` (signed_up_at) or `l` (last_active_at) + the last user's sort
 * value in microseconds since the epoch + `.` + that user's id. A keyset position, not a row to look up, so a
 * listing goes on after that user is deleted. Opaque to clients, which pass it back as `cursor`.
 */
const USERS_CURSOR = /^c1\.([sl])(-?\d{1,19})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

export function usersCursor(column: UsersSortColumn, sortMicros: string, id: string): string {
  return `c1.${column === 'signed_up_at' ? 's' : 'l'}${sortMicros}.${id}`;
}

/** The keyset position of a cursor this provider issued, or undefined (a user id, or anything else). */
export function parseUsersCursor(cursor: string): { column: UsersSortColumn; micros: bigint; id: string } | undefined {
  const m = USERS_CURSOR.exec(cursor);
  if (!m) return undefined;
  return { column: m[1].toLowerCase() === 's' ? 'signed_up_at' : 'last_active_at', micros: BigInt(m[2]), id: m[3].toLowerCase() };
}

/** A user id (Stack Auth's cursor) or a cursor this provider issued; refused with Stack Auth's wording otherwise. */
const IsUsersCursor = () =>
  ValidateBy({
    name: 'isUsersCursor',
    validator: { validate: (v: unknown) => isUuid(v) || (typeof v === 'string' && parseUsersCursor(v) !== undefined), defaultMessage: () => '$property must be a valid UUID' },
  });

const TRUE_FALSE = ['true', 'false'];
const trueFalse = { message: '$property must be one of the following values: true, false' };

/**
 * Query of GET /users (Stack Auth's users querySchema; the same keys are accepted, and ignored, on
 * the single-user routes). Values stay strings on the wire; `limit` is converted only to be checked.
 */
export class ListUsersQueryDto {
  @Opt()
  @Transform(({ value }) => (value === undefined ? undefined : typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : Number.NaN))
  @IsInt({ message: '$property must be an integer' })
  @Min(1, { message: '$property must be greater than or equal to 1' })
  @Max(MAX_USERS_PAGE_SIZE, { message: `$property must be less than or equal to ${MAX_USERS_PAGE_SIZE}` })
  limit?: string;

  @Opt()
  @IsUsersCursor()
  cursor?: string;

  @Opt()
  @IsIn(['signed_up_at', 'last_active_at'], { message: '$property must be one of the following values: signed_up_at, last_active_at' })
  order_by?: 'signed_up_at' | 'last_active_at';

  @Opt()
  @IsIn(TRUE_FALSE, trueFalse)
  desc?: 'true' | 'false';

  @Opt()
  @IsString()
  query?: string;

  @Opt()
  @IsUuidString()
  team_id?: string;

  @Opt()
  @IsIn(TRUE_FALSE, trueFalse)
  include_restricted?: 'true' | 'false';

  @Opt()
  @IsIn(TRUE_FALSE, trueFalse)
  include_anonymous?: 'true' | 'false';

  @Opt()
  @IsIn(TRUE_FALSE, trueFalse)
  only_anonymous?: 'true' | 'false';

  @Opt()
  @IsString()
  excluded_email_domains?: string;
}

export interface ListUsersQuery {
  limit?: string;
  cursor?: string;
  order_by?: 'signed_up_at' | 'last_active_at';
  desc?: 'true' | 'false';
  query?: string;
  team_id?: string;
  include_restricted?: 'true' | 'false';
  include_anonymous?: 'true' | 'false';
  only_anonymous?: 'true' | 'false';
  excluded_email_domains?: string;
}
