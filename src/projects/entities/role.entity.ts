import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { BranchEntity } from './branch.entity.js';

/**
 * A Postgres role of a branch. Roles are cluster-wide in Postgres, so the real role carries a
 * unique physical name; a child branch inherits its parent's roles (same physical role).
 */
@Entity({ name: 'branch_roles' })
@Index('branch_roles_branch_name_key', ['branchId', 'name'], { unique: true })
export class RoleEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'branch_id', type: 'text' })
  branchId!: string;

  @ManyToOne(() => BranchEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'branch_id' })
  branch?: BranchEntity;

  /** Name shown in the API, e.g. "neondb_owner". */
  @Column({ type: 'text' })
  name!: string;

  /** Name of the real Postgres role on the compute server. */
  @Column({ name: 'physical_name', type: 'text' })
  physicalName!: string;

  /** Password, encrypted with the secrets key (AES-256-GCM). */
  @Column({ name: 'password_encrypted', type: 'text' })
  passwordEncrypted!: string;

  @Column({ name: 'is_protected', type: 'boolean', default: false })
  isProtected!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
