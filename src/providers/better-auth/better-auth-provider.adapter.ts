import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { betterAuthBaseUrl } from '../../better-auth/better-auth-options.js';
import { BetterAuthSchema } from '../../better-auth/better-auth-schema.js';
import { BetterAuthUsers } from '../../better-auth/better-auth-users.js';
import { OAUTH_PROVIDER_IDS } from '../../better-auth/project-config.js';
import { BetterAuthServers, type BetterAuthContext, type BetterAuthServer, type BranchAuthTenant } from '../../better-auth/better-auth-servers.js';
import type { BranchDatabase } from '../../projects/branch-databases/branch-databases.service.js';
import {
  clampPageSize,
  providerUserFromStackShape,
  ProviderDuplicateEmail,
  ProviderNotSupported,
  ProviderRequestRejected,
  ProviderUnavailable,
  ProviderUserNotFound,
  type AuthProvider,
  type CreateUserRequest,
  type ListUsersRequest,
  type OwnershipTransferStatus,
  SETTINGS_SECTIONS,
  type ProviderCapabilities,
  type ProviderCredentials,
  type ProviderSettings,
  type ProviderUser,
  type ProviderUserPage,
  type ProvisionedProject,
  type ProvisionRequest,
  type SdkKeys,
} from '../auth-provider.port.js';
import { isUuid } from '../../common/validation.js';


interface AdminApi {
  createUser(input: { body: { email: string; name: string; password?: string; role?: string } }): Promise<{ user: { id: string } }>;
}

/**
 * The `better_auth` provider: Better Auth hosted per branch database by this product (src/better-auth). A "provider
 * project" is a branch database's Better Auth server: its id is the `project_config` row's id, its credentials are the
 * server's base URL and its secret (stored encrypted with the integration). Its data lives in the branch database's
 * `neon_auth` schema, so:
 * - provisioning makes nothing outside the database (provisionManagedProject only chooses the id and the secret;
 *   provisionDatabase creates the tables), and deleting the project is the schema's business (disable with
 *   delete_data, or the branch going);
 * - users are read with SQL and changed through the branch's server (Better Auth's own rules: password hashing,
 *   accounts, sessions), and the users_sync trigger records every change in the same transaction (writesUsersSync);
 * - no webhooks, SDK keys or ownership transfer: applications use `base_url` (NEON_AUTH_BASE_URL).
 */
@Injectable()
export class BetterAuthProviderAdapter implements AuthProvider {
  readonly kind = 'better_auth' as const;
  readonly capabilities: ProviderCapabilities = {
    managedProjects: true,
    sdkKeys: false,
    ownershipTransfer: false,
    webhooks: 'none',
    idempotentProvisioning: true,
    writesUsersSync: true,
  };

  /** Every setting, in the branch database's `neon_auth.project_config` row; a change reaches every replica before it answers. */
  readonly settings: ProviderSettings = {
    sections: SETTINGS_SECTIONS,
    oauthProviders: OAUTH_PROVIDER_IDS,
    mergesPartialEmailProvider: true,
    read: async (credentials) => {
      const { tenant } = await this.tenantOf(credentials);
      return this.servers.settingsOf(tenant);
    },
    update: async (credentials, _target, change) => {
      const { tenant } = await this.tenantOf(credentials);
      return this.servers.updateSettings(tenant, change);
    },
  };

