import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { BranchEntity } from '../../projects/entities/branch.entity.js';

/**
 * A message a branch's Better Auth server wanted to send (verification link, one-time code, magic link, invitation)
 * while no e-mail provider is configured for it: kept here, for the organization's admins to read through
 * `GET …/branches/{branch_id}/auth/mailbox`, never written to a log. Goes with its branch; pruned after a day.
 */
@Entity({ name: 'neon_auth_mailbox' })
@Index('neon_auth_mailbox_branch_idx', ['branchId', 'createdAt'])
export class MailboxMessageEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'integration_id', type: 'uuid' })
  integrationId!: string;

  @Column({ name: 'project_id', type: 'text' })
  projectId!: string;

  @Column({ name: 'branch_id', type: 'text' })
  branchId!: string;

  @ManyToOne(() => BranchEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'branch_id', foreignKeyConstraintName: 'FK_neon_auth_mailbox_branch' })
  branch?: BranchEntity;

  @Column({ name: 'database_name', type: 'text' })
  databaseName!: string;

  @Column({ type: 'text' })
  kind!: string;

  @Column({ type: 'text' })
  recipient!: string;

  @Column({ type: 'text' })
  subject!: string;

  @Column({ type: 'text' })
  body!: string;

  @Column({ type: 'jsonb' })
  data!: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
