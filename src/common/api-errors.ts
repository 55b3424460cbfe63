import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { GeneralErrorDto } from './dto/general-error.dto.js';

/** The error statuses routes declare, each with its description in the API document. */
const ERROR_DESCRIPTIONS = {
  400: 'Invalid request: a path parameter, query parameter, header or the body is malformed, or the request cannot be carried out as given',
  401: 'No API key in the Authorization header, or an unknown or revoked one',
  403: 'The API key may not perform this operation',
  404: "Not found, or outside the caller's reach",
  409: 'Conflicts with the current state',
  422: 'The Idempotency-Key was already used with a different request',
  423: 'Locked: what the operation needs is in use; retry',
  429: 'Too many requests: a rate limit is spent; retry after the Retry-After header\'s seconds',
  503: 'A service the operation depends on is unavailable; retry later',
} as const;

export type ApiErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

/**
 * Declares the error statuses a route can answer, each with Neon's GeneralError body (besides the `default`
 * GeneralError response every operation has). List what the route really answers: 401 unless it is public,
 * 403 / 404 as its access policy refuses, 400 when it takes parameters, a body or headers, and what its service
 * throws (the status of each error code is in errors.ts, httpStatusOf).
 */
export function ApiErrors(...statuses: ApiErrorStatus[]): MethodDecorator {
  return applyDecorators(...statuses.map((status) => ApiResponse({ status, description: ERROR_DESCRIPTIONS[status], type: GeneralErrorDto })));
}
