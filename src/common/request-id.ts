import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export const VALID_REQUEST_ID = /^[A-Za-z0-9._:\-]{1,128}$/;

export const REQUEST_ID_HEADERS = ['x-request-id', 'x-neon-ret-request-id'] as const;

declare module 'express-serve-static-core' {
  interface Request {
    requestId?: string;
  }
}

/**
 * Honours a well-formed X-Request-ID from the caller (else generates one) and echoes it on the
 * response as X-Request-ID and x-neon-ret-request-id, the header neonctl reads.
 */
export function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const incoming = req.header('x-request-id');
  const id = incoming && VALID_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  req.requestId = id;
  for (const h of REQUEST_ID_HEADERS) res.setHeader(h, id);
  next();
}

export function requestIdOf(req: Request): string {
  return req.requestId ?? randomUUID();
}
