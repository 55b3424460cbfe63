import { isIP } from 'node:net';
import path from 'node:path';
import { parseOutboundAllowList, type OutboundAllowEntry } from '../common/outbound-url-policy.js';
import { NEON_ID_PATTERN, NEON_ID_SOURCE } from '../common/validation.js';
import { OAUTH_PROVIDER_IDS, type OAuthProviderId } from '../better-auth/project-config.js';

/**
 * The process configuration, read once from the environment and validated as a whole:
 * every bad variable is reported in one error, so an operator fixes them in one pass.
 */
export interface AppConfig {
  /** TCP port of the HTTP server. */
  port: number;
  /** TCP port of the sync worker's /metrics and /health (`npm run worker`; WORKER_PORT). */
  workerPort: number;
  /** Interface the HTTP server binds to. */
  host: string;
  /** Base URL the server hands out in links (no trailing slash). */
  publicUrl: string;
  /** Directory for the embedded PostgreSQL data, the bootstrap key file and the secrets key. */
  dataDir: string;
  /** Control-plane database. Unset means: start an embedded PostgreSQL under dataDir. */
  databaseUrl?: string;
  /** Server that hosts branch databases. Unset means: the control-plane server. */
  computeDatabaseUrl?: string;
  /** Host name put into connection URIs handed to users. Unset means: the compute server's host. */
  computePublicHost?: string;
  /** Port put into connection URIs handed to users. Unset means: the compute server's port. */
  computePublicPort?: number;
  /**
   * Proxies whose X-Forwarded-For is believed (TRUST_PROXY: addresses, CIDR blocks, or Express's names loopback,
   * linklocal, uniquelocal). Empty by default: the client address is the TCP peer's, whatever a header says.
   */
  trustProxy: string[];
  /** Port of the embedded PostgreSQL (only when databaseUrl is unset). */
  embeddedPgPort: number;
  /** Port of the embedded cluster of branch databases (only when databaseUrl and computeDatabaseUrl are unset). */
  embeddedComputePgPort: number;
  /** Personal API key of the bootstrap platform admin, instead of a random one. */
  bootstrapApiKey?: string;
  bootstrapAdminEmail: string;
  bootstrapAdminName: string;
  /** 32-byte key (hex or base64) that encrypts secrets the server must use later. */
  secretsKey?: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Largest accepted JSON request body, in bytes. */
  bodyLimitBytes: number;
  /** Region id reported on projects. */
  regionId: string;
  /** Size of the control-plane connection pool. */
  databasePoolSize: number;
  /**
   * The users_sync engine in this process: `on` takes provider webhooks in and applies them; `receive` stores
   * them and wakes the workers (`npm run worker`, or `on` replicas) through pg_notify, applying nothing;
   * `off` takes none in (the receiver answers 503).
   */
  syncEngine: SyncEngineMode;
  /**
   * How often the operations reconciler looks for control-plane operations (create/delete of projects, branches,
   * databases; enable/disable of Neon Auth) that no process is driving (their process died) and finishes or rolls
   * them back, in seconds. It also runs at start.
   */
  operationsReconcileSeconds: number;
  /**
   * Test-only (honoured only when NODE_ENV=test): the name of a crash point (see src/common/crash-points.ts) at which
   * the process kills itself with SIGKILL, to test recovery from a crash at that step.
   */
  testCrashAt?: string;
  /** Failed apply attempts of one event before it parks as a dead letter. */
  syncMaxAttempts: number;
  /** First retry delay of a failed apply, in seconds (doubled on every retry). */
  syncRetryDelaySeconds: number;
  /** How often idle sync workers look for due retries, in seconds. */
  syncPollSeconds: number;
  /** SYNC_INBOX_RETENTION_DAYS: applied and skipped inbox events are pruned after this many days (deletions: see below). */
  syncInboxRetentionDays: number;
  /** SYNC_INBOX_DELETION_RETENTION_DAYS: applied `user.deleted` inbox events are pruned after this many days. */
  syncInboxDeletionRetentionDays: number;
  /** Most projects one organization may have (PROJECTS_LIMIT; 0: no limit). */
  projectsLimit: number;
  /** Most branches one project may have, its default branch included (BRANCHES_LIMIT; 0: no limit). */
  branchesLimit: number;
  /** Most databases one branch may have (DATABASES_LIMIT; 0: no limit). */
  databasesLimit: number;
  /** Most organizations one account may belong to (ORGANIZATIONS_LIMIT; 0: no limit). */
  organizationsLimit: number;
  /**
   * Brute-force throttling of the embedded provider's sign-in and sign-up (see src/common/rate-limit.ts), per
   * window of STACK_AUTH_RATE_LIMIT_WINDOW_SECONDS: failed sign-ins (and sign-up attempts) per account of a project
   * (STACK_AUTH_RATE_LIMIT_PER_ACCOUNT) and per client address (STACK_AUTH_RATE_LIMIT_PER_IP); 0 turns one off.
   */
  stackAuthRateLimitPerAccount: number;
  stackAuthRateLimitPerIp: number;
  stackAuthRateLimitWindowSeconds: number;
  /** Better Auth servers hosted per branch: most instances kept built in one process (least recently used go first). */
  betterAuthMaxInstances: number;
  /** Sign-in and sign-up attempts per client address and branch in one window on the hosted Better Auth servers; 0: no limit. */
  betterAuthRateLimitPerIp: number;
  betterAuthRateLimitWindowSeconds: number;
  /** Failed API-key authentications of /api/v2 per client address per API_KEY_RATE_LIMIT_WINDOW_SECONDS (0: no limit). */
  apiKeyRateLimitPerIp: number;
  apiKeyRateLimitWindowSeconds: number;
  /** HTTP Basic client id of Neon's integration calls to the embedded provider. */
  stackAuthIntegrationClientId: string;
  /** Its secret; unset means: derived from the secrets key (see src/stack-auth/stack-auth.config.ts). */
  stackAuthIntegrationClientSecret?: string;
  /**
   * Base URL of a real Stack Auth server (the SDK's baseUrl, no trailing slash) that the `stack` provider
   * adapter uses with the integration client credentials. Unset means: the embedded provider.
   */
  stackAuthUrl?: string;
  /** How often idle webhook delivery workers of the embedded provider poll for due retries (seconds). */
  stackAuthWebhookPollSeconds: number;
  /** First retry delay of a failed webhook delivery (seconds); later retries back off exponentially. */
  stackAuthWebhookRetryDelaySeconds: number;
  /** How often the embedded provider deletes expired and revoked sessions (refresh tokens), in seconds. */
  stackAuthPruneIntervalSeconds: number;
  /** How often the users_sync reconciler runs per Neon Auth integration (seconds); 0 turns the schedule off. */
  neonAuthReconcileIntervalSeconds: number;
  /** Bearer token that GET /metrics requires; unset means: /metrics is not served (404). */
  metricsToken?: string;
  /**
   * INVALIDATION_ACK_TIMEOUT_MS: how long a change that other replicas may have cached (a Neon Auth disable or
   * enable) waits, before the API answers, for every live replica to confirm it dropped what it cached; 0: no wait.
   * A replica that has not confirmed by then is logged and falls back to its caches' time limit.
   */
  invalidationAckTimeoutMs: number;
  /**
   * OUTBOUND_ALLOWED_HOSTS: host names, IPs and CIDR ranges that outgoing calls to user-supplied URLs may reach
   * although they are not public (a self-hosted provider on a private address). See src/common/outbound-url-policy.ts.
   */
  outboundAllowedHosts: OutboundAllowEntry[];
  /**
   * NEON_AUTH_SHARED_OAUTH_CREDENTIALS: the installation's own OAuth apps, used by the branches whose `social_providers`
   * entry says `isShared` (Neon's "shared credentials" for development). A provider without an entry here is not
   * offered to such branches.
   */
  sharedOAuthCredentials: SharedOAuthCredentials;
  /**
   * NEON_AUTH_OAUTH_ENDPOINTS: per provider, the authorization, token (and user-info) endpoints to use instead of the
   * provider's real ones (a local OIDC server in tests, a mirror or proxy in an air-gapped install).
   */
  oauthEndpoints: OAuthEndpointOverrides;
}

