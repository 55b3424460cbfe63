import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { AccessContext } from './principal.js';

/** The AccessContext that AccessGuard resolved for this request. */
export const Caller = createParamDecorator((_data: unknown, ctx: ExecutionContext): AccessContext => {
  const access = ctx.switchToHttp().getRequest<Request>().access;
  if (!access) throw new Error('@Caller() used on a route without an authenticated policy');
  return access;
});
