import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { StackProjectEntity } from './stack-project.entity.js';

/**
 * A set of project keys as Stack Auth issues them: any of a publishable client key (`pck_`), a secret
 * server key (`ssk_`) and a super secret admin key (`sak_`). Only SHA-256 hashes are stored.
 */
@Entity({ name: 'api_key_sets', schema: 'stack_auth' })
export class StackApiKeySetEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('stack_api_key_sets_project_id_idx')
  @Column({ name: 'project_id', type: 'uuid' })
  projectId!: string;

  @ManyToOne(() => StackProjectEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: StackProjectEntity;

  @Column({ type: 'text', default: '' })
  description!: string;

  @Column({ name: 'publishable_client_key_hash', type: 'text', nullable: true, unique: true })
  publishableClientKeyHash!: string | null;

  @Column({ name: 'secret_server_key_hash', type: 'text', nullable: true, unique: true })
  secretServerKeyHash!: string | null;

  @Column({ name: 'super_secret_admin_key_hash', type: 'text', nullable: true, unique: true })
  superSecretAdminKeyHash!: string | null;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
