import { Inject, Injectable } from '@nestjs/common';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import { ClusterEvents } from '../common/cluster-events.js';
import { sqlStateOf } from '../common/db-errors.js';
import { HttpMetricsService } from '../ops/http-metrics.service.js';
import { LOGGER } from '../common/logger.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { SecretsService } from '../common/secrets.js';
import { BranchDatabaseCluster } from '../projects/branch-databases/branch-database-cluster.js';
import { loadBetterAuthLibrary } from './better-auth-library.js';
import { betterAuthOptions, type OutgoingMessage } from './better-auth-options.js';
import { BetterAuthSchema } from './better-auth-schema.js';
import { BetterAuthUsers } from './better-auth-users.js';
import { BetterAuthEmail } from './email/better-auth-email.js';
import { BetterAuthWebhooks } from './webhooks/webhooks.service.js';
import { trustedOriginForm, type ProjectConfig, type ProjectSettings } from './project-config.js';
import { branchSocialProviders } from './social-providers.js';

/** A branch database served by a Better Auth server: what the control plane knows of its integration. */
export interface BranchAuthTenant {
  integrationId: string;
  projectId: string;
  branchId: string;
  databaseName: string;
  physicalName: string;
  /** Physical name of the role owning the database (and the schema's objects). */
  ownerRole: string;
  /** The id of the database's project_config row for this integration (its auth_provider_project_id). */
  configId: string;
  baseUrl: string;
  /** Better Auth's secret for this branch (cookies, tokens, the encryption of its JWKS private keys). */
  secret: string;
}

/** Finds the integration serving a branch database with Better Auth (undefined when there is none). */
export interface BranchAuthDirectory {
  byBranch(branchId: string, databaseName: string): Promise<BranchAuthTenant | undefined>;
  /** The cluster-event topic announcing changes of integrations, keyed by integration id. */
  topic: string;
}

/** A built server (its options' exact type does not matter to callers). */
export type BetterAuthServer = { handler: (request: Request) => Promise<Response>; api: unknown; $context: Promise<BetterAuthContext> };

/** The parts of a server's context the adapter uses (Better Auth's internal adapter). */
export interface BetterAuthContext {
  internalAdapter: {
    findUserById(id: string): Promise<unknown>;
    deleteUser(id: string): Promise<void>;
    updateUser(id: string, data: Record<string, unknown>): Promise<unknown>;
  };
}

interface Built {
  server: BetterAuthServer;
  tenant: BranchAuthTenant;
  config: ProjectConfig;
  /** project_config.updated_at (ms) the server was built from. */
  version: number;
  /** When the row's version was last compared (ms). */
  checkedAt: number;
}

/** The cluster-event topic of settings changes made through the API, keyed by integration id. */
export const BETTER_AUTH_SETTINGS_TOPIC = 'neon_auth_better_auth_settings';

/** How long a built server trusts its settings before comparing project_config.updated_at again (edits made in SQL). */
const CONFIG_CHECK_MS = 1000;
/** How long a looked-up integration is trusted without an invalidation (the fallback when a replica missed one). */
const TENANT_TTL_MS = 30_000;

/**
 * The Better Auth servers hosted per branch database, one per integration, in one process:
 * - built lazily on the first request (a few milliseconds), never per request; concurrent first requests share
 *   one build;
 * - kept in a bounded LRU (BETTER_AUTH_MAX_INSTANCES); a server holds no connection of its own: it borrows the
 *   cluster's small per-database pools of the tenant-data role (idle connections close after 10 s), so evicting one
 *   closes nothing and a copy of the database (branching) is never blocked by it;
 * - rebuilt when its settings row changes (compared at most once a second, and at once when `invalidate` is
 *   called, which the control plane does on every change it makes), and dropped when its integration changes or
 *   goes (a cluster event every replica hears).
 */
@Injectable()
export class BetterAuthServers {
  private directory?: BranchAuthDirectory;
  private readonly tenants = new Map<string, { tenant: BranchAuthTenant; expiresAt: number }>();
  private readonly servers = new Map<string, Built>();
  private readonly building = new Map<string, Promise<Built>>();
  private generation = 0;
  private readonly builds: Counter;

  constructor(
    private readonly schema: BetterAuthSchema,
    private readonly cluster: BranchDatabaseCluster,
    private readonly email: BetterAuthEmail,
    private readonly users: BetterAuthUsers,
    private readonly webhooks: BetterAuthWebhooks,
    private readonly events: ClusterEvents,
    private readonly secrets: SecretsService,
    metrics: HttpMetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const servers = this.servers;
    new Gauge({
      name: 'neon_auth_better_auth_servers',
      help: 'Better Auth servers (one per branch database with better_auth) built and kept by this process',
      registers: [metrics.registry],
      collect() {
        this.set(servers.size);
      },
    });
    this.builds = new Counter({ name: 'neon_auth_better_auth_server_builds_total', help: 'Better Auth servers this process built (first request, settings change, eviction)', registers: [metrics.registry] });
  }

