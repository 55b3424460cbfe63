import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { StackProjectEntity } from './stack-project.entity.js';

/** An ownership transfer of a Neon-managed project to a provider account; its code is single-use. */
@Entity({ name: 'ownership_transfers', schema: 'stack_auth' })
export class StackOwnershipTransferEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('stack_ownership_transfers_project_id_idx')
  @Column({ name: 'project_id', type: 'uuid' })
  projectId!: string;

  @ManyToOne(() => StackProjectEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: StackProjectEntity;

  /** SHA-256 of the code in the confirm URL. */
  @Column({ name: 'code_hash', type: 'text', unique: true })
  codeHash!: string;

  /** 'initiated' until confirmed ('finished'); an unconfirmed code expires at expires_at. */
  @Column({ type: 'text', default: 'initiated' })
  status!: 'initiated' | 'finished';

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  /** The provider account that received the project. */
  @Column({ name: 'new_owner_email', type: 'text', nullable: true })
  newOwnerEmail!: string | null;
}
