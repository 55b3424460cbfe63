import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../../common/logger.js';
import { clientAddressKey, hashedSubject, RateLimits, type RateLimit, type Throttled } from '../../common/rate-limit.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { StackTooManyRequestsError } from '../http/known-errors.js';
import type { StackAccessType } from '../http/stack-auth.guard.js';
import { normalizeEmail } from '../users/stack-users.service.js';

/** Who is attempting: the project, the e-mail typed in, the client address and the access type of the request. */
export interface AttemptSource {
  projectId: string;
  email: string;
  /** `req.ip` (see clientAddressKey). */
  ip: string | undefined;
  accessType: StackAccessType;
}

/** What a counted sign-in attempt is settled with, once its outcome is known. */
export interface SignInAttempt {
  /** The password matched: the account's count starts over and the attempt is given back to the address. */
  succeeded(): Promise<void>;
  /** Refused for another reason than a wrong e-mail or password (not a guess): the attempt is given back. */
  notAGuess(): Promise<void>;
}

/**
 * Brute-force throttling of the password routes (STACK_AUTH_RATE_LIMIT_PER_ACCOUNT, STACK_AUTH_RATE_LIMIT_PER_IP,
 * STACK_AUTH_RATE_LIMIT_WINDOW_SECONDS; counters in the control-plane database, shared by replicas, see
 * src/common/rate-limit.ts). An attempt is counted before any password is hashed or compared, and a refused one
 * does nothing else: 429 with Retry-After (StackTooManyRequestsError).
 *
 * - Sign-in: wrong e-mail or password attempts, per account (project + e-mail, whether or not such a user exists,
 *   so the lockout tells nothing about existence) and per client address. A locked account is refused even with
 *   the right password until the window ends; a successful sign-in resets the account's count and gives its
 *   attempt back to the address, so only failures use up either budget.
 * - Sign-up: every attempt, per e-mail of the project and per client address (each one costs a bcrypt hash and
 *   may create an account).
 * - The per-address budget applies to client access only. With a secret server or admin key the caller is the
 *   application's own backend, whose address is shared by all its users (and which could change a password outright);
 *   the per-account budget applies to every access type.
 *
 * The provider has no password-reset, OTP or magic-link routes; they would take budgets here the same way.
 */
@Injectable()
export class StackAuthThrottle {
  private readonly signInAccount: RateLimit;
  private readonly signInAddress: RateLimit;
  private readonly signUpAccount: RateLimit;
  private readonly signUpAddress: RateLimit;

  constructor(
    rateLimits: RateLimits,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const perAccount = config.stackAuthRateLimitPerAccount;
    const perAddress = config.stackAuthRateLimitPerIp;
    const windowSeconds = config.stackAuthRateLimitWindowSeconds;
    this.signInAccount = rateLimits.budget({ name: 'stack_sign_in_account', limit: perAccount, windowSeconds });
    this.signInAddress = rateLimits.budget({ name: 'stack_sign_in_ip', limit: perAddress, windowSeconds });
    this.signUpAccount = rateLimits.budget({ name: 'stack_sign_up_account', limit: perAccount, windowSeconds });
    this.signUpAddress = rateLimits.budget({ name: 'stack_sign_up_ip', limit: perAddress, windowSeconds });
  }

  /** Counts a sign-in attempt, or throws 429 when the address's or the account's budget is spent. */
  async signIn(source: AttemptSource): Promise<SignInAttempt> {
    const { account, address } = subjects(source);
    await this.count(this.signInAddress, address);
    await this.count(this.signInAccount, account);
    const giveBack = async (resetAccount: boolean) => {
      await Promise.all([
        address === undefined ? undefined : this.signInAddress.refund(address),
        resetAccount ? this.signInAccount.reset(account) : this.signInAccount.refund(account),
      ]).catch((err: unknown) => this.logger.warn({ err }, 'could not give back a sign-in attempt'));
    };
    return { succeeded: () => giveBack(true), notAGuess: () => giveBack(false) };
  }

  /** Counts a sign-up attempt, or throws 429 when the address's or the e-mail's budget is spent. */
  async signUp(source: AttemptSource): Promise<void> {
    const { account, address } = subjects(source);
    await this.count(this.signUpAddress, address);
    await this.count(this.signUpAccount, account);
  }

  /** Counts one attempt on a budget (the address first: a refused address spends nothing of the account's). */
  private async count(budget: RateLimit, subject: string | undefined): Promise<void> {
    if (subject === undefined) return;
    const throttled: Throttled | null = await budget.consume(subject);
    if (throttled) throw new StackTooManyRequestsError(throttled.retryAfterSeconds);
  }
}

function subjects(source: AttemptSource): { account: string; address: string | undefined } {
  return {
    account: hashedSubject(source.projectId, normalizeEmail(source.email)),
    address: source.accessType === 'client' ? clientAddressKey(source.ip) : undefined,
  };
}
