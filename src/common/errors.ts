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
  // Neon Auth (src/neon-auth) and Idempotency-Key (src/common/idempotency*).
  NeonAuthNotEnabled = 'NEON_AUTH_NOT_ENABLED',
  NeonAuthAlreadyEnabled = 'NEON_AUTH_ALREADY_ENABLED',
  NeonAuthPrivateNetworking = 'NEON_AUTH_NOT_SUPPORTED_WITH_PRIVATE_LINK_OR_IP_ALLOW',
  AuthProviderNotSupported = 'AUTH_PROVIDER_NOT_SUPPORTED',
  AuthProviderAuthFailed = 'AUTH_PROVIDER_AUTH_FAILED',
  AuthProviderRequestRejected = 'AUTH_PROVIDER_REQUEST_REJECTED',
  AuthProviderUnavailable = 'AUTH_PROVIDER_UNAVAILABLE',
  /** A manual-setup base URL names a destination outgoing calls may not reach (src/common/outbound-url-policy.ts). */
  AuthProviderUrlNotAllowed = 'AUTH_PROVIDER_URL_NOT_ALLOWED',
  AuthUserNotFound = 'AUTH_USER_NOT_FOUND',
  AuthUserAlreadyExists = 'AUTH_USER_ALREADY_EXISTS',
  AuthTransferNotAllowed = 'AUTH_TRANSFER_NOT_ALLOWED',
  IdempotencyKeyReused = 'IDEMPOTENCY_KEY_REUSED',
  IdempotencyKeyInProgress = 'IDEMPOTENCY_KEY_IN_PROGRESS',
  // Neon Auth users, SDK keys and ownership transfer (src/neon-auth/{users,sdk-keys,ownership}).
  NeonAuthUsersSyncUnavailable = 'NEON_AUTH_USERS_SYNC_UNAVAILABLE',
  NeonAuthUsersSyncMissing = 'NEON_AUTH_USERS_SYNC_MISSING',
  AuthProviderProjectOwnedByUser = 'AUTH_PROVIDER_PROJECT_OWNED_BY_USER',
  // Neon Auth settings (src/neon-auth/settings): a `shared` OAuth provider without the installation's shared credentials.
  InvalidSharedOauthProvider = 'INVALID_SHARED_OAUTH_PROVIDER',
  // Quotas (PROJECTS_LIMIT, BRANCHES_LIMIT, DATABASES_LIMIT, ORGANIZATIONS_LIMIT).
  ProjectsLimitExceeded = 'PROJECTS_LIMIT_EXCEEDED',
  BranchesLimitExceeded = 'BRANCHES_LIMIT_EXCEEDED',
  DatabasesLimitExceeded = 'DATABASES_LIMIT_EXCEEDED',
  OrganizationsLimitExceeded = 'ORGANIZATIONS_LIMIT_EXCEEDED',
  // Brute-force throttling (src/common/rate-limit.ts): sent with Retry-After.
  RateLimited = 'RATE_LIMITED',
}

export function httpStatusOf(code: ErrorCode): HttpStatus {
  switch (code) {
    case ErrorCode.ValidationError:
    case ErrorCode.MalformedJson:
    case ErrorCode.PayloadTooLarge:
    case ErrorCode.NeonAuthPrivateNetworking:
    case ErrorCode.AuthProviderNotSupported:
    case ErrorCode.AuthProviderAuthFailed:
    case ErrorCode.AuthProviderRequestRejected:
    case ErrorCode.AuthProviderUrlNotAllowed:
    case ErrorCode.InvalidSharedOauthProvider:
      return HttpStatus.BAD_REQUEST;
    case ErrorCode.Unauthorized:
      return HttpStatus.UNAUTHORIZED;
    case ErrorCode.Forbidden:
      return HttpStatus.FORBIDDEN;
    case ErrorCode.NotFound:
    case ErrorCode.RouteNotFound:
    case ErrorCode.NeonAuthNotEnabled:
    case ErrorCode.AuthUserNotFound:
      return HttpStatus.NOT_FOUND;
    case ErrorCode.Conflict:
    case ErrorCode.LastAdmin:
    case ErrorCode.NeonAuthAlreadyEnabled:
    case ErrorCode.AuthUserAlreadyExists:
    case ErrorCode.AuthTransferNotAllowed:
    case ErrorCode.IdempotencyKeyInProgress:
    case ErrorCode.NeonAuthUsersSyncMissing:
    case ErrorCode.AuthProviderProjectOwnedByUser:
      return HttpStatus.CONFLICT;
    case ErrorCode.IdempotencyKeyReused:
    case ErrorCode.ProjectsLimitExceeded:
    case ErrorCode.BranchesLimitExceeded:
    case ErrorCode.DatabasesLimitExceeded:
    case ErrorCode.OrganizationsLimitExceeded:
      return HttpStatus.UNPROCESSABLE_ENTITY;
    case ErrorCode.Locked:
      return HttpStatus.LOCKED;
    case ErrorCode.RateLimited:
      return HttpStatus.TOO_MANY_REQUESTS;
    case ErrorCode.ServiceUnavailable:
    case ErrorCode.AuthProviderUnavailable:
    case ErrorCode.NeonAuthUsersSyncUnavailable:
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
    /** What the refusal concerns, for the audit log (never rendered to the caller). */
    readonly subject: { orgId?: string; projectId?: string } = {},
    /** Sent as the `Retry-After` header (seconds). */
    readonly retryAfterSeconds?: number,
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

  static rateLimited(retryAfterSeconds: number, message: string): ApiError {
    return new ApiError(ErrorCode.RateLimited, message, {}, retryAfterSeconds);
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
