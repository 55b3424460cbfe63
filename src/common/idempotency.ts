import { createHash } from 'node:crypto';
import {
  applyDecorators,
  Injectable,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request, Response } from 'express';
import { catchError, from, mergeMap, of, throwError, type Observable } from 'rxjs';
import { DataSource } from 'typeorm';
import { ApiError, ErrorCode } from './errors.js';
import { SecretsService } from './secrets.js';

declare module 'express-serve-static-core' {
  interface Request {
    /**
     * Whom an Idempotency-Key belongs to (personal keys: the account; organization and project-scoped keys: the
     * key itself). Set by the access guard once the caller is authenticated and authorized; absent otherwise.
     */
    callerKey?: string;
  }
}

/**
 * `Idempotency-Key` support with Stripe's semantics, for any POST (or other non-idempotent route).
 *
 * Adopt it on a route with `@Idempotent()` (from this file) next to `@Post()`; nothing else is needed (the
 * interceptor uses the global DataSource and SecretsService). Without the header a request runs as usual.
 *
 * - Scope: the key belongs to the caller (personal keys: the account; organization / project-scoped keys:
 *   the key itself). Other callers' keys never collide.
 * - First use: the key is claimed (a row in `idempotency_keys`), the request runs, and its response
 *   (status + body) is stored — 2xx, and 4xx errors that describe the request's outcome (e.g. 409 "already
 *   enabled", 404). Responses that say "try again" are NOT stored and the key is released, so a retry with the
 *   same key runs again: validation errors (400 VALIDATION_ERROR, as Stripe), 403 (permissions can change),
 *   423 Locked, 429, and any 5xx (503 provider unavailable, 500).
 * - Same key, same request (method, path, canonical JSON body) -> the stored response is replayed (same
 *   status and body; header `Idempotent-Replayed: true`; a replayed error gets a fresh request_id).
 * - Same key, different request -> 422 IDEMPOTENCY_KEY_REUSED. Same key while the first request is still
 *   running -> 409 IDEMPOTENCY_KEY_IN_PROGRESS (retry later). A claim left by a crashed server is taken
 *   over after IN_PROGRESS_TIMEOUT.
 * - Keys expire 24 h after first use; afterwards the key is new again. Expired rows are pruned as keys are
 *   used. Stored bodies are encrypted (they can carry secrets, e.g. SDK keys).
 * - Key format: 1 to 255 visible ASCII characters (e.g. a UUID); anything else -> 400.
 *
 * Note: guards run before interceptors, so 401/403/404 from the access policy are never stored (and are
 * what the caller gets on every try). Routes that check access in the service (project_id in the body) mark
 * those refusals with `notReplayed(err)` so they are not stored either.
 */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const IDEMPOTENCY_TTL_HOURS = 24;
/** How long a first request may run before another request with its key may take the claim over. */
export const IN_PROGRESS_TIMEOUT_MINUTES = 10;
const KEY_FORMAT = /^[\x21-\x7e]{1,255}$/;

const NOT_REPLAYED = Symbol.for('idempotency.notReplayed');

/**
 * Marks an error as "not the outcome of the request" (never stored, the key is released), e.g. an access refusal
 * that a service makes itself because the project is named in the body, not the path: the guard's refusals are
 * never stored (guards run first), and a refusal made by the service must behave the same (access can be granted).
 */
export function notReplayed<E>(err: E): E {
  if (err !== null && typeof err === 'object') Object.defineProperty(err, NOT_REPLAYED, { value: true });
  return err;
}

/** Errors that are the outcome of the request (stored and replayed) rather than "retry" signals. */
function isStoredError(err: unknown): err is ApiError {
  if (!(err instanceof ApiError)) return false;
  if ((err as unknown as Record<symbol, unknown>)[NOT_REPLAYED] === true) return false;
  const status = err.status as number;
  if (status < 400 || status >= 500) return false;
  return ![
    ErrorCode.ValidationError,
    ErrorCode.MalformedJson,
    ErrorCode.PayloadTooLarge,
    ErrorCode.Locked,
    ErrorCode.IdempotencyKeyInProgress,
    ErrorCode.IdempotencyKeyReused,
    ErrorCode.Unauthorized,
    ErrorCode.Forbidden, // permissions may change; a retry after being granted access must run
  ].includes(err.code);
}

/** Marks a route as accepting `Idempotency-Key` (and documents the header). */
export function Idempotent(): MethodDecorator {
  return applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: IDEMPOTENCY_HEADER,
      required: false,
      description:
        `Makes a retry safe: a repeat with the same key and body answers the first response (for ${IDEMPOTENCY_TTL_HOURS} h); ` +
        'the same key with a different body -> 422 IDEMPOTENCY_KEY_REUSED.',
      schema: { type: 'string', maxLength: 255 },
    }),
  );
}

