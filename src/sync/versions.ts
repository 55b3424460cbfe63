/**
 * Versions of users_sync states are timestamps on the control-plane database's clock, kept to the
 * microsecond (what timestamptz holds), so two events never tie on a rounded millisecond.
 */

/** SQL: a timestamptz expression as microseconds since the epoch (bigint; read as a string by pg). */
export function micros(sqlExpression: string): string {
  return `(extract(epoch FROM ${sqlExpression}) * 1000000)::bigint`;
}

/** An ISO-8601 UTC timestamp with microseconds. */
export function microsToIso(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // ...T..:..:..sssZ
  const micro = String(us - ms * 1000).padStart(3, '0');
  return `${iso.slice(0, -1)}${micro}Z`;
}
