import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { hash as bcryptHash, verify as bcryptVerify } from '@node-rs/bcrypt';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { isForeignKeyViolation, isUniqueViolation } from '../../common/db-errors.js';
import { SecretsService } from '../../common/secrets.js';
import { StackUserEntity, type RiskScores } from '../entities/stack-user.entity.js';
import { KnownErrors, StackStatusError } from '../http/known-errors.js';
import type { StackAuth } from '../http/stack-auth.guard.js';
import { OutboxService, type WebhookEventType } from '../webhooks/outbox.service.js';
import { type ListUsersQuery } from './dto/list-users-query.dto.js';
import { isUuid } from '../../common/validation.js';
import { StackUsersStore, type UserValues, type UserWrite, type UsersSql } from './stack-users.store.js';
import { toServerUser, type ServerUser } from './user-shapes.js';
import { listUsers } from './users-list.js';

/** bcrypt cost: Stack Auth's. */
export const BCRYPT_ROUNDS = 10;

/** Fields a new user may be given (Stack Auth's server create body, snake_case as on the wire). */
export interface UserCreateInput {
  display_name?: string | null;
  primary_email?: string | null;
  primary_email_verified?: boolean;
  primary_email_auth_enabled?: boolean;
  password?: string | null;
  password_hash?: string;
  otp_auth_enabled?: boolean;
  passkey_auth_enabled?: boolean;
  totp_secret_base64?: string | null;
  profile_image_url?: string | null;
  client_metadata?: unknown;
  client_read_only_metadata?: unknown;
  server_metadata?: unknown;
  is_anonymous?: boolean;
  restricted_by_admin?: boolean;
  restricted_by_admin_reason?: string | null;
  restricted_by_admin_private_details?: string | null;
  country_code?: string | null;
  risk_scores?: RiskScores;
  oauth_providers?: { id: string; account_id: string; email?: string | null }[];
}

/** Fields of a user update (Stack Auth's server update body; the client body is a subset). */
export interface UserUpdateInput extends Omit<UserCreateInput, 'oauth_providers' | 'is_anonymous'> {
  selected_team_id?: string | null;
  is_anonymous?: false;
}

export interface UsersPage {
  items: ServerUser[];
  is_paginated: true;
  pagination: { next_cursor: string | null };
}

export const DEFAULT_RISK_SCORES: RiskScores = { sign_up: { bot: 0, free_trial_abuse: 0 } };

/** Emails are stored normalized, so uniqueness of sign-in emails is case-insensitive. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** A bcrypt hash in Modular Crypt Format ($2a$/$2b$/$2y$, cost 4..31). */
const BCRYPT_MCF = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

/**
 * The highest bcrypt cost the provider will ever compute. Each step doubles the work: cost 12 is about
 * 0.25 s of CPU here, cost 17 about 10 s, cost 31 days. bcrypt runs natively on libuv's small thread pool (off
 * the event loop), so a hash planted with a high cost would still let anyone who knows the e-mail tie up that pool,
 * and with it every other sign-in, file and DNS operation of the process.
 *
 * Imported hashes above this cost are refused (400, like any other unusable password_hash), and a stored
 * one is refused at sign-in without being computed. Refusing was chosen over rehashing: a rehash needs the
 * plain password, which is only known after the expensive comparison this limit exists to avoid, and
 * rehashing on import is impossible because a hash cannot be turned into another hash.
 */
export const MAX_BCRYPT_COST = 12;

/** The cost of a bcrypt hash in Modular Crypt Format, or null when `hash` is not one. */
export function bcryptCost(hash: string): number | null {
  const match = /^\$2[aby]\$(\d\d)\$/.exec(hash);
  return match ? Number(match[1]) : null;
}

/** Additional authenticated data of encrypted TOTP secrets. */
const TOTP_SECRET_CONTEXT = 'stack-auth totp secret';

/**
 * The new password hash a create/update asks for: undefined (unchanged), null (remove) or a hash.
 * Stack Auth's getPasswordHashFromData, with its error texts. bcrypt costs about 0.1 s of CPU: call this
 * before opening a transaction, so that no pooled connection sits idle in a transaction meanwhile.
 */
