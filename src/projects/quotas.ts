import type { EntityManager } from 'typeorm';
import { ApiError, ErrorCode } from '../common/errors.js';
import { countUnderQuotaLock } from '../common/quota.js';

/**
 * Quotas, so one account cannot fill the disk with real databases: PROJECTS_LIMIT projects per organization,
 * BRANCHES_LIMIT branches per project and DATABASES_LIMIT databases per branch (a branch copies its parent's), and
 * ORGANIZATIONS_LIMIT organizations per account (src/iam), 0 for no limit, refused with 422 before any database is made. Each check runs
 * in the transaction that inserts the new row, and holds a transaction advisory lock on what it counts until that
 * transaction ends, so concurrent creations are counted one after the other and cannot all pass.
 */
export async function assertProjectQuota(tx: EntityManager, orgId: string, limit: number): Promise<void> {
  const n = await countUnderQuotaLock(tx, `projects:${orgId}`, 'SELECT count(*)::int AS n FROM projects WHERE org_id = $1', orgId, limit);
  if (n !== undefined && n >= limit) {
    throw new ApiError(ErrorCode.ProjectsLimitExceeded, `projects limit exceeded: organization ${orgId} has ${n} projects and its limit is ${limit}`, { orgId });
  }
}

export async function assertBranchQuota(tx: EntityManager, projectId: string, limit: number): Promise<void> {
  const n = await countUnderQuotaLock(tx, `branches:${projectId}`, 'SELECT count(*)::int AS n FROM branches WHERE project_id = $1', projectId, limit);
  if (n !== undefined && n >= limit) {
    throw new ApiError(ErrorCode.BranchesLimitExceeded, `branches limit exceeded: project ${projectId} has ${n} branches and its limit is ${limit}`, { projectId });
  }
}

export async function assertDatabaseQuota(tx: EntityManager, branchId: string, limit: number): Promise<void> {
  const n = await countUnderQuotaLock(tx, `databases:${branchId}`, 'SELECT count(*)::int AS n FROM branch_databases WHERE branch_id = $1', branchId, limit);
  if (n !== undefined && n >= limit) {
    throw new ApiError(ErrorCode.DatabasesLimitExceeded, `databases limit exceeded: branch ${branchId} has ${n} databases and its limit is ${limit}`);
  }
}
