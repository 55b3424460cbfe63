import type { EntityManager } from 'typeorm';

/** pg_advisory_xact_lock class of the quota checks (with hashtext of what is counted). ASCII "quot". */
const QUOTA_LOCK_CLASS = 0x7175_6f74;

/**
 * For a quota check in the transaction that inserts the new row: takes a transaction advisory lock on `key` (held
 * until that transaction ends, so concurrent creations are counted one after the other and cannot all pass), then
 * answers `countSql`'s count for `id`. Undefined, without a lock or a query, when `limit` is 0 (no limit).
 */
export async function countUnderQuotaLock(tx: EntityManager, key: string, countSql: string, id: string, limit: number): Promise<number | undefined> {
  if (limit === 0) return undefined;
  await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [QUOTA_LOCK_CLASS, key]);
  const [{ n }] = (await tx.query(countSql, [id])) as { n: number }[];
  return n;
}
