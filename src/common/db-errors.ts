/** The SQLSTATE of a PostgreSQL error, raised by pg or wrapped by TypeORM (`driverError`); undefined for others. */
export function sqlStateOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = e?.code ?? e?.driverError?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True when `err` is a Postgres unique violation (optionally on the named constraint or index). */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { constraint?: string; driverError?: { constraint?: string } } | null;
  const name = e?.constraint ?? e?.driverError?.constraint;
  return sqlStateOf(err) === '23505' && (constraint === undefined || name === constraint);
}

/** True when `err` is a data exception (SQLSTATE class 22): a value PostgreSQL cannot take, e.g. a forged cursor's. */
export function isDataException(err: unknown): boolean {
  return sqlStateOf(err)?.startsWith('22') === true;
}

/** True when `err` is a Postgres foreign-key violation: the row it refers to is gone (typically deleted concurrently). */
export function isForeignKeyViolation(err: unknown): boolean {
  return sqlStateOf(err) === '23503';
}

/** True when `err` is a unique violation on a primary key (TypeORM names those `PK_<hash>`). */
export function isPrimaryKeyViolation(err: unknown): boolean {
  const e = err as { constraint?: string; driverError?: { constraint?: string } } | null;
  const name = e?.constraint ?? e?.driverError?.constraint ?? '';
  return isUniqueViolation(err) && name.startsWith('PK_');
}

/**
 * Runs `create` again, with fresh random ids, when the ids it drew collide with existing rows.
 * Readable ids (`br-quiet-river-482913`) are short, so a collision is rare but possible; `create`
 * must draw its ids itself and leave nothing behind when it fails.
 */
export async function withFreshIds<T>(create: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await create();
    } catch (err) {
      if (attempt >= attempts || !isPrimaryKeyViolation(err)) throw err;
    }
  }
}
