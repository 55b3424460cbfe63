import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { Inject, Injectable, Module, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { DataSource } from 'typeorm';
import { LOGGER } from './logger.js';
import { RATE_LIMITS_TABLE } from './rate-limit.entity.js';

/**
 * Brute-force throttling shared by the Neon API (failed API keys) and the embedded provider (sign-in, sign-up):
 * counters in the control-plane database (`rate_limits`), kept by rate-limiter-flexible's RateLimiterPostgres, so
 * every replica on the database sees the same counts.
 *
 * A budget allows `limit` attempts per subject (an account, a client address) in a fixed window of `windowSeconds`
 * that starts with the subject's first counted attempt; `limit` 0 turns it off. A refused request learns how many
 * seconds remain in the window (Retry-After). Each surface renders the refusal in its own error shape.
 */
export interface RateLimitRule {
  /** The budget's name: the prefix of its keys in `rate_limits` (e.g. `stack_sign_in_ip`). */
  name: string;
  /** Attempts allowed per subject in one window; 0: no limit. */
  limit: number;
  windowSeconds: number;
}

/** A refusal: the budget is spent for this subject until the window ends. */
export interface Throttled {
  /** Whole seconds until the window ends (at least 1): the `Retry-After` value. */
  retryAfterSeconds: number;
}

export interface RateLimitOptions {
  /**
   * Remember in this process, until the window ends, the subjects found over the budget, and refuse them without
   * a query. Only for budgets that are never refunded or reset (the memory of one process would outlive a reset
   * made by another).
   */
  rememberBlocked?: boolean;
}

/** Most subjects remembered as blocked by one budget in one process (oldest forgotten first; they are only a cache). */
const MAX_REMEMBERED = 10_000;

/** One budget. Keys are the subject only; the budget's name is prefixed to them. */
export class RateLimit {
  private readonly limiter?: RateLimiterPostgres;
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    db: DataSource,
    readonly rule: RateLimitRule,
    private readonly options: RateLimitOptions = {},
  ) {
    if (rule.limit <= 0) return;
    this.limiter = new RateLimiterPostgres({
      storeClient: db,
      storeType: 'typeorm', // the DataSource's own pg pool (driver.master), taken at each query
      tableName: RATE_LIMITS_TABLE,
      tableCreated: true, // made by a migration, never by the library at run time
      clearExpiredByTimeout: false, // RateLimits prunes the table, once per process rather than once per budget
      keyPrefix: rule.name,
      points: rule.limit,
      duration: rule.windowSeconds,
    });
  }

  get enabled(): boolean {
    return this.limiter !== undefined;
  }

  /**
   * Counts one attempt. Refused when it is beyond the budget (more than `limit` in the window). Counting comes
   * first, so concurrent attempts cannot all slip under the limit; give the attempt back with `refund` if it
   * should not have counted.
   */
  async consume(subject: string): Promise<Throttled | null> {
    if (!this.limiter) return null;
    const remembered = this.remembered(subject);
    if (remembered) return remembered;
    let res: RateLimiterRes;
    try {
      res = await this.limiter.consume(subject);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err; // a database failure: not a refusal
      this.remember(subject, err.msBeforeNext);
      return throttled(err.msBeforeNext);
    }
    if (res.consumedPoints >= this.rule.limit) this.remember(subject, res.msBeforeNext);
    return null;
  }

  /** The refusal this process already knows of, without a query (only with `rememberBlocked`). */
  private remembered(subject: string): Throttled | null {
    const until = this.blockedUntil.get(subject);
    if (until === undefined) return null;
    const ms = until - Date.now();
    if (ms > 0) return throttled(ms);
    this.blockedUntil.delete(subject);
    return null;
  }

  /** Gives back one counted attempt (e.g. a successful sign-in on the client address's budget). */
  async refund(subject: string): Promise<void> {
    if (this.limiter) await this.limiter.reward(subject, 1);
  }

  /** Forgets the subject's count (e.g. a successful sign-in on the account's budget). */
  async reset(subject: string): Promise<void> {
    if (this.limiter) await this.limiter.delete(subject);
  }

  private remember(subject: string, msBeforeNext: number): void {
    if (!this.options.rememberBlocked || msBeforeNext <= 0) return;
    if (this.blockedUntil.size >= MAX_REMEMBERED) {
      const oldest = this.blockedUntil.keys().next().value;
      if (oldest !== undefined) this.blockedUntil.delete(oldest);
    }
    this.blockedUntil.set(subject, Date.now() + msBeforeNext);
  }
}

function throttled(msBeforeNext: number): Throttled {
  return { retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)) };
}

/** How often each process deletes counters whose window has ended. */
export const PRUNE_INTERVAL_MS = 5 * 60_000;
/** A counter is deleted this long after its window ended (room for clocks of replicas that disagree a little). */
const PRUNE_GRACE_MS = 60_000;

/** Makes budgets over the control-plane database and prunes their ended counters. */
@Injectable()
export class RateLimits implements OnModuleInit, OnModuleDestroy {
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  budget(rule: RateLimitRule, options?: RateLimitOptions): RateLimit {
    return new RateLimit(this.db, rule, options);
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.pruneExpired().catch((err: unknown) => this.logger.warn({ err }, 'could not prune rate-limit counters')), PRUNE_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Deletes the counters whose window ended (an ended window counts as empty anyway); returns how many. */
  async pruneExpired(now = Date.now()): Promise<number> {
    const [, deleted] = (await this.db.query(`DELETE FROM ${RATE_LIMITS_TABLE} WHERE expire < $1`, [now - PRUNE_GRACE_MS])) as [unknown, number];
    return deleted;
  }
}

@Module({ providers: [RateLimits], exports: [RateLimits] })
export class RateLimitModule {}

/**
 * The subject key of a client address (`req.ip`, which Express derives from the TCP peer and, only through the
 * proxies named by TRUST_PROXY, from X-Forwarded-For). IPv4-mapped IPv6 addresses count as their IPv4 address;
 * IPv6 addresses count by their /64 prefix, since one host commonly holds a whole /64.
 */
export function clientAddressKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped && isIP(mapped[1]) === 4) return mapped[1];
  const family = isIP(ip);
  if (family === 4) return ip;
  if (family === 6) return `${expandIpv6(ip).slice(0, 4).join(':')}::/64`;
  return createHash('sha256').update(ip).digest('base64url'); // not an IP address: bounded in length all the same
}

/** The eight groups of an IPv6 address, without leading zeros (the zone id dropped). */
function expandIpv6(ip: string): string[] {
  let text = ip.split('%')[0].toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => parseInt(g, 16).toString(16));
}

/** A fixed-length subject key for parts that may be long or personal (an e-mail address): SHA-256, base64url. */
export function hashedSubject(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('base64url');
}