/** JSON with object keys sorted at every level, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are one request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

type Claim =
  | { kind: 'claimed' }
  | { kind: 'replay'; status: number; stored: StoredResponse }
  | { kind: 'mismatch'; method: string; path: string }
  | { kind: 'in_progress' };

type StoredResponse = { body: unknown } | { error: { code: ErrorCode; message: string } };

/** The storage side, usable without the interceptor (e.g. by a service that is not behind a controller). */
@Injectable()
export class IdempotencyStore {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly secrets: SecretsService,
  ) {}

  async claim(caller: string, key: string, method: string, path: string, fingerprint: string): Promise<Claim> {
    await this.prune();
    for (let attempt = 0; attempt < 5; attempt++) {
      // Inserts the claim, or takes over an expired row or an abandoned claim, atomically.
      const claimed: unknown[] = await this.db.query(
        `INSERT INTO idempotency_keys (caller, key, fingerprint, method, path, status, response_encrypted, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, NULL, NULL, now(), now() + make_interval(hours => $6))
         ON CONFLICT (caller, key) DO UPDATE
           SET fingerprint = EXCLUDED.fingerprint, method = EXCLUDED.method, path = EXCLUDED.path, status = NULL,
               response_encrypted = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
           WHERE idempotency_keys.expires_at <= now()
              OR (idempotency_keys.status IS NULL AND idempotency_keys.fingerprint = EXCLUDED.fingerprint
                  AND idempotency_keys.created_at < now() - make_interval(mins => $7))
         RETURNING 1`,
        [caller, key, fingerprint, method, path, IDEMPOTENCY_TTL_HOURS, IN_PROGRESS_TIMEOUT_MINUTES],
      );
      if (claimed.length > 0) return { kind: 'claimed' };
      const rows: { fingerprint: string; method: string; path: string; status: number | null; response_encrypted: string | null }[] = await this.db.query(
        `SELECT fingerprint, method, path, status, response_encrypted FROM idempotency_keys WHERE caller = $1 AND key = $2 AND expires_at > now()`,
        [caller, key],
      );
      const row = rows[0];
      if (!row) continue; // released or expired in between: claim again
      if (row.fingerprint !== fingerprint) return { kind: 'mismatch', method: row.method, path: row.path };
      if (row.status === null || row.response_encrypted === null) return { kind: 'in_progress' };
      const stored = JSON.parse(this.secrets.decrypt(row.response_encrypted, context(caller, key))) as StoredResponse;
      return { kind: 'replay', status: row.status, stored };
    }
    return { kind: 'in_progress' };
  }

  async complete(caller: string, key: string, status: number, stored: StoredResponse): Promise<void> {
    await this.db.query(`UPDATE idempotency_keys SET status = $3, response_encrypted = $4 WHERE caller = $1 AND key = $2 AND status IS NULL`, [
      caller,
      key,
      status,
      this.secrets.encrypt(JSON.stringify(stored), context(caller, key)),
    ]);
  }

  /** Forgets a claim whose request ended in a "retry" answer: the next use of the key runs again. */
  async release(caller: string, key: string): Promise<void> {
    await this.db.query(`DELETE FROM idempotency_keys WHERE caller = $1 AND key = $2 AND status IS NULL`, [caller, key]);
  }

  /** Deletes a bounded number of expired rows (called as keys are used; the index on expires_at keeps it cheap). */
  async prune(limit = 100): Promise<void> {
    await this.db.query(
      `DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(SELECT ctid FROM idempotency_keys WHERE expires_at <= now() LIMIT $1))`,
      [limit],
    );
  }
}

function context(caller: string, key: string): string {
  return `idempotency_keys:${caller}:${key}`;
}

/** Applies IdempotencyStore around a route handler; see the comment at the top of this file. */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly store: IdempotencyStore;

  constructor(@InjectDataSource() db: DataSource, secrets: SecretsService) {
    this.store = new IdempotencyStore(db, secrets);
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const key = req.header(IDEMPOTENCY_HEADER);
    const caller = req.callerKey;
    if (key === undefined || caller === undefined) return next.handle();
    if (!KEY_FORMAT.test(key)) {
      throw ApiError.validation(`${IDEMPOTENCY_HEADER} must be 1 to 255 visible ASCII characters`);
    }
    const path = req.originalUrl;
    const fingerprint = createHash('sha256')
      .update(`${req.method}\n${path}\n${canonicalJson(req.body ?? null)}`)
      .digest('hex');
    const claim = await this.store.claim(caller, key, req.method, path, fingerprint);
    switch (claim.kind) {
      case 'mismatch':
        throw new ApiError(
          ErrorCode.IdempotencyKeyReused,
          `${IDEMPOTENCY_HEADER} ${JSON.stringify(key)} was already used for a different request (${claim.method} ${claim.path} with another body); use a new key`,
        );
      case 'in_progress':
        throw new ApiError(ErrorCode.IdempotencyKeyInProgress, `a request with ${IDEMPOTENCY_HEADER} ${JSON.stringify(key)} is still in progress; retry later`);
      case 'replay':
        res.setHeader('Idempotent-Replayed', 'true');
        if ('error' in claim.stored) throw new ApiError(claim.stored.error.code, claim.stored.error.message);
        res.status(claim.status);
        return of(claim.stored.body);
      case 'claimed':
        return next.handle().pipe(
          mergeMap(async (body: unknown) => {
            await this.store.complete(caller, key, res.statusCode, { body: body ?? null });
            return body;
          }),
          catchError((err: unknown) =>
            from(
              isStoredError(err)
                ? this.store.complete(caller, key, err.status as number, { error: { code: err.code, message: err.message } })
                : this.store.release(caller, key),
            ).pipe(mergeMap(() => throwError(() => err))),
          ),
        );
    }
  }
}
