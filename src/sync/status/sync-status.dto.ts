import { ApiProperty } from '@nestjs/swagger';

export class NeonAuthSyncLagDto {
  @ApiProperty({ type: Number, nullable: true, description: 'Median of applied_at - received_at (ms) over events applied in the last hour; null when none' })
  p50!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: '99th percentile of applied_at - received_at (ms) over events applied in the last hour; null when none' })
  p99!: number | null;
}

export class NeonAuthSyncStatusDto {
  @ApiProperty({
    enum: ['webhooks', 'in_transaction'],
    description:
      'How users_sync is kept: `webhooks` (stack, mock: provider events through the sync engine, with the lag and queue below), ' +
      '`in_transaction` (better_auth: a trigger writes users_sync in the transaction of every user change, so lag and queue are 0)',
  })
  delivery!: 'webhooks' | 'in_transaction';

  @ApiProperty({ type: NeonAuthSyncLagDto, description: 'Webhook-to-users_sync lag over the last hour (0 for in_transaction)' })
  lag_ms!: NeonAuthSyncLagDto;

  @ApiProperty({ description: 'Provider events received and not yet applied (pending)' })
  queued!: number;

  @ApiProperty({ description: 'Provider events parked after exhausting their apply attempts' })
  dead_letters!: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the last event was applied to users_sync' })
  last_applied_at!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Start of the last complete reconciliation with the provider' })
  last_reconciled_at!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'Why the newest events that are still pending (or parked as dead letters) could not be written to users_sync, e.g. a ' +
      "table whose grants to the control plane's role were revoked; null when no such event failed",
  })
  apply_error!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Why the last reconciliation failed; null when it succeeded (or none ran)' })
  reconcile_error!: string | null;
}

export class NeonAuthSyncReconcileResponseDto {
  @ApiProperty({ description: 'Provider users that had no row in users_sync' })
  inserted!: number;

  @ApiProperty({ description: 'Rows that differed from the provider and were rewritten' })
  updated!: number;

  @ApiProperty({ description: 'Rows of users the provider no longer has, soft-deleted' })
  deleted!: number;

  @ApiProperty({ description: 'Provider users whose row already matched' })
  unchanged!: number;

  @ApiProperty({ description: 'Writes refused because the row already held a newer state' })
  skipped!: number;

  @ApiProperty({ description: 'False when no provider listing completed (nothing was deleted)' })
  complete!: boolean;

  @ApiProperty({ description: 'Duration of the run in milliseconds' })
  ms!: number;
}
