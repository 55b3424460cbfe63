import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const VALID_REQUEST_ID = /^[A-Za-z0-9._:\-]{1,128}$/;

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
  req.requestId = assignRequestId(req.headers['x-request-id'], res);
  next();
}

/** The request's id (the caller's X-Request-ID when well-formed, else a new one), echoed on `res`. */
export function assignRequestId(incoming: string | string[] | undefined, res: { setHeader(name: string, value: string): unknown }): string {
  const id = typeof incoming === 'string' && VALID_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  for (const h of REQUEST_ID_HEADERS) res.setHeader(h, id);
  return id;
}

export function requestIdOf(req: Request): string {
  return req.requestId ?? randomUUID();
}
