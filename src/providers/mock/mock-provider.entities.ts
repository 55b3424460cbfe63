import type { ProjectConfigColumns } from '../../better-auth/project-config.js';
import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';

/**
 * State of the `mock` auth provider, kept in the control-plane database (schema public) so that it
 * survives restarts and every replica sees the same projects and users.
 */
@Entity({ name: 'mock_provider_projects' })
export class MockProviderProjectEntity {
  /** Derived from the display name and how many projects had that name before (deterministic). */
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'display_name', type: 'text' })
  displayName!: string;

  /** 'neon' while the product manages the project; 'user' once ownership was transferred. */
  @Column({ name: 'owned_by', type: 'text', default: 'neon' })
  ownedBy!: 'neon' | 'user';

  @Column({ name: 'transfer_status', type: 'text', default: 'none' })
  transferStatus!: 'none' | 'initiated' | 'finished';

  /** How many transfer links were issued (each link's code is derived from it). */
  @Column({ name: 'transfer_links', type: 'integer', default: 0 })
  transferLinks!: number;

  /** How many SDK key pairs were issued; pair g's keys are derived from g (0 = the control plane's own server key). */
  @Column({ name: 'key_generation', type: 'integer', default: 0 })
  keyGeneration!: number;

  /** Registered webhook URLs (each one's signing secret is derived from project and URL). */
  @Column({ name: 'webhook_urls', type: 'jsonb', default: () => "'[]'" })
  webhookUrls!: string[];

  /**
   * The project's Neon Auth settings (domains, OAuth providers, e-mail, plugins, webhooks), stored as Better Auth's
   * `project_config` row stores them (Neon's JSON keys, secrets sealed); null until the first change: Neon's defaults.
   */
  @Column({ type: 'jsonb', nullable: true })
  settings!: ProjectConfigColumns | null;

  /** The idempotency key of the provision call that made it (a repeat answers this project, or its tombstone). */
  @Column({ name: 'provision_key', type: 'text', nullable: true, unique: true })
  provisionKey!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /**
   * Set when the project was deleted (deleteManagedProject): its users are gone and its keys open nothing.
   * The row stays as a tombstone so that the id (and the keys derived from it) is never issued again.
   */
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt!: Date | null;
}

@Entity({ name: 'mock_provider_users' })
@Index('mock_provider_users_email_key', ['projectId', 'email'], { unique: true, where: 'deleted_at IS NULL' })
@Index('mock_provider_users_project_order_idx', ['projectId', 'signedUpAt', 'id'])
export class MockProviderUserEntity {
  /** Derived from project, email and how many users had that email before (deterministic). */
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId!: string;

  @ManyToOne(() => MockProviderProjectEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: MockProviderProjectEntity;

  /** Normalized (trimmed, lower case). */
  @Column({ type: 'text' })
  email!: string;

  @Column({ name: 'display_name', type: 'text', nullable: true })
  displayName!: string | null;

  @Column({ name: 'server_metadata', type: 'jsonb', nullable: true })
  serverMetadata!: Record<string, unknown> | null;

  @Column({ name: 'signed_up_at', type: 'timestamptz' })
  signedUpAt!: Date;

  /** 1 at creation, +1 per change (roles, deletion): orders the user's events. */
  @Column({ type: 'integer', default: 1 })
  version!: number;

  /** Set when deleted; the row stays as a tombstone (it keeps ids of later users with the same email distinct). */
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt!: Date | null;
}

export const MOCK_PROVIDER_ENTITIES = [MockProviderProjectEntity, MockProviderUserEntity];