/** NEON_AUTH_SHARED_OAUTH_CREDENTIALS, parsed. */
export type SharedOAuthCredentials = Partial<Record<OAuthProviderId, { clientId: string; clientSecret: string; tenantId?: string }>>;

/** NEON_AUTH_OAUTH_ENDPOINTS, parsed: absolute http(s) URLs. */
export interface OAuthEndpointOverride {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** Required for github and vercel (their user info is not in an ID token); google and microsoft read the ID token. */
  userinfoEndpoint?: string;
}
export type OAuthEndpointOverrides = Partial<Record<OAuthProviderId, OAuthEndpointOverride>>;

/** SYNC_ENGINE: see AppConfig.syncEngine. */
export const SYNC_ENGINE_MODES = ['on', 'receive', 'off'] as const;
export type SyncEngineMode = (typeof SYNC_ENGINE_MODES)[number];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** METRICS_TOKEN: RFC 6750's token68 syntax (what fits in "Authorization: Bearer ..."), 16 to 512 characters. */
const METRICS_TOKEN_PATTERN = /^(?=.{16,512}$)[A-Za-z0-9\-._~+/]+=*$/;

/** Every environment variable the server reads, with its meaning; README documents the same list. */
export const ENVIRONMENT_VARIABLES = [
  'PORT',
  'WORKER_PORT',
  'HOST',
  'PUBLIC_URL',
  'DATA_DIR',
  'DATABASE_URL',
  'COMPUTE_DATABASE_URL',
  'COMPUTE_PUBLIC_HOST',
  'COMPUTE_PUBLIC_PORT',
  'EMBEDDED_PG_PORT',
  'EMBEDDED_COMPUTE_PG_PORT',
  'BOOTSTRAP_API_KEY',
  'BOOTSTRAP_ADMIN_EMAIL',
  'BOOTSTRAP_ADMIN_NAME',
  'SECRETS_KEY',
  'LOG_LEVEL',
  'BODY_LIMIT',
  'PROJECTS_LIMIT',
  'BRANCHES_LIMIT',
  'DATABASES_LIMIT',
  'ORGANIZATIONS_LIMIT',
  'STACK_AUTH_RATE_LIMIT_PER_ACCOUNT',
  'STACK_AUTH_RATE_LIMIT_PER_IP',
  'STACK_AUTH_RATE_LIMIT_WINDOW_SECONDS',
  'BETTER_AUTH_MAX_INSTANCES',
  'BETTER_AUTH_RATE_LIMIT_PER_IP',
  'BETTER_AUTH_RATE_LIMIT_WINDOW_SECONDS',
  'API_KEY_RATE_LIMIT_PER_IP',
  'API_KEY_RATE_LIMIT_WINDOW_SECONDS',
  'TRUST_PROXY',
  'REGION_ID',
  'DATABASE_POOL_SIZE',
  'STACK_AUTH_INTEGRATION_CLIENT_ID',
  'STACK_AUTH_INTEGRATION_CLIENT_SECRET',
  'STACK_AUTH_URL',
  'STACK_AUTH_WEBHOOK_POLL_SECONDS',
  'STACK_AUTH_WEBHOOK_RETRY_DELAY_SECONDS',
  'STACK_AUTH_PRUNE_INTERVAL_SECONDS',
  'NEON_AUTH_RECONCILE_INTERVAL_SECONDS',
  'OUTBOUND_ALLOWED_HOSTS',
  'SYNC_ENGINE',
  'SYNC_MAX_ATTEMPTS',
  'SYNC_RETRY_DELAY_SECONDS',
  'SYNC_POLL_SECONDS',
  'SYNC_INBOX_RETENTION_DAYS',
  'SYNC_INBOX_DELETION_RETENTION_DAYS',
  'METRICS_TOKEN',
  'OPERATIONS_RECONCILE_SECONDS',
  'NEON_TEST_CRASH_AT',
  'INVALIDATION_ACK_TIMEOUT_MS',
  'NEON_AUTH_SHARED_OAUTH_CREDENTIALS',
  'NEON_AUTH_OAUTH_ENDPOINTS',
] as const;

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
      return fallback;
    }
    return Number(raw);
  };
  const url = (name: string, protocols: string[]): string | undefined => {
    const raw = str(name);
    if (raw === undefined) return undefined;
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) {
        problems.push(`${name} must use ${protocols.join(' or ')} (got "${u.protocol}")`);
      }
    } catch {
      problems.push(`${name} is not a valid URL`);
    }
    return raw;
  };

  const port = int('PORT', 3000, 0, 65535);
  const workerPort = int('WORKER_PORT', 3001, 0, 65535);
  const host = str('HOST') ?? '127.0.0.1';
  const publicUrlRaw = url('PUBLIC_URL', ['http:', 'https:']);
  const publicUrl = (publicUrlRaw ?? `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`).replace(/\/+$/, '');
  const dataDir = path.resolve(str('DATA_DIR') ?? './.data');
  const databaseUrl = url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const computeDatabaseUrl = url('COMPUTE_DATABASE_URL', ['postgres:', 'postgresql:']);
  const computePublicHost = str('COMPUTE_PUBLIC_HOST');
  const computePublicPortRaw = str('COMPUTE_PUBLIC_PORT');
  const computePublicPort =
    computePublicPortRaw === undefined ? undefined : int('COMPUTE_PUBLIC_PORT', 5432, 1, 65535);
  const embeddedPgPort = int('EMBEDDED_PG_PORT', 5433, 1, 65535);
  const embeddedComputePgPort = int('EMBEDDED_COMPUTE_PG_PORT', 5434, 1, 65535);
  if (embeddedComputePgPort === embeddedPgPort && databaseUrl === undefined && computeDatabaseUrl === undefined) {
    problems.push('EMBEDDED_COMPUTE_PG_PORT must differ from EMBEDDED_PG_PORT (the two embedded clusters listen side by side)');
  }

  const bootstrapApiKey = str('BOOTSTRAP_API_KEY');
  if (bootstrapApiKey !== undefined && (bootstrapApiKey.length < 16 || /\s/.test(bootstrapApiKey))) {
    problems.push('BOOTSTRAP_API_KEY must be at least 16 characters without whitespace');
  }
  const bootstrapAdminEmail = str('BOOTSTRAP_ADMIN_EMAIL') ?? 'admin@localhost';
  if (!/^[^\s@]+@[^\s@]+$/.test(bootstrapAdminEmail)) {
    problems.push(`BOOTSTRAP_ADMIN_EMAIL is not an email address (got "${bootstrapAdminEmail}")`);
  }
  const bootstrapAdminName = str('BOOTSTRAP_ADMIN_NAME') ?? 'Platform Admin';

  const secretsKey = str('SECRETS_KEY');
  if (secretsKey !== undefined && parseSecretsKey(secretsKey) === undefined) {
    problems.push('SECRETS_KEY must be 32 bytes, written as 64 hex characters or base64');
  }

  const logLevelRaw = (str('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevelRaw)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevelRaw}")`);
  }
  const trustProxyRaw = str('TRUST_PROXY');
  const trustProxy = trustProxyRaw === undefined ? [] : parseTrustProxy(trustProxyRaw);
  if (trustProxy === undefined) {
    problems.push('TRUST_PROXY must be a comma-separated list of IP addresses, CIDR blocks (a.b.c.d/n) or loopback, linklocal, uniquelocal');
  }
  const bodyLimitBytes = parseByteSize(str('BODY_LIMIT') ?? '1mb');
  if (bodyLimitBytes === undefined) {
    problems.push(`BODY_LIMIT must be a size such as 512kb or 1mb (got "${str('BODY_LIMIT')}")`);
  }
  const regionId = str('REGION_ID') ?? 'local';
  if (!NEON_ID_PATTERN.test(regionId)) problems.push(`REGION_ID must match ${NEON_ID_SOURCE}`);
  const databasePoolSize = int('DATABASE_POOL_SIZE', 10, 1, 1000);
  const stackAuthIntegrationClientId = str('STACK_AUTH_INTEGRATION_CLIENT_ID') ?? 'neon';
  if (/[:\s]/.test(stackAuthIntegrationClientId)) problems.push('STACK_AUTH_INTEGRATION_CLIENT_ID must not contain ":" or whitespace');
  const stackAuthIntegrationClientSecret = str('STACK_AUTH_INTEGRATION_CLIENT_SECRET');
  if (stackAuthIntegrationClientSecret !== undefined && stackAuthIntegrationClientSecret.length < 16) {
    problems.push('STACK_AUTH_INTEGRATION_CLIENT_SECRET must be at least 16 characters');
  }
  const stackAuthUrl = url('STACK_AUTH_URL', ['http:', 'https:'])?.replace(/\/+$/, '');
  if (stackAuthUrl !== undefined && stackAuthIntegrationClientSecret === undefined) {
    problems.push('STACK_AUTH_INTEGRATION_CLIENT_SECRET must be set when STACK_AUTH_URL is set (the integration client secret of that server)');
  }
  const stackAuthWebhookPollSeconds = int('STACK_AUTH_WEBHOOK_POLL_SECONDS', 5, 1, 3600);
  const stackAuthWebhookRetryDelaySeconds = int('STACK_AUTH_WEBHOOK_RETRY_DELAY_SECONDS', 5, 1, 3600);
  const stackAuthPruneIntervalSeconds = int('STACK_AUTH_PRUNE_INTERVAL_SECONDS', 600, 1, 86_400);
  const neonAuthReconcileIntervalSeconds = int('NEON_AUTH_RECONCILE_INTERVAL_SECONDS', 3600, 0, 7 * 86400);
  const outboundAllowList = parseOutboundAllowList(str('OUTBOUND_ALLOWED_HOSTS'));
  for (const problem of outboundAllowList.problems) problems.push(`OUTBOUND_ALLOWED_HOSTS: ${problem}`);
  const syncEngineRaw = (str('SYNC_ENGINE') ?? 'on').toLowerCase();
  if (!(SYNC_ENGINE_MODES as readonly string[]).includes(syncEngineRaw)) {
    problems.push(`SYNC_ENGINE must be one of ${SYNC_ENGINE_MODES.join(', ')} (got "${syncEngineRaw}")`);
  }
  const operationsReconcileSeconds = int('OPERATIONS_RECONCILE_SECONDS', 30, 1, 86_400);
  const testCrashAt = env.NODE_ENV === 'test' ? str('NEON_TEST_CRASH_AT') : undefined;
  const syncMaxAttempts = int('SYNC_MAX_ATTEMPTS', 10, 1, 1000);
  const syncRetryDelaySeconds = int('SYNC_RETRY_DELAY_SECONDS', 1, 1, 3600);
  const syncPollSeconds = int('SYNC_POLL_SECONDS', 1, 1, 3600);
  const syncInboxRetentionDays = int('SYNC_INBOX_RETENTION_DAYS', 7, 1, 3650);
  const syncInboxDeletionRetentionDays = int('SYNC_INBOX_DELETION_RETENTION_DAYS', 30, 1, 3650);
  const projectsLimit = int('PROJECTS_LIMIT', 100, 0, 1_000_000);
  const branchesLimit = int('BRANCHES_LIMIT', 100, 0, 1_000_000);
  const databasesLimit = int('DATABASES_LIMIT', 20, 0, 1_000_000);
  const organizationsLimit = int('ORGANIZATIONS_LIMIT', 10, 0, 1_000_000);
  const metricsToken = str('METRICS_TOKEN');
  if (metricsToken !== undefined && !METRICS_TOKEN_PATTERN.test(metricsToken)) {
    problems.push('METRICS_TOKEN must be 16 to 512 characters of A-Z a-z 0-9 - . _ ~ + / (a bearer token), optionally ending in =');
  }
  const stackAuthRateLimitPerAccount = int('STACK_AUTH_RATE_LIMIT_PER_ACCOUNT', 10, 0, 1_000_000);
  const stackAuthRateLimitPerIp = int('STACK_AUTH_RATE_LIMIT_PER_IP', 100, 0, 1_000_000);
  const stackAuthRateLimitWindowSeconds = int('STACK_AUTH_RATE_LIMIT_WINDOW_SECONDS', 900, 1, 86_400);
  const betterAuthMaxInstances = int('BETTER_AUTH_MAX_INSTANCES', 200, 1, 100_000);
  const betterAuthRateLimitPerIp = int('BETTER_AUTH_RATE_LIMIT_PER_IP', 100, 0, 1_000_000);
  const betterAuthRateLimitWindowSeconds = int('BETTER_AUTH_RATE_LIMIT_WINDOW_SECONDS', 900, 1, 86_400);
  const apiKeyRateLimitPerIp = int('API_KEY_RATE_LIMIT_PER_IP', 30, 0, 1_000_000);
  const apiKeyRateLimitWindowSeconds = int('API_KEY_RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86_400);
  const invalidationAckTimeoutMs = int('INVALIDATION_ACK_TIMEOUT_MS', 2000, 0, 60_000);
  const sharedOAuthCredentials = parseSharedOAuthCredentials(str('NEON_AUTH_SHARED_OAUTH_CREDENTIALS'), problems);
  const oauthEndpoints = parseOAuthEndpoints(str('NEON_AUTH_OAUTH_ENDPOINTS'), problems);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    workerPort,
    host,
    publicUrl,
    dataDir,
    databaseUrl,
    computeDatabaseUrl,
    computePublicHost,
    computePublicPort,
    embeddedPgPort,
    embeddedComputePgPort,
    bootstrapApiKey,
    bootstrapAdminEmail: bootstrapAdminEmail.toLowerCase(),
    bootstrapAdminName,
    secretsKey,
    logLevel: logLevelRaw as AppConfig['logLevel'],
    bodyLimitBytes: bodyLimitBytes ?? 1024 * 1024,
    trustProxy: trustProxy ?? [],
    regionId,
    databasePoolSize,
    stackAuthIntegrationClientId,
    stackAuthIntegrationClientSecret,
    syncEngine: (SYNC_ENGINE_MODES as readonly string[]).includes(syncEngineRaw) ? (syncEngineRaw as SyncEngineMode) : 'on',
    operationsReconcileSeconds,
    testCrashAt,
    syncMaxAttempts,
    syncRetryDelaySeconds,
    syncPollSeconds,
    syncInboxRetentionDays,
    syncInboxDeletionRetentionDays,
    projectsLimit,
    branchesLimit,
    databasesLimit,
    organizationsLimit,
    stackAuthRateLimitPerAccount,
    stackAuthRateLimitPerIp,
    stackAuthRateLimitWindowSeconds,
    betterAuthMaxInstances,
    betterAuthRateLimitPerIp,
    betterAuthRateLimitWindowSeconds,
    apiKeyRateLimitPerIp,
    apiKeyRateLimitWindowSeconds,
    stackAuthUrl,
    stackAuthWebhookPollSeconds,
    stackAuthWebhookRetryDelaySeconds,
    stackAuthPruneIntervalSeconds,
    neonAuthReconcileIntervalSeconds,
    metricsToken,
    invalidationAckTimeoutMs,
    outboundAllowedHosts: outboundAllowList.entries,
    sharedOAuthCredentials,
    oauthEndpoints,
  };
}

