import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { StackProjectEntity } from './stack-project.entity.js';

/** A webhook endpoint of a project; deliveries to it are signed with its own `whsec_` secret (svix). */
@Entity({ name: 'webhook_endpoints', schema: 'stack_auth' })
export class StackWebhookEndpointEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('stack_webhook_endpoints_project_id_idx')
  @Column({ name: 'project_id', type: 'uuid' })
  projectId!: string;

  @ManyToOne(() => StackProjectEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: StackProjectEntity;

  @Column({ type: 'text' })
  url!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  /** The `whsec_` signing secret, encrypted with the secrets key. */
  @Column({ name: 'secret_encrypted', type: 'text' })
  secretEncrypted!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true })
  disabledAt!: Date | null;
}

/**
 * The durable outbox: one row per (event, endpoint), written in the same transaction as the change it
 * reports. Rows of one ordering key (endpoint + user) are delivered strictly in id order.
 */
@Entity({ name: 'webhook_outbox', schema: 'stack_auth' })
@Index('stack_webhook_outbox_pending_idx', ['endpointId', 'orderingKey', 'id'], { where: 'delivered_at IS NULL' })
export class StackWebhookOutboxEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id!: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId!: string;

  @Column({ name: 'endpoint_id', type: 'uuid' })
  endpointId!: string;

  @ManyToOne(() => StackWebhookEndpointEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'endpoint_id' })
  endpoint?: StackWebhookEndpointEntity;

  /** svix-id of the message (stable across retries, so receivers can deduplicate). */
  @Column({ name: 'message_id', type: 'text', unique: true })
  messageId!: string;

  @Column({ name: 'event_type', type: 'text' })
  eventType!: string;

  /** The body: `{type, data}`. */
  @Column({ type: 'jsonb' })
  payload!: { type: string; data: unknown };

  /** Deliveries with the same key keep their order (the user id for user events). */
  @Column({ name: 'ordering_key', type: 'text' })
  orderingKey!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt!: Date;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt!: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;
}
