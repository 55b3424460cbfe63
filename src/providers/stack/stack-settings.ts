import {
  DEFAULT_EMAIL_AND_PASSWORD,
  DEFAULT_PASSWORD_LENGTHS,
  DEFAULT_PLUGIN_CONFIGS,
  DEFAULT_WEBHOOK_CONFIG,
  OAUTH_PROVIDER_IDS,
  sealedFieldContext,
  type EmailProviderConfig,
  type ProjectSettings,
  type SocialProviderConfig,
} from '../../better-auth/project-config.js';
import { ProviderRequestRejected, ProviderUnavailable, type SettingsSection } from '../auth-provider.port.js';

/**
 * Neon Auth's settings of a `stack` integration, kept in the Stack project's own configuration (Stack Auth's admin
 * `GET/PATCH /api/v1/internal/projects/current`, body `{config: {...}}`), mapped to and from the ProjectSettings
 * document of the provider port:
 *
 * - trusted_domains: a Stack domain is a URL plus the path its SDK handler is mounted at. An origin becomes
 *   `{domain: origin, handler_path: '/handler'}` (the SDK's default handler), so Stack trusts the redirect and callback
 *   URLs under `<origin>/handler`, as it does for domains added in its dashboard. Back, a domain is its `domain`
 *   without trailing slashes; a domain kept across an update keeps its own handler_path (set in Stack's dashboard).
 * - allow_localhost: `allow_localhost`.
 * - oauth_providers: google, github, microsoft (Stack has no vercel): `{id, type: shared|standard, client_id,
 *   client_secret, microsoft_tenant_id}`. Stack's other providers (spotify, discord, ...) are not Neon's: they are
 *   never shown and an update keeps them as they are.
 * - email_provider: `email_config`; Stack's shared sender has no sender name or address of its own to set.
 *
 * Secrets: the document holds them sealed (sealedFieldContext). Whatever Stack answers as a secret is sealed as it is:
 * a Stack Auth server answers the secret itself; the embedded provider answers a redaction placeholder and keeps the
 * stored secret when the placeholder comes back. An update therefore unseals every standard entry's secret and sends
 * it (plaintext to Stack's admin API over the configured base URL; never logged): an unchanged secret is the same
 * value (or the same placeholder) again.
 */
export const STACK_SETTINGS_SECTIONS: readonly SettingsSection[] = ['trusted_domains', 'allow_localhost', 'oauth_providers', 'email_provider'];
/** Neon's OAuth providers that Stack Auth has (Stack has no vercel). */
export const STACK_OAUTH_PROVIDERS: readonly string[] = ['google', 'github', 'microsoft'];
/** The handler path a domain gets when it is added through Neon's API (Stack's SDK default). */
export const STACK_DEFAULT_HANDLER_PATH = '/handler';

export interface StackDomain {
  domain: string;
  handler_path: string;
}

/** One `config.oauth_providers` entry as Stack answers it (read shape; `provider_config_id` dropped on write). */
export interface StackOAuthProviderEntry {
  provider_config_id?: string;
  id: string;
  type: 'shared' | 'standard';
  client_id?: string;
  client_secret?: string;
  facebook_config_id?: string;
  microsoft_tenant_id?: string;
  apple_bundle_ids?: string[];
}

export interface StackEmailConfig {
  type: 'shared' | 'standard';
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  sender_name?: string;
  sender_email?: string;
}

/** The parts of Stack's admin project the settings use. */
export interface StackAdminProject {
  id: string;
  display_name?: string;
  config: {
    allow_localhost: boolean;
    sign_up_enabled?: boolean;
    credential_enabled?: boolean;
    magic_link_enabled?: boolean;
    domains: StackDomain[];
    oauth_providers: StackOAuthProviderEntry[];
    email_config: StackEmailConfig;
  };
}

/** Encrypts and opens the document's secrets with SECRETS_KEY; `context` is sealedFieldContext of the field. */
export interface Sealer {
  seal(plaintext: string, context: string): string;
  unseal(sealed: string, context: string): string;
}

/** Stack's answer, checked enough that the mapping cannot misread it. */
export function parseAdminProject(value: unknown, operation: string): StackAdminProject {
  const project = value as StackAdminProject | null;
  const config = project?.config;
  if (
    !project ||
    typeof project !== 'object' ||
    !config ||
    typeof config !== 'object' ||
    typeof config.allow_localhost !== 'boolean' ||
    !Array.isArray(config.domains) ||
    !Array.isArray(config.oauth_providers) ||
    !config.email_config ||
    typeof config.email_config !== 'object'
  ) {
    throw new ProviderUnavailable(`${operation}: the auth provider answered a project without its configuration (domains, allow_localhost, oauth_providers, email_config)`);
  }
  return project;
}

/** A domain as Neon shows it: the URL without trailing slashes. */
export function originOf(domain: string): string {
  return domain.replace(/\/+$/, '');
}

