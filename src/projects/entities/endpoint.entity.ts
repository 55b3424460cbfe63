import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { BranchEntity } from './branch.entity.js';
import { ProjectEntity } from './project.entity.js';

/** The read-write compute endpoint of a branch: where its databases are reached. */
@Entity({ name: 'endpoints' })
export class EndpointEntity {
  /** Neon-style id, e.g. "ep-cool-darkness-123456". */
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ name: 'project_id', type: 'text' })
  projectId!: string;

  @ManyToOne(() => ProjectEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: ProjectEntity;

  @Index('endpoints_branch_id_idx')
  @Column({ name: 'branch_id', type: 'text' })
  branchId!: string;

  @ManyToOne(() => BranchEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'branch_id' })
  branch?: BranchEntity;

  @Column({ type: 'text', default: 'read_write' })
  type!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
