import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { AccountEntity } from './account.entity.js';
import { ProjectEntity } from '../../projects/entities/project.entity.js';
import { OrganizationEntity } from './organization.entity.js';

export type ApiKeyKind = 'personal' | 'organization' | 'project';

/**
 * An API key. Only the SHA-256 of the secret is stored: keys carry 330 random bits, so a fast
 * hash is enough to make the stored value useless to an attacker who reads the table.
 */
@Entity({ name: 'api_keys' })
@Check('api_keys_kind_check', `kind IN ('personal', 'organization', 'project')`)
@Check(
  'api_keys_scope_check',
  `(kind = 'personal' AND account_id IS NOT NULL AND org_id IS NULL AND project_id IS NULL)
   OR (kind = 'organization' AND org_id IS NOT NULL AND project_id IS NULL)
   OR (kind = 'project' AND org_id IS NOT NULL AND project_id IS NOT NULL)`,
)
export class ApiKeyEntity {
  /** Neon exposes key ids as int64. TypeORM reads bigint as a string. */
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id!: string;

  @Column({ type: 'text' })
  kind!: ApiKeyKind;

  @Column({ type: 'text' })
  name!: string;

  /** Hex SHA-256 of the full key. */
  @Column({ name: 'token_hash', type: 'text', unique: true })
  tokenHash!: string;

  /** Owner of a personal key. */
  @Index('api_keys_account_id_idx')
  @Column({ name: 'account_id', type: 'uuid', nullable: true })
  accountId!: string | null;

  @ManyToOne(() => AccountEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'account_id' })
  account?: AccountEntity;

  @Index('api_keys_org_id_idx')
  @Column({ name: 'org_id', type: 'text', nullable: true })
  orgId!: string | null;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'org_id' })
  org?: OrganizationEntity;

  /** The project a project-scoped key is limited to; deleting the project deletes its keys. */
  @Index('api_keys_project_id_idx')
  @Column({ name: 'project_id', type: 'text', nullable: true })
  projectId!: string | null;

  @ManyToOne(() => ProjectEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: ProjectEntity;

  /** Account that created the key (for organization and project keys: the admin). */
  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy!: string | null;

  @ManyToOne(() => AccountEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by' })
  creator?: AccountEntity;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  @Column({ name: 'last_used_from_addr', type: 'text', default: '' })
  lastUsedFromAddr!: string;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
