import type { AppConfig } from '../config/config.js';

/** Settings of the embedded provider, derived from the process configuration. */
export interface StackAuthSettings {
  /** e.g. https://auth.example.com/stack-auth — what the SDK's `baseUrl` is set to. */
  baseUrl: string;
  /** Lifetime of access tokens, in seconds. */
  accessTokenTtlSeconds: number;
  /** Lifetime of refresh tokens (sessions), in seconds: Stack Auth's 365 days. */
  refreshTokenTtlSeconds: number;
}

export function stackAuthSettings(config: AppConfig): StackAuthSettings {
  return {
    baseUrl: `${config.publicUrl}/stack-auth`,
    accessTokenTtlSeconds: 600,
    refreshTokenTtlSeconds: 365 * 24 * 3600,
  };
}

/** Issuer of a project's access tokens, as Stack Auth builds it: `${baseUrl}/api/v1/projects/<id>`. */
export function stackIssuer(settings: StackAuthSettings, projectId: string): string {
  return `${settings.baseUrl}/api/v1/projects/${projectId}`;
}

/**
 * The integration client credentials (HTTP Basic) that Neon's provisioning calls present. Unless
 * configured, the secret is derived from the secrets key, so every replica sharing SECRETS_KEY agrees
 * on it and the control plane in the same deployment can compute it too.
 */
export function integrationClientCredentials(
  config: AppConfig,
  secrets: { derive(purpose: string): string },
): { clientId: string; clientSecret: string } {
  return {
    clientId: config.stackAuthIntegrationClientId,
    clientSecret: config.stackAuthIntegrationClientSecret ?? secrets.derive('stack-auth integration client secret v1'),
  };
}
