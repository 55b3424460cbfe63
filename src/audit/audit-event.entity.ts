import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One administrative action, as it happened: who (account and key), what, on what, when, from where. Append-only
 * (a trigger refuses UPDATE and DELETE, see the migration); no foreign keys, so the record outlives what it names.
 */
@Entity({ name: 'audit_events' })
@Index('audit_events_org_idx', ['orgId', 'id'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'occurred_at', type: 'timestamptz', default: () => 'now()' })
  occurredAt!: Date;

  /** The organization the action belongs to; null for an account's own keys and platform-admin actions. */
  @Column({ name: 'org_id', type: 'text', nullable: true })
  orgId!: string | null;

  /** 'personal' | 'organization' | 'project': the kind of API key that acted. */
  @Column({ name: 'actor_kind', type: 'text' })
  actorKind!: string;

  /** The account behind a personal key; null for organization and project keys. */
  @Column({ name: 'actor_account_id', type: 'text', nullable: true })
  actorAccountId!: string | null;

  @Column({ name: 'actor_key_id', type: 'bigint' })
  actorKeyId!: string;

  /** e.g. `neon_auth.enable`, `api_key.create`, `project.create.refused`. */
  @Column({ type: 'text' })
  action!: string;

  @Column({ name: 'target_type', type: 'text' })
  targetType!: string;

  @Column({ name: 'target_id', type: 'text', nullable: true })
  targetId!: string | null;

  @Column({ name: 'project_id', type: 'text', nullable: true })
  projectId!: string | null;

  /** The HTTP status the action was answered with. */
  @Column({ type: 'int' })
  status!: number;

  /** Chosen request fields (never a secret) and, for a refusal, its error code. */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  details!: Record<string, unknown>;

  @Column({ name: 'request_id', type: 'text' })
  requestId!: string;

  @Column({ name: 'client_addr', type: 'text' })
  clientAddr!: string;
}
