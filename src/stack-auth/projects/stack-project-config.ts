import type { StackProjectConfig, StackProjectEntity, StackStoredEmailConfig, StackStoredOAuthProvider } from '../entities/stack-project.entity.js';
import { schemaProblems } from '../users/dto/stack-validation.js';
import { STACK_SHARED_OAUTH_PROVIDER_IDS, type ProjectUpdateInput } from './dto/project-update.dto.js';

/**
 * What `GET /internal/projects/current` shows instead of an OAuth client secret or the SMTP password. Stack Auth
 * answers both in clear to admin keys; the embedded provider stores them encrypted and never sends them back. The
 * placeholder is a non-empty string, so Stack's admin SDK (which throws on a missing secret) reads the project, and a
 * PATCH that sends it back (the SDK's read-modify-write, or the control plane's adapter) keeps the stored secret.
 */
export const REDACTED_SECRET = '[redacted]';

/** Stack Auth's handler path when a domain is added without one (what its SDK mounts by default). */
export const DEFAULT_HANDLER_PATH = '/handler';

/**
 * The additional authenticated data of a sealed config secret: the project and the field, so a ciphertext copied to
 * another project, provider or field does not open.
 */
export function stackConfigSecretContext(projectId: string, field: `oauth_providers.${string}.client_secret` | 'email_config.password'): string {
  return `stack_auth.projects:${projectId}:config.${field}`;
}

/** The project's OAuth providers (rows older than `oauth_providers`: their enabled ones, shared). */
export function oauthProvidersOf(config: StackProjectConfig): StackStoredOAuthProvider[] {
  return config.oauth_providers ?? (config.enabled_oauth_providers ?? []).map((p) => ({ id: p.id, type: 'shared' as const }));
}

export function emailConfigOf(config: StackProjectConfig): StackStoredEmailConfig {
  return config.email_config ?? { type: 'shared' };
}

/** `GET /projects/current`: the client fields only (no admin configuration, nothing sealed). */
export function clientProjectConfig(config: StackProjectConfig) {
  return {
    sign_up_enabled: config.sign_up_enabled,
    credential_enabled: config.credential_enabled,
    magic_link_enabled: config.magic_link_enabled,
    passkey_enabled: config.passkey_enabled,
    client_team_creation_enabled: config.client_team_creation_enabled,
    client_user_deletion_enabled: config.client_user_deletion_enabled,
    allow_localhost: config.allow_localhost,
    allow_user_api_keys: config.allow_user_api_keys,
    allow_team_api_keys: config.allow_team_api_keys,
    enabled_oauth_providers: oauthProvidersOf(config).map((p) => ({ id: p.id })),
    domains: config.domains ?? [],
  };
}

/**
 * Stack Auth's admin project (`projectsCrudAdminReadSchema`, stack-shared 2.8.108), secrets redacted. The fields
 * for features the embedded provider does not have (teams, permissions, e-mail themes, onboarding) carry Stack's
 * defaults, so Stack's admin SDK can read the project.
 */
export function adminProjectView(project: StackProjectEntity) {
  const config = project.config;
  const email = emailConfigOf(config);
  return {
    id: project.id,
    display_name: project.displayName,
    description: project.description,
    created_at_millis: project.createdAt.getTime(),
    is_production_mode: false,
    is_development_environment: false,
    owner_team_id: null,
    onboarding_status: 'completed',
    config: {
      ...clientProjectConfig(config),
      oauth_providers: oauthProvidersOf(config).map((p) => ({
        provider_config_id: p.id,
        id: p.id,
        type: p.type,
        ...(p.type === 'standard' ? { client_id: p.client_id, client_secret: REDACTED_SECRET } : {}),
        ...(p.facebook_config_id !== undefined ? { facebook_config_id: p.facebook_config_id } : {}),
        ...(p.microsoft_tenant_id !== undefined ? { microsoft_tenant_id: p.microsoft_tenant_id } : {}),
        ...(p.apple_bundle_ids !== undefined ? { apple_bundle_ids: p.apple_bundle_ids } : {}),
      })),
      email_config:
        email.type === 'shared'
          ? { type: 'shared' }
          : {
              type: 'standard',
              host: email.host,
              port: email.port,
              username: email.username,
              password: REDACTED_SECRET,
              sender_name: email.sender_name,
              sender_email: email.sender_email,
            },
      email_theme: '1df07ae6-abf3-4a40-83a5-a1a2cbe336ac',
      create_team_on_sign_up: false,
      team_creator_default_permissions: [],
      team_member_default_permissions: [],
      user_default_permissions: [],
      oauth_account_merge_strategy: 'link_method',
    },
  };
}

