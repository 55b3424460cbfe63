import {
  clampPageSize,
  normalizeRoles,
  ProviderAuthFailed,
  ProviderDuplicateEmail,
  ProviderNotSupported,
  ProviderRequestRejected,
  ProviderTransferNotAllowed,
  ProviderUserNotFound,
  providerUserFromStackShape,
  type AuthProvider,
  type AuthProviderKind,
  type CreateUserRequest,
  type ListUsersRequest,
  type OwnershipTransferStatus,
  type ProviderCapabilities,
  type ProviderCredentials,
  type ProviderUser,
  type ProviderUserPage,
  type ProvisionedProject,
  type ProvisionRequest,
  type SdkKeys,
} from '../../../src/providers/auth-provider.port.js';

/**
 * An in-memory AuthProvider for unit specs (no database, no HTTP).
 *
 * - Users live in memory per provider project (`credentials.projectId`), shaped like Stack Auth's server user
 *   object (`id`, `primary_email`, `display_name`, `signed_up_at_millis`, `server_metadata.roles`), which is what
 *   `users_sync.raw_json` stores; ProviderUser is built with the port's own providerUserFromStackShape.
 * - It follows the port's contract: duplicate live email -> ProviderDuplicateEmail, unknown user ->
 *   ProviderUserNotFound (also for deleteUser: not silently idempotent), admin operations need
 *   `superSecretAdminKey` and user operations `secretServerKey` (else ProviderAuthFailed), operations the
 *   capabilities exclude -> ProviderNotSupported, deleteManagedProject is idempotent.
 * - `failOn(method, error)` makes the next call(s) of a method throw `error` (a ProviderError or a plain Error)
 *   before doing anything; `calls` records every call, failed or not, with its arguments.
 * - The clock (`now`) and ids are deterministic unless given.
 */

/** The port's operations (everything but `kind` and `capabilities`). */
export type AuthProviderMethod = {
  [K in keyof AuthProvider]-?: AuthProvider[K] extends (...args: never[]) => Promise<unknown> ? K : never;
}[keyof AuthProvider];

/** One recorded call: the method and its arguments, typed per method. */
export type FakeProviderCall = { [M in AuthProviderMethod]: { method: M; args: Parameters<AuthProvider[M]> } }[AuthProviderMethod];

export interface FakeAuthProviderOptions {
  kind?: AuthProviderKind;
  capabilities?: Partial<ProviderCapabilities>;
  /** Milliseconds since the epoch; sign-up times come from it. Default: a fixed clock at 2023-11-14T22:13:20.123Z. */
  now?: () => number;
}

/** A user as the fake stores it: the Stack-shaped object, and whether it was deleted. */
interface StoredUser {
  raw: Record<string, unknown>;
  deleted: boolean;
}

interface StoredProject {
  users: Map<string, StoredUser>;
  webhooks: string[];
  transfer: OwnershipTransferStatus;
  deleted: boolean;
}

interface Failure {
  error: Error;
  /** Calls left to fail; Infinity fails every call until clearFailures. */
  remaining: number;
}

export const FAKE_NOW_MILLIS = 1_700_000_000_123;

/** Credentials with both keys, for a provider project the fake knows. */
export const FAKE_CREDENTIALS: Readonly<ProviderCredentials> = Object.freeze({
  baseUrl: 'https://fake-auth.invalid',
  projectId: 'fake-project-1',
  secretServerKey: 'ssk_fake',
  superSecretAdminKey: 'sak_fake',
});

export class FakeAuthProvider implements AuthProvider {
  readonly kind: AuthProviderKind;
  readonly capabilities: ProviderCapabilities;
  /** Every call, in order, including the ones that failed. */
  readonly calls: FakeProviderCall[] = [];

  private readonly now: () => number;
  private readonly projects = new Map<string, StoredProject>();
  private readonly failures = new Map<AuthProviderMethod, Failure[]>();
  private sequence = 0;

