import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { AccountEntity } from './account.entity.js';
import type { OrgRole } from './member.entity.js';
import { OrganizationEntity } from './organization.entity.js';

@Entity({ name: 'organization_invitations' })
@Check('organization_invitations_role_check', `role IN ('admin', 'member')`)
@Index('organization_invitations_pending_key', ['orgId', 'email'], { unique: true, where: 'accepted_at IS NULL' })
export class InvitationEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'org_id', type: 'text' })
  orgId!: string;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'org_id' })
  org?: OrganizationEntity;

  /** Stored lower-cased. */
  @Column({ type: 'text' })
  email!: string;

  @Column({ type: 'text' })
  role!: OrgRole;

  @Column({ name: 'invited_by', type: 'uuid', nullable: true })
  invitedBy!: string | null;

  @ManyToOne(() => AccountEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'invited_by' })
  inviter?: AccountEntity;

  @CreateDateColumn({ name: 'invited_at', type: 'timestamptz' })
  invitedAt!: Date;

  @Column({ name: 'accepted_at', type: 'timestamptz', nullable: true })
  acceptedAt!: Date | null;

  @Column({ name: 'accepted_by', type: 'uuid', nullable: true })
  acceptedBy!: string | null;

  @ManyToOne(() => AccountEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'accepted_by' })
  acceptor?: AccountEntity;
}
