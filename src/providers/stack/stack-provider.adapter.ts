import { Inject, Injectable, Optional } from '@nestjs/common';
import { KeyedSerializer } from '../../common/keyed-serializer.js';
import { OutboundHttp } from '../../common/outbound-http.js';
import { SecretsService } from '../../common/secrets.js';
import { type ProjectSettings } from '../../better-auth/project-config.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { LOGGER } from '../../common/logger.js';
import type { Logger } from 'pino';
import { integrationClientCredentials } from '../../stack-auth/stack-auth.config.js';
import {
  ProviderAuthFailed,
  clampPageSize,
  ProviderDuplicateEmail,
  ProviderRequestRejected,
  ProviderTransferNotAllowed,
  ProviderUnavailable,
  ProviderUserNotFound,
  normalizeRoles,
  providerUserFromStackShape,
  type AuthProvider,
  type CreateUserRequest,
  type ListUsersRequest,
  type OwnershipTransferStatus,
  type ProviderCapabilities,
  type ProviderCredentials,
  type ProviderSettings,
  type ProviderUser,
  type ProviderUserPage,
  type ProvisionRequest,
  type ProvisionedProject,
  type SdkKeys,
} from '../auth-provider.port.js';
import { DEFAULT_STACK_HTTP_OPTIONS, StackHttpClient, type StackFailure, type StackHttpOptions } from './stack-api-client.js';
import {
  STACK_OAUTH_PROVIDERS,
  STACK_SETTINGS_SECTIONS,
  parseAdminProject,
  settingsFromStack,
  stackConfigChange,
  type Sealer,
  type StackAdminProject,
} from './stack-settings.js';
import { isUuid } from '../../common/validation.js';

/** Injection token for overriding the HTTP policy (timeouts, 429 retries) of the stack adapter. */
export const STACK_PROVIDER_HTTP_OPTIONS = Symbol('STACK_PROVIDER_HTTP_OPTIONS');

/** Both codes Stack Auth versions use for "another user signs in with this email" (409). */
const DUPLICATE_EMAIL_CODES = new Set(['USER_EMAIL_ALREADY_EXISTS', 'CONTACT_CHANNEL_ALREADY_USED_FOR_AUTH_BY_SOMEONE_ELSE']);

/** Known errors that mean "this project does not exist (any more)". */
const PROJECT_GONE_CODES = new Set(['CURRENT_PROJECT_NOT_FOUND', 'PROJECT_NOT_FOUND']);

/** Stack Auth's answer when a project cannot be transferred (Neon relies on its wording). */
const NOT_TRANSFERABLE = /can only be transferred once|not authorized to transfer/i;


/** SDK keys made for applications do not expire (Stack's API needs a date: about 100 years ahead). */
const KEY_LIFETIME_MS = 100 * 365 * 24 * 3600 * 1000;

interface StackUserObject extends Record<string, unknown> {
  id: string;
}

interface UsersListAnswer {
  items: StackUserObject[];
  pagination?: { next_cursor?: string | null };
}

/**
 * The `stack` auth provider: Stack Auth's REST API over HTTP, to the embedded provider
 * (`${PUBLIC_URL}/stack-auth`, integration client from integrationClientCredentials) or, when
 * STACK_AUTH_URL is set, to a real Stack Auth server with the configured integration client.
 *
 * Project operations use `credentials.baseUrl`, so a manually connected project on another Stack server
 * works too; the integration client's Basic credentials are sent only to the configured integration
 * server, never to a base URL a person supplied.
 */
/** The description a provisioned project gets: the Neon project it serves. */
export function neonProjectDescription(neonProjectId: string): string {
  return `Neon project ${neonProjectId}`;
}

@Injectable()
export class StackProviderAdapter implements AuthProvider {
  readonly kind = 'stack' as const;
  readonly capabilities: ProviderCapabilities;
  /** The server that provisions managed projects (the SDK's baseUrl form, no trailing slash). */
  readonly integrationBaseUrl: string;
  private readonly http: StackHttpClient;
  private readonly settingsWrites = new KeyedSerializer();
  private readonly sealer: Sealer;

