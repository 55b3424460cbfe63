/**
 * One clock: every version and timestamp that orders changes (users_sync versions, inbox arrivals,
 * confirmations, reconcile reads) is taken from the control-plane database, never from a process's own
 * clock, so replicas and workers whose clocks disagree still order changes the same way. Kept to the
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

/**
 * Anything that runs a query on the control-plane database: a TypeORM DataSource or EntityManager (rows
 * array), or a pg Pool or client (`{rows}`).
 */
export interface ClockSource {
  query(text: string): Promise<unknown>;
}

const NOW_SQL = `SELECT ${micros('clock_timestamp()')} AS us`;

/** Now on the control-plane database's clock, in microseconds since the epoch. */
export async function databaseNowMicros(db: ClockSource): Promise<number> {
  const result = (await db.query(NOW_SQL)) as { us: string }[] | { rows: { us: string }[] };
  const rows = Array.isArray(result) ? result : result.rows;
  return Number(rows[0].us);
}

/** Now on the control-plane database's clock, as an ISO-8601 timestamp with microseconds. */
export async function databaseNow(db: ClockSource): Promise<string> {
  return microsToIso(await databaseNowMicros(db));
}
