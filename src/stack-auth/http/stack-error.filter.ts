import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ApiError, ErrorCode } from '../../common/errors.js';
import { LOGGER, serializeError } from '../../common/logger.js';
import { KnownErrors, StackKnownError, StackStatusError, StackTooManyRequestsError } from './known-errors.js';
import { writeStackError } from './stack-http.js';

/** Renders every failure of a provider route in Stack Auth's error format (see known-errors.ts). */
@Catch()
export class StackErrorFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    writeStackFailure(this.logger, host.switchToHttp().getRequest<Request>(), host.switchToHttp().getResponse<Response>(), exception);
  }
}

/**
 * Answers a failure of a provider route (the filter's, and the routes served ahead of Express): the Stack error it
 * maps to, a 5xx logged with the request's path.
 */
export function writeStackFailure(logger: Logger, req: StackRequest, res: ServerResponse, exception: unknown): void {
  const error = toStackError(req, exception);
  if (error.status >= 500) {
    logger.error({ err: serializeError(exception), path: req.originalUrl.split('?')[0] }, 'unhandled error in the embedded provider');
  }
  writeStackError(req, res, error);
}

/** What the provider's error mapping reads of a request. */
interface StackRequest {
  method?: string;
  originalUrl: string;
  headers: IncomingHttpHeaders;
}

/** Maps anything thrown while serving a provider route (or parsing its body) to a Stack error. */
export function toStackError(req: Omit<StackRequest, 'headers'>, exception: unknown): StackKnownError | StackStatusError {
  if (exception instanceof StackKnownError || exception instanceof StackStatusError) return exception;
  if (exception instanceof ApiError) {
    // The global validation pipe's failures: Stack Auth calls these SCHEMA_ERROR.
    if (exception.code === ErrorCode.ValidationError || exception.code === ErrorCode.PayloadTooLarge) {
      const detail = exception.message.replace(/^invalid request: /, '');
      return KnownErrors.schemaError(`Request validation failed on ${req.method} ${req.originalUrl.split('?')[0]}:\n  - ${detail.split('; ').join('\n  - ')}`);
    }
    if (exception.code === ErrorCode.MalformedJson) return KnownErrors.bodyParsingError(exception.message);
    if (exception.retryAfterSeconds !== undefined) return new StackTooManyRequestsError(exception.retryAfterSeconds);
    if (exception.status < 500) return new StackStatusError(exception.status, exception.message);
  }
  if (exception instanceof HttpException && exception.getStatus() < 500) {
    return new StackStatusError(exception.getStatus(), exception.message);
  }
  const type = (exception as { type?: unknown } | null)?.type;
  if (type === 'entity.parse.failed') return KnownErrors.bodyParsingError(`Invalid JSON in request body: ${(exception as Error).message}`);
  if (type === 'entity.too.large') return KnownErrors.schemaError('Request body is too large.');
  // Every other body-parser refusal (unsupported charset or content-encoding, a corrupt compressed body, too
  // many form fields, ...) is the client's: an http-error with a 4xx status, marked safe to expose.
  const { status, expose } = (exception ?? {}) as { status?: unknown; expose?: unknown };
  if ((typeof type === 'string' || expose === true) && typeof status === 'number' && status >= 400 && status < 500) {
    return KnownErrors.bodyParsingError(`Could not read the request body: ${(exception as Error).message}`);
  }
  return new StackStatusError(500, 'Internal server error');
}
