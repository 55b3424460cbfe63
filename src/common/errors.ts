import { HttpStatus } from '@nestjs/common';

/**
 * Every error the API can return, by code. The code is the `code` field of Neon's GeneralError
 * body; its HTTP status is decided in one place, `httpStatusOf`, which the compiler keeps exhaustive.
 */
export enum ErrorCode {
  ValidationError = 'VALIDATION_ERROR',
  MalformedJson = 'MALFORMED_JSON',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  Unauthorized = 'UNAUTHORIZED',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  RouteNotFound = 'ROUTE_NOT_FOUND',
  Conflict = 'CONFLICT',
  LastAdmin = 'LAST_ADMIN',
  Locked = 'LOCKED',
  ServiceUnavailable = 'SERVICE_UNAVAILABLE',
  InternalError = 'INTERNAL_ERROR',
}

export function httpStatusOf(code: ErrorCode): HttpStatus {
  switch (code) {
    case ErrorCode.ValidationError:
    case ErrorCode.MalformedJson:
    case ErrorCode.PayloadTooLarge:
      return HttpStatus.BAD_REQUEST;
    case ErrorCode.Unauthorized:
      return HttpStatus.UNAUTHORIZED;
    case ErrorCode.Forbidden:
      return HttpStatus.FORBIDDEN;
    case ErrorCode.NotFound:
    case ErrorCode.RouteNotFound:
      return HttpStatus.NOT_FOUND;
    case ErrorCode.Conflict:
    case ErrorCode.LastAdmin:
      return HttpStatus.CONFLICT;
    case ErrorCode.Locked:
      return HttpStatus.LOCKED;
    case ErrorCode.ServiceUnavailable:
      return HttpStatus.SERVICE_UNAVAILABLE;
    case ErrorCode.InternalError:
      return HttpStatus.INTERNAL_SERVER_ERROR;
    default:
      return assertNever(code);
  }
}

function assertNever(value: never): never {
  throw new Error(`unmapped error code ${String(value)}`);
}

/** A failure the API reports to its caller; services throw these, the filter renders them. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get status(): HttpStatus {
    return httpStatusOf(this.code);
  }

  static validation(message: string): ApiError {
    return new ApiError(ErrorCode.ValidationError, message);
  }

  static notFound(what: string): ApiError {
    return new ApiError(ErrorCode.NotFound, `${what} not found`);
  }

  static forbidden(message = 'you do not have permission to perform this action'): ApiError {
    return new ApiError(ErrorCode.Forbidden, message);
  }

  static conflict(message: string): ApiError {
    return new ApiError(ErrorCode.Conflict, message);
  }

  static unauthorized(message = 'authentication required: send a valid API key as "Authorization: Bearer <key>"'): ApiError {
    return new ApiError(ErrorCode.Unauthorized, message);
  }
}

/** Neon's GeneralError body. */
export interface GeneralErrorBody {
  request_id: string;
  code: string;
  message: string;
}
