import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { StackProjectEntity } from './stack-project.entity.js';

export interface RiskScores {
  sign_up: { bot: number; free_trial_abuse: number };
}

/** A user of a provider project, with every field of Stack Auth's server user object. */
@Entity({ name: 'users', schema: 'stack_auth' })
@Index('stack_users_project_signed_up_idx', ['projectId', 'signedUpAt', 'id'])
@Index('stack_users_project_last_active_idx', ['projectId', 'lastActiveAt', 'id'])
// At most one user of a project signs in with a given email (emails are stored normalized).
@Index('stack_users_auth_email_key', ['projectId', 'primaryEmail'], { unique: true, where: 'primary_email_auth_enabled' })
export class StackUserEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'project_id', type: 'uuid' })
  projectId!: string;

  @ManyToOne(() => StackProjectEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project?: StackProjectEntity;

  @Column({ name: 'display_name', type: 'text', nullable: true })
  displayName!: string | null;

  /** Normalized (trimmed, lower-cased). */
  @Column({ name: 'primary_email', type: 'text', nullable: true })
  primaryEmail!: string | null;

  @Column({ name: 'primary_email_verified', type: 'boolean', default: false })
  primaryEmailVerified!: boolean;

  @Column({ name: 'primary_email_auth_enabled', type: 'boolean', default: false })
  primaryEmailAuthEnabled!: boolean;

  /** bcrypt hash in Modular Crypt Format; null when the user has no password. */
  @Column({ name: 'password_hash', type: 'text', nullable: true })
  passwordHash!: string | null;

  @Column({ name: 'profile_image_url', type: 'text', nullable: true })
  profileImageUrl!: string | null;

  @Column({ name: 'client_metadata', type: 'jsonb', nullable: true })
  clientMetadata!: unknown;

  @Column({ name: 'client_read_only_metadata', type: 'jsonb', nullable: true })
  clientReadOnlyMetadata!: unknown;

  @Column({ name: 'server_metadata', type: 'jsonb', nullable: true })
  serverMetadata!: unknown;

  @Column({ name: 'otp_auth_enabled', type: 'boolean', default: false })
  otpAuthEnabled!: boolean;

  @Column({ name: 'passkey_auth_enabled', type: 'boolean', default: false })
  passkeyAuthEnabled!: boolean;

  /** TOTP secret (base64), encrypted with the secrets key; null when TOTP MFA is off. */
  @Column({ name: 'totp_secret_encrypted', type: 'text', nullable: true })
  totpSecretEncrypted!: string | null;

  @Column({ name: 'is_anonymous', type: 'boolean', default: false })
  isAnonymous!: boolean;

  @Column({ name: 'restricted_by_admin', type: 'boolean', default: false })
  restrictedByAdmin!: boolean;

  @Column({ name: 'restricted_by_admin_reason', type: 'text', nullable: true })
  restrictedByAdminReason!: string | null;

  @Column({ name: 'restricted_by_admin_private_details', type: 'text', nullable: true })
  restrictedByAdminPrivateDetails!: string | null;

  @Column({ name: 'country_code', type: 'text', nullable: true })
  countryCode!: string | null;

  @Column({ name: 'risk_scores', type: 'jsonb' })
  riskScores!: RiskScores;

  @Column({ name: 'signed_up_at', type: 'timestamptz' })
  signedUpAt!: Date;

  @Column({ name: 'last_active_at', type: 'timestamptz' })
  lastActiveAt!: Date;

  /** Bumped on every change; webhooks and the sync engine order a user's states by it. */
  @Column({ type: 'bigint', default: 1 })
  version!: string;
}
