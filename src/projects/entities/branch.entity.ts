import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { ProjectEntity } from './project.entity.js';

@Entity({ name: 'branches' })
@Index('branches_project_name_key', ['projectId', 'name'], { unique: true })
@Index('branches_project_default_key', ['projectId'], { unique: true, where: 'is_default' })
export class BranchEntity {
  /** Neon-style id, e.g. "br-quiet-river-482913". */
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ name: 'project_id', type: 'text' })
  projectId!: string;

  @ManyToOne(() => ProjectEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: ProjectEntity;

  @Column({ name: 'parent_id', type: 'text', nullable: true })
  parentId!: string | null;

  @ManyToOne(() => BranchEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'parent_id' })
  parent?: BranchEntity;

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'is_default', type: 'boolean', default: false })
  isDefault!: boolean;

  @Column({ name: 'is_protected', type: 'boolean', default: false })
  isProtected!: boolean;

  @Column({ name: 'current_state', type: 'text', default: 'ready' })
  currentState!: string;

  @Column({ name: 'state_changed_at', type: 'timestamptz', default: () => 'now()' })
  stateChangedAt!: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
