import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { BranchEntity } from '../../projects/entities/branch.entity.js';
import type { WebhookAttempt } from './webhook-attempts.js';

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/**
 * One delivery of a branch's webhook event (or a replay of one), for the organization's admins to read through
 * `GET …/branches/{branch_id}/auth/webhooks/deliveries`: the attempts with their status and latency, the envelope
 * with its one-time codes and tokens redacted, and the body as sent, sealed (SECRETS_KEY), for a replay. Goes with
 * its branch; pruned after a day, at most 1000 per branch.
 */
@Entity({ name: 'neon_auth_webhook_deliveries' })
@Index('neon_auth_webhook_deliveries_branch_idx', ['branchId', 'createdAt'])
export class WebhookDeliveryEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'integration_id', type: 'uuid' })
  integrationId!: string;

  @Column({ name: 'project_id', type: 'text' })
  projectId!: string;

  @Column({ name: 'branch_id', type: 'text' })
  branchId!: string;

  @ManyToOne(() => BranchEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'branch_id', foreignKeyConstraintName: 'FK_neon_auth_webhook_deliveries_branch' })
  branch?: BranchEntity;

  @Column({ name: 'database_name', type: 'text' })
  databaseName!: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column({ name: 'event_type', type: 'text' })
  eventType!: string;

  @Column({ name: 'webhook_url', type: 'text' })
  webhookUrl!: string;

  @Column({ type: 'text' })
  status!: WebhookDeliveryStatus;

  /** user.before_create only: what the answer decided (allowed, refused) or why it decided nothing (malformed: …). */
  @Column({ type: 'text', nullable: true })
  outcome!: string | null;

  @Column({ type: 'jsonb' })
  attempts!: WebhookAttempt[];

  /** The envelope (WebhookEnvelope), one-time codes and tokens redacted. */
  @Column({ type: 'jsonb' })
  payload!: Record<string, unknown>;

  /** The raw body as sent, encrypted with SECRETS_KEY (context: the event id), for a replay. */
  @Column({ name: 'sealed_body', type: 'text' })
  sealedBody!: string;

  /** The delivery this one replays. */
  @Column({ name: 'replay_of', type: 'uuid', nullable: true })
  replayOf!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt!: Date | null;
}