  /** Called once by Neon Auth's integrations: how branch databases are found. */
  useDirectory(directory: BranchAuthDirectory): void {
    this.directory = directory;
    // A change of an integration or of its settings: what was built or looked up for it goes, and so does a build
    // that read the old row before the notice. Null (the LISTEN connection was lost): everything goes.
    const forget = (integrationId: string | null) => (integrationId === null ? this.forgetAll() : this.invalidate(integrationId));
    this.events.subscribe(BETTER_AUTH_SETTINGS_TOPIC, forget);
    this.events.subscribe(directory.topic, forget);
  }

  private forgetAll(): void {
    this.generation++;
    this.tenants.clear();
    this.servers.clear();
    this.building.clear();
  }

  /** The integration serving this branch database, or undefined. */
  async tenantOf(branchId: string, databaseName: string): Promise<BranchAuthTenant | undefined> {
    const key = `${branchId}\u0000${databaseName}`;
    const now = Date.now();
    const cached = this.tenants.get(key);
    if (cached && cached.expiresAt > now) return cached.tenant;
    if (!this.directory) return undefined;
    const generation = this.generation;
    const tenant = await this.directory.byBranch(branchId, databaseName);
    if (tenant && generation === this.generation && this.events.listening) {
      if (this.tenants.size >= this.config.betterAuthMaxInstances * 2) this.tenants.clear();
      this.tenants.set(key, { tenant, expiresAt: now + TENANT_TTL_MS });
    }
    return tenant;
  }

  /** The tenant's server, built or rebuilt as needed. */
  async serverFor(tenant: BranchAuthTenant): Promise<{ server: BetterAuthServer; config: ProjectConfig }> {
    let built = this.servers.get(tenant.integrationId);
    if (built && Date.now() - built.checkedAt > CONFIG_CHECK_MS) {
      const version = await this.schema.configVersion(tenant.physicalName);
      if (version !== built.version) built = undefined;
      else built.checkedAt = Date.now();
    }
    if (!built) {
      // build() keeps it (unless an invalidation overlapped the build) and holds the bound.
      built = await this.build(tenant);
    } else if (this.servers.get(tenant.integrationId) === built) {
      // Most recently used last.
      this.servers.delete(tenant.integrationId);
      this.servers.set(tenant.integrationId, built);
    }
    return { server: built.server, config: built.config };
  }

  /** The tenant's settings as stored (a copied branch's schema adopted first). */
  settingsOf(tenant: BranchAuthTenant): Promise<ProjectConfig> {
    return this.configOf(tenant);
  }

  /**
   * Changes the tenant's settings (BetterAuthSchema.updateConfig: one transaction, the row locked, `change` may throw
   * to refuse and nothing is written), then makes every replica drop the server built from the old row before
   * answering: the next request anywhere is served by the new settings, and no request after the answer by the old.
   */
  async updateSettings(tenant: BranchAuthTenant, change: (current: ProjectConfig) => ProjectSettings | Promise<ProjectSettings>): Promise<ProjectConfig> {
    let updated = await this.schema.updateConfig(tenant.physicalName, tenant.configId, change);
    if (!updated) {
      // The row is still the parent branch's (a copy no request has reached yet): adopt it, then change it.
      await this.configOf(tenant);
      updated = await this.schema.updateConfig(tenant.physicalName, tenant.configId, change);
      if (!updated) throw new Error(`neon_auth.project_config of database ${tenant.databaseName} on branch ${tenant.branchId} has no row ${tenant.configId}`);
    }
    this.invalidate(tenant.integrationId);
    try {
      await this.events.announce(BETTER_AUTH_SETTINGS_TOPIC, tenant.integrationId);
      await this.events.settle();
    } catch (err) {
      // The change is stored; other replicas see it within a second (they compare the row's version).
      this.logger.warn({ err, integrationId: tenant.integrationId }, 'better auth: could not announce a settings change; other replicas take it within a second');
    }
    return updated;
  }

  /** Forgets what this process built or looked up for the integration (its next request rebuilds it). */
  invalidate(integrationId: string): void {
    this.generation++;
    this.servers.delete(integrationId);
    this.building.delete(integrationId);
    for (const [key, entry] of this.tenants) if (entry.tenant.integrationId === integrationId) this.tenants.delete(key);
  }

