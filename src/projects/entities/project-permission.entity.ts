import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { AccountEntity } from '../../iam/entities/account.entity.js';
import { ProjectEntity } from './project.entity.js';

/** A project shared with a collaborator, by email (the account may sign up later). */
@Entity({ name: 'project_permissions' })
@Index('project_permissions_active_key', ['projectId', 'grantedToEmail'], { unique: true, where: 'revoked_at IS NULL' })
export class ProjectPermissionEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'project_id', type: 'text' })
  projectId!: string;

  @ManyToOne(() => ProjectEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: ProjectEntity;

  /** Stored lower-cased. */
  @Index('project_permissions_email_idx')
  @Column({ name: 'granted_to_email', type: 'text' })
  grantedToEmail!: string;

  @Column({ name: 'granted_by', type: 'uuid', nullable: true })
  grantedBy!: string | null;

  @ManyToOne(() => AccountEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'granted_by' })
  granter?: AccountEntity;

  @CreateDateColumn({ name: 'granted_at', type: 'timestamptz' })
  grantedAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
