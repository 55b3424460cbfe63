/**
 * The port between Neon Auth's services and an authentication provider. The services speak only this
 * interface; an adapter per provider kind (`stack` over HTTP, `mock` in process, later `better_auth`)
 * implements it. Adding a provider means adding an adapter and a registry entry, not changing callers.
 *
 * Conventions every adapter follows:
 * - Credentials are opaque to callers except `projectId` and `baseUrl`: callers persist the whole object
 *   (encrypted, see serializeCredentials) and hand it back on every call.
 * - Failures are the typed errors below, never a provider's raw error or a bare network error.
 * - User objects come back whole in `ProviderUser.raw` (what `users_sync.raw_json` stores); the other
 *   fields of ProviderUser are conveniences read from it.
 */

import type { ProjectSettings } from '../better-auth/project-config.js';
import type { BranchDatabase } from '../projects/branch-databases/branch-databases.service.js';

/** Every `auth_provider` value of Neon's API (NeonAuthSupportedAuthProvider). */
export const AUTH_PROVIDER_KINDS = ['stack', 'mock', 'better_auth'] as const;
export type AuthProviderKind = (typeof AUTH_PROVIDER_KINDS)[number];

/**
 * How the control plane authenticates to one provider project. Which fields are present depends on the
 * provider and on how the project was connected: a Neon-managed project has both keys; a manually
 * connected one may have only the secret server key.
 */
export interface ProviderCredentials {
  /** The provider's base URL (for Stack: what the SDK's `baseUrl` is; `/api/v1` is appended). */
  baseUrl: string;
  /** The provider project id (Stack: a UUID). */
  projectId: string;
  /** A server key: user reads and writes (Stack: `ssk_…`). */
  secretServerKey?: string;
  /** An admin key: SDK keys, webhooks, ownership transfer (Stack: `sak_…`). */
  superSecretAdminKey?: string;
  /** A publishable client key, when one is known (Stack: `pck_…`). Not needed by any operation here. */
  publishableClientKey?: string;
}

/** Context of a provisioning call. Stack and mock use only `displayName`; providers hosted per branch need the rest. */
export interface ProvisionRequest {
  displayName: string;
  /** The Neon project and branch the provider project serves (optional; informational for stack and mock). */
  neonProjectId?: string;
  branchId?: string;
  databaseName?: string;
  /**
   * Makes the call repeatable: a second provision with the same key answers the project the first one made (with a
   * new admin key) instead of a new one, so a caller that died before recording the answer can find the project
   * again. The embedded provider and mock honour it; a Stack Auth server that does not makes a new project.
   */
  idempotencyKey?: string;
}

export interface ProvisionedProject {
  providerProjectId: string;
  /** Admin key and a secret server key for the control plane's own use: store them encrypted, never show them. */
  credentials: ProviderCredentials;
  /** Where applications fetch the keys that verify the provider's access tokens. */
  jwksUrl: string;
  /** The provider's base URL as applications should use it, when the provider has one. */
  baseUrl?: string;
}

/** Keys an application uses with the provider's SDK. Shown once; the control plane does not keep them. */
export interface SdkKeys {
  publishableClientKey: string;
  secretServerKey: string;
}

/**
 * A provider user. `raw` is the provider's own user object (for stack and mock: Stack Auth's complete
 * server user object, whose `id`, `display_name`, `primary_email` and `signed_up_at_millis` feed the
 * generated columns of `neon_auth.users_sync`).
 */
export interface ProviderUser {
  id: string;
  email: string | null;
  name: string | null;
  createdAt: Date;
  /** Roles stored with the user (Stack: `server_metadata.roles`); `[]` when none. */
  roles: string[];
  raw: Record<string, unknown>;
}

export interface ProviderUserPage {
  users: ProviderUser[];
  /** Opaque; pass it back as `cursor` for the next page. `null` on the last page. */
  nextCursor: string | null;
}

export interface ListUsersRequest {
  /** From a previous page's `nextCursor`; omit for the first page. */
  cursor?: string;
  /** Page size, 1..1000 (adapters clamp). */
  limit: number;
}

export interface CreateUserRequest {
  email: string;
  /** Display name; absent or null stores no name (callers pick any default before calling). */
  name?: string | null;
  /** A password the user signs in with; absent: the user signs in another way (e-mail code, magic link, OAuth). */
  password?: string;
}

/**
 * `none`: no transfer link is pending (or the provider cannot tell a pending link from none, as a real
 * Stack Auth server cannot: callers keep their own `initiated` state and only act on `finished`);
 * `initiated`: a link was issued and is waiting for its confirmation; `finished`: the project now belongs
 * to a provider account.
 */
