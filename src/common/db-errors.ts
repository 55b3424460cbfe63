/** True when `err` is a Postgres unique violation (optionally on the named constraint or index). */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } } | null;
  const code = e?.code ?? e?.driverError?.code;
  const name = e?.constraint ?? e?.driverError?.constraint;
  return code === '23505' && (constraint === undefined || name === constraint);
}

/** True when `err` is a Postgres foreign-key violation: the row it refers to is gone (typically deleted concurrently). */
export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } } | null;
  return (e?.code ?? e?.driverError?.code) === '23503';
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