export async function passwordHashFrom(input: { password?: string | null; password_hash?: string }): Promise<string | null | undefined> {
  if (input.password !== undefined) {
    if (input.password_hash !== undefined) throw new StackStatusError(400, 'Cannot set both password and password_hash at the same time.');
    return input.password === null ? null : bcryptHash(input.password, BCRYPT_ROUNDS);
  }
  if (input.password_hash !== undefined) {
    if (!BCRYPT_MCF.test(input.password_hash)) {
      throw new StackStatusError(400, 'Invalid password hash. Make sure it\'s a supported algorithm in Modular Crypt Format.');
    }
    if (bcryptCost(input.password_hash)! > MAX_BCRYPT_COST) {
      throw new StackStatusError(400, `Invalid password hash. The bcrypt cost must be at most ${MAX_BCRYPT_COST}.`);
    }
    return input.password_hash;
  }
  return undefined;
}

/** Stack Auth's checkAuthData (the duplicate check itself is the unique index, see saveUser). */
function checkEmailFlags(email: string | null, authEnabled: boolean, verified: boolean): void {
  if (!email && authEnabled) throw new StackStatusError(400, 'primary_email_auth_enabled cannot be true without primary_email');
  if (!email && verified) throw new StackStatusError(400, 'primary_email_verified cannot be true without primary_email');
}

/** Reason/details of an admin restriction: `""` means null, and both need restricted_by_admin. */
function restrictionTexts(
  restricted: boolean,
  input: { restricted_by_admin_reason?: string | null; restricted_by_admin_private_details?: string | null },
): { reason: string | null | undefined; details: string | null | undefined } {
  const reason = input.restricted_by_admin_reason === undefined ? undefined : input.restricted_by_admin_reason || null;
  const details = input.restricted_by_admin_private_details === undefined ? undefined : input.restricted_by_admin_private_details || null;
  if (!restricted) {
    if (reason != null) throw new StackStatusError(400, 'restricted_by_admin_reason requires restricted_by_admin=true');
    if (details != null) throw new StackStatusError(400, 'restricted_by_admin_private_details requires restricted_by_admin=true');
    return { reason: null, details: null };
  }
  return { reason, details };
}

function countryCode(value: string | null | undefined): string | null | undefined {
  return typeof value === 'string' ? value.trim().toUpperCase() : value;
}

function riskScores(value: RiskScores): RiskScores {
  return { sign_up: { bot: value.sign_up.bot, free_trial_abuse: value.sign_up.free_trial_abuse } };
}

/** Optimistic writes of an update before it takes the user's row lock instead (a user changed by many at once). */
const OPTIMISTIC_UPDATE_ATTEMPTS = 3;

/** Any time: the statement replaces both times in an event's payload with the written row's. */
const PLACEHOLDER_TIME = new Date(0);

function eventJson(type: WebhookEventType, data: unknown): string {
  return JSON.stringify({ type, data });
}

/**
 * Users of provider projects. Every change is one statement (StackUsersStore) that writes the user and its webhook
 * event (outbox) together, one commit; the dispatcher is woken after it with the rows it wrote. An update reads the
 * user, applies the change and writes it only if the user's version is still the one read (otherwise it reads
 * again; after a few such races it takes the row lock), so concurrent changes of one user apply one after the other
 * and their events are enqueued in commit order.
 */
