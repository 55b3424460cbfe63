import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn } from 'typeorm';
import { NeonAuthIntegrationEntity } from '../../neon-auth/integrations/integration.entity.js';

/** The outcome of a reconciliation run, as stored (and as reconcile() answers it). */
export interface ReconcileCounts {
  /** Provider users that had no row in users_sync. */
  inserted: number;
  /** Rows whose raw_json differed from the provider (or that were marked deleted while the user exists). */
  updated: number;
  /** Live rows of users the provider no longer has, soft-deleted. */
  deleted: number;
  /** Provider users whose row already matched. */
  unchanged: number;
  /** Writes the ordering rule refused because the row already held a newer state (a webhook won a race). */
  skipped: number;
  /** False when no listing completed normally: nothing was deleted (inserts and updates still applied). */
  complete: boolean;
  /** Wall-clock duration of the run. */
  ms: number;
}

/**
 * The last reconciliation of an integration (one row per integration, dropped with it). `last_reconciled_at`
 * is when the last successful run started its listing: every provider change before it is in users_sync.
 */
@Entity({ name: 'neon_auth_sync_reconciliations' })
export class NeonAuthSyncReconciliationEntity {
  @PrimaryColumn({ name: 'integration_id', type: 'uuid' })
  integrationId!: string;

  @OneToOne(() => NeonAuthIntegrationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'integration_id' })
  integration?: NeonAuthIntegrationEntity;

  /** Start of the last successful (complete) run; null until one succeeded. */
  @Column({ name: 'last_reconciled_at', type: 'timestamptz', nullable: true })
  lastReconciledAt!: Date | null;

  /** Counts of the last run that finished (complete or not). */
  @Column({ name: 'last_result', type: 'jsonb', nullable: true })
  lastResult!: ReconcileCounts | null;

  /** Message of the last run's failure; null after a run that finished. */
  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'last_run_at', type: 'timestamptz' })
  lastRunAt!: Date;
}
