import type { DataSource } from 'typeorm';

/** The per-branch logs of the hosted servers kept in the control-plane database (the mailbox, webhook deliveries). */
export type BranchLogTable = 'neon_auth_mailbox' | 'neon_auth_webhook_deliveries';

/**
 * Keeps a branch's log bounded, after each write: rows older than `retentionMs` go, and of the rest only the newest
 * `maxPerBranch` stay (a flood of sign-ups cannot grow the control-plane database without bound).
 */
export async function pruneBranchLog(db: DataSource, table: BranchLogTable, branchId: string, limits: { retentionMs: number; maxPerBranch: number }): Promise<void> {
  await db.query(`DELETE FROM ${table} WHERE branch_id = $1 AND created_at < $2`, [branchId, new Date(Date.now() - limits.retentionMs)]);
  await db.query(
    `DELETE FROM ${table} WHERE id IN (
       SELECT id FROM ${table} WHERE branch_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2)`,
    [branchId, limits.maxPerBranch],
  );
}
