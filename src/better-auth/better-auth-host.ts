import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { decodeJwt } from 'jose';
import type { Logger } from 'pino';
import { ApiError, httpStatusOf } from '../common/errors.js';
import { LOGGER } from '../common/logger.js';
import { clientAddressKey, RateLimits, type RateLimit } from '../common/rate-limit.js';
import { NEON_ID_PATTERN } from '../common/validation.js';
import { pgNameProblem } from '../projects/branch-databases/naming.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { BETTER_AUTH_PATH, CLIENT_IP_HEADER } from './better-auth-options.js';
import { BetterAuthServers, trustedOriginsOf, type BetterAuthServer, type BranchAuthTenant } from './better-auth-servers.js';

/** `/neon-auth/{branch_id}/{database}/auth{rest}` (query apart). */
const ROUTE = /^\/neon-auth\/([^/?#]+)\/([^/?#]+)\/auth(\/[^?#]*)?$/;
/** Routes that create sessions or users, or send codes: rate-limited per client address and branch. */
const THROTTLED = /^\/(sign-in|sign-up|email-otp|phone-number|forget-password|request-password-reset|magic-link|send-verification-email|change-email|organization\/invite-member)(\/|$)/;
const ALLOWED_METHODS = 'GET, POST, OPTIONS';
/** Body types Better Auth's routes take (JSON; OAuth form posts). */
const BODY_TYPES = ['application/json', 'application/x-www-form-urlencoded'];

/** The endpoint as a router could read it (percent-decoded, lower case): what the rate limit matches. */
function endpointKey(rest: string): string {
  try {
    return decodeURIComponent(rest).toLowerCase();
  } catch {
    return rest.toLowerCase();
  }
}

/** The route template the HTTP metrics label this request with (they read `req.route.path` under `req.baseUrl`). */
function labelRoute(req: Request, endpoint: string): void {
  (req as unknown as { route: { path: string } }).route = { path: `/:branch_id/:database/auth${endpoint}` };
}

/** Better Auth's error body: `{code, message}`. */
function sendError(res: Response, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ code, message });
  res.status(status).set({ ...headers, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).send(body);
}

/** Whether `origin` matches one of `patterns` (exact, or with `*` standing for any run of host or port characters). */
export function originAllowed(origin: string, patterns: string[]): boolean {
  for (const pattern of patterns) {
    if (pattern === origin) return true;
    if (!pattern.includes('*')) continue;
    const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('[A-Za-z0-9.-]*')}$`);
    if (regex.test(origin)) return true;
  }
  return false;
}

/**
 * The HTTP side of the Better Auth servers hosted per branch database, mounted at `/neon-auth` ahead of the API's body
 * parsers: routes `/neon-auth/{branch_id}/{database}/auth/...` to the branch's server (BetterAuthServers) as a Fetch
 * Request built from the Node request. Around Better Auth it does what Better Auth leaves to its host:
 * - CORS: preflights answered and credentialed responses granted for the branch's trusted origins (its own, the
 *   trusted domains, localhost while allowed), with `set-auth-jwt` exposed; nothing for any other origin;
 * - a body cap (BODY_LIMIT, 413), JSON or form bodies only (415), malformed JSON refused (400) before Better Auth sees it;
 * - rate limits on sign-in, sign-up and code sending per client address and branch, shared by replicas (429);
 * - the client address Better Auth records (sessions' ipAddress) taken from the TCP peer (or TRUST_PROXY's rule),
 *   never from a header the client chose;
 * - Neon's extra routes: `/jwks` (the JWKS also at `/.well-known/jwks.json`) and `/token/anonymous`.
 * An unknown branch or database, or one without Better Auth, is 404.
 */
@Injectable()
export class BetterAuthHost {
  private readonly throttle: RateLimit;

  constructor(
    private readonly servers: BetterAuthServers,
    rateLimits: RateLimits,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.throttle = rateLimits.budget({ name: 'better_auth_ip', limit: config.betterAuthRateLimitPerIp, windowSeconds: config.betterAuthRateLimitWindowSeconds });
  }

  /** The Express middleware (mount at BETTER_AUTH_PATH, before any body parser). */
  middleware(): (req: Request, res: Response) => void {
    return (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        // The control plane's own refusals (a branch database locked by another operation: 423, ...) keep their status.
        if (err instanceof ApiError && httpStatusOf(err.code) < 500) {
          if (!res.headersSent) sendError(res, httpStatusOf(err.code), err.code, err.message);
          else res.end();
          return;
        }
        this.logger.error({ err, requestId: req.requestId }, 'better auth host failed');
        if (!res.headersSent) sendError(res, 503, 'SERVICE_UNAVAILABLE', 'the auth server is unavailable; retry later');
        else res.end();
      });
    };
  }

  private async handle(req: Request, res: Response): Promise<void> {
    const pathOnly = req.originalUrl.split('?')[0];
    const match = ROUTE.exec(pathOnly);
    if (!match) return sendError(res, 404, 'NOT_FOUND', `no auth server at ${BETTER_AUTH_PATH}: use ${BETTER_AUTH_PATH}/{branch_id}/{database}/auth`);
    let branchId: string;
    let databaseName: string;
    try {
      branchId = decodeURIComponent(match[1]);
      databaseName = decodeURIComponent(match[2]);
    } catch {
      return sendError(res, 400, 'BAD_REQUEST', 'malformed path');
    }
    const rest = match[3] ?? '/';
    // Names the API would refuse name no auth server (and never reach a query: a NUL byte would be a 500 there).
    if (!NEON_ID_PATTERN.test(branchId) || pgNameProblem(databaseName, 'database') !== undefined) {
      return sendError(res, 404, 'NOT_FOUND', 'no such branch or database');
    }
    // Dot segments and empty segments are refused: a URL parser would fold them away after the checks below (the
    // rate limit is keyed on the endpoint), so `x/../sign-in/email` would reach sign-in uncounted.
    if (/(^|\/)(\.|%2e){1,2}(\/|$)|\/\//i.test(rest) || /%2f|%5c|\\/i.test(rest)) {
      return sendError(res, 400, 'BAD_REQUEST', 'the path may not contain empty, "." or ".." segments');
    }
    const tenant = await this.servers.tenantOf(branchId, databaseName);
    if (!tenant) return sendError(res, 404, 'NOT_FOUND', `Neon Auth with Better Auth is not enabled on database ${databaseName} of branch ${branchId}`);
    const { server, config } = await this.servers.serverFor(tenant);

    // CORS, which Better Auth leaves to its host.
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    const cors: Record<string, string> = { vary: 'Origin' };
    if (origin !== undefined && originAllowed(origin, trustedOriginsOf(tenant, config))) {
      cors['access-control-allow-origin'] = origin;
      cors['access-control-allow-credentials'] = 'true';
      cors['access-control-expose-headers'] = 'set-auth-jwt';
    }
    if (req.method === 'OPTIONS') {
      if (!cors['access-control-allow-origin']) return sendError(res, 403, 'INVALID_ORIGIN', 'this origin is not trusted by the branch\'s auth server', cors);
      const requested = req.headers['access-control-request-headers'];
      res
        .status(204)
        .set({
          ...cors,
          'access-control-allow-methods': ALLOWED_METHODS,
          'access-control-allow-headers': typeof requested === 'string' ? requested : 'content-type, authorization',
          'access-control-max-age': '600',
        })
        .end();
      return;
    }
    res.set(cors);

    if (req.method === 'POST' && THROTTLED.test(endpointKey(rest))) {
      const throttled = await this.throttle.consume(`${tenant.integrationId}:${clientAddressKey(req.ip)}`);
      if (throttled) {
        return sendError(res, 429, 'TOO_MANY_REQUESTS', `too many attempts from this address; retry in ${throttled.retryAfterSeconds} s`, {
          'retry-after': String(throttled.retryAfterSeconds),
        });
      }
    }

    const body = await this.readBody(req, res);
    if (body === null) return;

    if (rest === '/token/anonymous' && req.method === 'GET') {
      labelRoute(req, rest);
      return this.anonymousToken(server, res);
    }
    const targetPath = rest === '/jwks' ? '/.well-known/jwks.json' : rest;
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
    const url = `${tenant.baseUrl}${targetPath === '/' ? '' : targetPath}${query}`;
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || name === CLIENT_IP_HEADER || name === 'host' || name === 'content-length' || name === 'transfer-encoding' || name === 'connection') continue;
      for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
    }
    headers.set(CLIENT_IP_HEADER, req.ip ?? '');
    const request = new Request(url, { method: req.method, headers, body: body.length > 0 && req.method !== 'GET' && req.method !== 'HEAD' ? new Uint8Array(body) : undefined });
    const response = await server.handler(request);
    // The metrics' route label: Better Auth's endpoint (a fixed set) when it answered one, never a raw path.
    labelRoute(req, response.status === 404 ? '/*' : targetPath);
    await this.writeResponse(res, response, tenant);
  }

  /** The body, capped and checked; null when an error was answered. */
  private async readBody(req: Request, res: Response): Promise<Buffer | null> {
    const limit = this.config.bodyLimitBytes;
    const tooLarge = (): null => {
      req.resume();
      sendError(res, 413, 'PAYLOAD_TOO_LARGE', `request body is too large: the limit is ${limit} bytes`);
      return null;
    };
    const declared = Number(req.headers['content-length']);
    const hasBody = (Number.isFinite(declared) && declared > 0) || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) return Buffer.alloc(0);
    if (Number.isFinite(declared) && declared > limit) return tooLarge();
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (!BODY_TYPES.includes(type)) {
      req.resume();
      sendError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', `send the body as ${BODY_TYPES.join(' or ')}`);
      return null;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) return tooLarge();
      chunks.push(chunk);
    }
    const body = Buffer.concat(chunks, size);
    if (type === 'application/json' && body.length > 0) {
      try {
        JSON.parse(body.toString('utf8'));
      } catch {
        sendError(res, 400, 'INVALID_JSON', 'the request body is not valid JSON');
        return null;
      }
    }
    return body;
  }

  /** `GET /token/anonymous`: a JWT with role `anonymous` for calls made before sign-in (Neon's SDK plugin). */
  private async anonymousToken(server: BetterAuthServer, res: Response): Promise<void> {
    const api = server.api as unknown as { signJWT: (input: { body: { payload: Record<string, unknown> } }) => Promise<{ token: string }> };
    const { token } = await api.signJWT({ body: { payload: { role: 'anonymous', sub: 'anonymous' } } });
    const exp = decodeJwt(token).exp ?? 0;
    res.status(200).set({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).send(JSON.stringify({ token, expires_at: exp * 1000 }));
  }

  private async writeResponse(res: Response, response: globalThis.Response, tenant: BranchAuthTenant): Promise<void> {
    res.status(response.status);
    const cookies = response.headers.getSetCookie();
    response.headers.forEach((value, name) => {
      if (name === 'set-cookie') return;
      if (name === 'access-control-expose-headers') {
        const merged = new Set([...String(res.getHeader(name) ?? '').split(','), ...value.split(',')].map((h) => h.trim()).filter(Boolean));
        res.setHeader(name, [...merged].join(', '));
        return;
      }
      res.setHeader(name, value);
    });
    if (cookies.length > 0) res.setHeader('set-cookie', cookies);
    if (!res.getHeader('cache-control')) res.setHeader('cache-control', 'no-store');
    const body = response.body ? Buffer.from(await response.arrayBuffer()) : undefined;
    if (response.status >= 500) this.logger.warn({ branchId: tenant.branchId, status: response.status }, 'better auth answered with a server error');
    res.end(body);
  }
}