  private build(tenant: BranchAuthTenant): Promise<Built> {
    const id = tenant.integrationId;
    let pending = this.building.get(id);
    if (!pending) {
      const generation = this.generation;
      const started: Promise<Built> = this.construct(tenant)
        .then((built) => {
          // Kept unless an invalidation overlapped the build (then the next request builds again).
          if (generation === this.generation) {
            this.servers.set(id, built);
            while (this.servers.size > this.config.betterAuthMaxInstances) this.servers.delete(this.servers.keys().next().value as string);
          }
          return built;
        })
        .finally(() => {
          if (this.building.get(id) === started) this.building.delete(id);
        });
      this.building.set(id, started);
      pending = started;
    }
    return pending;
  }

  private async construct(tenant: BranchAuthTenant): Promise<Built> {
    const config = await this.configOf(tenant);
    const log = this.logger.child({ component: 'better-auth', branchId: tenant.branchId, database: tenant.databaseName });
    const lib = await loadBetterAuthLibrary();
    this.builds.inc();
    // The branch's webhooks: Better Auth's hooks, and send.otp / send.magic_link in place of the e-mail or SMS.
    const webhooks = this.webhooks.forBranch(tenant, config, lib, () => server);
    const server: BetterAuthServer = lib.betterAuth({
      ...betterAuthOptions(lib, {
        baseUrl: tenant.baseUrl,
        secret: tenant.secret,
        config,
        pool: this.poolOf(tenant.physicalName),
        send: webhooks.send((message: OutgoingMessage) => this.email.deliver(tenant, config, message)),
        events: webhooks.events,
        trustedOrigins: () => trustedOriginsOf(tenant, config),
        membership: (organizationId, userId) => this.users.membership(tenant.physicalName, organizationId, userId),
        socialProviders: branchSocialProviders(
          config.socialProviders,
          this.config.sharedOAuthCredentials,
          (sealed, context) => this.secrets.decrypt(sealed, context),
          (providerId, problem) => log.warn({ providerId }, `better auth: the OAuth provider ${providerId} ${problem}`),
        ),
        oauthEndpoints: this.config.oauthEndpoints,
      }),
      logger: {
        level: 'warn',
        log: (level, message, ...args) => {
          const entry = { detail: args.length > 0 ? args.map(String).join(' ') : undefined };
          if (level === 'error') log.error(entry, message);
          else log.warn(entry, message);
        },
      },
    }) as unknown as BetterAuthServer;
    return { server, tenant, config, version: config.updatedAt.getTime(), checkedAt: Date.now() };
  }

  /**
   * The settings row of the tenant's database. A database copied with a new branch still holds its parent's row (and
   * its parent's grants): it is adopted first (the schema completed, the row made this integration's, the tenant-data
   * role's rights granted), once.
   */
  private async configOf(tenant: BranchAuthTenant): Promise<ProjectConfig> {
    let config: ProjectConfig | undefined;
    try {
      config = await this.schema.readConfig(tenant.physicalName);
    } catch (err) {
      // A database copied with its branch: its tenant-data role has no rights there yet (42501), or the table is not
      // there (42P01, 3F000). Anything else (the database unreachable, a copy in progress) is not fixed by adopting.
      if (!['42501', '42P01', '3F000'].includes(sqlStateOf(err) ?? '')) throw err;
    }
    if (config?.id === tenant.configId) return config;
    const target = { branchId: tenant.branchId, name: tenant.databaseName, physicalName: tenant.physicalName, ownerRole: tenant.ownerRole };
    await this.schema.adopt(target, { configId: tenant.configId, endpointId: tenant.branchId, name: config?.name ?? tenant.databaseName });
    this.logger.info({ branchId: tenant.branchId, database: tenant.databaseName, integrationId: tenant.integrationId }, 'better auth: adopted the schema copied with the branch');
    const adopted = await this.schema.readConfig(tenant.physicalName);
    if (!adopted) throw new Error(`neon_auth.project_config of database ${tenant.databaseName} on branch ${tenant.branchId} has no row`);
    return adopted;
  }

  /**
   * Better Auth's connections: the cluster's pool of the database's tenant-data role, asked for on every checkout (the
   * cluster replaces it while it copies the database for a new branch; the server must never hold the old one).
   */
  private poolOf(physicalName: string): PostgresPool {
    const cluster = this.cluster;
    return {
      async connect(): Promise<PostgresPoolClient> {
        return (await cluster.tenantDataPoolFor(physicalName)).connect() as unknown as Promise<PostgresPoolClient>;
      },
      async end(): Promise<void> {},
    };
  }
}

/** Origins a branch's server trusts: its own, the trusted domains, and localhost on any port while allowed. */
export function trustedOriginsOf(tenant: Pick<BranchAuthTenant, 'baseUrl'>, config: Pick<ProjectConfig, 'trustedOrigins' | 'allowLocalhost'>): string[] {
  const origins = [new URL(tenant.baseUrl).origin, ...config.trustedOrigins.map(trustedOriginForm)];
  if (config.allowLocalhost) origins.push('http://localhost:*', 'http://127.0.0.1:*', 'https://localhost:*');
  return origins;
}
