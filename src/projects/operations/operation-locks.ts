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
): Promise<void> {
  const running = await operations.unfinishedOn(tx, projectId, branchIds);
  if (running.length === 0) return;
  const where = branchIds ? `branch ${branchIds.join(', ')}` : `project ${projectId}`;
  const list = running.map((op) => `${op.action} ${op.id} (${op.status})`).join(', ');
  throw new ApiError(ErrorCode.Locked, `${where} has operations in progress: ${list}; retry when they have finished`);
}

/**
 * Locks the branch and its project FOR KEY SHARE until the transaction ends (what a foreign key takes): deleting
 * either waits (and then sees this transaction's operation: 423), while reads, other creations and PATCH of the
 * project do not. 404 when gone.
 */
export async function lockBranchForWork(tx: EntityManager, projectId: string, branchId: string, field?: string): Promise<void> {
  // Project first, then branch: the order in which a project delete locks them (FOR UPDATE, then the cascade).
  const project: unknown[] = await tx.query('SELECT 1 FROM projects WHERE id = $1 FOR KEY SHARE', [projectId]);
  if (project.length === 0) throw ApiError.notFound(`project ${projectId}`);
  const branch: unknown[] = await tx.query('SELECT 1 FROM branches WHERE id = $1 AND project_id = $2 FOR KEY SHARE', [branchId, projectId]);
  if (branch.length === 0) throw ApiError.notFound(field ? `branch ${branchId} (${field})` : `branch ${branchId}`);
}

/** 423 while the branch is still being created (its databases are not all there yet). */
export function assertBranchReady(branch: { id: string; currentState: string }): void {
  if (branch.currentState !== 'ready') {
    throw new ApiError(ErrorCode.Locked, `branch ${branch.id} is still being created (state ${branch.currentState}); retry when it is ready`);
  }
}