  /**
   * Trusted domains, allow_localhost, OAuth providers and the e-mail server, kept in the Stack project's configuration
   * (admin key; mapping in stack-settings.ts). An update is GET, change, PATCH of what changed, one at a time per
   * project in this process. Stack has no compare-and-set: two replicas updating one project at the same moment can
   * still interleave, and the later PATCH of a part wins (each PATCH sends only the parts its change touched).
   */
  readonly settings: ProviderSettings = {
    sections: STACK_SETTINGS_SECTIONS,
    oauthProviders: STACK_OAUTH_PROVIDERS,
    mergesPartialEmailProvider: false,
    read: async (credentials) => settingsFromStack(await this.adminProject(credentials, 'read settings'), this.sealer),
    update: (credentials, _target, change) => this.settingsWrites.run(`${credentials.baseUrl}\u0000${credentials.projectId}`, () => this.updateSettings(credentials, change)),
  };

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly secrets: SecretsService,
    @Optional() @Inject(STACK_PROVIDER_HTTP_OPTIONS) options?: Partial<StackHttpOptions>,
    /** The app's guarded client; built from the configuration when absent (an adapter made by hand). */
    @Optional() outbound?: OutboundHttp,
    @Optional() @Inject(LOGGER) private readonly logger?: Logger,
  ) {
    this.integrationBaseUrl = (config.stackAuthUrl ?? `${config.publicUrl}/stack-auth`).replace(/\/+$/, '');
    // The embedded provider honours the provision idempotency key; a Stack Auth server (STACK_AUTH_URL) may not.
    this.capabilities = { managedProjects: true, sdkKeys: true, ownershipTransfer: true, webhooks: 'http', idempotentProvisioning: config.stackAuthUrl === undefined, writesUsersSync: false };
    this.http = new StackHttpClient(outbound ?? OutboundHttp.forConfig(config), { ...DEFAULT_STACK_HTTP_OPTIONS, ...options });
    this.sealer = {
      seal: (plaintext, context) => secrets.encrypt(plaintext, context),
      unseal: (sealed, context) => secrets.decrypt(sealed, context),
    };
  }

  /** Provisions a project (integration client), then a secret server key for the control plane (admin key). */
  async provisionManagedProject(request: ProvisionRequest): Promise<ProvisionedProject> {
    const provisioned = await this.http.request<{ project_id: string; super_secret_admin_key: string }>({
      method: 'POST',
      baseUrl: this.integrationBaseUrl,
      path: '/integrations/neon/projects/provision',
      headers: { authorization: this.basicAuthorization(), ...(request.idempotencyKey ? { 'idempotency-key': request.idempotencyKey } : {}) },
      body: { display_name: request.displayName },
      operation: 'provision project',
    });
    if (typeof provisioned.project_id !== 'string' || typeof provisioned.super_secret_admin_key !== 'string') {
      throw new ProviderUnavailable('provision project: the auth provider answered without project_id or super_secret_admin_key');
    }
    const credentials: ProviderCredentials = {
      baseUrl: this.integrationBaseUrl,
      projectId: provisioned.project_id,
      superSecretAdminKey: provisioned.super_secret_admin_key,
    };
    const keys = await this.createKeySet(credentials, { server: true, client: false }, 'Neon Auth control plane (server key)');
    credentials.secretServerKey = keys.secret_server_key;
    // The provider's pages (the ownership-transfer confirm page, Stack's dashboard) name the project by its display
    // name and description: the description says which Neon project it serves, an id the person knows.
    // Only words on a page: a failure here must not fail (and half-undo) the provisioning that already succeeded.
    if (request.neonProjectId !== undefined) {
      try {
        await this.http.request<unknown>({
          method: 'PATCH',
          baseUrl: credentials.baseUrl,
          path: '/internal/projects/current',
          headers: this.adminHeaders(credentials, 'describe project'),
          body: { description: neonProjectDescription(request.neonProjectId) },
          operation: 'describe project',
        });
      } catch (err) {
        this.logger?.warn({ err, providerProjectId: provisioned.project_id }, 'provisioned a Stack project but could not set its description; it keeps the provider\'s own');
      }
    }
    return {
      providerProjectId: provisioned.project_id,
      credentials,
      jwksUrl: `${this.integrationBaseUrl}/api/v1/projects/${encodeURIComponent(provisioned.project_id)}/.well-known/jwks.json`,
      baseUrl: this.integrationBaseUrl,
    };
  }

  /**
   * Stack's dashboard call `DELETE /internal/projects/current` with the admin key. A project that no longer
   * exists answers CURRENT_PROJECT_NOT_FOUND (checked before the key): already deleted, a success.
   */
  async deleteManagedProject(credentials: ProviderCredentials): Promise<void> {
    try {
      await this.http.request<unknown>({
        method: 'DELETE',
        baseUrl: credentials.baseUrl,
        path: '/internal/projects/current',
        headers: this.adminHeaders(credentials, 'delete project'),
        operation: 'delete project',
      });
    } catch (err) {
      if (err instanceof ProviderAuthFailed && err.providerCode !== undefined && PROJECT_GONE_CODES.has(err.providerCode)) return;
      throw err;
    }
  }

  async createSdkKeys(credentials: ProviderCredentials): Promise<SdkKeys> {
    const keys = await this.createKeySet(credentials, { server: true, client: true }, 'Neon Auth SDK keys');
    return { publishableClientKey: keys.publishable_client_key!, secretServerKey: keys.secret_server_key! };
  }

  async registerWebhook(credentials: ProviderCredentials, url: string): Promise<{ signingSecret: string }> {
    const answer = await this.http.request<{ secret?: unknown }>({
      method: 'POST',
      baseUrl: credentials.baseUrl,
      path: '/integrations/neon/webhooks',
      headers: { ...this.adminHeaders(credentials, 'register webhook'), ...this.integrationHeaderFor(credentials) },
      body: { url, description: 'Neon Auth users_sync' },
      operation: 'register webhook',
    });
    if (typeof answer.secret !== 'string' || answer.secret === '') throw new ProviderUnavailable('register webhook: the auth provider answered without a secret');
    return { signingSecret: answer.secret };
  }

  async createUser(credentials: ProviderCredentials, request: CreateUserRequest): Promise<ProviderUser> {
    const body: Record<string, unknown> = {
      primary_email: request.email,
      primary_email_auth_enabled: true,
      primary_email_verified: false,
    };
    if (request.name !== undefined && request.name !== null) body.display_name = request.name;
    if (request.password !== undefined) body.password = request.password;
    const user = await this.http.request<StackUserObject>({
      method: 'POST',
      baseUrl: credentials.baseUrl,
      path: '/users',
      headers: this.serverHeaders(credentials, 'create user'),
      body,
      operation: 'create user',
      mapError: (f) => (f.status === 409 && f.code !== undefined && DUPLICATE_EMAIL_CODES.has(f.code) ? new ProviderDuplicateEmail(request.email) : undefined),
    });
    return this.toUser(user, 'create user');
  }

  async getUser(credentials: ProviderCredentials, userId: string): Promise<ProviderUser> {
    // Stack user ids are UUIDs; any other id names no user (and would be a SCHEMA_ERROR).
    if (!isUuid(userId)) throw new ProviderUserNotFound(userId);
    const user = await this.http.request<StackUserObject>({
      method: 'GET',
      baseUrl: credentials.baseUrl,
      path: `/users/${encodeURIComponent(userId)}`,
      headers: this.serverHeaders(credentials, 'get user'),
      operation: 'get user',
      mapError: userNotFound(userId),
    });
    return this.toUser(user, 'get user');
  }

  /** Ordered by sign-up time, restricted users included (they exist and receive webhooks like any other). */
  async listUsers(credentials: ProviderCredentials, request: ListUsersRequest): Promise<ProviderUserPage> {
    const limit = clampPageSize(request.limit);
    const query: Record<string, string> = { limit: String(limit), order_by: 'signed_up_at', include_restricted: 'true' };
    if (request.cursor !== undefined) query.cursor = request.cursor;
    const page = await this.http.request<UsersListAnswer>({
      method: 'GET',
      baseUrl: credentials.baseUrl,
      path: '/users',
      query,
      headers: this.serverHeaders(credentials, 'list users'),
      operation: 'list users',
    });
    if (!page || !Array.isArray(page.items)) throw new ProviderUnavailable('list users: the auth provider answered without items');
    const next = page.pagination?.next_cursor;
    return { users: page.items.map((u) => this.toUser(u, 'list users')), nextCursor: typeof next === 'string' && next !== '' ? next : null };
  }

  async deleteUser(credentials: ProviderCredentials, userId: string): Promise<void> {
    if (!isUuid(userId)) throw new ProviderUserNotFound(userId);
    await this.http.request<unknown>({
      method: 'DELETE',
      baseUrl: credentials.baseUrl,
      path: `/users/${encodeURIComponent(userId)}`,
      headers: this.serverHeaders(credentials, 'delete user'),
      operation: 'delete user',
      mapError: userNotFound(userId),
    });
  }

  /**
   * Read-modify-write of `server_metadata` (Stack's PATCH replaces the whole object): the other keys are
   * kept. Stack has no conditional update, so a change of another `server_metadata` key made between the
   * read and the write is lost; role changes of the control plane itself are serialized by its callers.
   */
  async setUserRoles(credentials: ProviderCredentials, userId: string, roles: string[]): Promise<ProviderUser> {
    const current = await this.getUser(credentials, userId);
    const meta = current.raw.server_metadata;
    if (meta !== null && meta !== undefined && (typeof meta !== 'object' || Array.isArray(meta))) {
      throw new ProviderRequestRejected(`set user roles: server_metadata of user ${userId} is not an object, so roles cannot be added without overwriting it`, 409);
    }
    const serverMetadata = { ...((meta as Record<string, unknown> | null | undefined) ?? {}), roles: normalizeRoles(roles) };
    const user = await this.http.request<StackUserObject>({
      method: 'PATCH',
      baseUrl: credentials.baseUrl,
      path: `/users/${encodeURIComponent(userId)}`,
      headers: this.serverHeaders(credentials, 'set user roles'),
      body: { server_metadata: serverMetadata },
      operation: 'set user roles',
      mapError: userNotFound(userId),
    });
    return this.toUser(user, 'set user roles');
  }

  /** The admin key and, when the project lives on the integration server, the integration client (real Stack Auth needs the latter). */
  async startOwnershipTransfer(credentials: ProviderCredentials): Promise<{ url: string }> {
    const answer = await this.http.request<{ confirmation_url?: unknown }>({
      method: 'POST',
      baseUrl: credentials.baseUrl,
      path: '/integrations/neon/projects/transfer',
      headers: { ...this.adminHeaders(credentials, 'start ownership transfer'), ...this.integrationHeaderFor(credentials) },
      body: { project_id: credentials.projectId },
      operation: 'start ownership transfer',
      mapError: notTransferable,
    });
    if (typeof answer.confirmation_url !== 'string') throw new ProviderUnavailable('start ownership transfer: the auth provider answered without confirmation_url');
    return { url: answer.confirmation_url };
  }

  /**
   * The embedded provider reports `not_started | pending | finished`. A real Stack Auth server answers
   * 200 while the project is still transferable (pending or not: `none` here) and its "can only be
   * transferred once" 400 once it was transferred (`finished`).
   */
  async ownershipTransferStatus(credentials: ProviderCredentials): Promise<OwnershipTransferStatus> {
    try {
      const answer = await this.http.request<{ status?: unknown }>({
        method: 'GET',
        baseUrl: credentials.baseUrl,
        path: '/integrations/neon/projects/transfer',
        query: { project_id: credentials.projectId },
        headers: { ...this.adminHeaders(credentials, 'get ownership transfer status'), ...this.integrationHeaderFor(credentials) },
        operation: 'get ownership transfer status',
        mapError: notTransferable,
      });
      if (answer.status === 'finished') return 'finished';
      if (answer.status === 'pending') return 'initiated';
      return 'none';
    } catch (err) {
      if (err instanceof ProviderTransferNotAllowed) return 'finished';
      throw err;
    }
  }

  /** One user read with server access: proves the project id and the secret server key. */
  async verifyConnection(credentials: ProviderCredentials): Promise<void> {
    await this.listUsers(credentials, { limit: 1 });
  }

  // -------------------------------------------------------------------------------------------------

  private async adminProject(credentials: ProviderCredentials, operation: string): Promise<StackAdminProject> {
    const answer = await this.http.request<unknown>({
      method: 'GET',
      baseUrl: credentials.baseUrl,
      path: '/internal/projects/current',
      headers: this.adminHeaders(credentials, operation),
      operation,
    });
    return parseAdminProject(answer, operation);
  }

  private async updateSettings(credentials: ProviderCredentials, change: (current: ProjectSettings) => ProjectSettings | Promise<ProjectSettings>): Promise<ProjectSettings> {
    const project = await this.adminProject(credentials, 'update settings');
    const current = settingsFromStack(project, this.sealer);
    // The change gets its own copy: what it edits in place is still compared with what Stack has.
    const next = await change(structuredClone(current));
    const config = stackConfigChange(project, current, next, this.sealer);
    if (Object.keys(config).length === 0) return current;
    const updated = await this.http.request<unknown>({
      method: 'PATCH',
      baseUrl: credentials.baseUrl,
      path: '/internal/projects/current',
      headers: this.adminHeaders(credentials, 'update settings'),
      body: { config },
      operation: 'update settings',
    });
    return settingsFromStack(parseAdminProject(updated, 'update settings'), this.sealer);
  }

  private async createKeySet(
    credentials: ProviderCredentials,
    want: { server: boolean; client: boolean },
    description: string,
  ): Promise<{ publishable_client_key?: string; secret_server_key?: string }> {
    const answer = await this.http.request<{ publishable_client_key?: unknown; secret_server_key?: unknown }>({
      method: 'POST',
      baseUrl: credentials.baseUrl,
      path: '/integrations/neon/api-keys',
      headers: this.adminHeaders(credentials, 'create api keys'),
      body: {
        description,
        expires_at_millis: Date.now() + KEY_LIFETIME_MS,
        has_publishable_client_key: want.client,
        has_secret_server_key: want.server,
        has_super_secret_admin_key: false,
      },
      operation: 'create api keys',
    });
    if ((want.server && typeof answer.secret_server_key !== 'string') || (want.client && typeof answer.publishable_client_key !== 'string')) {
      throw new ProviderUnavailable('create api keys: the auth provider answered without the requested keys');
    }
    return answer as { publishable_client_key?: string; secret_server_key?: string };
  }

  private serverHeaders(credentials: ProviderCredentials, operation: string): Record<string, string> {
    if (!credentials.secretServerKey) throw new ProviderAuthFailed(`${operation}: no secret server key is stored for provider project ${credentials.projectId}`);
    return {
      'x-stack-access-type': 'server',
      'x-stack-project-id': credentials.projectId,
      'x-stack-secret-server-key': credentials.secretServerKey,
    };
  }

  private adminHeaders(credentials: ProviderCredentials, operation: string): Record<string, string> {
    if (!credentials.superSecretAdminKey) {
      throw new ProviderAuthFailed(`${operation}: no admin key is stored for provider project ${credentials.projectId} (a project connected manually is managed in the provider)`);
    }
    return {
      'x-stack-access-type': 'admin',
      'x-stack-project-id': credentials.projectId,
      'x-stack-super-secret-admin-key': credentials.superSecretAdminKey,
    };
  }

  private basicAuthorization(): string {
    const { clientId, clientSecret } = integrationClientCredentials(this.config, this.secrets);
    return `Basic ${Buffer.from(`${clientId}:${clientSecret}`, 'utf8').toString('base64')}`;
  }

  /** The integration client's Authorization, only for projects on the integration server. */
  private integrationHeaderFor(credentials: ProviderCredentials): Record<string, string> {
    return sameServer(credentials.baseUrl, this.integrationBaseUrl) ? { authorization: this.basicAuthorization() } : {};
  }

  private toUser(user: StackUserObject, operation: string): ProviderUser {
    if (!user || typeof user !== 'object' || typeof user.id !== 'string') throw new ProviderUnavailable(`${operation}: the auth provider answered a user without an id`);
    return providerUserFromStackShape(user);
  }
}

function userNotFound(userId: string) {
  return (f: StackFailure) => (f.status === 404 && f.code === 'USER_NOT_FOUND' ? new ProviderUserNotFound(userId) : undefined);
}

function notTransferable(f: StackFailure) {
  return f.status === 400 && NOT_TRANSFERABLE.test(f.message) ? new ProviderTransferNotAllowed(f.message) : undefined;
}

/** Same origin and path (trailing slashes ignored). */
function sameServer(a: string, b: string): boolean {
  try {
    const ua = new URL(a);
    const ub = new URL(b);
    return ua.origin === ub.origin && ua.pathname.replace(/\/+$/, '') === ub.pathname.replace(/\/+$/, '');
  } catch {
    return false;
  }
}
