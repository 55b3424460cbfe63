import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors.js';
import { RateLimits, type RateLimit } from '../common/rate-limit.js';

/** Sends a person starts by hand per project in one window: test e-mails and webhook replays. */
export const MANUAL_SENDS_PER_PROJECT = 30;
export const MANUAL_SENDS_WINDOW_SECONDS = 600;

/**
 * The budget of the outgoing calls an administrator starts by hand (send_test_email, email_provider/test, the replay
 * of a webhook delivery): each opens a connection to a host a person chose and may take up to 15-30 s, so without a
 * bound the installation would be a port scanner or a spam relay for whoever holds an admin key. Per project, shared
 * by the replicas (the rate_limits table); over it, 429 RATE_LIMITED with Retry-After.
 */
@Injectable()
export class ManualSends {
  private readonly budget: RateLimit;

  constructor(rateLimits: RateLimits) {
    this.budget = rateLimits.budget({ name: 'neon_auth_manual_sends', limit: MANUAL_SENDS_PER_PROJECT, windowSeconds: MANUAL_SENDS_WINDOW_SECONDS });
  }

  /** Counts one send of the project, or throws 429 when its budget is spent. */
  async consume(projectId: string): Promise<void> {
    const throttled = await this.budget.consume(projectId);
    if (throttled) {
      throw ApiError.rateLimited(
        throttled.retryAfterSeconds,
        `too many test e-mails and webhook replays for this project (at most ${MANUAL_SENDS_PER_PROJECT} in ${MANUAL_SENDS_WINDOW_SECONDS / 60} minutes); retry in ${throttled.retryAfterSeconds} s`,
      );
    }
  }
}
