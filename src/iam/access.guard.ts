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
    await super.canActivate(context);
    req.access = await this.accessService.authorize(policy, req.user as Principal, req.params as Record<string, string>);
    req.callerKey = callerKeyOf(req.access.principal);
    return true;
  }

  override handleRequest<TUser = Principal>(err: unknown, user: TUser | false): TUser {
    if (err) throw err;
    if (!user) throw ApiError.unauthorized();
    return user;
  }
}
