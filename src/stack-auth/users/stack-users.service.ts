import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import bcrypt from 'bcryptjs';
import { DataSource, type EntityManager } from 'typeorm';
import { isUniqueViolation } from '../../common/db-errors.js';
import { StackUserEntity, type RiskScores } from '../entities/stack-user.entity.js';
import { KnownErrors, StackStatusError } from '../http/known-errors.js';
import { OutboxService } from '../webhooks/outbox.service.js';
import { toServerUser } from './user-shapes.js';

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
}

export const DEFAULT_RISK_SCORES: RiskScores = { sign_up: { bot: 0, free_trial_abuse: 0 } };

/** Emails are stored normalized, so uniqueness of sign-in emails is case-insensitive. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** A bcrypt hash in Modular Crypt Format ($2a$/$2b$/$2y$, cost 4..31). */
const BCRYPT_MCF = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

/**
 * Users of provider projects. Every change commits together with its webhook events (outbox), and
 * wakes the dispatcher after commit.
 */
@Injectable()
export class StackUsersService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly outbox: OutboxService,
  ) {}

  /** Creates a user (server API and password sign-up alike) and emits `user.created`. */
  async create(projectId: string, input: UserCreateInput): Promise<StackUserEntity> {
    const user = await this.db.transaction((tx) => this.createInTx(tx, projectId, input));
    this.outbox.afterCommit(projectId);
    return user;
  }

  async createInTx(tx: EntityManager, projectId: string, input: UserCreateInput): Promise<StackUserEntity> {
    const email = input.primary_email === undefined || input.primary_email === null ? null : normalizeEmail(input.primary_email);
    const authEnabled = input.primary_email_auth_enabled ?? false;
    if (authEnabled && email === null) throw new StackStatusError(400, 'primary_email_auth_enabled cannot be true without primary_email');
    if (input.password !== undefined && input.password !== null && input.password_hash !== undefined) {
      throw new StackStatusError(400, 'Cannot set both password and password_hash at the same time.');
    }
    if (input.password_hash !== undefined && !BCRYPT_MCF.test(input.password_hash)) {
      throw new StackStatusError(400, 'Invalid password hash. Make sure it\'s a supported algorithm in Modular Crypt Format.');
    }
    const passwordHash =
      input.password_hash ?? (input.password === undefined || input.password === null ? null : await bcrypt.hash(input.password, BCRYPT_ROUNDS));
    const now = new Date();
    const restricted = input.restricted_by_admin ?? false;
    const repo = tx.getRepository(StackUserEntity);
    const entity = repo.create({
      projectId,
      displayName: input.display_name === '' ? null : (input.display_name ?? null),
      primaryEmail: email,
      primaryEmailVerified: input.primary_email_verified ?? false,
      primaryEmailAuthEnabled: authEnabled,
      passwordHash,
      profileImageUrl: input.profile_image_url ?? null,
      clientMetadata: input.client_metadata ?? null,
      clientReadOnlyMetadata: input.client_read_only_metadata ?? null,
      serverMetadata: input.server_metadata ?? null,
      otpAuthEnabled: input.otp_auth_enabled ?? false,
      passkeyAuthEnabled: input.passkey_auth_enabled ?? false,
      totpSecretEncrypted: null,
      isAnonymous: input.is_anonymous ?? false,
      restrictedByAdmin: restricted,
      restrictedByAdminReason: restricted ? (input.restricted_by_admin_reason ?? null) : null,
      restrictedByAdminPrivateDetails: restricted ? (input.restricted_by_admin_private_details ?? null) : null,
      countryCode: input.country_code ?? null,
      riskScores: input.risk_scores ?? DEFAULT_RISK_SCORES,
      signedUpAt: now,
      lastActiveAt: now,
      version: '1',
    });
    let user: StackUserEntity;
    try {
      // In a savepoint, so a duplicate email leaves the caller's transaction usable.
      user = await tx.transaction((inner) => inner.getRepository(StackUserEntity).save(entity));
    } catch (err) {
      if (isUniqueViolation(err, 'stack_users_auth_email_key')) throw KnownErrors.userEmailAlreadyExists(email ?? '');
      throw err;
    }
    await this.outbox.enqueue(tx, projectId, 'user.created', toServerUser(user), user.id);
    return user;
  }

  async findById(projectId: string, userId: string): Promise<StackUserEntity | null> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(userId)) return null;
    return this.db.getRepository(StackUserEntity).findOneBy({ projectId, id: userId.toLowerCase() });
  }

  /** True when `password` matches the user's; compares against a dummy hash when there is none, for uniform timing. */
  async passwordMatches(user: StackUserEntity | null, password: string): Promise<boolean> {
    const ok = await bcrypt.compare(password, user?.passwordHash ?? DUMMY_HASH);
    return ok && !!user?.passwordHash;
  }
}

const DUMMY_HASH = bcrypt.hashSync('not-a-real-password', BCRYPT_ROUNDS);
