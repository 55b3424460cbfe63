import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { BranchEntity } from '../../projects/entities/branch.entity.js';
import { ProjectEntity } from '../../projects/entities/project.entity.js';

export type NeonAuthProviderKind = 'mock' | 'stack' | 'better_auth';

/**
 * Neon Auth on one branch: which provider project backs it, how to reach it (credentials encrypted with the
 * secrets key), and the database whose `neon_auth.users_sync` it keeps filled. At most one per branch.
 */
@Entity({ name: 'neon_auth_integrations' })
@Index('neon_auth_integrations_branch_key', ['branchId'], { unique: true })
export class NeonAuthIntegrationEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('neon_auth_integrations_project_id_idx')
  @Column({ name: 'project_id', type: 'text' })
  projectId!: string;

  @ManyToOne(() => ProjectEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: ProjectEntity;

  @Column({ name: 'branch_id', type: 'text' })
  branchId!: string;

  @ManyToOne(() => BranchEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'branch_id' })
  branch?: BranchEntity;

  /** Logical database name (as the API shows it) holding neon_auth.users_sync. */
  @Column({ name: 'database_name', type: 'text' })
  databaseName!: string;

  @Column({ name: 'auth_provider', type: 'text' })
  authProvider!: NeonAuthProviderKind;

  @Column({ name: 'provider_project_id', type: 'text' })
  providerProjectId!: string;

  /** 'neon' for a provider project this product manages (Quick Start); 'user' for one the customer owns. */
  @Column({ name: 'owned_by', type: 'text' })
  ownedBy!: 'neon' | 'user';

  @Column({ name: 'transfer_status', type: 'text', nullable: true })
  transferStatus!: 'initiated' | 'finished' | null;

  /** Serialized provider credentials (see src/providers), encrypted with the secrets key. */
  @Column({ name: 'credentials_encrypted', type: 'text' })
  credentialsEncrypted!: string;

  /** Signing secret of the provider's webhooks to this integration, encrypted; null for in-process providers. */
  @Column({ name: 'webhook_secret_encrypted', type: 'text', nullable: true })
  webhookSecretEncrypted!: string | null;

  @Column({ name: 'jwks_url', type: 'text' })
  jwksUrl!: string;

  @Column({ name: 'base_url', type: 'text', nullable: true })
  baseUrl!: string | null;

  @Column({ type: 'text', nullable: true })
  name!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
