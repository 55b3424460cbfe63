import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { BranchEntity } from '../../projects/entities/branch.entity.js';
import type { NeonAuthProviderKind } from './integration.entity.js';

/**
 * A provider project the product manages, kept after Neon Auth was disabled on its branch with `delete_data: false`
 * (its users, keys and sessions stay in the provider, as the branch keeps users_sync). Enabling Neon Auth again on
 * that branch and database with the same provider reattaches it under its old integration id (same webhook URL and
 * signing secret; credentials encrypted bound to that id). Deleting the branch deletes the provider project.
 */
@Entity({ name: 'neon_auth_detached_projects' })
@Index('neon_auth_detached_projects_branch_idx', ['branchId'])
export class NeonAuthDetachedProjectEntity {
  @PrimaryColumn({ name: 'integration_id', type: 'uuid' })
  integrationId!: string;

  @Column({ name: 'project_id', type: 'text' })
  projectId!: string;

  @Column({ name: 'branch_id', type: 'text' })
  branchId!: string;

  @ManyToOne(() => BranchEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'branch_id', foreignKeyConstraintName: 'FK_neon_auth_detached_projects_branch' })
  branch?: BranchEntity;

  @Column({ name: 'database_name', type: 'text' })
  databaseName!: string;

  @Column({ name: 'auth_provider', type: 'text' })
  authProvider!: NeonAuthProviderKind;

  @Column({ name: 'provider_project_id', type: 'text' })
  providerProjectId!: string;

  /** A started ownership transfer ('initiated'): the provider is asked before the project is ever deleted. */
  @Column({ name: 'transfer_status', type: 'text', nullable: true })
  transferStatus!: 'initiated' | 'finished' | null;

  @Column({ name: 'credentials_encrypted', type: 'text' })
  credentialsEncrypted!: string;

  @Column({ name: 'webhook_secret_encrypted', type: 'text', nullable: true })
  webhookSecretEncrypted!: string | null;

  @Column({ name: 'jwks_url', type: 'text' })
  jwksUrl!: string;

  @Column({ name: 'base_url', type: 'text', nullable: true })
  baseUrl!: string | null;

  @Column({ type: 'text', nullable: true })
  name!: string | null;

  @Column({ name: 'detached_at', type: 'timestamptz', default: () => 'now()' })
  detachedAt!: Date;
}

/**
 * Users whose rows were already live in users_sync when an integration started with a new provider project (users
 * of an earlier provider project whose data was kept): the reconcile of this integration never marks them deleted.
 */
@Entity({ name: 'neon_auth_foreign_users' })
export class NeonAuthForeignUserEntity {
  @PrimaryColumn({ name: 'integration_id', type: 'uuid' })
  integrationId!: string;

  @PrimaryColumn({ name: 'user_id', type: 'text' })
  userId!: string;
}
