/**
 * Neon's per-branch settings row, `neon_auth.project_config`, as Neon's pg_dumps of Better Auth-era branches show it
 * (reference: neon-auth-better-auth.md "Tables"): one row per database, JSON columns with Neon's camelCase keys. It
 * lives in the branch database, so a branch copied from this one carries its settings along with its users.
 */

export interface EmailAndPasswordConfig {
  enabled: boolean;
  disableSignUp: boolean;
  emailVerificationMethod: 'link' | 'otp';
  requireEmailVerification: boolean;
  autoSignInAfterVerification: boolean;
  sendVerificationEmailOnSignIn: boolean;
  sendVerificationEmailOnSignUp: boolean;
  /** Extension (Better Auth's minPasswordLength / maxPasswordLength; Neon does not expose them): 8 and 128 by default. */
  minPasswordLength: number;
  maxPasswordLength: number;
}

/** Password length bounds the settings accept (Better Auth hashes at most 128 characters by default; scrypt takes any). */
export const PASSWORD_LENGTH_LIMITS = { min: 1, max: 1024, defaultMin: 8, defaultMax: 128 } as const;

/** The password bounds of a row that does not set them (Better Auth's defaults). */
export const DEFAULT_PASSWORD_LENGTHS = { minPasswordLength: PASSWORD_LENGTH_LIMITS.defaultMin, maxPasswordLength: PASSWORD_LENGTH_LIMITS.defaultMax };

export interface PluginConfigs {
  organization: {
    enabled: boolean;
    config: { creatorRole: 'owner' | 'admin'; membershipLimit: number; organizationLimit: number; sendInvitationEmail: boolean };
  };
  magicLink: { enabled: boolean; config: { expiresIn: number; disableSignUp: boolean } };
  phoneNumber: { enabled: boolean; config: { otp_expires_in: number } };
}

/** The OAuth providers Neon offers (NeonAuthOauthProviderId). */
export const OAUTH_PROVIDER_IDS = ['google', 'github', 'microsoft', 'vercel'] as const;
export type OAuthProviderId = (typeof OAUTH_PROVIDER_IDS)[number];

/**
 * One entry of `social_providers`. `isShared`: Neon's shared OAuth app (development only; no credentials here).
 * `clientSecret` is SEALED (encrypted with SECRETS_KEY, see sealedFieldContext): the row sits in the tenant's database.
 */
export interface SocialProviderConfig {
  id: OAuthProviderId;
  isShared: boolean;
  clientId?: string;
  clientSecret?: string;
  /** Microsoft only: the Entra tenant (`common`, `organizations`, `consumers` or a tenant id). */
  tenantId?: string;
}

/** `email_provider`: Neon's shared sender, or the branch's own SMTP server (`password` SEALED). */
export type EmailProviderConfig =
  | { type: 'shared'; senderEmail?: string; senderName?: string }
  | { type: 'standard'; host: string; port: number; username: string; password: string; senderEmail: string; senderName: string };

