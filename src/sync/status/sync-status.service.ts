import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { NeonAuthIntegrationResolver } from '../../neon-auth/integrations/integration-resolver.js';
import { callProvider } from '../../neon-auth/provider-errors.js';
import { usersSyncErrorToApi } from '../../neon-auth/users-sync/users-sync.errors.js';
import { SyncReconcilerService } from '../reconciler/reconciler.service.js';
import type { NeonAuthSyncReconcileResponseDto, NeonAuthSyncStatusDto } from './sync-status.dto.js';

interface StatsRow {
  p50: number | null;
  p99: number | null;
  queued: string;
  dead_letters: string;
  last_applied_at: Date | null;
  apply_error: string | null;
}

/**
 * Sync status of a branch's Neon Auth integration (extensions): inbox lag / backlog / dead letters and the newest
 * failure of an unapplied event from sync_inbox, last reconciliation (and its failure) from the reconciler; and an
 * on-demand reconciliation.
 */
@Injectable()
export class SyncStatusService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly integrations: NeonAuthIntegrationResolver,
    private readonly reconciler: SyncReconcilerService,
  ) {}

  async statusForBranch(projectId: string, branchId: string): Promise<NeonAuthSyncStatusDto> {
    const integration = await this.integrations.findForBranch(projectId, branchId);
    const [stats] = (await this.db.query(
      `WITH recent AS (
         SELECT extract(epoch FROM (applied_at - received_at)) * 1000 AS lag
           FROM sync_inbox
          WHERE integration_id = $1 AND status = 'applied' AND applied_at >= now() - interval '1 hour'
       )
       SELECT
         (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) FROM recent) AS p50,
         (SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY lag) FROM recent) AS p99,
         (SELECT count(*) FROM sync_inbox WHERE integration_id = $1 AND status = 'pending') AS queued,
         (SELECT count(*) FROM sync_inbox WHERE integration_id = $1 AND status = 'dead') AS dead_letters,
         (SELECT max(applied_at) FROM sync_inbox WHERE integration_id = $1 AND status = 'applied') AS last_applied_at,
         (SELECT last_error FROM sync_inbox WHERE integration_id = $1 AND status IN ('pending', 'dead') AND last_error IS NOT NULL
           ORDER BY id DESC LIMIT 1) AS apply_error`,
      [integration.id],
    )) as StatsRow[];
    const last = await this.reconciler.lastReconciliation(integration.id);
    // A provider in the branch database writes users_sync in the user's own transaction: no lag, nothing queued.
    const inTransaction = this.integrations.providerOf(integration).capabilities.writesUsersSync;
    return {
      delivery: inTransaction ? 'in_transaction' : 'webhooks',
      lag_ms: inTransaction ? { p50: 0, p99: 0 } : { p50: numberOrNull(stats.p50), p99: numberOrNull(stats.p99) },
      queued: Number(stats.queued),
      dead_letters: Number(stats.dead_letters),
      last_applied_at: stats.last_applied_at ? new Date(stats.last_applied_at).toISOString() : null,
      last_reconciled_at: last?.lastReconciledAt ? new Date(last.lastReconciledAt).toISOString() : null,
      apply_error: stats.apply_error,
      reconcile_error: last?.lastError ?? null,
    };
  }

  async reconcileBranch(projectId: string, branchId: string): Promise<NeonAuthSyncReconcileResponseDto> {
    const integration = await this.integrations.findForBranch(projectId, branchId);
    // A provider that cannot be reached (down, or its stored URL refused by the outbound policy) is a 503, as on
    // every other route that calls it, not an unhandled 500.
    let c: Awaited<ReturnType<SyncReconcilerService['reconcile']>>;
    try {
      c = await callProvider(() => this.reconciler.reconcile(integration));
    } catch (err) {
      // A broken, missing or refused users_sync is the caller's to repair: a clear 4xx/503, not an unhandled 500.
      throw usersSyncErrorToApi(err, { name: integration.databaseName, branchId: integration.branchId }) ?? err;
    }
    return { inserted: c.inserted, updated: c.updated, deleted: c.deleted, unchanged: c.unchanged, skipped: c.skipped, complete: c.complete, ms: c.ms };
  }
}

function numberOrNull(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? Math.round(n * 1000) / 1000 : null;
}
