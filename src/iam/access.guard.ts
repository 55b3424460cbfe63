import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { ApiError } from '../common/errors.js';
import { LOGGER } from '../common/logger.js';
import { AccessService } from './access.service.js';
import { ACCESS_POLICY_KEY, Policy } from './policy.js';
import { callerKeyOf, type AccessContext, type Principal } from './principal.js';

function hasAccessToken(source: unknown): boolean {
  return typeof source === 'object' && source !== null && 'access_token' in source;
}

/**
 * Why an Authorization header cannot carry a key, in words a person can act on (a 401 that only says "invalid"
 * leaves them guessing), or undefined when it has the `Bearer <key>` shape. The usual slip: a key pasted into
 * Swagger UI's "Authorize" as `Bearer napi_…`, which Swagger UI sends as `Bearer Bearer napi_…`.
 */
export function authorizationHeaderProblem(header: string): string | undefined {
  const value = header.trim();
  if (/^bearer\s+bearer(\s|$)/i.test(value)) {
    return 'the Authorization header says "Bearer" twice: give the key alone (napi_…); "Authorize" in Swagger UI adds "Bearer " itself';
  }
  const space = value.search(/\s/);
  const scheme = space === -1 ? value : value.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') {
    // The scheme is named back only when it looks like one: a key pasted without "Bearer " is never echoed.
    const named = /^[A-Za-z][A-Za-z0-9-]{0,19}$/.test(scheme) && space !== -1 ? ` (it starts with "${scheme}")` : '';
    return `the Authorization header must be "Bearer <key>"${named}`;
  }
  const rest = space === -1 ? '' : value.slice(space);
  if (rest.trim() === '') return 'the Authorization header has no key after "Bearer"';
  // As the bearer strategy reads it: the scheme, one space, the key.
  if (!/^ \S+$/.test(rest)) {
    return /^\s+\S+$/.test(rest)
      ? 'the Authorization header must have exactly one space between "Bearer" and the key'
      : 'the API key in the Authorization header contains spaces: give the key alone, as it was shown when created';
  }
  return undefined;
}

declare module 'express-serve-static-core' {
  interface Request {
    access?: AccessContext;
  }
}

/**
 * The one global guard: deny by default, authenticate with the bearer strategy, then apply the
 * route's declared Policy and leave the resolved AccessContext on the request for @Caller().
 */
@Injectable()
export class AccessGuard extends AuthGuard('bearer') {
  constructor(
    private readonly reflector: Reflector,
    private readonly accessService: AccessService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const policy = this.reflector.getAllAndOverride<Policy | undefined>(ACCESS_POLICY_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (policy === undefined) {
      this.logger.error({ handler: context.getHandler().name }, 'route has no access policy; refusing');
      throw ApiError.forbidden('this route declares no access policy');
    }
    if (policy === Policy.Public || policy === Policy.EmbeddedProvider) return true;
    const req = context.switchToHttp().getRequest<Request>();
    // passport-http-bearer also reads `access_token` from the query string and body; keys in URLs end up
    // in proxies' logs, so only the Authorization header is accepted.
    if (!req.header('authorization') && (hasAccessToken(req.query) || hasAccessToken(req.body))) {
      throw ApiError.unauthorized('send the API key in the Authorization header ("Authorization: Bearer <key>")');
    }
    const header = req.header('authorization');
    const problem = header === undefined ? undefined : authorizationHeaderProblem(header);
    if (problem !== undefined) throw ApiError.unauthorized(problem);
    await super.canActivate(context);
    req.access = await this.accessService.authorize(policy, req.user as Principal, req.params as Record<string, string>);
    req.callerKey = callerKeyOf(req.access.principal);
    return true;
  }

  override handleRequest<TUser = Principal>(err: unknown, user: TUser | false, _info: unknown, context: ExecutionContext): TUser {
    if (err) throw err;
    if (!user) {
      const presented = context.switchToHttp().getRequest<Request>().header('authorization') !== undefined;
      throw presented ? ApiError.unauthorized('the API key was not accepted: it is unknown, revoked or expired') : ApiError.unauthorized();
    }
    return user;
  }
}
