import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { StackProjectEntity } from '../entities/stack-project.entity.js';
import { StackUserEntity } from '../entities/stack-user.entity.js';
import { KnownErrors, StackKnownError, StackStatusError } from '../http/known-errors.js';
import { normalizeEmail, passwordHashFrom, StackUsersService } from '../users/stack-users.service.js';
import { OutboxService } from '../webhooks/outbox.service.js';
import { StackAuthThrottle, type AttemptSource } from './auth-throttle.service.js';
import type { PasswordSignInDto, PasswordSignUpDto } from './dto/password-auth.dto.js';
import { isTrustedRedirectUrl } from './redirect-urls.js';
import { SessionsService, type AuthTokens } from './sessions.service.js';

/** Stack Auth's password rules (`getPasswordError`). */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 70;

/** Who is calling: the client address and the access type (for the throttle). */
export type Caller = Pick<AttemptSource, 'ip' | 'accessType'>;

/**
 * Password sign-up and sign-in, with Stack Auth's checks, in its order, and its error codes; throttled first
 * (StackAuthThrottle), so a refused attempt hashes nothing and writes nothing but its counter.
 */
@Injectable()
export class PasswordAuthService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly users: StackUsersService,
    private readonly sessions: SessionsService,
    private readonly outbox: OutboxService,
    private readonly throttle: StackAuthThrottle,
  ) {}

  async signUp(project: StackProjectEntity, body: PasswordSignUpDto, caller: Caller): Promise<AuthTokens> {
    await this.throttle.signUp({ projectId: project.id, email: body.email, ...caller });
    const config = project.config;
    if (!config.credential_enabled) throw KnownErrors.passwordAuthenticationNotEnabled();
    const callbackUrl = body.verification_callback_url ?? undefined;
    if (callbackUrl !== undefined && !isTrustedRedirectUrl(callbackUrl, config)) throw KnownErrors.redirectUrlNotWhitelisted(callbackUrl);
    if (!config.sign_up_enabled) throw KnownErrors.signUpNotEnabled();
    if (body.password.length < PASSWORD_MIN_LENGTH) throw KnownErrors.passwordTooShort(PASSWORD_MIN_LENGTH);
    if (body.password.length > PASSWORD_MAX_LENGTH) throw KnownErrors.passwordTooLong(PASSWORD_MAX_LENGTH);

    // The user is created exactly as `POST /users` creates one (same service, same user.created event),
    // in one transaction with its first session: a sign-up either fully happens or leaves nothing.
    // No verification e-mail is sent (the provider has no mail transport); the address stays unverified.
    // Hashed before the transaction opens (bcrypt must not hold a pooled connection).
    const passwordHash = await passwordHashFrom({ password: body.password });
    const { user, events, session, refreshToken } = await this.db.transaction(async (tx) => {
      const { user: created, events: enqueued } = await this.users.createInTx(
        tx,
        project.id,
        { primary_email: body.email, primary_email_verified: false, primary_email_auth_enabled: true },
        passwordHash,
      );
      return { user: created, events: enqueued, ...(await this.sessions.createInTx(tx, created)) };
    });
    this.outbox.afterCommit(project.id, user.id, events);
    return this.sessions.tokensOf(user, session, refreshToken);
  }

  async signIn(project: StackProjectEntity, body: PasswordSignInDto, caller: Caller): Promise<AuthTokens> {
    const attempt = await this.throttle.signIn({ projectId: project.id, email: body.email, ...caller });
    let tokens: AuthTokens;
    try {
      tokens = await this.checkPasswordAndSignIn(project, body);
    } catch (err) {
      // Only a wrong e-mail or password is a guess; anything else gives the attempt back.
      if (!(err instanceof StackKnownError && err.code === 'EMAIL_PASSWORD_MISMATCH')) await attempt.notAGuess();
      throw err;
    }
    await attempt.succeeded();
    return tokens;
  }

  private async checkPasswordAndSignIn(project: StackProjectEntity, body: PasswordSignInDto): Promise<AuthTokens> {
    if (!project.config.credential_enabled) throw KnownErrors.passwordAuthenticationNotEnabled();
    const user = await this.db
      .getRepository(StackUserEntity)
      .findOneBy({ projectId: project.id, primaryEmail: normalizeEmail(body.email), primaryEmailAuthEnabled: true });
    // Compares against a dummy hash when there is no such user: unknown e-mail and wrong password take as long.
    if (!(await this.users.passwordMatches(user, body.password)) || !user) throw KnownErrors.emailPasswordMismatch();
    if (user.totpSecretEncrypted !== null) {
      // Stack Auth answers MULTI_FACTOR_AUTHENTICATION_REQUIRED and continues at /auth/mfa/sign-in, which this
      // provider does not serve; refusing is the only answer that does not bypass the user's second factor.
      throw new StackStatusError(400, 'This user requires TOTP multi-factor authentication, which this provider does not support for password sign-in.');
    }
    return this.sessions.signIn(user);
  }
}
