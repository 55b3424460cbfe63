import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { AccountEntity } from '../../iam/entities/account.entity.js';
import { OrganizationEntity } from '../../iam/entities/organization.entity.js';

/** Project settings as Neon names them (snake_case, stored as given). */
export interface ProjectSettings {
  allowed_ips?: { ips?: string[]; protected_branches_only?: boolean };
  block_public_connections?: boolean;
  block_vpc_connections?: boolean;
  enable_logical_replication?: boolean;
  [key: string]: unknown;
}

@Entity({ name: 'projects' })
export class ProjectEntity {
  /** Neon-style id, e.g. "shiny-meadow-12345678". */
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Index('projects_org_id_idx')
  @Column({ name: 'org_id', type: 'text' })
  orgId!: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'org_id' })
  org?: OrganizationEntity;

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'region_id', type: 'text' })
  regionId!: string;

  @Column({ name: 'pg_version', type: 'integer' })
  pgVersion!: number;

  @Column({ type: 'jsonb', default: {} }) // an object default, so TypeORM's schema diff can compare it with the DB's '{}'::jsonb
  settings!: ProjectSettings;

  @Column({ name: 'store_passwords', type: 'boolean', default: true })
  storePasswords!: boolean;

  @Column({ name: 'history_retention_seconds', type: 'integer', default: 86400 })
  historyRetentionSeconds!: number;

  @Column({ name: 'creation_source', type: 'text', default: 'api' })
  creationSource!: string;

  /** Account that created the project; null when an organization key created it. */
  @Column({ name: 'owner_id', type: 'uuid', nullable: true })
  ownerId!: string | null;

  @ManyToOne(() => AccountEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'owner_id' })
  owner?: AccountEntity;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
