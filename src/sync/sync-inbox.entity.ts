import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** pending: waiting to be applied (or retried); applied: in users_sync; skipped: integration gone; dead: tries exhausted. */
export type SyncInboxStatus = 'pending' | 'applied' | 'skipped' | 'dead';

/**
 * The sync engine's durable inbox: one row per provider webhook message (svix id) per integration,
 * inserted before the receiver answers 2xx. `id` (bigserial) is the arrival order; `received_at`
 * (control-plane clock, taken at insert) is the version written to users_sync.updated_at (see
 * src/sync/README section in sync-applier.service.ts). No foreign key to the integration: events of an
 * integration disabled since are kept and marked `skipped`, never silently dropped.
 */
@Entity({ name: 'sync_inbox' })
@Index('sync_inbox_message_key', ['integrationId', 'messageId'], { unique: true })
@Index('sync_inbox_pending_idx', ['integrationId', 'id'], { where: `"status" = 'pending'` })
@Index('sync_inbox_user_idx', ['integrationId', 'userId'])
@Index('sync_inbox_dead_idx', ['integrationId', 'id'], { where: `"status" = 'dead'` })
export class SyncInboxEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'sync_inbox_pkey' })
  id!: string;

  @Column({ name: 'integration_id', type: 'uuid' })
  integrationId!: string;

  /** The provider's `svix-id`: the same on every delivery attempt of one message. */
  @Column({ name: 'message_id', type: 'text' })
  messageId!: string;

  /** The event's `data.id` (the provider's user id): finds a user's other events (see SyncConfirmationService). */
  @Column({ name: 'user_id', type: 'text', nullable: true })
  userId!: string | null;

  @Column({ name: 'event_type', type: 'text' })
  eventType!: string;

  /** The verified body: `{type, data}`. */
  @Column({ type: 'jsonb' })
  payload!: { type: string; data: Record<string, unknown> };

  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'clock_timestamp()' })
  receivedAt!: Date;

  @Column({ type: 'text', default: 'pending' })
  status!: SyncInboxStatus;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'applied_at', type: 'timestamptz', nullable: true })
  appliedAt!: Date | null;
}