/** A JSON object keyed by OAuth provider ids (`google`, `github`, `microsoft`, `vercel`), each value an object. */
function oauthProviderMap(name: string, raw: string | undefined, problems: string[]): Array<[OAuthProviderId, Record<string, unknown>]> {
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problems.push(`${name} is not valid JSON`);
    return [];
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    problems.push(`${name} must be a JSON object keyed by provider id (${OAUTH_PROVIDER_IDS.join(', ')})`);
    return [];
  }
  const out: Array<[OAuthProviderId, Record<string, unknown>]> = [];
  for (const [id, value] of Object.entries(parsed)) {
    if (!(OAUTH_PROVIDER_IDS as readonly string[]).includes(id)) {
      problems.push(`${name}: unknown provider "${id}" (one of ${OAUTH_PROVIDER_IDS.join(', ')})`);
    } else if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.push(`${name}.${id} must be an object`);
    } else {
      out.push([id as OAuthProviderId, value as Record<string, unknown>]);
    }
  }
  return out;
}

/** NEON_AUTH_SHARED_OAUTH_CREDENTIALS: `{"google": {"client_id": "…", "client_secret": "…"}, "microsoft": {…, "tenant_id": "…"}}`. */
export function parseSharedOAuthCredentials(raw: string | undefined, problems: string[]): SharedOAuthCredentials {
  const name = 'NEON_AUTH_SHARED_OAUTH_CREDENTIALS';
  const out: SharedOAuthCredentials = {};
  for (const [id, value] of oauthProviderMap(name, raw, problems)) {
    const known = id === 'microsoft' ? ['client_id', 'client_secret', 'tenant_id'] : ['client_id', 'client_secret'];
    const unknown = Object.keys(value).filter((k) => !known.includes(k));
    if (unknown.length > 0) problems.push(`${name}.${id}: unknown key(s) ${unknown.join(', ')} (expected ${known.join(', ')})`);
    const text = (k: string) => (typeof value[k] === 'string' && (value[k] as string).trim() !== '' ? (value[k] as string).trim() : undefined);
    const clientId = text('client_id');
    const clientSecret = text('client_secret');
    if (!clientId || !clientSecret) {
      problems.push(`${name}.${id} needs client_id and client_secret (non-empty strings)`);
      continue;
    }
    if (value.tenant_id !== undefined && !text('tenant_id')) problems.push(`${name}.${id}.tenant_id must be a non-empty string`);
    out[id] = { clientId, clientSecret, ...(text('tenant_id') ? { tenantId: text('tenant_id') } : {}) };
  }
  return out;
}

