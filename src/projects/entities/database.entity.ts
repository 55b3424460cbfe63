import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { BranchEntity } from './branch.entity.js';

/** A database of a branch, backed by one real database on the compute server. */
@Entity({ name: 'branch_databases' })
@Index('branch_databases_branch_name_key', ['branchId', 'name'], { unique: true })
export class DatabaseEntity {
  /** Neon exposes database ids as int64. TypeORM reads bigint as a string. */
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id!: string;

  @Column({ name: 'branch_id', type: 'text' })
  branchId!: string;

  @ManyToOne(() => BranchEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'branch_id' })
  branch?: BranchEntity;

  /** Name shown in the API, e.g. "neondb". */
  @Column({ type: 'text' })
  name!: string;

  /** Logical name of the owning role of this branch. */
  @Column({ name: 'owner_name', type: 'text' })
  ownerName!: string;

  /** Name of the real database on the compute server. */
  @Column({ name: 'physical_name', type: 'text', unique: true })
  physicalName!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
