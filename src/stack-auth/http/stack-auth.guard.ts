import { CanActivate, createParamDecorator, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingHttpHeaders } from 'node:http';
import type { Request } from 'express';
import { TokensService, type AccessTokenClaims } from '../auth/tokens.service.js';
import { UserActivityService } from '../auth/user-activity.service.js';
import type { StackProjectEntity } from '../entities/stack-project.entity.js';
import type { StackUserEntity } from '../entities/stack-user.entity.js';
import { StackUsersStore } from '../users/stack-users.store.js';
import { StackProjectsService } from '../projects/stack-projects.service.js';
import type { StackKeyKind } from '../projects/stack-keys.js';
import { KnownErrors } from './known-errors.js';
import { stackHeader } from './stack-http.js';

export type StackAccessType = 'client' | 'server' | 'admin';

/** Who is calling a provider route: the project, the access type its key proves, and the signed-in user. */
export interface StackAuth {
  type: StackAccessType;
  project: StackProjectEntity;
  /** The user of `x-stack-access-token`, when one was sent and is valid. */
  user?: StackUserEntity;
  /** Claims of that access token (its session is `refresh_token_id`). */
  token?: AccessTokenClaims;
}

declare module 'express-serve-static-core' {
  interface Request {
    stackAuth?: StackAuth;
  }
}

const STACK_ACCESS_KEY = 'stack_access_types';

/** The access types a provider route accepts; requests are authenticated by StackAuthGuard. */
export const StackAccess = (...types: StackAccessType[]) => SetMetadata(STACK_ACCESS_KEY, types);

/** The StackAuth that StackAuthGuard established. */
export const StackCaller = createParamDecorator((_data: unknown, ctx: ExecutionContext): StackAuth => {
  const auth = ctx.switchToHttp().getRequest<Request>().stackAuth;
  if (!auth) throw new Error('@StackCaller() used on a route without @StackAccess()');
  return auth;
});

const KEY_HEADERS = ['publishable-client-key', 'secret-server-key', 'super-secret-admin-key', 'admin-access-token'];

/** The key each access type proves itself with, its header, and Stack Auth's errors when it is missing or wrong. */
const KEY_OF: Record<StackAccessType, StackKeyKind> = { client: 'publishable_client_key', server: 'secret_server_key', admin: 'super_secret_admin_key' };
const KEY_HEADER_OF: Record<StackAccessType, string> = { client: 'publishable-client-key', server: 'secret-server-key', admin: 'super-secret-admin-key' };
const MISSING_OR_INVALID: Record<StackAccessType, (projectId: string, missing: boolean) => Error> = {
  client: (projectId, missing) => (missing ? KnownErrors.publishableClientKeyRequired(projectId) : KnownErrors.invalidPublishableClientKey(projectId)),
  server: (projectId, missing) => (missing ? KnownErrors.serverAuthenticationRequired() : KnownErrors.invalidSecretServerKey(projectId)),
  admin: (projectId, missing) => (missing ? KnownErrors.adminAuthenticationRequired() : KnownErrors.invalidSuperSecretAdminKey(projectId)),
};

/**
 * Stack Auth's request authentication (`parseAuth`): access type, project id, the key the access type
 * requires, and the optional user access token, with Stack Auth's error codes for each failure.
 */
@Injectable()
export class StackAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly projects: StackProjectsService,
    private readonly tokens: TokensService,
    private readonly activity: UserActivityService,
    private readonly users: StackUsersStore,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const allowed = this.reflector.getAllAndOverride<StackAccessType[] | undefined>(STACK_ACCESS_KEY, [context.getHandler(), context.getClass()]);
    if (!allowed) return true;
    const req = context.switchToHttp().getRequest<Request>();
    req.stackAuth = await this.authorize(req, allowed);
    return true;
  }

  /** The caller of a request to a route that accepts `allowed` access types (also for the routes served ahead of Express). */
  async authorize(req: { headers: IncomingHttpHeaders }, allowed: readonly StackAccessType[]): Promise<StackAuth> {
    const auth = await this.authenticate(req);
    if (!allowed.includes(auth.type)) throw KnownErrors.insufficientAccessType(auth.type, [...allowed]);
    return auth;
  }

  private async authenticate(req: { headers: IncomingHttpHeaders }): Promise<StackAuth> {
    const type = stackHeader(req, 'access-type');
    if (type === undefined) {
      if (KEY_HEADERS.some((h) => stackHeader(req, h) !== undefined)) throw KnownErrors.projectKeyWithoutAccessType();
      throw KnownErrors.accessTypeRequired();
    }
    if (type !== 'client' && type !== 'server' && type !== 'admin') throw KnownErrors.invalidAccessType(type);
    const projectId = stackHeader(req, 'project-id');
    if (!projectId) throw KnownErrors.accessTypeWithoutProjectId(type);
    const kind = KEY_OF[type];
    const key = stackHeader(req, KEY_HEADER_OF[type]);
    // With a key, the project and the key's validity come back together (one round trip on every request).
    const found = key ? await this.projects.findWithKey(projectId, kind, key) : null;
    const project = found?.project ?? (key ? null : await this.projects.find(projectId));
    if (!project) throw KnownErrors.currentProjectNotFound(projectId);
    if (!key || !found?.keyValid) throw MISSING_OR_INVALID[type](project.id, !key);

    const auth: StackAuth = { type, project };
    const accessToken = stackHeader(req, 'access-token');
    if (accessToken) {
      auth.token = await this.tokens.verifyAccessToken(project.id, accessToken);
      // A token of a user deleted since it was issued names nobody.
      auth.user = (await this.users.find(project.id, auth.token.sub)) ?? undefined;
      // A request with the user's access token is the user using the product (throttled to a write a minute).
      if (auth.user) await this.activity.touch(auth.user);
    }
    return auth;
  }
}