  constructor(options: FakeAuthProviderOptions = {}) {
    this.kind = options.kind ?? 'mock';
    this.capabilities = { managedProjects: true, sdkKeys: true, ownershipTransfer: true, webhooks: 'in_process', idempotentProvisioning: false, writesUsersSync: false, ...options.capabilities };
    this.now = options.now ?? (() => FAKE_NOW_MILLIS);
    this.projects.set(FAKE_CREDENTIALS.projectId, newProject());
  }

  // ---- test controls ----

  /** The next `times` calls of `method` throw `error` before doing anything (Infinity: every call). */
  failOn(method: AuthProviderMethod, error: Error, times = 1): this {
    const list = this.failures.get(method) ?? [];
    list.push({ error, remaining: times });
    this.failures.set(method, list);
    return this;
  }

  clearFailures(): void {
    this.failures.clear();
  }

  /** The arguments of every call of `method`, in order. */
  callsOf<M extends AuthProviderMethod>(method: M): Parameters<AuthProvider[M]>[] {
    // The union's `method` tags its `args`; TypeScript cannot narrow a union by a generic key, hence the cast.
    return this.calls.filter((c) => c.method === method).map((c) => c.args as Parameters<AuthProvider[M]>);
  }

  /** The method names called, in order (a compact view for assertions). */
  methodsCalled(): AuthProviderMethod[] {
    return this.calls.map((c) => c.method);
  }

  /** Adds a user directly (no call recorded); answers it as the port would. */
  seedUser(user: { id?: string; email: string; name?: string | null; signedUpAtMillis?: number; roles?: string[] }, projectId = FAKE_CREDENTIALS.projectId): ProviderUser {
    const raw = stackUser(user.id ?? this.nextId('user'), user.email, user.name ?? null, user.signedUpAtMillis ?? this.now(), user.roles ?? []);
    this.project(projectId).users.set(String(raw.id), { raw, deleted: false });
    return providerUserFromStackShape(structuredClone(raw));
  }

  /** The live user with this id, or undefined (no call recorded). */
  userById(userId: string, projectId = FAKE_CREDENTIALS.projectId): ProviderUser | undefined {
    const stored = this.projects.get(projectId)?.users.get(userId);
    return stored && !stored.deleted ? providerUserFromStackShape(structuredClone(stored.raw)) : undefined;
  }

  /** Ids of the live users of a project, in sign-up order. */
  liveUserIds(projectId = FAKE_CREDENTIALS.projectId): string[] {
    return this.liveUsers(projectId).map((u) => String(u.raw.id));
  }

  /** Stands in for the person confirming an ownership transfer. */
  confirmOwnershipTransfer(projectId = FAKE_CREDENTIALS.projectId): void {
    const project = this.project(projectId);
    if (project.transfer !== 'initiated') throw new Error(`no transfer is pending for ${projectId}`);
    project.transfer = 'finished';
  }

  // ---- the port ----

  async provisionManagedProject(request: ProvisionRequest): Promise<ProvisionedProject> {
    this.enter({ method: 'provisionManagedProject', args: [request] });
    if (!this.capabilities.managedProjects) throw new ProviderNotSupported(this.kind);
    if (typeof request.displayName !== 'string' || request.displayName.trim() === '') {
      throw new ProviderRequestRejected('provision project: display name must not be empty', 400);
    }
    const projectId = this.nextId('project');
    this.projects.set(projectId, newProject());
    const credentials: ProviderCredentials = { baseUrl: FAKE_CREDENTIALS.baseUrl, projectId, secretServerKey: `ssk_${projectId}`, superSecretAdminKey: `sak_${projectId}` };
    return { providerProjectId: projectId, credentials, jwksUrl: `${FAKE_CREDENTIALS.baseUrl}/projects/${projectId}/.well-known/jwks.json`, baseUrl: FAKE_CREDENTIALS.baseUrl };
  }

  async deleteManagedProject(credentials: ProviderCredentials): Promise<void> {
    this.enter({ method: 'deleteManagedProject', args: [credentials] });
    const project = this.projects.get(credentials.projectId);
    if (!project || project.deleted) return;
    requireKey(credentials, 'admin', 'delete project');
    project.users.clear();
    project.webhooks = [];
    project.deleted = true;
  }