@Injectable()
export class StackUsersService {
  constructor(
    private readonly store: StackUsersStore,
    private readonly outbox: OutboxService,
    private readonly secrets: SecretsService,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  /** Creates a user (server API and password sign-up alike) and emits `user.created`. */
  async create(projectId: string, input: UserCreateInput): Promise<StackUserEntity> {
    const passwordHash = await passwordHashFrom(input);
    const { user, events } = await this.createIn(undefined, projectId, input, passwordHash);
    this.outbox.afterCommit(projectId, user.id, events);
    return user;
  }

  /**
   * Creates the user in the caller's transaction (a sign-up, with its first session); the caller passes `events` to
   * OutboxService.afterCommit once it committed. `passwordHash` is `await passwordHashFrom(input)`, computed before
   * the transaction began.
   */
  createInTx(tx: EntityManager, projectId: string, input: UserCreateInput, passwordHash: string | null | undefined): Promise<UserWrite> {
    return this.createIn(tx, projectId, input, passwordHash);
  }

  private async createIn(on: UsersSql | undefined, projectId: string, input: UserCreateInput, passwordHash: string | null | undefined): Promise<UserWrite> {
    const email = input.primary_email === undefined || input.primary_email === null ? null : normalizeEmail(input.primary_email);
    const authEnabled = input.primary_email_auth_enabled ?? false;
    const verified = input.primary_email_verified ?? false;
    checkEmailFlags(email, authEnabled, verified);
    const restricted = input.restricted_by_admin ?? false;
    const texts = restrictionTexts(restricted, input);
    const provider = input.oauth_providers?.[0];
    // No OAuth provider is configured in an embedded project (Stack Auth's check against its config).
    if (provider) throw new StackStatusError(400, `OAuth provider ${provider.id} not found`);
    const values: UserValues = {
      displayName: input.display_name || null,
      primaryEmail: email,
      primaryEmailVerified: verified,
      primaryEmailAuthEnabled: authEnabled,
      passwordHash: passwordHash ?? null,
      profileImageUrl: input.profile_image_url ?? null,
      clientMetadata: input.client_metadata ?? null,
      clientReadOnlyMetadata: input.client_read_only_metadata ?? null,
      serverMetadata: input.server_metadata ?? null,
      otpAuthEnabled: input.otp_auth_enabled ?? false,
      // Passkeys are registered by their own flow, never by a create body (Stack Auth ignores the field too).
      passkeyAuthEnabled: false,
      totpSecretEncrypted: this.encryptTotp(input.totp_secret_base64) ?? null,
      isAnonymous: input.is_anonymous ?? false,
      restrictedByAdmin: restricted,
      restrictedByAdminReason: texts.reason ?? null,
      restrictedByAdminPrivateDetails: texts.details ?? null,
      countryCode: countryCode(input.country_code) ?? null,
      riskScores: input.risk_scores ? riskScores(input.risk_scores) : DEFAULT_RISK_SCORES,
    };
    // Sign-up and activity times are the control-plane database's clock (this provider's database), set by the
    // statement: they take part in ordering users_sync versions.
    const id = randomUUID();
    const draft = { ...values, id, projectId, signedUpAt: PLACEHOLDER_TIME, lastActiveAt: PLACEHOLDER_TIME, version: '1' };
    try {
      return await this.store.create(projectId, id, values, eventJson('user.created', toServerUser(draft)), on);
    } catch (err) {
      throw writeError(err, projectId, email);
    }
  }

  async findById(projectId: string, userId: string): Promise<StackUserEntity | null> {
    if (!isUuid(userId)) return null;
    return this.store.find(projectId, userId.toLowerCase());
  }

  /** The user, or USER_NOT_FOUND. */
  async get(projectId: string, userId: string): Promise<StackUserEntity> {
    const user = await this.findById(projectId, userId);
    if (!user) throw KnownErrors.userNotFound();
    return user;
  }

  /** One page of the project's users (GET /users; see users-list.ts). */
  list(projectId: string, query: ListUsersQuery): Promise<UsersPage> {
    return listUsers(this.db, projectId, query);
  }

  /**
   * Updates a user (Stack Auth's onUpdate): metadata fields are replaced, not merged; a new or removed
   * password revokes every session of the user; `user.updated` carries the user after the change.
   */
  async update(projectId: string, userId: string, input: UserUpdateInput): Promise<StackUserEntity> {
    const passwordHash = await passwordHashFrom(input);
    if (!isUuid(userId)) throw KnownErrors.userNotFound();
    const id = userId.toLowerCase();
    let written: UserWrite | null = null;
    // A new or removed password revokes the user's sessions: under the row lock, in a statement of its own after the
    // write (one that also sees a session committed while the write waited for the lock).
    const revokes = passwordHash !== undefined;
    for (let attempt = 0; attempt < OPTIMISTIC_UPDATE_ATTEMPTS && !written && !revokes; attempt++) {
      const old = await this.store.find(projectId, id);
      if (!old) throw KnownErrors.userNotFound();
      written = await this.writeUpdate(undefined, old, input, passwordHash);
    }
    // Lost every race, or revoking: the row's lock is waited for, then the version read is the one written.
    written ??= await this.store.transaction(async (client) => {
      const old = await this.store.findForUpdate(projectId, id, client);
      if (!old) throw KnownErrors.userNotFound();
      const locked = await this.writeUpdate(client, old, input, passwordHash);
      if (!locked) throw new Error(`user ${id} changed while its row was locked`);
      if (revokes) await this.store.revokeSessions(id, client);
      return locked;
    });
    this.outbox.afterCommit(projectId, written.user.id, written.events);
    return written.user;
  }

  /** The update applied to `old` and written if the user is still at old's version (null when it is not). */
  private async writeUpdate(on: UsersSql | undefined, old: StackUserEntity, input: UserUpdateInput, passwordHash: string | null | undefined): Promise<UserWrite | null> {
    if (input.selected_team_id) throw KnownErrors.teamMembershipNotFound(input.selected_team_id, old.id);
    if (input.passkey_auth_enabled === true) {
      throw new StackStatusError(400, 'Cannot manually enable passkey auth, it is enabled iff there is a passkey auth method');
    }

    const removingEmail = input.primary_email === null;
    const newEmail = typeof input.primary_email === 'string' ? normalizeEmail(input.primary_email) : undefined;
    const email = removingEmail ? null : (newEmail ?? old.primaryEmail);
    const emailChanged = newEmail !== undefined && newEmail !== old.primaryEmail;
    const authEnabled = removingEmail ? false : (input.primary_email_auth_enabled ?? old.primaryEmailAuthEnabled);
    const verified = removingEmail ? false : (input.primary_email_verified ?? (emailChanged ? false : old.primaryEmailVerified));
    checkEmailFlags(email, authEnabled, verified);
    const restricted = input.restricted_by_admin ?? old.restrictedByAdmin;
    const texts = restrictionTexts(restricted, input);

    const next: StackUserEntity = { ...old };
    next.primaryEmail = email;
    next.primaryEmailAuthEnabled = authEnabled;
    next.primaryEmailVerified = verified;
    if (input.display_name !== undefined) next.displayName = input.display_name || null;
    if (input.profile_image_url !== undefined) next.profileImageUrl = input.profile_image_url;
    if (input.client_metadata !== undefined) next.clientMetadata = input.client_metadata;
    if (input.client_read_only_metadata !== undefined) next.clientReadOnlyMetadata = input.client_read_only_metadata;
    if (input.server_metadata !== undefined) next.serverMetadata = input.server_metadata;
    if (input.otp_auth_enabled !== undefined) next.otpAuthEnabled = input.otp_auth_enabled;
    if (input.passkey_auth_enabled === false) next.passkeyAuthEnabled = false;
    if (input.totp_secret_base64 !== undefined) next.totpSecretEncrypted = this.encryptTotp(input.totp_secret_base64) ?? null;
    if (passwordHash !== undefined) next.passwordHash = passwordHash;
    // An anonymous user who becomes a regular one signs up now (the statement sets the time).
    const signsUpNow = input.is_anonymous === false && old.isAnonymous;
    if (signsUpNow) next.isAnonymous = false;
    next.restrictedByAdmin = restricted;
    if (texts.reason !== undefined) next.restrictedByAdminReason = texts.reason;
    if (texts.details !== undefined) next.restrictedByAdminPrivateDetails = texts.details;
    if (input.country_code !== undefined) next.countryCode = countryCode(input.country_code) ?? null;
    if (input.risk_scores !== undefined) next.riskScores = riskScores(input.risk_scores);

    const change = { signsUpNow, payload: eventJson('user.updated', toServerUser(next)) };
    try {
      return await this.store.update(old.projectId, old.id, old.version, next, change, on);
    } catch (err) {
      throw writeError(err, old.projectId, email);
    }
  }

  /** Deletes a user with its sessions (cascade) and emits `user.deleted` `{id, teams: []}`. */
  async delete(projectId: string, userId: string): Promise<void> {
    if (!isUuid(userId)) throw KnownErrors.userNotFound();
    const id = userId.toLowerCase();
    const events = await this.store.delete(projectId, id, eventJson('user.deleted', { id, teams: [] }));
    if (!events) throw KnownErrors.userNotFound();
    this.outbox.afterCommit(projectId, id, events);
  }

  /** The signed-in user of a `/users/me` request, or CANNOT_GET_OWN_USER_WITHOUT_USER. */
  currentUser(auth: StackAuth): StackUserEntity {
    if (!auth.user) throw KnownErrors.cannotGetOwnUserWithoutUser();
    return auth.user;
  }

  /** PATCH /users/me: clients may only set a base64 image as their profile image (Stack Auth's rule). */
  async updateCurrentUser(auth: StackAuth, input: UserUpdateInput): Promise<StackUserEntity> {
    const user = this.currentUser(auth);
    if (auth.type === 'client' && input.profile_image_url && !isBase64Image(input.profile_image_url)) {
      throw new StackStatusError(400, 'Invalid profile image URL');
    }
    return this.update(auth.project.id, user.id, input);
  }

  /** DELETE /users/me: clients only when the project allows client user deletion. */
  async deleteCurrentUser(auth: StackAuth): Promise<void> {
    if (auth.type === 'client' && !auth.project.config.client_user_deletion_enabled) {
      throw new StackStatusError(400, 'Client user deletion is not enabled for this project');
    }
    const user = this.currentUser(auth);
    await this.delete(auth.project.id, user.id);
  }

  /**
   * True when `password` matches the user's. Compares against a dummy hash when there is none, or when the
   * stored hash costs more than MAX_BCRYPT_COST (never computed; such a user cannot sign in with a password
   * until it is replaced), so that both take as long as a wrong password.
   */
  async passwordMatches(user: StackUserEntity | null, password: string): Promise<boolean> {
    const stored = user?.passwordHash ?? null;
    const usable = stored !== null && (bcryptCost(stored) ?? Infinity) <= MAX_BCRYPT_COST;
    // Native bcrypt on libuv's thread pool: a sign-in never stalls the event loop. A malformed stored hash is a mismatch.
    const ok = await bcryptVerify(password, usable ? stored : DUMMY_HASH).catch(() => false);
    return ok && usable;
  }

  private encryptTotp(secret: string | null | undefined): string | null | undefined {
    return typeof secret === 'string' ? this.secrets.encrypt(secret, TOTP_SECRET_CONTEXT) : secret;
  }
}

/** A failed user write as the API answers it: a taken sign-in e-mail is a 409, a project deleted meanwhile a 404. */
function writeError(err: unknown, projectId: string, email: string | null): unknown {
  if (isUniqueViolation(err, 'stack_users_auth_email_key')) return KnownErrors.userEmailAlreadyExists(email ?? '');
  if (isForeignKeyViolation(err)) return KnownErrors.currentProjectNotFound(projectId);
  return err;
}

/** Stack Auth's validateBase64Image: a base64 image data URL, or bare base64. */
function isBase64Image(value: string): boolean {
  return /^data:image\/(png|jpg|jpeg|gif|bmp|webp);base64,[A-Za-z0-9+/]+={0,2}$|^[A-Za-z0-9+/]+={0,2}$/.test(value);
}

/**
 * What a password is compared with when the user has no usable hash: a bcrypt hash at BCRYPT_ROUNDS of 32 random bytes
 * that nobody kept (computing one at import cost every process about 60 ms of CPU). Never matches in effect:
 * passwordMatches answers false whatever the comparison says.
 */
export const DUMMY_HASH = '$2b$10$gUyP0lEW65iMCD58edFNFeho2V23/jpDnEO4UcpRKtUJ2Mzdgs7eK';