export type OwnershipTransferStatus = 'none' | 'initiated' | 'finished';

/** What a provider can do; callers use it to refuse unsupported operations with a clear 4xx. */
export interface ProviderCapabilities {
  /** provisionManagedProject works. */
  managedProjects: boolean;
  /** createSdkKeys works (for a user-owned project keys are still managed in the provider). */
  sdkKeys: boolean;
  /** startOwnershipTransfer / ownershipTransferStatus work. */
  ownershipTransfer: boolean;
  /**
   * How user events reach the control plane: signed HTTP webhooks, an in-process listener (mock), or not at all
   * (`none`: the provider keeps users_sync itself, see writesUsersSync; no webhook is registered).
   */
  webhooks: 'http' | 'in_process' | 'none';
  /**
   * The provider writes users_sync itself, in the transaction of each user change (Better Auth hosted in the branch
   * database, through a trigger): callers never write users_sync after a provider call.
   */
  writesUsersSync: boolean;
  /** provisionManagedProject honours `idempotencyKey` (a repeat answers the first project). */
  idempotentProvisioning: boolean;
}

/** The parts of Neon's configuration API (reference §2.1 rows 4-6, 10-29), one per group of endpoints. */
export const SETTINGS_SECTIONS = ['trusted_domains', 'allow_localhost', 'oauth_providers', 'email_provider', 'email_and_password', 'plugins', 'webhooks', 'name'] as const;
export type SettingsSection = (typeof SETTINGS_SECTIONS)[number];

/**
 * Where a provider keeps the branch's Neon Auth settings, in one document (ProjectSettings: the shape of Better Auth's
 * `neon_auth.project_config` row, secrets in it sealed with SECRETS_KEY). The API's rules (validation, masking,
 * permissions) are the caller's; an adapter stores and applies.
 */
export interface ProviderSettings {
  /** The sections the provider has; the API answers 400 for the others. */
  readonly sections: readonly SettingsSection[];
  /** The OAuth providers it can use (a subset of google, github, microsoft, vercel). */
  readonly oauthProviders: readonly string[];
  /** PATCH email_provider merges a partial `standard` update into the stored one (Better Auth); else all six fields are required (Stack). */
  readonly mergesPartialEmailProvider: boolean;
  read(credentials: ProviderCredentials, target: BranchDatabase): Promise<ProjectSettings>;
  /**
   * Read-modify-write, atomic per project: `change` gets the current settings and answers the new ones (or throws to
   * refuse; nothing is written then). The change applies to the running provider before this resolves.
   */
  update(credentials: ProviderCredentials, target: BranchDatabase, change: (current: ProjectSettings) => ProjectSettings | Promise<ProjectSettings>): Promise<ProjectSettings>;
}

export interface AuthProvider {
  readonly kind: AuthProviderKind;
  readonly capabilities: ProviderCapabilities;
  /** The branch's settings (domains, OAuth, e-mail, plugins, webhooks); absent: the provider has none (400). */
  readonly settings?: ProviderSettings;

  /** Creates a provider project managed by the product (`owned_by: neon`) with credentials for the control plane. */
  provisionManagedProject(request: ProvisionRequest): Promise<ProvisionedProject>;

  /**
   * Deletes a project made by provisionManagedProject, with everything in it (users, keys, sessions, webhook
   * registrations; no user.deleted events are sent): afterwards its keys open nothing. Needs the admin key.
   * Idempotent: a project that is already gone is a success. Callers never use it on user-owned projects.
   */
  deleteManagedProject(credentials: ProviderCredentials): Promise<void>;

  /** New SDK keys (every call makes new ones; earlier ones stay valid). Needs the admin key. */
  createSdkKeys(credentials: ProviderCredentials): Promise<SdkKeys>;

  /** Registers `url` for the project's user events; answers the `whsec_…` secret the deliveries are signed with. */
  registerWebhook(credentials: ProviderCredentials, url: string): Promise<{ signingSecret: string }>;

  /** Creates a user whose email signs in; a user already signing in with that email -> ProviderDuplicateEmail. */
  createUser(credentials: ProviderCredentials, request: CreateUserRequest): Promise<ProviderUser>;

  /** The user, or ProviderUserNotFound. */
  getUser(credentials: ProviderCredentials, userId: string): Promise<ProviderUser>;

  /** One page of users in a stable order. Loop on `nextCursor` (or use iterateProviderUsers) to read all. */
  listUsers(credentials: ProviderCredentials, request: ListUsersRequest): Promise<ProviderUserPage>;

