import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Inject } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { ApiError, ErrorCode, GeneralErrorBody, httpStatusOf } from './errors.js';
import { LOGGER, serializeError } from './logger.js';
import { requestIdOf } from './request-id.js';

/** Maps anything thrown during a request to Neon's `{request_id, code, message}` body. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request>();
    const res = ctx.getResponse<Response>();
    const error = toApiError(exception);
    if (error.code === ErrorCode.InternalError) {
      this.logger.error({ err: serializeError(exception), requestId: req.requestId, path: req.path }, 'unhandled error');
    }
    writeError(req, res, error);
  }
}

export function toApiError(exception: unknown): ApiError {
  if (exception instanceof ApiError) return exception;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse();
    const message =
      typeof body === 'string'
        ? body
        : Array.isArray((body as { message?: unknown }).message)
          ? ((body as { message: string[] }).message).join('; ')
          : String((body as { message?: unknown }).message ?? exception.message);
    const code = codeForStatus(status);
    // A 5xx HttpException's message may carry internals: say no more than for any other failure.
    return new ApiError(code, code === ErrorCode.InternalError ? 'internal server error' : message);
  }
  const status = (exception as { status?: unknown; statusCode?: unknown } | null)?.status;
  const type = (exception as { type?: unknown } | null)?.type;
  if (type === 'entity.parse.failed') {
    return new ApiError(ErrorCode.MalformedJson, `malformed JSON in request body: ${(exception as Error).message}`);
  }
  if (type === 'entity.too.large') {
    const limit = (exception as { limit?: number }).limit;
    return new ApiError(ErrorCode.PayloadTooLarge, `request body is too large: the limit is ${limit} bytes`);
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ApiError(ErrorCode.ValidationError, `bad request: ${(exception as Error).message}`);
  }
  return new ApiError(ErrorCode.InternalError, 'internal server error');
}

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case HttpStatus.UNAUTHORIZED:
      return ErrorCode.Unauthorized;
    case HttpStatus.FORBIDDEN:
      return ErrorCode.Forbidden;
    case HttpStatus.NOT_FOUND:
      return ErrorCode.RouteNotFound;
    case HttpStatus.CONFLICT:
      return ErrorCode.Conflict;
    case HttpStatus.LOCKED:
      return ErrorCode.Locked;
    case HttpStatus.SERVICE_UNAVAILABLE:
      return ErrorCode.ServiceUnavailable;
    default:
      return status >= 400 && status < 500 ? ErrorCode.ValidationError : ErrorCode.InternalError;
  }
}

/** Neon's error body. */
export function errorBody(requestId: string, error: ApiError): GeneralErrorBody {
  return { request_id: requestId, code: error.code, message: error.message };
}

export function writeError(req: Request, res: Response, error: ApiError): void {
  const body = errorBody(requestIdOf(req), error);
  if (res.headersSent) return;
  if (error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds));
  res.status(httpStatusOf(error.code)).json(body);
}