type Seal = (plaintext: string, context: string) => string;

/**
 * The configuration after a validated PATCH body: absent fields keep their value, `domains` and `oauth_providers`
 * replace the lists, `email_config` replaces the e-mail server. A secret sent as REDACTED_SECRET keeps the one stored
 * for that provider (or the stored SMTP password); there must be one. New secrets are sealed with `seal`.
 */
export function applyProjectUpdate(projectId: string, current: StackProjectConfig, update: NonNullable<ProjectUpdateInput['config']>, seal: Seal): StackProjectConfig {
  const next: StackProjectConfig = { ...current };
  for (const key of [
    'sign_up_enabled',
    'credential_enabled',
    'magic_link_enabled',
    'passkey_enabled',
    'client_team_creation_enabled',
    'client_user_deletion_enabled',
    'allow_localhost',
    'allow_user_api_keys',
    'allow_team_api_keys',
  ] as const) {
    if (update[key] !== undefined) next[key] = update[key];
  }
  if (update.domains !== undefined) next.domains = update.domains.map((d) => ({ domain: d.domain, handler_path: d.handler_path }));

  if (update.oauth_providers !== undefined) {
    const stored = new Map(oauthProvidersOf(current).map((p) => [p.id, p]));
    const seen = new Set<string>();
    const problems: string[] = [];
    const providers = update.oauth_providers.map((p, i): StackStoredOAuthProvider => {
      const path = `body.config.oauth_providers[${i}]`;
      if (seen.has(p.id)) problems.push(`${path}.id: ${p.id} is listed twice`);
      seen.add(p.id);
      if (p.type === 'shared') {
        if (!STACK_SHARED_OAUTH_PROVIDER_IDS.includes(p.id)) problems.push(`${path}.type: ${p.id} has no shared keys; use type "standard" with your own client_id and client_secret`);
        return { id: p.id, type: 'shared' };
      }
      let sealed: string | undefined;
      if (p.client_secret === REDACTED_SECRET) {
        sealed = stored.get(p.id)?.client_secret_sealed;
        if (sealed === undefined) problems.push(`${path}.client_secret: no client secret is stored for ${p.id}; send the secret itself`);
      } else {
        sealed = seal(p.client_secret!, stackConfigSecretContext(projectId, `oauth_providers.${p.id}.client_secret`));
      }
      return {
        id: p.id,
        type: 'standard',
        client_id: p.client_id!,
        client_secret_sealed: sealed,
        ...(p.facebook_config_id !== undefined ? { facebook_config_id: p.facebook_config_id } : {}),
        ...(p.microsoft_tenant_id !== undefined ? { microsoft_tenant_id: p.microsoft_tenant_id } : {}),
        ...(p.apple_bundle_ids !== undefined ? { apple_bundle_ids: p.apple_bundle_ids } : {}),
      };
    });
    if (problems.length > 0) schemaProblems(problems);
    next.oauth_providers = providers;
  } else {
    next.oauth_providers = oauthProvidersOf(current);
  }
  next.enabled_oauth_providers = next.oauth_providers.map((p) => ({ id: p.id }));

  const email = update.email_config;
  if (email !== undefined) {
    if (email.type === 'shared') {
      next.email_config = { type: 'shared' };
    } else {
      const stored = emailConfigOf(current);
      let sealed: string;
      if (email.password === REDACTED_SECRET) {
        if (stored.type !== 'standard') schemaProblems(['body.config.email_config.password: no password is stored; send the password itself']);
        sealed = stored.password_sealed;
      } else {
        sealed = seal(email.password!, stackConfigSecretContext(projectId, 'email_config.password'));
      }
      next.email_config = {
        type: 'standard',
        host: email.host!,
        port: email.port!,
        username: email.username!,
        password_sealed: sealed,
        sender_name: email.sender_name!,
        sender_email: email.sender_email!,
      };
    }
  }
  return next;
}
