import type { EntityManager } from 'typeorm';
import { ApiError, ErrorCode } from '../../common/errors.js';
import type { OperationsService } from './operations.service.js';

/**
 * Neon's 423 Locked while an operation on the project (or on one of `branchIds`) is unfinished: a delete does not
 * race the work of a creation, enable or disable still running (or waiting for its retry). Clients retry 423.
 */
export async function assertNoOperationInProgress(
  operations: OperationsService,
  tx: EntityManager,
  projectId: string,
  branchIds?: string[],
  computeOnly = false,
): Promise<void> {
  const running = await operations.unfinishedOn(tx, projectId, branchIds, computeOnly);
  if (running.length === 0) return;
  const where = branchIds ? `branch ${branchIds.join(', ')}` : `project ${projectId}`;
  const list = running.map((op) => `${op.action} ${op.id} (${op.status})`).join(', ');
  throw new ApiError(ErrorCode.Locked, `${where} has operations in progress: ${list}; retry when they have finished`);
}

/**
 * Before recording an operation on a branch: locks its project FOR KEY SHARE (a project delete waits, then sees this
 * operation: 423) and the branch FOR NO KEY UPDATE (operations on one branch record one at a time, so each sees the
 * others': 423; enable/disable take FOR UPDATE, which conflicts too), then refuses with 423 while an operation on
 * the branch is unfinished. Project first, then branch: the order a project delete locks them in. 404 when gone.
 * `project: 'share'` (enable) also holds the project's settings still until the commit (PATCH takes FOR NO KEY UPDATE).
 */
export async function lockBranchForOperation(
  operations: OperationsService,
  tx: EntityManager,
  projectId: string,
  branchId: string,
  options: { field?: string; project?: 'key share' | 'share'; branch?: 'no key update' | 'update'; thenCheck?: false; computeOnly?: true } = {},
): Promise<void> {
  const project: unknown[] = await tx.query(`SELECT 1 FROM projects WHERE id = $1 FOR ${options.project === 'share' ? 'SHARE' : 'KEY SHARE'}`, [projectId]);
  if (project.length === 0) throw ApiError.notFound(`project ${projectId}`);
  const branch: unknown[] = await tx.query(
    `SELECT 1 FROM branches WHERE id = $1 AND project_id = $2 FOR ${options.branch === 'update' ? 'UPDATE' : 'NO KEY UPDATE'}`,
    [branchId, projectId],
  );
  if (branch.length === 0) throw ApiError.notFound(options.field ? `branch ${branchId} (${options.field})` : `branch ${branchId}`);
  // `thenCheck: false`: the caller answers its own 409s first (a name taken is a 409 even while its creation runs).
  if (options.thenCheck !== false) await assertNoOperationInProgress(operations, tx, projectId, [branchId], options.computeOnly === true);
}

/** 423 while the branch is still being created (its databases are not all there yet). */
export function assertBranchReady(branch: { id: string; currentState: string }): void {
  if (branch.currentState !== 'ready') {
    throw new ApiError(ErrorCode.Locked, `branch ${branch.id} is still being created (state ${branch.currentState}); retry when it is ready`);
  }
}