/**
 * NEON_AUTH_OAUTH_ENDPOINTS: `{"google": {"authorization_endpoint": "…", "token_endpoint": "…"}, "github": {…,
 * "userinfo_endpoint": "…"}}` (http or https URLs; github and vercel need userinfo_endpoint).
 */
export function parseOAuthEndpoints(raw: string | undefined, problems: string[]): OAuthEndpointOverrides {
  const name = 'NEON_AUTH_OAUTH_ENDPOINTS';
  const out: OAuthEndpointOverrides = {};
  const keys = ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint'];
  for (const [id, value] of oauthProviderMap(name, raw, problems)) {
    const unknown = Object.keys(value).filter((k) => !keys.includes(k));
    if (unknown.length > 0) problems.push(`${name}.${id}: unknown key(s) ${unknown.join(', ')} (expected ${keys.join(', ')})`);
    const endpoint = (k: string, required: boolean): string | undefined => {
      const v = value[k];
      if (v === undefined && !required) return undefined;
      if (typeof v === 'string') {
        try {
          const u = new URL(v);
          if (u.protocol === 'http:' || u.protocol === 'https:') return u.href;
        } catch {
          // reported below
        }
      }
      problems.push(`${name}.${id}.${k} must be an http or https URL`);
      return undefined;
    };
    const needsUserinfo = id === 'github' || id === 'vercel';
    const authorizationEndpoint = endpoint('authorization_endpoint', true);
    const tokenEndpoint = endpoint('token_endpoint', true);
    const userinfoEndpoint = endpoint('userinfo_endpoint', needsUserinfo);
    if (!authorizationEndpoint || !tokenEndpoint || (needsUserinfo && !userinfoEndpoint)) continue;
    out[id] = { authorizationEndpoint, tokenEndpoint, ...(userinfoEndpoint ? { userinfoEndpoint } : {}) };
  }
  return out;
}

