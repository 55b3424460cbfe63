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
}

export interface PluginConfigs {
  organization: {
    enabled: boolean;
    config: { creatorRole: 'owner' | 'admin'; membershipLimit: number; organizationLimit: number; sendInvitationEmail: boolean };
  };
  magicLink: { enabled: boolean; config: { expiresIn: number; disableSignUp: boolean } };
  phoneNumber: { enabled: boolean; config: { otp_expires_in: number } };
}

export interface ProjectConfig {
  id: string;
  name: string;
  endpointId: string;
  updatedAt: Date;
  trustedOrigins: string[];
  allowLocalhost: boolean;
  emailAndPassword: EmailAndPasswordConfig;
  plugins: PluginConfigs;
}

export const DEFAULT_EMAIL_AND_PASSWORD: EmailAndPasswordConfig = {
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
export const DEFAULT_PROJECT_CONFIG_COLUMNS = {
  trusted_origins: [] as string[],
  social_providers: [{ id: 'google', isShared: true }],
  email_provider: { type: 'shared' },
  email_and_password: DEFAULT_EMAIL_AND_PASSWORD,
  allow_localhost: true,
  plugin_configs: DEFAULT_PLUGIN_CONFIGS,
  webhook_config: { enabled: false, enabledEvents: [] as string[], timeoutSeconds: 5 },
};

export interface ProjectConfigRow {
  id: string;
  name: string;
  endpoint_id: string;
  updated_at: Date;
  trusted_origins: unknown;
  allow_localhost: boolean;
  email_and_password: unknown;
  plugin_configs: unknown;
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
    emailAndPassword: {
      enabled: bool(ep.enabled, DEFAULT_EMAIL_AND_PASSWORD.enabled),
      disableSignUp: bool(ep.disableSignUp, DEFAULT_EMAIL_AND_PASSWORD.disableSignUp),
      emailVerificationMethod: ep.emailVerificationMethod === 'link' ? 'link' : 'otp',
      requireEmailVerification: bool(ep.requireEmailVerification, DEFAULT_EMAIL_AND_PASSWORD.requireEmailVerification),
      autoSignInAfterVerification: bool(ep.autoSignInAfterVerification, DEFAULT_EMAIL_AND_PASSWORD.autoSignInAfterVerification),
      sendVerificationEmailOnSignIn: bool(ep.sendVerificationEmailOnSignIn, DEFAULT_EMAIL_AND_PASSWORD.sendVerificationEmailOnSignIn),
      sendVerificationEmailOnSignUp: bool(ep.sendVerificationEmailOnSignUp, DEFAULT_EMAIL_AND_PASSWORD.sendVerificationEmailOnSignUp),
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

function objectOr(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function bool(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}

function int(value: unknown, fallback: number, min: number, max: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : fallback;
}
