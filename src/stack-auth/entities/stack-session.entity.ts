import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { StackUserEntity } from './stack-user.entity.js';

/**
 * A sign-in session: its refresh token (stored as a SHA-256 hash) and the access tokens minted from it. Expired and
 * revoked sessions are deleted on a schedule (SessionPrunerService), through the two indexes below.
 */
@Entity({ name: 'sessions', schema: 'stack_auth' })
@Index('stack_sessions_expires_at_idx', ['expiresAt'])
@Index('stack_sessions_revoked_idx', ['revokedAt'], { where: '"revoked_at" IS NOT NULL' })
export class StackSessionEntity {
  /** Carried by access tokens as `refresh_token_id`. */
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId!: string;

  @Index('stack_sessions_user_id_idx')
  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @ManyToOne(() => StackUserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: StackUserEntity;

  @Column({ name: 'refresh_token_hash', type: 'text', unique: true })
  refreshTokenHash!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