  /**
   * Deletes the user. An unknown (or already deleted) user -> ProviderUserNotFound; the call is therefore
   * not silently idempotent: a caller retrying after a lost answer treats ProviderUserNotFound as
   * "already deleted", while an API call for an unknown user maps it to 404.
   */
  deleteUser(credentials: ProviderCredentials, userId: string): Promise<void>;

  /**
   * Replaces the user's roles (Stack: `server_metadata.roles`, every other `server_metadata` key kept).
   * Answers the user after the change; unknown user -> ProviderUserNotFound.
   */
  setUserRoles(credentials: ProviderCredentials, userId: string, roles: string[]): Promise<ProviderUser>;

  /** Starts the transfer of a Neon-managed project; answers the confirm page a person opens. */
  startOwnershipTransfer(credentials: ProviderCredentials): Promise<{ url: string }>;

  ownershipTransferStatus(credentials: ProviderCredentials): Promise<OwnershipTransferStatus>;

  /** Checks that the project id and secret server key work (manual setup). Resolves, or throws ProviderAuthFailed / ProviderUnavailable. */
  verifyConnection(credentials: ProviderCredentials): Promise<void>;

  /**
   * Providers hosted in the branch database (Better Auth): creates or completes their tables in `neon_auth` once
   * users_sync exists, idempotently. Absent for providers that keep their data elsewhere.
   */
  provisionDatabase?(credentials: ProviderCredentials, target: BranchDatabase, displayName: string): Promise<void>;

  /**
   * Providers hosted in the branch database: the project of a branch copied from `credentials`' branch (its data came
   * with the copy). Synchronous and local: it runs in the transaction that makes the new branch ready.
   */
  copyForBranch?(credentials: ProviderCredentials, branchId: string, databaseName: string): ProvisionedProject;
}

// ---------------------------------------------------------------------------------------------------
// Errors. Suggested HTTP mapping for callers: ProviderUserNotFound -> 404, ProviderDuplicateEmail -> 409,
// ProviderNotSupported -> 400, ProviderTransferNotAllowed -> 400 or 409, ProviderRequestRejected -> 400
// (when the request came from the API caller) or 502, ProviderAuthFailed -> 400 for credentials a person
// supplied (manual setup), else 502, ProviderUnavailable -> 503.
// ---------------------------------------------------------------------------------------------------

export abstract class ProviderError extends Error {
  abstract readonly code: string;
}

export class ProviderUserNotFound extends ProviderError {
  readonly code = 'provider_user_not_found';
  constructor(readonly userId: string) {
    super(`user ${userId} was not found in the auth provider`);
    this.name = 'ProviderUserNotFound';
  }
}

export class ProviderDuplicateEmail extends ProviderError {
  readonly code = 'provider_duplicate_email';
  constructor(readonly email: string) {
    super(`a user with email ${email} already exists in the auth provider`);
    this.name = 'ProviderDuplicateEmail';
  }
}

/** The provider refused the credentials (unknown project, wrong or missing key, wrong integration client). */
export class ProviderAuthFailed extends ProviderError {
  readonly code = 'provider_auth_failed';
  constructor(
    message: string,
    /** The provider's error code, when it gave one (e.g. INVALID_SECRET_SERVER_KEY). */
    readonly providerCode?: string,
  ) {
    super(message);
    this.name = 'ProviderAuthFailed';
  }
}

