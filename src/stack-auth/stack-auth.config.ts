import type { AppConfig } from '../config/config.js';

/** Settings of the embedded provider, derived from the process configuration. */
export interface StackAuthSettings {
  /** e.g. https://auth.example.com/stack-auth — what the SDK's `baseUrl` is set to. */
  baseUrl: string;
  /** Lifetime of access tokens, in seconds. */
  accessTokenTtlSeconds: number;
  /** Lifetime of refresh tokens (sessions), in seconds: Stack Auth's 365 days. */
  refreshTokenTtlSeconds: number;
  /** How often expired and revoked sessions are deleted (STACK_AUTH_PRUNE_INTERVAL_SECONDS). */
  pruneIntervalSeconds: number;
  /** A user's last_active_at moves at most this often (seconds): activity is recorded to the minute, not per request. */
  activityResolutionSeconds: number;
}

export function stackAuthSettings(config: AppConfig): StackAuthSettings {
  return {
    baseUrl: `${config.publicUrl}/stack-auth`,
    accessTokenTtlSeconds: 600,
    refreshTokenTtlSeconds: 365 * 24 * 3600,
    pruneIntervalSeconds: config.stackAuthPruneIntervalSeconds,
    activityResolutionSeconds: 60,
  };
}

/** Issuer of a project's access tokens, as Stack Auth builds it: `${baseUrl}/api/v1/projects/<id>`. */
export function stackIssuer(settings: StackAuthSettings, projectId: string): string {
  return `${settings.baseUrl}/api/v1/projects/${projectId}`;
}

/**
 * Stack Auth issues the tokens of anonymous and of restricted users under their own issuer and audience
 * (`projects-anonymous-users` / `<id>:anon`, `projects-restricted-users` / `<id>:restricted`), so that a
 * verifier configured for regular users (issuer `projects/<id>`, audience `<id>`, as its docs say) refuses them.
 */
export type AccessTokenKind = 'regular' | 'restricted' | 'anonymous';

export const ACCESS_TOKEN_KINDS: readonly AccessTokenKind[] = ['regular', 'restricted', 'anonymous'];

export function stackTokenIssuer(settings: StackAuthSettings, projectId: string, kind: AccessTokenKind): string {
  if (kind === 'regular') return stackIssuer(settings, projectId);
  return `${settings.baseUrl}/api/v1/${kind === 'anonymous' ? 'projects-anonymous-users' : 'projects-restricted-users'}/${projectId}`;
}

export function stackTokenAudience(projectId: string, kind: AccessTokenKind): string {
  return kind === 'regular' ? projectId : `${projectId}:${kind === 'anonymous' ? 'anon' : 'restricted'}`;
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
