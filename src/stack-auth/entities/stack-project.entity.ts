import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** Project configuration as the client API exposes it (`GET /projects/current`). */
export interface StackProjectConfig {
  sign_up_enabled: boolean;
  credential_enabled: boolean;
  magic_link_enabled: boolean;
  passkey_enabled: boolean;
  client_team_creation_enabled: boolean;
  client_user_deletion_enabled: boolean;
  allow_localhost: boolean;
  allow_user_api_keys: boolean;
  allow_team_api_keys: boolean;
  enabled_oauth_providers: { id: string }[];
  domains: { domain: string; handler_path: string }[];
}

export const DEFAULT_PROJECT_CONFIG: StackProjectConfig = {
  sign_up_enabled: true,
  credential_enabled: true,
  magic_link_enabled: false,
  passkey_enabled: false,
  client_team_creation_enabled: false,
  client_user_deletion_enabled: false,
  allow_localhost: true,
  allow_user_api_keys: false,
  allow_team_api_keys: false,
  enabled_oauth_providers: [],
  domains: [],
};

/** A provider project (Stack Auth's "project"): its own users, keys, signing keys and webhooks. */
@Entity({ name: 'projects', schema: 'stack_auth' })
export class StackProjectEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'display_name', type: 'text' })
  displayName!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  @Column({ type: 'jsonb' })
  config!: StackProjectConfig;

  /** 'neon' while Neon manages the project (Quick Start); 'user' once ownership was transferred. */
  @Column({ name: 'owned_by', type: 'text', default: 'neon' })
  ownedBy!: 'neon' | 'user';

  /** The Idempotency-Key of the provision call that made it (a repeat answers this project). */
  @Column({ name: 'provision_key', type: 'text', nullable: true, unique: true })
  provisionKey!: string | null;

  /** The provider account that owns the project after a transfer. */
  @Column({ name: 'owner_email', type: 'text', nullable: true })
  ownerEmail!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