  async createSdkKeys(credentials: ProviderCredentials): Promise<SdkKeys> {
    this.enter({ method: 'createSdkKeys', args: [credentials] });
    if (!this.capabilities.sdkKeys) throw new ProviderNotSupported(this.kind);
    this.liveProject(credentials, 'admin', 'create sdk keys');
    const n = this.nextId('key');
    return { publishableClientKey: `pck_${n}`, secretServerKey: `ssk_${n}` };
  }

  async registerWebhook(credentials: ProviderCredentials, url: string): Promise<{ signingSecret: string }> {
    this.enter({ method: 'registerWebhook', args: [credentials, url] });
    const project = this.liveProject(credentials, 'admin', 'register webhook');
    if (!URL.canParse(url)) throw new ProviderRequestRejected('register webhook: url must be an absolute URL', 400);
    if (!project.webhooks.includes(url)) project.webhooks.push(url);
    return { signingSecret: `whsec_${Buffer.from(`${credentials.projectId}\0${url}`).toString('base64')}` };
  }

  async createUser(credentials: ProviderCredentials, request: CreateUserRequest): Promise<ProviderUser> {
    this.enter({ method: 'createUser', args: [credentials, request] });
    const project = this.liveProject(credentials, 'server', 'create user');
    const email = typeof request.email === 'string' ? request.email.trim().toLowerCase() : '';
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new ProviderRequestRejected('create user: email is not a valid email address', 400);
    if (this.liveUsers(credentials.projectId).some((u) => u.raw.primary_email === email)) throw new ProviderDuplicateEmail(request.email);
    const name = request.name === undefined || request.name === null || request.name === '' ? null : request.name;
    const raw = stackUser(this.nextId('user'), email, name, this.now(), []);
    project.users.set(String(raw.id), { raw, deleted: false });
    return providerUserFromStackShape(structuredClone(raw));
  }

  async getUser(credentials: ProviderCredentials, userId: string): Promise<ProviderUser> {
    this.enter({ method: 'getUser', args: [credentials, userId] });
    return providerUserFromStackShape(structuredClone(this.liveUser(credentials, userId, 'get user').raw));
  }

  async listUsers(credentials: ProviderCredentials, request: ListUsersRequest): Promise<ProviderUserPage> {
    this.enter({ method: 'listUsers', args: [credentials, request] });
    this.liveProject(credentials, 'server', 'list users');
    const limit = clampPageSize(request.limit);
    const start = request.cursor === undefined ? 0 : Number(request.cursor.replace(/^offset:/, ''));
    if (!Number.isInteger(start) || start < 0) throw new ProviderRequestRejected(`list users: invalid cursor ${JSON.stringify(request.cursor)}`, 400);
    const all = this.liveUsers(credentials.projectId);
    const users = all.slice(start, start + limit).map((u) => providerUserFromStackShape(structuredClone(u.raw)));
    return { users, nextCursor: start + limit < all.length ? `offset:${start + limit}` : null };
  }

  async deleteUser(credentials: ProviderCredentials, userId: string): Promise<void> {
    this.enter({ method: 'deleteUser', args: [credentials, userId] });
    this.liveUser(credentials, userId, 'delete user').deleted = true;
  }

  async setUserRoles(credentials: ProviderCredentials, userId: string, roles: string[]): Promise<ProviderUser> {
    this.enter({ method: 'setUserRoles', args: [credentials, userId, roles] });
    const stored = this.liveUser(credentials, userId, 'set user roles');
    const meta = stored.raw.server_metadata;
    const kept = meta !== null && typeof meta === 'object' && !Array.isArray(meta) ? (meta as Record<string, unknown>) : {};
    stored.raw = { ...stored.raw, server_metadata: { ...kept, roles: normalizeRoles(roles) } };
    return providerUserFromStackShape(structuredClone(stored.raw));
  }