/** The provider could not be reached or did not answer usefully (network, timeout, 5xx, rate limit, bad body). */
export class ProviderUnavailable extends ProviderError {
  readonly code = 'provider_unavailable';
  readonly status?: number;
  /** Set when the provider rate-limited and said when to come back. */
  readonly retryAfterSeconds?: number;
  constructor(message: string, options: { cause?: unknown; status?: number; retryAfterSeconds?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ProviderUnavailable';
    this.status = options.status;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * The provider's URL names a destination outgoing calls may not reach (loopback, private, link-local, metadata, ...:
 * src/common/outbound-url-policy.ts); nothing was sent. For stored credentials it is an outage like any other
 * (the provider cannot be reached); callers answer 400 when the URL was just given by a person (manual setup).
 * The message names no resolved address (it may end up where a project reader sees it, e.g. a reconciliation's
 * last error); `reason` does, for operators' logs only.
 */
export class ProviderDestinationRefused extends ProviderUnavailable {
  constructor(
    message: string,
    /** Which rule refused it, possibly naming the address a name resolved to: logs only. */
    readonly reason: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'ProviderDestinationRefused';
  }
}

/** The provider refused the request itself (validation and similar 4xx). */
export class ProviderRequestRejected extends ProviderError {
  readonly code = 'provider_request_rejected';
  constructor(
    message: string,
    readonly status: number,
    readonly providerCode?: string,
  ) {
    super(message);
    this.name = 'ProviderRequestRejected';
  }
}

/** The project cannot be transferred (already transferred, or not managed by the product). */
export class ProviderTransferNotAllowed extends ProviderError {
  readonly code = 'provider_transfer_not_allowed';
  constructor(message: string) {
    super(message);
    this.name = 'ProviderTransferNotAllowed';
  }
}

/** No adapter for this provider kind (yet). Callers answer 400 with the message. */
export class ProviderNotSupported extends ProviderError {
  readonly code = 'provider_not_supported';
  constructor(readonly kind: string) {
    super(`auth provider ${JSON.stringify(kind)} is not supported`);
    this.name = 'ProviderNotSupported';
  }
}

// ---------------------------------------------------------------------------------------------------
// Helpers shared by callers and adapters.
// ---------------------------------------------------------------------------------------------------

/** Largest page any adapter asks a provider for (Stack Auth's limit). */
export const MAX_PROVIDER_PAGE_SIZE = 1000;

/** A page size within 1..MAX_PROVIDER_PAGE_SIZE (a non-number asks for the largest page). */
export function clampPageSize(limit: number): number {
  return Number.isFinite(limit) ? Math.min(MAX_PROVIDER_PAGE_SIZE, Math.max(1, Math.floor(limit))) : MAX_PROVIDER_PAGE_SIZE;
}

/** Every page of a project's users, in order (bounded pages; a provider that repeats a cursor is an error, not a loop). */
export async function* iterateProviderPages(
  provider: AuthProvider,
  credentials: ProviderCredentials,
  pageSize = 500,
): AsyncGenerator<ProviderUserPage> {
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (;;) {
    const page = await provider.listUsers(credentials, { cursor, limit: pageSize });
    yield page;
    if (page.nextCursor === null) return;
    if (seen.has(page.nextCursor)) throw new ProviderUnavailable(`the auth provider repeated the list cursor ${page.nextCursor}`);
    seen.add(page.nextCursor);
    cursor = page.nextCursor;
  }
}

/** Every user of a project, page by page (see iterateProviderPages). */
export async function* iterateProviderUsers(
  provider: AuthProvider,
  credentials: ProviderCredentials,
  pageSize = 500,
): AsyncGenerator<ProviderUser> {
  for await (const page of iterateProviderPages(provider, credentials, pageSize)) yield* page.users;
}

/** Roles stored in a Stack-shaped user object (`server_metadata.roles`, strings only). */
export function rolesOf(raw: Record<string, unknown>): string[] {
  const meta = raw.server_metadata;
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) return [];
  const roles = (meta as Record<string, unknown>).roles;
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
}

/** A ProviderUser from a Stack-shaped user object. */
export function providerUserFromStackShape(raw: Record<string, unknown>): ProviderUser {
  const millis = typeof raw.signed_up_at_millis === 'number' ? raw.signed_up_at_millis : 0;
  return {
    id: String(raw.id),
    email: typeof raw.primary_email === 'string' ? raw.primary_email : null,
    name: typeof raw.display_name === 'string' ? raw.display_name : null,
    createdAt: new Date(millis),
    roles: rolesOf(raw),
    raw,
  };
}

/** Roles as stored: strings, trimmed, without duplicates, in the order given. */
export function normalizeRoles(roles: string[]): string[] {
  const out: string[] = [];
  for (const role of roles) {
    if (typeof role !== 'string') throw new TypeError('roles must be strings');
    const r = role.trim();
    if (r !== '' && !out.includes(r)) out.push(r);
  }
  return out;
}

/** Credentials as one string (JSON), for callers to encrypt and store whole. */
export function serializeCredentials(credentials: ProviderCredentials): string {
  const { baseUrl, projectId, secretServerKey, superSecretAdminKey, publishableClientKey } = credentials;
  return JSON.stringify({ baseUrl, projectId, secretServerKey, superSecretAdminKey, publishableClientKey });
}

export function parseCredentials(serialized: string): ProviderCredentials {
  const value = JSON.parse(serialized) as Record<string, unknown>;
  if (value === null || typeof value !== 'object' || typeof value.baseUrl !== 'string' || typeof value.projectId !== 'string') {
    throw new TypeError('stored provider credentials are malformed');
  }
  const out: ProviderCredentials = { baseUrl: value.baseUrl, projectId: value.projectId };
  for (const key of ['secretServerKey', 'superSecretAdminKey', 'publishableClientKey'] as const) {
    if (typeof value[key] === 'string') out[key] = value[key];
  }
  return out;
}