  constructor(
    private readonly servers: BetterAuthServers,
    private readonly schema: BetterAuthSchema,
    private readonly users: BetterAuthUsers,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async provisionManagedProject(request: ProvisionRequest): Promise<ProvisionedProject> {
    if (!request.branchId || !request.databaseName) throw new ProviderRequestRejected('better_auth needs the branch and database it serves', 400);
    const baseUrl = betterAuthBaseUrl(this.config.publicUrl, request.branchId, request.databaseName);
    const projectId = randomUUID();
    return {
      providerProjectId: projectId,
      credentials: { baseUrl, projectId, secretServerKey: randomBytes(32).toString('base64url') },
      jwksUrl: `${baseUrl}/.well-known/jwks.json`,
      baseUrl,
    };
  }

  /** The copy keeps the secret (its JWKS private keys are encrypted with it, its sessions signed with it). */
  copyForBranch(credentials: ProviderCredentials, branchId: string, databaseName: string): ProvisionedProject {
    const baseUrl = betterAuthBaseUrl(this.config.publicUrl, branchId, databaseName);
    const projectId = randomUUID();
    return {
      providerProjectId: projectId,
      credentials: { baseUrl, projectId, secretServerKey: credentials.secretServerKey },
      jwksUrl: `${baseUrl}/.well-known/jwks.json`,
      baseUrl,
    };
  }

  async provisionDatabase(credentials: ProviderCredentials, target: BranchDatabase, displayName: string): Promise<void> {
    await this.schema.provision(target, { configId: credentials.projectId, endpointId: target.branchId, name: displayName.slice(0, 256) || target.name });
  }

  /** Nothing lives outside the branch database (see the class comment). */
  async deleteManagedProject(): Promise<void> {}

  async createSdkKeys(): Promise<SdkKeys> {
    throw new ProviderNotSupported(this.kind);
  }

  async registerWebhook(): Promise<{ signingSecret: string }> {
    throw new ProviderNotSupported(this.kind);
  }

  async createUser(credentials: ProviderCredentials, request: CreateUserRequest): Promise<ProviderUser> {
    const { server, tenant } = await this.serverOf(credentials);
    let created: { user: { id: string } };
    try {
      created = await (server.api as unknown as AdminApi).createUser({
        body: { email: request.email, name: request.name ?? '', ...(request.password !== undefined ? { password: request.password } : {}) },
      });
    } catch (err) {
      throw translate(err, request.email);
    }
    return this.read(tenant, created.user.id);
  }

  async getUser(credentials: ProviderCredentials, userId: string): Promise<ProviderUser> {
    const { tenant } = await this.serverOf(credentials);
    return this.read(tenant, userId);
  }

  async listUsers(credentials: ProviderCredentials, request: ListUsersRequest): Promise<ProviderUserPage> {
    const { tenant } = await this.serverOf(credentials);
    const limit = clampPageSize(request.limit);
    const after = request.cursor && isUuid(request.cursor) ? request.cursor : null;
    const rows = await this.users.page(tenant.physicalName, after, limit + 1);
    const users = rows.slice(0, limit).map((raw) => providerUserFromStackShape(raw));
    return { users, nextCursor: rows.length > limit ? users[users.length - 1].id : null };
  }

  async deleteUser(credentials: ProviderCredentials, userId: string): Promise<void> {
    const { server } = await this.serverOf(credentials);
    await (await this.adapterFor(server, userId)).deleteUser(userId);
  }

  async setUserRoles(credentials: ProviderCredentials, userId: string, roles: string[]): Promise<ProviderUser> {
    const { server, tenant } = await this.serverOf(credentials);
    if (roles.some((r) => r.includes(','))) throw new ProviderRequestRejected('a role name may not contain a comma (Better Auth stores roles comma-joined)', 400);
    // The admin plugin's storage: the roles comma-joined in user.role.
    await (await this.adapterFor(server, userId)).updateUser(userId, { role: roles.join(',') });
    return this.read(tenant, userId);
  }

  /** Better Auth's internal adapter, once the user is known to exist (else ProviderUserNotFound). */
  private async adapterFor(server: BetterAuthServer, userId: string): Promise<BetterAuthContext['internalAdapter']> {
    if (!isUuid(userId)) throw new ProviderUserNotFound(userId);
    const { internalAdapter } = await server.$context;
    if (!(await internalAdapter.findUserById(userId))) throw new ProviderUserNotFound(userId);
    return internalAdapter;
  }

  async startOwnershipTransfer(): Promise<{ url: string }> {
    throw new ProviderNotSupported(this.kind);
  }

  async ownershipTransferStatus(): Promise<OwnershipTransferStatus> {
    return 'none';
  }

  async verifyConnection(): Promise<void> {
    throw new ProviderRequestRejected('better_auth is hosted by Neon Auth: enable it without manual setup fields', 400);
  }

  private async read(tenant: BranchAuthTenant, userId: string): Promise<ProviderUser> {
    if (!isUuid(userId)) throw new ProviderUserNotFound(userId);
    const raw = await this.users.one(tenant.physicalName, userId);
    if (!raw) throw new ProviderUserNotFound(userId);
    return providerUserFromStackShape(raw);
  }

  /** The branch's server named by the credentials' base URL (`…/neon-auth/{branch}/{database}/auth`). */
  private async serverOf(credentials: ProviderCredentials): Promise<{ server: BetterAuthServer; tenant: BranchAuthTenant }> {
    const { tenant } = await this.tenantOf(credentials);
    return { server: (await this.servers.serverFor(tenant)).server, tenant };
  }

  private async tenantOf(credentials: ProviderCredentials): Promise<{ tenant: BranchAuthTenant }> {
    const parts = new URL(credentials.baseUrl).pathname.split('/');
    const [branchId, databaseName] = [decodeURIComponent(parts.at(-3) ?? ''), decodeURIComponent(parts.at(-2) ?? '')];
    const tenant = await this.servers.tenantOf(branchId, databaseName);
    if (!tenant || tenant.secret !== credentials.secretServerKey) throw new ProviderUnavailable(`the Better Auth server of database ${databaseName} on branch ${branchId} is not enabled`);
    return { tenant };
  }
}

/** Better Auth's refusals as the port's errors. */
function translate(err: unknown, email: string): unknown {
  const e = err as { body?: { code?: string; message?: string }; statusCode?: number; status?: string };
  const code = e?.body?.code;
  if (code === 'USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL' || code === 'USER_ALREADY_EXISTS') return new ProviderDuplicateEmail(email);
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new ProviderRequestRejected(e.body?.message ?? 'the auth server refused the request', e.statusCode, code);
  }
  // Better Auth's own 5xx (e.g. a user.before_create webhook that failed closed): the server is there but could not
  // do it now; a retry may succeed.
  if (typeof e?.statusCode === 'number' && e.statusCode >= 500) {
    return new ProviderUnavailable(`the auth server could not create the user${code ? ` (${code})` : ''}: ${e.body?.message ?? 'retry later'}`, { status: e.statusCode });
  }
  return err;
}