  async startOwnershipTransfer(credentials: ProviderCredentials): Promise<{ url: string }> {
    this.enter({ method: 'startOwnershipTransfer', args: [credentials] });
    if (!this.capabilities.ownershipTransfer) throw new ProviderNotSupported(this.kind);
    const project = this.liveProject(credentials, 'admin', 'start ownership transfer');
    if (project.transfer === 'finished') throw new ProviderTransferNotAllowed('the project was already transferred');
    project.transfer = 'initiated';
    return { url: `${FAKE_CREDENTIALS.baseUrl}/transfer/${credentials.projectId}/${this.nextId('code')}` };
  }

  async ownershipTransferStatus(credentials: ProviderCredentials): Promise<OwnershipTransferStatus> {
    this.enter({ method: 'ownershipTransferStatus', args: [credentials] });
    if (!this.capabilities.ownershipTransfer) throw new ProviderNotSupported(this.kind);
    return this.liveProject(credentials, 'admin', 'ownership transfer status').transfer;
  }

  async verifyConnection(credentials: ProviderCredentials): Promise<void> {
    this.enter({ method: 'verifyConnection', args: [credentials] });
    this.liveProject(credentials, 'server', 'verify connection');
  }

  // ---- internals ----

  /** Records the call, then throws the method's pending failure, if any. */
  private enter(call: FakeProviderCall): void {
    this.calls.push(call);
    const pending = this.failures.get(call.method);
    const failure = pending?.[0];
    if (!pending || !failure) return;
    failure.remaining -= 1;
    if (failure.remaining <= 0) pending.shift();
    throw failure.error;
  }

  private nextId(prefix: string): string {
    this.sequence += 1;
    return `${prefix}-${String(this.sequence).padStart(4, '0')}`;
  }

  private project(projectId: string): StoredProject {
    let project = this.projects.get(projectId);
    if (!project) {
      project = newProject();
      this.projects.set(projectId, project);
    }
    return project;
  }

  private liveProject(credentials: ProviderCredentials, key: 'admin' | 'server', operation: string): StoredProject {
    requireKey(credentials, key, operation);
    const project = this.projects.get(credentials.projectId);
    if (!project || project.deleted) throw new ProviderAuthFailed(`${operation}: unknown provider project ${credentials.projectId}`, 'PROJECT_NOT_FOUND');
    return project;
  }

  private liveUser(credentials: ProviderCredentials, userId: string, operation: string): StoredUser {
    const stored = this.liveProject(credentials, 'server', operation).users.get(userId);
    if (!stored || stored.deleted) throw new ProviderUserNotFound(userId);
    return stored;
  }

  private liveUsers(projectId: string): StoredUser[] {
    const users = [...(this.projects.get(projectId)?.users.values() ?? [])].filter((u) => !u.deleted);
    return users.sort((a, b) => Number(a.raw.signed_up_at_millis) - Number(b.raw.signed_up_at_millis) || String(a.raw.id).localeCompare(String(b.raw.id)));
  }
}

function newProject(): StoredProject {
  return { users: new Map(), webhooks: [], transfer: 'none', deleted: false };
}

function requireKey(credentials: ProviderCredentials, key: 'admin' | 'server', operation: string): void {
  const present = key === 'admin' ? credentials.superSecretAdminKey : credentials.secretServerKey;
  if (typeof present !== 'string' || present === '') {
    throw new ProviderAuthFailed(`${operation}: the ${key === 'admin' ? 'admin key' : 'secret server key'} is missing`, key === 'admin' ? 'ADMIN_KEY_REQUIRED' : 'SERVER_KEY_REQUIRED');
  }
}

/** A Stack-Auth-shaped server user object (the fields users_sync's generated columns read, and roles). */
function stackUser(id: string, email: string, name: string | null, signedUpAtMillis: number, roles: string[]): Record<string, unknown> {
  return {
    id,
    primary_email: email,
    primary_email_verified: false,
    display_name: name,
    signed_up_at_millis: signedUpAtMillis,
    server_metadata: roles.length > 0 ? { roles: normalizeRoles(roles) } : null,
    client_metadata: null,
  };
}
