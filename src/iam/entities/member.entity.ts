import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { AccountEntity } from './account.entity.js';
import { OrganizationEntity } from './organization.entity.js';

export type OrgRole = 'admin' | 'member';
export const ORG_ROLES: readonly OrgRole[] = ['admin', 'member'];

@Entity({ name: 'organization_members' })
@Check('organization_members_role_check', `role IN ('admin', 'member')`)
@Index('organization_members_org_account_key', ['orgId', 'accountId'], { unique: true })
export class MemberEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'org_id', type: 'text' })
  orgId!: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'org_id' })
  org?: OrganizationEntity;

  @Index('organization_members_account_id_idx')
  @Column({ name: 'account_id', type: 'uuid' })
  accountId!: string;

  @ManyToOne(() => AccountEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'account_id' })
  account?: AccountEntity;

  @Column({ type: 'text' })
  role!: OrgRole;

  @CreateDateColumn({ name: 'joined_at', type: 'timestamptz' })
  joinedAt!: Date;
}
