import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Users waiting for a confirmation with the provider (SyncConfirmationService): written in the applier's
 * transaction, deleted once the provider's state is in users_sync. Durable, so a crash between applying
 * out-of-order events and confirming them loses nothing: the next start (and the minute sweep) picks the
 * rows up again.
 */
@Entity({ name: 'sync_confirmations' })
export class SyncConfirmationEntity {
  @PrimaryColumn({ name: 'integration_id', type: 'uuid', primaryKeyConstraintName: 'sync_confirmations_pkey' })
  integrationId!: string;

  @PrimaryColumn({ name: 'user_id', type: 'text', primaryKeyConstraintName: 'sync_confirmations_pkey' })
  userId!: string;

  /** The latest request (control-plane clock): a confirmation clears only requests older than its read. */
  @Column({ name: 'requested_at', type: 'timestamptz', default: () => 'clock_timestamp()' })
  requestedAt!: Date;
}
