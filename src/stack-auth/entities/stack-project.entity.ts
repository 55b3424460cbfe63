import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/**
 * One OAuth provider of the project (Stack Auth's admin `config.oauth_providers` entry). `client_secret_sealed`
 * is the client secret encrypted with SECRETS_KEY (context: stackConfigSecretContext); it is never sent back.
 */
export interface StackStoredOAuthProvider {
  /** Stack's provider type: google, github, microsoft, ... (one entry per type). */
  id: string;
  type: 'shared' | 'standard';
  client_id?: string;
  client_secret_sealed?: string;
  facebook_config_id?: string;
  microsoft_tenant_id?: string;
  apple_bundle_ids?: string[];
}

/** The project's e-mail server (Stack Auth's admin `config.email_config`); the SMTP password is sealed like a client secret. */
export type StackStoredEmailConfig =
  | { type: 'shared' }
  | { type: 'standard'; host: string; port: number; username: string; password_sealed: string; sender_name: string; sender_email: string };

/**
 * Project configuration. The client API (`GET /projects/current`) shows only the client fields (clientProjectConfig);
 * `oauth_providers` and `email_config` are admin-only and hold sealed secrets. Rows written before those two existed
 * lack them: their OAuth providers are the `enabled_oauth_providers` (shared), their e-mail server Stack's shared one.
 */
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
  /** Kept equal to the ids of `oauth_providers` on every write. */
  enabled_oauth_providers: { id: string }[];
  domains: { domain: string; handler_path: string }[];
  oauth_providers?: StackStoredOAuthProvider[];
  email_config?: StackStoredEmailConfig;
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
  oauth_providers: [],
  email_config: { type: 'shared' },
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
