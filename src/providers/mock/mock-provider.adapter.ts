import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
// The signing half of svix only: its index loads the whole API client (some 250 modules) at every start.
import { Webhook } from 'svix/dist/webhook.js';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import { databaseNow } from '../../common/db-clock.js';
import { isPrimaryKeyViolation, isUniqueViolation } from '../../common/db-errors.js';
import { LOGGER } from '../../common/logger.js';
import { SecretsService } from '../../common/secrets.js';
import {
  ProviderAuthFailed,
  clampPageSize,
  ProviderDuplicateEmail,
  ProviderRequestRejected,
  ProviderTransferNotAllowed,
  ProviderUserNotFound,
  normalizeRoles,
  providerUserFromStackShape,
  SETTINGS_SECTIONS,
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
import { DEFAULT_PROJECT_CONFIG_COLUMNS, OAUTH_PROVIDER_IDS, parseProjectConfig, projectConfigColumns, type ProjectConfigColumns, type ProjectSettings } from '../../better-auth/project-config.js';
import { MockProviderProjectEntity, MockProviderUserEntity } from './mock-provider.entities.js';
import { isUuid } from '../../common/validation.js';

/** The mock's base URL: `.invalid` never resolves (RFC 6761), so nothing can ever try to reach it. */
export const MOCK_PROVIDER_BASE_URL = 'https://mock-auth.invalid';

/** Purpose string of the key that derives the mock's keys, secrets and codes from the secrets key. */
const DERIVATION_PURPOSE = 'mock auth provider v1';

/** Fixed namespace of the mock's name-based (v5) UUIDs. */
const UUID_NAMESPACE = Buffer.from('5f1c2b8e6a0d4c7e9b3a1d2e4f607182', 'hex');
const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';
const MAX_ID_ATTEMPTS = 5;

/** A delivery the mock would have sent over HTTP: the same headers and raw body, Svix-signed. */
export interface MockWebhookDelivery {
  providerProjectId: string;
  /** The registered URL this delivery is addressed to (not called). */
  url: string;
  headers: { 'content-type': 'application/json'; 'svix-id': string; 'svix-timestamp': string; 'svix-signature': string };
  /** `{"type": ..., "data": ...}`, exactly the body Stack Auth sends. */
  body: string;
}

export type MockWebhookListener = (delivery: MockWebhookDelivery) => void | Promise<void>;

/**
 * The mock's webhook "transport": instead of HTTP, deliveries go to listeners in this process (the sync
 * engine subscribes its inbox). Best effort: a delivery is handed to the listeners subscribed on the
 * replica that made the change, after its commit, and awaited; a listener's failure is logged, not
 * retried. Nothing is queued when no listener is subscribed. The control plane's own API writes
 * `users_sync` itself, and a reconciler reading listUsers repairs anything a lost delivery left behind.
 */
@Injectable()
export class MockWebhookBus {
  private readonly listeners = new Set<MockWebhookListener>();

  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  /** Adds a listener; the returned function removes it. */
  subscribe(listener: MockWebhookListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async publish(deliveries: MockWebhookDelivery[]): Promise<void> {
    for (const delivery of deliveries) {
      const results = await Promise.allSettled([...this.listeners].map(async (l) => l(delivery)));
      for (const r of results) {
        if (r.status === 'rejected') {
          this.logger.warn({ err: r.reason instanceof Error ? r.reason.message : String(r.reason), svixId: delivery.headers['svix-id'] }, 'mock auth provider: a webhook listener failed');
        }
      }
    }
  }
}

/**
 * The `mock` auth provider: "a simulated provider for local development and testing only". In process,
 * no network, state in the control-plane database (tables mock_provider_projects / mock_provider_users),
 * so it survives restarts and works across replicas.
 *
 * Deterministic: ids are name-based UUIDs of their inputs (a project's display name, a user's project and
 * email, each with how many came before), and keys, webhook secrets and transfer codes are HMACs of their
 * inputs under a key derived from SECRETS_KEY, so the same calls in the same order give the same
 * answers. Only timestamps come from the clock (the control-plane database's). Keys are checked like a real provider checks them:
 * user operations need a valid secret server key, admin operations the admin key.
 *
 * Users are shaped like Stack Auth's complete server user object, so `users_sync` works unchanged.
 * Deleted users stay as tombstones (never listed or returned). Webhooks: see MockWebhookBus. Ownership
 * transfer: the link points at the unreachable mock host; confirmOwnershipTransfer stands in for the
 * person confirming.
 */
@Injectable()
export class MockProviderAdapter implements AuthProvider {
  readonly kind = 'mock' as const;
  readonly capabilities: ProviderCapabilities = { managedProjects: true, sdkKeys: true, ownershipTransfer: true, webhooks: 'in_process', idempotentProvisioning: true, writesUsersSync: false };

  /**
   * Every setting, kept with the mock project (its `settings` column, in the form of Better Auth's project_config row,
   * secrets sealed as there): read and changed like the real thing, one change at a time (the project row locked). The
   * mock serves no sign-in, so nothing else follows from them.
   */
  readonly settings: ProviderSettings = {
    sections: SETTINGS_SECTIONS,
    oauthProviders: OAUTH_PROVIDER_IDS,
    mergesPartialEmailProvider: true,
    read: async (credentials) => {
      const project = await this.authenticate(this.db.manager, credentials, 'admin', 'read settings');
      return mockSettings(project);
    },
    update: (credentials, _target, change) =>
      this.db.transaction(async (tx) => {
        const project = await this.authenticate(tx, credentials, 'admin', 'update settings', true);
        const next = await change(mockSettings(project));
        await tx.getRepository(MockProviderProjectEntity).update({ id: project.id }, { settings: projectConfigColumns(next) });
        return next;
      }),
  };

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly secrets: SecretsService,
    private readonly bus: MockWebhookBus,
  ) {}

  async provisionManagedProject(request: ProvisionRequest): Promise<ProvisionedProject> {
    const displayName = request.displayName;
    if (typeof displayName !== 'string' || displayName.trim() === '' || displayName.length > 256) {
      throw new ProviderRequestRejected('provision project: display name must be 1 to 256 characters', 400);
    }
    const repo = this.db.getRepository(MockProviderProjectEntity);
    const provisionKey = request.idempotencyKey ?? null;
    for (let attempt = 1; ; attempt++) {
      const earlier = provisionKey === null ? null : await repo.findOneBy({ provisionKey });
      const n = await repo.countBy({ displayName });
      const id = earlier?.id ?? nameUuid(`project\0${displayName}\0${n}`);
      if (!earlier) {
        try {
          await repo.insert({ id, displayName, ownedBy: 'neon', transferStatus: 'none', transferLinks: 0, keyGeneration: 0, webhookUrls: [], provisionKey, deletedAt: null });
        } catch (err) {
          // Another replica took this id (or this key) at the same moment: look again.
          if ((isPrimaryKeyViolation(err) || isUniqueViolation(err)) && attempt < MAX_ID_ATTEMPTS) continue;
          throw err;
        }
      }
      const credentials: ProviderCredentials = {
        baseUrl: MOCK_PROVIDER_BASE_URL,
        projectId: id,
        superSecretAdminKey: this.key('sak', id, 0),
        secretServerKey: this.key('ssk', id, 0),
      };
      return { providerProjectId: id, credentials, jwksUrl: mockJwksUrl(id), baseUrl: MOCK_PROVIDER_BASE_URL };
    }
  }

  /**
   * Deletes the project's users (rows gone) and marks the project deleted; the project row stays as a
   * tombstone so that its id and derived keys are never issued again. No webhooks. Already deleted or
   * unknown: a success; a wrong admin key for a live project: ProviderAuthFailed.
   */
  async deleteManagedProject(credentials: ProviderCredentials): Promise<void> {
    if (typeof credentials.projectId !== 'string' || !isUuid(credentials.projectId)) return;
    await this.db.transaction(async (tx) => {
      const projects = tx.getRepository(MockProviderProjectEntity);
      const project = await projects.findOne({ where: { id: credentials.projectId.toLowerCase() }, lock: { mode: 'pessimistic_write' } });
      if (!project || project.deletedAt !== null) return;
      await this.authenticate(tx, credentials, 'admin', 'delete project');
      await tx.getRepository(MockProviderUserEntity).delete({ projectId: project.id });
      await projects.update({ id: project.id }, { deletedAt: new Date(), webhookUrls: [], transferStatus: 'none' });
    });
  }

  async createSdkKeys(credentials: ProviderCredentials): Promise<SdkKeys> {
    const generation = await this.db.transaction(async (tx) => {
      const project = await this.authenticate(tx, credentials, 'admin', 'create sdk keys', true);
      const next = project.keyGeneration + 1;
      await tx.getRepository(MockProviderProjectEntity).update({ id: project.id }, { keyGeneration: next });
      return next;
    });
    return { publishableClientKey: this.key('pck', credentials.projectId, generation), secretServerKey: this.key('ssk', credentials.projectId, generation) };
  }

  /** Records the URL (once) and answers its deterministic `whsec_` secret; deliveries go to MockWebhookBus. */
  async registerWebhook(credentials: ProviderCredentials, url: string): Promise<{ signingSecret: string }> {
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new ProviderRequestRejected('register webhook: url must be an absolute http(s) URL', 400);
    await this.db.transaction(async (tx) => {
      const project = await this.authenticate(tx, credentials, 'admin', 'register webhook', true);
      if (!project.webhookUrls.includes(url)) {
        await tx.getRepository(MockProviderProjectEntity).update({ id: project.id }, { webhookUrls: [...project.webhookUrls, url] });
      }
    });
    return { signingSecret: this.webhookSecret(credentials.projectId, url) };
  }

  async createUser(credentials: ProviderCredentials, request: CreateUserRequest): Promise<ProviderUser> {
    const email = typeof request.email === 'string' ? request.email.trim().toLowerCase() : '';
    if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 256) throw new ProviderRequestRejected('create user: email is not a valid email address', 400);
    const name = request.name === undefined || request.name === null || request.name === '' ? null : request.name;
    if (name !== null && (typeof name !== 'string' || name.length > 256)) throw new ProviderRequestRejected('create user: name must be at most 256 characters', 400);
    for (let attempt = 1; ; attempt++) {
      try {
        const { user, project } = await this.db.transaction(async (tx) => {
          const project = await this.authenticate(tx, credentials, 'server', 'create user');
          const users = tx.getRepository(MockProviderUserEntity);
          if (await users.existsBy({ projectId: project.id, email, deletedAt: IsNull() })) throw new ProviderDuplicateEmail(request.email);
          const n = await users.countBy({ projectId: project.id, email });
          const row = users.create({
            id: nameUuid(`user\0${project.id}\0${email}\0${n}`),
            projectId: project.id,
            email,
            displayName: name,
            serverMetadata: null,
            signedUpAt: new Date(await databaseNow(tx)), // the control-plane database's clock, like every version
            version: 1,
            deletedAt: null,
          });
          // server_metadata starts NULL (its column default); jsonb objects do not fit insert()'s typing.
          const { serverMetadata: _none, ...fields } = row;
          await users.insert(fields);
          return { user: row, project };
        });
        const raw = mockUserObject(user);
        await this.emit(project, 'user.created', raw, user);
        return providerUserFromStackShape(raw);
      } catch (err) {
        if (isUniqueViolation(err, 'mock_provider_users_email_key')) throw new ProviderDuplicateEmail(request.email);
        // The same (project, email, n) id from a concurrent create and delete: count again.
        if (isPrimaryKeyViolation(err) && attempt < MAX_ID_ATTEMPTS) continue;
        throw err;
      }
    }
  }

  async getUser(credentials: ProviderCredentials, userId: string): Promise<ProviderUser> {
    await this.authenticate(this.db.manager, credentials, 'server', 'get user');
    const user = await this.findUser(this.db.manager, credentials.projectId, userId, false);
    return providerUserFromStackShape(mockUserObject(user));
  }

  /** Ordered by (sign-up time, id); the cursor is the id of the previous page's last user (exclusive). */
  async listUsers(credentials: ProviderCredentials, request: ListUsersRequest): Promise<ProviderUserPage> {
    await this.authenticate(this.db.manager, credentials, 'server', 'list users');
    const limit = clampPageSize(request.limit);
    const qb = this.db
      .getRepository(MockProviderUserEntity)
      .createQueryBuilder('u')
      .where('u.projectId = :projectId', { projectId: credentials.projectId })
      .andWhere('u.deletedAt IS NULL');
    if (request.cursor !== undefined) {
      if (!isUuid(request.cursor)) throw new ProviderRequestRejected('list users: the cursor is not one this provider issued', 400);
      qb.andWhere('(u.signedUpAt, u.id) > (SELECT c.signed_up_at, c.id FROM mock_provider_users c WHERE c.project_id = :projectId AND c.id = :cursor)', {
        cursor: request.cursor.toLowerCase(),
      });
    }
    const rows = await qb.orderBy('u.signedUpAt', 'ASC').addOrderBy('u.id', 'ASC').limit(limit + 1).getMany();
    const page = rows.slice(0, limit);
    return {
      users: page.map((u) => providerUserFromStackShape(mockUserObject(u))),
      nextCursor: rows.length > limit ? page[page.length - 1].id : null,
    };
  }

  /** Marks the user deleted (a tombstone stays); a second delete -> ProviderUserNotFound. */
  async deleteUser(credentials: ProviderCredentials, userId: string): Promise<void> {
    const { user, project } = await this.db.transaction(async (tx) => {
      const project = await this.authenticate(tx, credentials, 'server', 'delete user');
      const user = await this.findUser(tx, project.id, userId, true);
      user.deletedAt = new Date();
      user.version += 1;
      await tx.getRepository(MockProviderUserEntity).update({ id: user.id }, { deletedAt: user.deletedAt, version: user.version });
      return { user, project };
    });
    await this.emit(project, 'user.deleted', { id: user.id, teams: [] }, user);
  }

  /** Sets `server_metadata.roles`, keeping the other keys, atomically (the user's row is locked). */
  async setUserRoles(credentials: ProviderCredentials, userId: string, roles: string[]): Promise<ProviderUser> {
    const normalized = normalizeRoles(roles);
    const { user, project } = await this.db.transaction(async (tx) => {
      const project = await this.authenticate(tx, credentials, 'server', 'set user roles');
      const user = await this.findUser(tx, project.id, userId, true);
      user.serverMetadata = { ...(user.serverMetadata ?? {}), roles: normalized };
      user.version += 1;
      await tx.getRepository(MockProviderUserEntity).save(user);
      return { user, project };
    });
    const raw = mockUserObject(user);
    await this.emit(project, 'user.updated', raw, user);
    return providerUserFromStackShape(raw);
  }

  async startOwnershipTransfer(credentials: ProviderCredentials): Promise<{ url: string }> {
    const link = await this.db.transaction(async (tx) => {
      const project = await this.authenticate(tx, credentials, 'admin', 'start ownership transfer', true);
      if (project.ownedBy !== 'neon') throw new ProviderTransferNotAllowed('the project was already transferred; projects can only be transferred once');
      const links = project.transferLinks + 1;
      await tx.getRepository(MockProviderProjectEntity).update({ id: project.id }, { transferStatus: 'initiated', transferLinks: links });
      return links;
    });
    const code = this.derive(`transfer\0${credentials.projectId}\0${link}`).slice(0, 45);
    return { url: `${MOCK_PROVIDER_BASE_URL}/integrations/neon/projects/transfer/confirm?code=${code}` };
  }

  async ownershipTransferStatus(credentials: ProviderCredentials): Promise<OwnershipTransferStatus> {
    const project = await this.authenticate(this.db.manager, credentials, 'admin', 'get ownership transfer status');
    return project.transferStatus;
  }

  /**
   * Mock only (not part of the port): what a person confirming the transfer link does. Needs a pending
   * link; afterwards the project is owned by `user` and its keys keep working.
   */
  async confirmOwnershipTransfer(providerProjectId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const project = await tx.getRepository(MockProviderProjectEntity).findOne({ where: { id: providerProjectId }, lock: { mode: 'pessimistic_write' } });
      if (!project || project.deletedAt !== null || project.transferStatus !== 'initiated') throw new ProviderTransferNotAllowed('no transfer link of this project is waiting for confirmation');
      await tx.getRepository(MockProviderProjectEntity).update({ id: project.id }, { ownedBy: 'user', transferStatus: 'finished' });
    });
  }

  async verifyConnection(credentials: ProviderCredentials): Promise<void> {
    await this.authenticate(this.db.manager, credentials, 'server', 'verify connection');
  }

  // -------------------------------------------------------------------------------------------------

  /** The project the credentials open, or ProviderAuthFailed (unknown project, wrong or missing key). */
  private async authenticate(
    manager: EntityManager,
    credentials: ProviderCredentials,
    access: 'server' | 'admin',
    operation: string,
    lock = false,
  ): Promise<MockProviderProjectEntity> {
    const refuse = (why: string) => new ProviderAuthFailed(`${operation}: ${why}`, access === 'admin' ? 'INVALID_SUPER_SECRET_ADMIN_KEY' : 'INVALID_SECRET_SERVER_KEY');
    if (typeof credentials.projectId !== 'string' || !isUuid(credentials.projectId)) throw refuse('unknown mock provider project');
    const project = await manager
      .getRepository(MockProviderProjectEntity)
      .findOne({ where: { id: credentials.projectId.toLowerCase() }, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!project || project.deletedAt !== null) throw refuse('unknown mock provider project');
    if (access === 'admin') {
      if (!credentials.superSecretAdminKey || !safeEqual(credentials.superSecretAdminKey, this.key('sak', project.id, 0))) throw refuse('wrong or missing admin key');
      return project;
    }
    const key = credentials.secretServerKey;
    // Generation 0 is the control plane's own key; 1..keyGeneration were issued as SDK keys.
    if (!key || ![...Array(project.keyGeneration + 1).keys()].some((g) => safeEqual(key, this.key('ssk', project.id, g)))) {
      throw refuse('wrong or missing secret server key');
    }
    return project;
  }

  /** A live user of the project (locked for update when asked), or ProviderUserNotFound. */
  private async findUser(manager: EntityManager, projectId: string, userId: string, lock: boolean): Promise<MockProviderUserEntity> {
    if (typeof userId !== 'string' || !isUuid(userId)) throw new ProviderUserNotFound(userId);
    const user = await manager
      .getRepository(MockProviderUserEntity)
      .findOne({ where: { projectId, id: userId.toLowerCase(), deletedAt: IsNull() }, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!user) throw new ProviderUserNotFound(userId);
    return user;
  }

  /** Hands one signed delivery per registered URL to the bus (after the change committed). */
  private async emit(project: MockProviderProjectEntity, type: string, data: Record<string, unknown>, user: MockProviderUserEntity): Promise<void> {
    if (project.webhookUrls.length === 0) return;
    const body = JSON.stringify({ type, data });
    const deliveries = project.webhookUrls.map((url): MockWebhookDelivery => {
      const msgId = `msg_${this.derive(`message\0${project.id}\0${url}\0${user.id}\0${user.version}`).slice(0, 27)}`;
      const now = new Date();
      const signature = new Webhook(this.webhookSecret(project.id, url)).sign(msgId, now, body);
      return {
        providerProjectId: project.id,
        url,
        headers: { 'content-type': 'application/json', 'svix-id': msgId, 'svix-timestamp': String(Math.floor(now.getTime() / 1000)), 'svix-signature': signature },
        body,
      };
    });
    await this.bus.publish(deliveries);
  }

  /** `pck_` / `ssk_` / `sak_` and 45 Crockford base32 characters, as Stack Auth's keys look. */
  private key(kind: 'pck' | 'ssk' | 'sak', projectId: string, generation: number): string {
    return `${kind}_${this.derive(`${kind}\0${projectId}\0${generation}`).slice(0, 45)}`;
  }

  private webhookSecret(projectId: string, url: string): string {
    const bytes = createHmac('sha256', this.secrets.derive(DERIVATION_PURPOSE)).update(`webhook\0${projectId}\0${url}`, 'utf8').digest().subarray(0, 24);
    return `whsec_${bytes.toString('base64')}`;
  }

  /** HMAC-SHA256 of `label` under the mock's derived key, in Crockford base32 (52 characters). */
  private derive(label: string): string {
    return crockford(createHmac('sha256', this.secrets.derive(DERIVATION_PURPOSE)).update(label, 'utf8').digest());
  }
}

/** Stack Auth's complete server user object for a mock user. */
/** A mock project's settings: what it stored, else Neon's defaults (the application name: the project's). */
function mockSettings(project: MockProviderProjectEntity): ProjectSettings {
  const d = DEFAULT_PROJECT_CONFIG_COLUMNS;
  const stored: Partial<ProjectConfigColumns> = project.settings ?? {};
  const { id: _id, endpointId: _endpoint, updatedAt: _updated, ...settings } = parseProjectConfig({
    id: project.id,
    name: typeof stored.name === 'string' ? stored.name : project.displayName,
    endpoint_id: '',
    updated_at: new Date(0),
    trusted_origins: stored.trusted_origins ?? d.trusted_origins,
    allow_localhost: typeof stored.allow_localhost === 'boolean' ? stored.allow_localhost : d.allow_localhost,
    social_providers: stored.social_providers ?? d.social_providers,
    email_provider: stored.email_provider ?? d.email_provider,
    email_and_password: stored.email_and_password ?? d.email_and_password,
    plugin_configs: stored.plugin_configs ?? d.plugin_configs,
    webhook_config: stored.webhook_config ?? d.webhook_config,
  });
  return settings;
}

export function mockUserObject(u: MockProviderUserEntity): Record<string, unknown> {
  const signedUp = u.signedUpAt.getTime();
  return {
    id: u.id,
    primary_email: u.email,
    primary_email_verified: false,
    primary_email_auth_enabled: true,
    display_name: u.displayName,
    selected_team: null,
    selected_team_id: null,
    profile_image_url: null,
    signed_up_at_millis: signedUp,
    last_active_at_millis: signedUp,
    client_metadata: null,
    client_read_only_metadata: null,
    server_metadata: u.serverMetadata ?? null,
    has_password: false,
    otp_auth_enabled: false,
    passkey_auth_enabled: false,
    auth_with_email: false,
    requires_totp_mfa: false,
    oauth_providers: [],
    is_anonymous: false,
    is_restricted: false,
    restricted_reason: null,
    restricted_by_admin: false,
    restricted_by_admin_reason: null,
    restricted_by_admin_private_details: null,
    country_code: null,
    risk_scores: { sign_up: { bot: 0, free_trial_abuse: 0 } },
  };
}

export function mockJwksUrl(projectId: string): string {
  return `${MOCK_PROVIDER_BASE_URL}/api/v1/projects/${projectId}/.well-known/jwks.json`;
}

/** A name-based UUID (RFC 4122 version 5: SHA-1 of namespace and name). */
export function nameUuid(name: string): string {
  const hash = createHash('sha1').update(UUID_NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function crockford(bytes: Buffer): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += CROCKFORD[(buffer << (5 - bits)) & 31];
  return out;
}

function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}
