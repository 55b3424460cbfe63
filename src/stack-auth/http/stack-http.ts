import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { KnownErrors, StackKnownError, StackStatusError, StackTooManyRequestsError } from './known-errors.js';

/** Where the embedded provider is mounted; its API is at `${STACK_AUTH_PATH}/api/v1`. */
export const STACK_AUTH_PATH = '/stack-auth';

const EXPOSED = ['content-type', 'x-stack-actual-status', 'x-stack-known-error', 'x-stack-request-id'];
/** Read by the SDK on a 429 (see StackTooManyRequestsError); a browser hides it unless exposed. */
const EXPOSED_PLAIN = ['retry-after'];
const EXPOSE_HEADERS = [...EXPOSED, ...EXPOSED.map((h) => h.replace('x-stack-', 'x-hexclave-')), ...EXPOSED_PLAIN].join(', ');

/**
 * Request pipeline of the provider, before routing: `x-hexclave-*` request headers are copied onto their
 * `x-stack-*` twins (the newest backend does the same), so the rest reads only `x-stack-*`; every
 * response carries a request id, `cache-control: no-store` and permissive CORS, in both header families.
 */
export function stackHttpMiddleware(req: Request, res: Response, next: NextFunction): void {
  for (const name in req.headers) {
    if (name.startsWith('x-hexclave-')) req.headers[`x-stack-${name.slice('x-hexclave-'.length)}`] = req.headers[name];
  }
  const requestId = randomUUID();
  res.setHeader('x-stack-request-id', requestId);
  res.setHeader('x-hexclave-request-id', requestId);
  res.setHeader('cache-control', 'no-store, max-age=0');
  res.setHeader('access-control-allow-origin', '*');
  res.setHeader('access-control-expose-headers', EXPOSE_HEADERS);
  if (req.method === 'OPTIONS') {
    res.setHeader('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE, OPTIONS');
    res.setHeader('access-control-allow-headers', req.header('access-control-request-headers') ?? '*');
    res.setHeader('access-control-max-age', '86400');
    res.status(200).end();
    return;
  }
  next();
}

/** Media types whose bodies Stack Auth reads as text or bytes: never an object, so its routes answer SCHEMA_ERROR. */
const TEXT_OR_BYTES = new Set(['text/plain', 'application/octet-stream']);

/**
 * Runs after the body parsers on the provider's API: a request body that no parser read (a content type
 * other than JSON or form-encoded) is refused as Stack Auth refuses it, rather than silently dropped
 * (which would turn `POST /users` with a text/plain JSON body into an empty user). GET bodies are ignored.
 */
export function stackUnparsedBodyMiddleware(req: Request, res: Response, next: NextFunction): void {
  if (req.method === 'GET' || req.method === 'HEAD' || req.body !== undefined) return next();
  if (!requestHasBody(req)) return next();
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (TEXT_OR_BYTES.has(type)) {
    return writeStackError(req, res, KnownErrors.schemaError(`Request validation failed on ${req.method} ${req.originalUrl.split('?')[0]}:\n  - body must be an object`));
  }
  writeStackError(req, res, KnownErrors.bodyParsingError(type === '' ? 'The request has a body but no content-type header.' : `Unsupported content type: ${type}`));
}

/** Whether a request carries a body (chunked, or a declared length above zero). */
export function requestHasBody(req: { headers: IncomingHttpHeaders }): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) > 0);
}

/** `x-stack-<name>` (hexclave twins are already merged in by the middleware). */
export function stackHeader(req: { headers: IncomingHttpHeaders }, name: string): string | undefined {
  const value = req.headers[`x-stack-${name}`];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Writes a provider error: known errors as pretty-printed JSON with `x-stack-known-error`, plain ones as
 * text. With `x-stack-override-error-status` (which the SDK always sends), a 4xx goes out as 200 with
 * `x-stack-actual-status`, as Stack Auth does; 5xx are never overridden. Plain node:http calls, so it serves the
 * routes answered ahead of Express too.
 */
export function writeStackError(req: { headers: IncomingHttpHeaders }, res: ServerResponse, error: StackKnownError | StackStatusError): void {
  if (res.headersSent) return;
  if (error instanceof StackTooManyRequestsError) res.setHeader('retry-after', String(error.retryAfterSeconds));
  let status = error.status;
  if (status >= 400 && status < 500 && stackHeader(req, 'override-error-status') !== undefined) {
    res.setHeader('x-stack-actual-status', String(status));
    res.setHeader('x-hexclave-actual-status', String(status));
    status = 200;
  }
  let body: string;
  if (error instanceof StackKnownError) {
    res.setHeader('x-stack-known-error', error.code);
    res.setHeader('x-hexclave-known-error', error.code);
    body = JSON.stringify(error.details === undefined ? { code: error.code, error: error.message } : { code: error.code, details: error.details, error: error.message }, null, 2);
    res.setHeader('content-type', 'application/json; charset=utf-8');
  } else {
    body = error.message;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
  }
  res.statusCode = status;
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}