export function parseSecretsKey(raw: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(raw)) return Buffer.from(raw, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(raw)) {
    const buf = Buffer.from(raw, 'base64');
    if (buf.length === 32) return buf;
  }
  return undefined;
}

/** TRUST_PROXY's entries, or undefined when one is not an address, a CIDR block or one of Express's names. */
export function parseTrustProxy(raw: string): string[] | undefined {
  const entries = raw.split(',').map((e) => e.trim()).filter((e) => e !== '');
  for (const entry of entries) {
    if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) continue;
    const [address, prefix, ...rest] = entry.split('/');
    const family = isIP(address);
    if (family === 0 || rest.length > 0) return undefined;
    if (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128))) return undefined;
  }
  return entries;
}

function parseByteSize(raw: string): number | undefined {
  const m = /^(\d+)\s*(b|kb|mb)?$/i.exec(raw.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase();
  const bytes = unit === 'mb' ? n * 1024 * 1024 : unit === 'kb' ? n * 1024 : n;
  return bytes >= 1024 && bytes <= 100 * 1024 * 1024 ? bytes : undefined;
}

/** Injection token for the validated configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * Whether the branch databases live in the cluster that holds the control-plane database (no COMPUTE_DATABASE_URL,
 * or one naming the same host and port). Works, but a tenant who became superuser of that cluster would read the
 * control plane's accounts, key hashes and encrypted secrets: production keeps them apart.
 */
export function computeSharesControlPlaneCluster(config: Pick<AppConfig, 'databaseUrl' | 'computeDatabaseUrl'>): boolean {
  if (!config.databaseUrl) return false;
  if (!config.computeDatabaseUrl) return true;
  const a = new URL(config.databaseUrl);
  const b = new URL(config.computeDatabaseUrl);
  const hostOf = (u: URL) => (['localhost', '127.0.0.1', '[::1]'].includes(u.hostname) ? 'loopback' : u.hostname.toLowerCase());
  return hostOf(a) === hostOf(b) && (a.port || '5432') === (b.port || '5432');
}