export function settingsFromStack(project: StackAdminProject, sealer: Sealer): ProjectSettings {
  const c = project.config;
  const origins = [...new Set(c.domains.filter((d) => typeof d?.domain === 'string').map((d) => originOf(d.domain)))];
  const socialProviders: SocialProviderConfig[] = [];
  for (const p of c.oauth_providers) {
    if (!STACK_OAUTH_PROVIDERS.includes(p.id)) continue;
    const entry: SocialProviderConfig = { id: p.id as SocialProviderConfig['id'], isShared: p.type !== 'standard' };
    if (p.type === 'standard') {
      if (typeof p.client_id === 'string') entry.clientId = p.client_id;
      if (typeof p.client_secret === 'string' && p.client_secret !== '') entry.clientSecret = sealer.seal(p.client_secret, sealedFieldContext('social_providers.clientSecret'));
    }
    if (typeof p.microsoft_tenant_id === 'string') entry.tenantId = p.microsoft_tenant_id;
    socialProviders.push(entry);
  }
  const e = c.email_config;
  const emailProvider: EmailProviderConfig =
    e.type === 'standard'
      ? {
          type: 'standard',
          host: e.host ?? '',
          port: e.port ?? 0,
          username: e.username ?? '',
          password: typeof e.password === 'string' && e.password !== '' ? sealer.seal(e.password, sealedFieldContext('email_provider.password', { host: e.host ?? '', port: e.port ?? 0, username: e.username ?? '' })) : '',
          senderEmail: e.sender_email ?? '',
          senderName: e.sender_name ?? '',
        }
      : { type: 'shared' };
  return {
    name: project.display_name ?? '',
    trustedOrigins: origins,
    allowLocalhost: c.allow_localhost,
    socialProviders,
    emailProvider,
    // Not settings of a stack integration (the API refuses their sections): what Stack's switches say, else defaults.
    emailAndPassword: { ...DEFAULT_EMAIL_AND_PASSWORD, ...DEFAULT_PASSWORD_LENGTHS, enabled: c.credential_enabled !== false, disableSignUp: c.sign_up_enabled === false },
    plugins: { ...DEFAULT_PLUGIN_CONFIGS, magicLink: { ...DEFAULT_PLUGIN_CONFIGS.magicLink, enabled: c.magic_link_enabled === true } },
    webhook: DEFAULT_WEBHOOK_CONFIG,
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The `config` of the PATCH that turns `current` (read from `project`) into `next`: only the parts that changed.
 * A change of a part Stack does not keep is refused (ProviderRequestRejected 400), nothing is sent then.
 */
export function stackConfigChange(project: StackAdminProject, current: ProjectSettings, next: ProjectSettings, sealer: Sealer): Record<string, unknown> {
  const foreign = (
    [
      ['name', 'name'],
      ['emailAndPassword', 'email_and_password'],
      ['plugins', 'plugins'],
      ['webhook', 'webhooks'],
    ] as const
  ).filter(([key]) => !same(current[key], next[key]));
  if (foreign.length > 0) {
    throw new ProviderRequestRejected(`the stack provider does not keep ${foreign.map(([, section]) => section).join(', ')} in its settings`, 400);
  }
  const config: Record<string, unknown> = {};

  const wanted = [...new Set(next.trustedOrigins.map(originOf))];
  if (!same([...new Set(current.trustedOrigins)].sort(), [...wanted].sort())) {
    const kept = project.config.domains.filter((d) => wanted.includes(originOf(d.domain))).map((d) => ({ domain: d.domain, handler_path: d.handler_path }));
    const present = new Set(kept.map((d) => originOf(d.domain)));
    config.domains = [...kept, ...wanted.filter((o) => !present.has(o)).map((o) => ({ domain: o, handler_path: STACK_DEFAULT_HANDLER_PATH }))];
  }

  if (current.allowLocalhost !== next.allowLocalhost) config.allow_localhost = next.allowLocalhost;

  if (!same(current.socialProviders, next.socialProviders)) {
    const entries: Record<string, unknown>[] = next.socialProviders.map((p) => {
      if (!STACK_OAUTH_PROVIDERS.includes(p.id)) throw new ProviderRequestRejected(`the stack provider has no ${p.id} OAuth provider`, 400);
      if (p.isShared) return { id: p.id, type: 'shared' };
      const entry: Record<string, unknown> = { id: p.id, type: 'standard', client_id: p.clientId };
      if (p.clientSecret !== undefined) entry.client_secret = sealer.unseal(p.clientSecret, sealedFieldContext('social_providers.clientSecret'));
      if (p.id === 'microsoft' && p.tenantId !== undefined) entry.microsoft_tenant_id = p.tenantId;
      return entry;
    });
    // Stack's providers that are not Neon's stay as Stack has them (their secrets as Stack answered them).
    const neonIds: readonly string[] = OAUTH_PROVIDER_IDS;
    for (const raw of project.config.oauth_providers) {
      if (neonIds.includes(raw.id)) continue;
      const { provider_config_id: _ignored, ...write } = raw;
      entries.push(write);
    }
    config.oauth_providers = entries;
  }

  if (!same(current.emailProvider, next.emailProvider)) {
    const e = next.emailProvider;
    config.email_config =
      e.type === 'shared'
        ? { type: 'shared' }
        : {
            type: 'standard',
            host: e.host,
            port: e.port,
            username: e.username,
            password: e.password === '' ? '' : sealer.unseal(e.password, sealedFieldContext('email_provider.password', e)),
            sender_name: e.senderName,
            sender_email: e.senderEmail,
          };
  }
  return config;
}
