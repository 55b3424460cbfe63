import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { ApiError } from '../common/errors.js';
import { LOGGER } from '../common/logger.js';
import { clientAddressKey, RateLimits, type RateLimit, type Throttled } from '../common/rate-limit.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { hashApiKeySecret } from './api-key-secret.js';
import type { ApiKeyKind } from './entities/api-key.entity.js';
import type { Principal } from './principal.js';

interface KeyRow {
  id: string;
  kind: ApiKeyKind;
  account_id: string | null;
  org_id: string | null;
  project_id: string | null;
  last_used_at: Date | null;
  email: string | null;
  is_platform_admin: boolean | null;
}

/** Don't write last_used_at more often than this per key. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Turns a bearer secret into a Principal. Revoked or unknown keys authenticate as nobody.
 *
 * Failed attempts are counted per client address (API_KEY_RATE_LIMIT_PER_IP per API_KEY_RATE_LIMIT_WINDOW_SECONDS):
 * once an address has spent its budget, every key it sends that authenticates nobody is refused with 429
 * RATE_LIMITED until the window ends (so it cannot go on testing keys), and nothing is written for it. A key that
 * authenticates is never refused: many clients can share one address (a NAT, or a proxy not named in TRUST_PROXY),
 * and keys are too long to guess, so refusing valid ones would let anyone lock everyone else out for nothing. A
 * valid key pays no write and no extra query for this; an address this process already saw over the budget is
 * refused without counting again.
 */
@Injectable()
export class AuthenticationService {
  private readonly failures: RateLimit;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(APP_CONFIG) config: AppConfig,
    rateLimits: RateLimits,
  ) {
    this.failures = rateLimits.budget(
      { name: 'api_key_failures_ip', limit: config.apiKeyRateLimitPerIp, windowSeconds: config.apiKeyRateLimitWindowSeconds },
      { rememberBlocked: true }, // failures are never given back, so a block lasts until its window ends
    );
  }

  /** The caller's principal, null for a key that authenticates nobody; 429 RATE_LIMITED for such a key from a throttled address. */
  async authenticate(secret: string, remoteAddr: string): Promise<Principal | null> {
    const row = await this.findKey(secret);
    if (!row) {
      // Counted against the address (an address already known to be over its budget is refused without a query).
      const over = await this.failures.consume(clientAddressKey(remoteAddr));
      if (over) throw rateLimited(over);
      return null;
    }
    this.recordUse(row, remoteAddr);
    const keyId = Number(row.id);
    switch (row.kind) {
      case 'personal':
        return {
          kind: 'personal',
          keyId,
          accountId: row.account_id!,
          email: row.email!,
          isPlatformAdmin: row.is_platform_admin === true,
        };
      case 'organization':
        return { kind: 'organization', keyId, orgId: row.org_id! };
      case 'project':
        return { kind: 'project', keyId, orgId: row.org_id!, projectId: row.project_id! };
      default:
        return null;
    }
  }

  private async findKey(secret: string): Promise<KeyRow | undefined> {
    if (!secret || secret.length > 512) return undefined;
    const rows: KeyRow[] = await this.db.query(
      `SELECT k.id, k.kind, k.account_id, k.org_id, k.project_id, k.last_used_at, a.email, a.is_platform_admin
         FROM api_keys k LEFT JOIN accounts a ON a.id = k.account_id
        WHERE k.token_hash = $1 AND k.revoked_at IS NULL`,
      [hashApiKeySecret(secret)],
    );
    return rows[0];
  }

  private recordUse(row: KeyRow, remoteAddr: string): void {
    if (row.last_used_at && Date.now() - row.last_used_at.getTime() < LAST_USED_RESOLUTION_MS) return;
    this.db
      .query(`UPDATE api_keys SET last_used_at = now(), last_used_from_addr = $2 WHERE id = $1`, [row.id, remoteAddr])
      .catch((err: unknown) => this.logger.warn({ err, keyId: row.id }, 'could not record API key use'));
  }
}

function rateLimited(throttled: Throttled): ApiError {
  return ApiError.rateLimited(
    throttled.retryAfterSeconds,
    `too many failed API key attempts from this address: retry in ${throttled.retryAfterSeconds} s`,
  );
}