/** The events Neon's webhooks announce (NeonAuthWebhookConfig.enabled_events). */
export const WEBHOOK_EVENTS = [
  'user.before_create',
  'user.created',
  'send.otp',
  'send.magic_link',
  'organization.invitation.created',
  'organization.invitation.accepted',
  'phone_number.verified',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** `webhook_config` (Neon's keys: enabled, webhookUrl, enabledEvents, timeoutSeconds). */
export interface WebhookConfig {
  enabled: boolean;
  webhookUrl?: string;
  enabledEvents: WebhookEvent[];
  /** 1..10, default 5. */
  timeoutSeconds: number;
}

export interface ProjectConfig {
  id: string;
  name: string;
  endpointId: string;
  updatedAt: Date;
  trustedOrigins: string[];
  allowLocalhost: boolean;
  socialProviders: SocialProviderConfig[];
  emailProvider: EmailProviderConfig;
  emailAndPassword: EmailAndPasswordConfig;
  plugins: PluginConfigs;
  webhook: WebhookConfig;
}

/**
 * The origin a trusted domain stands for (`https://App.Example.com/` -> `https://app.example.com`; wildcards kept):
 * the API keeps domains as they were given (neonctl's `domain delete` looks for the string it was given), and this
 * form is what origins are compared with. A value that is not a URL (a row edited in SQL) stays as it is and matches
 * nothing but itself.
 */
export function trustedOriginForm(domain: string): string {
  try {
    const u = new URL(domain);
    return `${u.protocol}//${u.host}`;
  } catch {
    return domain;
  }
}

/** The settings a change may set (identity and version are the row's). */
export type ProjectSettings = Omit<ProjectConfig, 'id' | 'endpointId' | 'updatedAt'>;

/**
 * The additional authenticated data a sealed value of the row is encrypted with: the field, not the row or the
 * integration, so a branch copy (another integration, the row renamed) still opens its parent's secrets, while a
 * ciphertext moved to another field does not open. An OAuth client secret only ever goes to its provider's token
 * endpoint (fixed, or the operator's NEON_AUTH_OAUTH_ENDPOINTS), so moving one gains nothing.
 */
export function sealedFieldContext(field: 'social_providers.clientSecret'): string;
/**
 * The SMTP password is bound to the server it is for (host, port, login) as well: it leaves this product, so a
 * ciphertext that opened for another host (the row's host changed in SQL, or the sealed value copied next to another
 * host) would hand the password to whoever runs that host. It opens only beside the server it was saved for.
 */
export function sealedFieldContext(field: 'email_provider.password', server: SmtpServerIdentity): string;
export function sealedFieldContext(field: 'social_providers.clientSecret' | 'email_provider.password', server?: SmtpServerIdentity): string {
  const base = `neon_auth.project_config:${field}`;
  return server ? `${base}:${server.host.toLowerCase()}:${server.port}:${server.username}` : base;
}

/** What an SMTP password is bound to (sealedFieldContext). */
export interface SmtpServerIdentity {
  host: string;
  port: number;
  username: string;
}

export const DEFAULT_EMAIL_AND_PASSWORD: Omit<EmailAndPasswordConfig, 'minPasswordLength' | 'maxPasswordLength'> = {
  enabled: true,
  disableSignUp: false,
  emailVerificationMethod: 'otp',
  requireEmailVerification: false,
  autoSignInAfterVerification: true,
  sendVerificationEmailOnSignIn: false,
  sendVerificationEmailOnSignUp: false,
};

export const DEFAULT_PLUGIN_CONFIGS: PluginConfigs = {
  organization: { enabled: true, config: { creatorRole: 'owner', membershipLimit: 100, organizationLimit: 10, sendInvitationEmail: false } },
  magicLink: { enabled: false, config: { expiresIn: 5, disableSignUp: false } },
  phoneNumber: { enabled: false, config: { otp_expires_in: 300 } },
};

/** The JSON columns of a new row, as Neon writes them (social_providers: Google with shared credentials). */
export const DEFAULT_WEBHOOK_CONFIG: WebhookConfig = { enabled: false, enabledEvents: [], timeoutSeconds: 5 };

export const DEFAULT_PROJECT_CONFIG_COLUMNS = {
  trusted_origins: [] as string[],
  social_providers: [{ id: 'google', isShared: true }] as SocialProviderConfig[],
  email_provider: { type: 'shared' } as EmailProviderConfig,
  email_and_password: DEFAULT_EMAIL_AND_PASSWORD,
  allow_localhost: true,
  plugin_configs: DEFAULT_PLUGIN_CONFIGS,
  webhook_config: DEFAULT_WEBHOOK_CONFIG,
};

export interface ProjectConfigRow {
  id: string;
  name: string;
  endpoint_id: string;
  updated_at: Date;
  trusted_origins: unknown;
  allow_localhost: boolean;
  social_providers: unknown;
  email_provider: unknown;
  email_and_password: unknown;
  plugin_configs: unknown;
  webhook_config: unknown;
}

/** The columns project_config is read with (ProjectConfigRow). */
export const PROJECT_CONFIG_COLUMNS =
  'id, name, endpoint_id, updated_at, trusted_origins, allow_localhost, social_providers, email_provider, email_and_password, plugin_configs, webhook_config';

/** The settings columns of the row (Neon's column names and JSON keys). */
export interface ProjectConfigColumns {
  name: string;
  trusted_origins: string[];
  allow_localhost: boolean;
  social_providers: SocialProviderConfig[];
  email_provider: EmailProviderConfig;
  email_and_password: EmailAndPasswordConfig;
  plugin_configs: PluginConfigs;
  webhook_config: WebhookConfig;
}

/** The settings as the row stores them (Neon's column names and JSON keys). */
export function projectConfigColumns(settings: ProjectSettings): ProjectConfigColumns {
  return {
    name: settings.name,
    trusted_origins: settings.trustedOrigins,
    allow_localhost: settings.allowLocalhost,
    social_providers: settings.socialProviders,
    email_provider: settings.emailProvider,
    email_and_password: settings.emailAndPassword,
    plugin_configs: settings.plugins,
    webhook_config: settings.webhook,
  };
}

/**
 * The row as the server uses it. A tenant owns the table and may write anything into it: every value is checked and
 * a missing or malformed one falls back to Neon's default, so a bad edit never stops the branch's sign-ins.
 */
export function parseProjectConfig(row: ProjectConfigRow): ProjectConfig {
  const origins = Array.isArray(row.trusted_origins) ? row.trusted_origins.filter((o): o is string => typeof o === 'string') : [];
  const ep = objectOr(row.email_and_password);
  const plugins = objectOr(row.plugin_configs);
  const org = objectOr(plugins.organization);
  const orgConfig = objectOr(org.config);
  const magic = objectOr(plugins.magicLink);
  const magicConfig = objectOr(magic.config);
  const phone = objectOr(plugins.phoneNumber);
  const phoneConfig = objectOr(phone.config);
  const d = DEFAULT_PLUGIN_CONFIGS;
  return {
    id: row.id,
    name: row.name,
    endpointId: row.endpoint_id,
    updatedAt: row.updated_at,
    trustedOrigins: origins,
    allowLocalhost: row.allow_localhost !== false,
    socialProviders: parseSocialProviders(row.social_providers),
    emailProvider: parseEmailProvider(row.email_provider),
    webhook: parseWebhook(row.webhook_config),
    emailAndPassword: {
      enabled: bool(ep.enabled, DEFAULT_EMAIL_AND_PASSWORD.enabled),
      disableSignUp: bool(ep.disableSignUp, DEFAULT_EMAIL_AND_PASSWORD.disableSignUp),
      emailVerificationMethod: ep.emailVerificationMethod === 'link' ? 'link' : 'otp',
      requireEmailVerification: bool(ep.requireEmailVerification, DEFAULT_EMAIL_AND_PASSWORD.requireEmailVerification),
      autoSignInAfterVerification: bool(ep.autoSignInAfterVerification, DEFAULT_EMAIL_AND_PASSWORD.autoSignInAfterVerification),
      sendVerificationEmailOnSignIn: bool(ep.sendVerificationEmailOnSignIn, DEFAULT_EMAIL_AND_PASSWORD.sendVerificationEmailOnSignIn),
      sendVerificationEmailOnSignUp: bool(ep.sendVerificationEmailOnSignUp, DEFAULT_EMAIL_AND_PASSWORD.sendVerificationEmailOnSignUp),
      ...passwordLengths(ep),
    },
    plugins: {
      organization: {
        enabled: bool(org.enabled, d.organization.enabled),
        config: {
          creatorRole: orgConfig.creatorRole === 'admin' ? 'admin' : 'owner',
          membershipLimit: int(orgConfig.membershipLimit, d.organization.config.membershipLimit, 1, 1_000_000),
          organizationLimit: int(orgConfig.organizationLimit, d.organization.config.organizationLimit, 1, 1_000_000),
          sendInvitationEmail: bool(orgConfig.sendInvitationEmail, d.organization.config.sendInvitationEmail),
        },
      },
      magicLink: {
        enabled: bool(magic.enabled, d.magicLink.enabled),
        config: {
          expiresIn: int(magicConfig.expiresIn, d.magicLink.config.expiresIn, 5, 1440),
          disableSignUp: bool(magicConfig.disableSignUp, d.magicLink.config.disableSignUp),
        },
      },
      phoneNumber: {
        enabled: bool(phone.enabled, d.phoneNumber.enabled),
        config: { otp_expires_in: int(phoneConfig.otp_expires_in, d.phoneNumber.config.otp_expires_in, 60, 600) },
      },
    },
  };
}

function passwordLengths(ep: Record<string, unknown>): Pick<EmailAndPasswordConfig, 'minPasswordLength' | 'maxPasswordLength'> {
  const { min, max, defaultMin, defaultMax } = PASSWORD_LENGTH_LIMITS;
  const minPasswordLength = int(ep.minPasswordLength, defaultMin, min, max);
  const maxPasswordLength = int(ep.maxPasswordLength, Math.max(defaultMax, minPasswordLength), minPasswordLength, max);
  return { minPasswordLength, maxPasswordLength };
}

function parseSocialProviders(value: unknown): SocialProviderConfig[] {
  if (!Array.isArray(value)) return [];
  const out: SocialProviderConfig[] = [];
  for (const item of value) {
    const o = objectOr(item);
    const id = o.id;
    if (typeof id !== 'string' || !(OAUTH_PROVIDER_IDS as readonly string[]).includes(id) || out.some((p) => p.id === id)) continue;
    const entry: SocialProviderConfig = { id: id as OAuthProviderId, isShared: bool(o.isShared, typeof o.clientId !== 'string') };
    if (typeof o.clientId === 'string') entry.clientId = o.clientId;
    if (typeof o.clientSecret === 'string') entry.clientSecret = o.clientSecret;
    if (typeof o.tenantId === 'string') entry.tenantId = o.tenantId;
    out.push(entry);
  }
  return out;
}

function parseEmailProvider(value: unknown): EmailProviderConfig {
  const o = objectOr(value);
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  if (o.type === 'standard') {
    const port = int(o.port, 0, 1, 65535);
    const host = text(o.host);
    if (host && port) {
      return {
        type: 'standard',
        host,
        port,
        username: text(o.username) ?? '',
        password: text(o.password) ?? '',
        senderEmail: text(o.senderEmail) ?? '',
        senderName: text(o.senderName) ?? '',
      };
    }
  }
  const shared: EmailProviderConfig = { type: 'shared' };
  if (text(o.senderEmail)) shared.senderEmail = text(o.senderEmail);
  if (text(o.senderName)) shared.senderName = text(o.senderName);
  return shared;
}

function parseWebhook(value: unknown): WebhookConfig {
  const o = objectOr(value);
  const events = Array.isArray(o.enabledEvents) ? o.enabledEvents.filter((e): e is WebhookEvent => (WEBHOOK_EVENTS as readonly unknown[]).includes(e)) : [];
  const out: WebhookConfig = {
    enabled: bool(o.enabled, false),
    enabledEvents: [...new Set(events)],
    timeoutSeconds: int(o.timeoutSeconds, DEFAULT_WEBHOOK_CONFIG.timeoutSeconds, 1, 10),
  };
  if (typeof o.webhookUrl === 'string' && o.webhookUrl !== '') out.webhookUrl = o.webhookUrl;
  return out;
}

function objectOr(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function bool(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}

function int(value: unknown, fallback: number, min: number, max: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : fallback;
}
