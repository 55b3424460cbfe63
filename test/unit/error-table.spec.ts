import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  HttpException,
  InternalServerErrorException,
  NotFoundException,
  ServiceUnavailableException,
  UnauthorizedException,
  type ArgumentsHost,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { pino } from 'pino';
import { ErrorFilter, errorBody, toApiError, writeError } from '../../src/common/error.filter.js';
import { serializeError } from '../../src/common/logger.js';
import { ApiError, ErrorCode, httpStatusOf } from '../../src/common/errors.js';
import { AUTH_PROVIDER_URL_NOT_ALLOWED_MESSAGE, providerErrorToApi } from '../../src/neon-auth/provider-errors.js';
import {
  ProviderAuthFailed,
  ProviderDestinationRefused,
  ProviderDuplicateEmail,
  ProviderNotSupported,
  ProviderRequestRejected,
  ProviderTransferNotAllowed,
  ProviderUnavailable,
  ProviderUserNotFound,
  type ProviderError,
} from '../../src/providers/auth-provider.port.js';

/**
 * The error table: every ErrorCode's status (a Record over the enum, so a new code does not compile here until
 * it is given one), the statuses the project documents for Neon's codes, ApiError and Neon's error body, and
 * what the global filter makes of everything else that can be thrown.
 */

const STATUS: Record<ErrorCode, number> = {
  [ErrorCode.ValidationError]: 400,
  [ErrorCode.MalformedJson]: 400,
  [ErrorCode.PayloadTooLarge]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.RouteNotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.LastAdmin]: 409,
  [ErrorCode.Locked]: 423,
  [ErrorCode.ServiceUnavailable]: 503,
  [ErrorCode.InternalError]: 500,
  [ErrorCode.NeonAuthNotEnabled]: 404,
  [ErrorCode.NeonAuthAlreadyEnabled]: 409,
  [ErrorCode.NeonAuthPrivateNetworking]: 400,
  [ErrorCode.AuthProviderNotSupported]: 400,
  [ErrorCode.AuthProviderAuthFailed]: 400,
  [ErrorCode.AuthProviderRequestRejected]: 400,
  [ErrorCode.AuthProviderUnavailable]: 503,
  [ErrorCode.AuthProviderUrlNotAllowed]: 400,
  [ErrorCode.AuthUserNotFound]: 404,
  [ErrorCode.AuthUserAlreadyExists]: 409,
  [ErrorCode.AuthTransferNotAllowed]: 409,
  [ErrorCode.IdempotencyKeyReused]: 422,
  [ErrorCode.IdempotencyKeyInProgress]: 409,
  [ErrorCode.NeonAuthUsersSyncUnavailable]: 503,
  [ErrorCode.NeonAuthUsersSyncMissing]: 409,
  [ErrorCode.AuthProviderProjectOwnedByUser]: 409,
  [ErrorCode.InvalidSharedOauthProvider]: 400,
  [ErrorCode.ProjectsLimitExceeded]: 422,
  [ErrorCode.BranchesLimitExceeded]: 422,
  [ErrorCode.DatabasesLimitExceeded]: 422,
  [ErrorCode.OrganizationsLimitExceeded]: 422,
  [ErrorCode.RateLimited]: 429,
};

describe('ErrorCode -> HTTP status', () => {
  it('maps every code, exactly as the table says', () => {
    const codes = Object.values(ErrorCode);
    expect(codes).toHaveLength(Object.keys(STATUS).length);
    expect(codes.map((code) => [code, httpStatusOf(code)])).toEqual(codes.map((code) => [code, STATUS[code]]));
  });

  it('codes are distinct SCREAMING_SNAKE strings', () => {
    const codes = Object.values(ErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });

  it('an unknown code is a programming error, not a silent 500', () => {
    expect(() => httpStatusOf('NOT_A_CODE' as ErrorCode)).toThrow('unmapped error code NOT_A_CODE');
  });

  /** Statuses stated in the project's own documentation of Neon's behaviour (source in the third column). */
  it.each<[string, number, string]>([
    ['AUTH_USER_NOT_FOUND', 404, 'src/neon-auth/provider-errors.ts table'],
    ['AUTH_USER_ALREADY_EXISTS', 409, 'src/neon-auth/provider-errors.ts table'],
    ['AUTH_PROVIDER_NOT_SUPPORTED', 400, 'src/neon-auth/provider-errors.ts table'],
    ['AUTH_TRANSFER_NOT_ALLOWED', 409, 'src/neon-auth/provider-errors.ts table'],
    ['AUTH_PROVIDER_REQUEST_REJECTED', 400, 'src/neon-auth/provider-errors.ts table'],
    ['AUTH_PROVIDER_AUTH_FAILED', 400, 'src/neon-auth/provider-errors.ts table'],
    ['AUTH_PROVIDER_UNAVAILABLE', 503, 'src/neon-auth/provider-errors.ts table'],
    ['NEON_AUTH_NOT_SUPPORTED_WITH_PRIVATE_LINK_OR_IP_ALLOW', 400, 'README, Neon Auth integrations'],
    ['NEON_AUTH_USERS_SYNC_UNAVAILABLE', 503, 'README, Neon Auth users'],
    ['NEON_AUTH_USERS_SYNC_MISSING', 409, 'README, Neon Auth users'],
    ['AUTH_PROVIDER_PROJECT_OWNED_BY_USER', 409, 'README, Neon Auth users'],
    ['INVALID_SHARED_OAUTH_PROVIDER', 400, 'reference neon-api.md §4.3 (neonctl prints its hint for it)'],
    ['PAYLOAD_TOO_LARGE', 400, 'README, Where this differs from Neon'],
    ['LOCKED', 423, 'README, Branch databases'],
    ['NEON_AUTH_NOT_ENABLED', 404, 'src/neon-auth/integrations/integration-resolver.ts'],
    ['NEON_AUTH_ALREADY_ENABLED', 409, 'src/neon-auth/integrations/integrations.controller.ts'],
    ['IDEMPOTENCY_KEY_REUSED', 422, 'src/common/idempotency.ts'],
    ['IDEMPOTENCY_KEY_IN_PROGRESS', 409, 'src/common/idempotency.ts'],
    ['RATE_LIMITED', 429, 'README, Brute-force throttling'],
  ])('%s is %i (%s)', (code, status) => {
    expect(Object.values(ErrorCode)).toContain(code);
    expect(httpStatusOf(code as ErrorCode)).toBe(status);
  });
});

describe('provider errors -> API errors (the table of src/neon-auth/provider-errors.ts)', () => {
  it.each<[string, ProviderError, ErrorCode, number, string]>([
    ['ProviderUserNotFound', new ProviderUserNotFound('u-1'), ErrorCode.AuthUserNotFound, 404, 'auth user u-1 not found'],
    ['ProviderDuplicateEmail', new ProviderDuplicateEmail('a@x.io'), ErrorCode.AuthUserAlreadyExists, 409, 'a user with email a@x.io already exists'],
    ['ProviderNotSupported', new ProviderNotSupported('auth0'), ErrorCode.AuthProviderNotSupported, 400, 'auth provider "auth0" is not supported'],
    ['ProviderTransferNotAllowed', new ProviderTransferNotAllowed('already transferred'), ErrorCode.AuthTransferNotAllowed, 409, 'already transferred'],
    ['ProviderRequestRejected', new ProviderRequestRejected('bad email', 400), ErrorCode.AuthProviderRequestRejected, 400, 'the auth provider rejected the request: bad email'],
    ['ProviderAuthFailed', new ProviderAuthFailed('key revoked', 'INVALID_SECRET_SERVER_KEY'), ErrorCode.AuthProviderAuthFailed, 400, 'the auth provider refused the stored credentials of this integration (INVALID_SECRET_SERVER_KEY): key revoked'],
    ['ProviderUnavailable', new ProviderUnavailable('ECONNRESET at 10.0.0.7', { status: 502 }), ErrorCode.AuthProviderUnavailable, 503, 'the auth provider is unavailable; retry later'],
    ['ProviderDestinationRefused (stored credentials)', new ProviderDestinationRefused('list users: the base URL names a refused destination', '10.0.0.7 (private)'), ErrorCode.AuthProviderUnavailable, 503, 'the auth provider is unavailable; retry later'],
  ])('%s', (_name, providerError, code, status, message) => {
    const mapped = providerErrorToApi(providerError);
    if (!(mapped instanceof ApiError)) throw new Error('expected an ApiError');
    expect({ code: mapped.code, status: mapped.status, message: mapped.message }).toEqual({ code, status, message });
  });

  it('credentials a person typed get a message asking them to check what they sent', () => {
    const mapped = providerErrorToApi(new ProviderAuthFailed('nope'), { credentials: 'caller' });
    expect(mapped).toBeInstanceOf(ApiError);
    expect((mapped as ApiError).message).toBe('the auth provider refused the credentials: check the provider project id, base URL and secret server key');
  });

  it('a refused destination in a URL a person just gave is one generic 400 that names no address', () => {
    const mapped = providerErrorToApi(new ProviderDestinationRefused('list users: the base URL names a refused destination', 'it resolves to 10.0.0.7 (private)'), { credentials: 'caller' });
    if (!(mapped instanceof ApiError)) throw new Error('expected an ApiError');
    expect({ code: mapped.code, status: mapped.status, message: mapped.message }).toEqual({
      code: ErrorCode.AuthProviderUrlNotAllowed,
      status: 400,
      message: AUTH_PROVIDER_URL_NOT_ALLOWED_MESSAGE,
    });
    expect(mapped.message).not.toContain('10.0.0.7');
  });

  it('anything that is not a ProviderError comes back unchanged', () => {
    const plain = new Error('x');
    expect(providerErrorToApi(plain)).toBe(plain);
    const api = ApiError.conflict('y');
    expect(providerErrorToApi(api)).toBe(api);
  });
});

describe('ApiError and Neon\'s error body', () => {
  it('carries a code, a message and the status of its code', () => {
    const err = new ApiError(ErrorCode.AuthUserNotFound, 'auth user u-1 not found');
    expect(err).toBeInstanceOf(Error);
    expect({ name: err.name, code: err.code, message: err.message, status: err.status }).toEqual({
      name: 'ApiError',
      code: 'AUTH_USER_NOT_FOUND',
      message: 'auth user u-1 not found',
      status: 404,
    });
  });

  it('the helpers build the common ones', () => {
    const view = (e: ApiError) => [e.code, e.status, e.message];
    expect(view(ApiError.validation('name is required'))).toEqual(['VALIDATION_ERROR', 400, 'name is required']);
    expect(view(ApiError.notFound('project p-1'))).toEqual(['NOT_FOUND', 404, 'project p-1 not found']);
    expect(view(ApiError.forbidden())).toEqual(['FORBIDDEN', 403, 'you do not have permission to perform this action']);
    expect(view(ApiError.conflict('taken'))).toEqual(['CONFLICT', 409, 'taken']);
    expect(view(ApiError.unauthorized())).toEqual(['UNAUTHORIZED', 401, 'authentication required: send a valid API key as "Authorization: Bearer <key>"']);
    const limited = ApiError.rateLimited(7, 'slow down');
    expect([...view(limited), limited.retryAfterSeconds]).toEqual(['RATE_LIMITED', 429, 'slow down', 7]);
    expect(ApiError.conflict('x').retryAfterSeconds).toBeUndefined();
  });

  it('the body is exactly {request_id, code, message}', () => {
    const body = errorBody('req-1', new ApiError(ErrorCode.Conflict, 'taken'));
    expect(body).toStrictEqual({ request_id: 'req-1', code: 'CONFLICT', message: 'taken' });
    expect(Object.keys(body).sort()).toEqual(['code', 'message', 'request_id']);
  });

  it('writeError sends the status of the code and that body, and nothing once headers were sent', () => {
    const sent: { status?: number; body?: unknown } = {};
    const res = {
      headersSent: false,
      status(code: number) {
        sent.status = code;
        return this;
      },
      json(body: unknown) {
        sent.body = body;
        return this;
      },
    };
    writeError({ requestId: 'req-2' } as Request, res as unknown as Response, new ApiError(ErrorCode.Locked, 'busy'));
    expect(sent).toEqual({ status: 423, body: { request_id: 'req-2', code: 'LOCKED', message: 'busy' } });

    const throttled: { status?: number; body?: unknown; headers: Record<string, string> } = { headers: {} };
    const throttledRes = {
      headersSent: false,
      setHeader(name: string, value: string) {
        throttled.headers[name.toLowerCase()] = value;
        return this;
      },
      status(code: number) {
        throttled.status = code;
        return this;
      },
      json(body: unknown) {
        throttled.body = body;
        return this;
      },
    };
    writeError({ requestId: 'req-4' } as Request, throttledRes as unknown as Response, ApiError.rateLimited(42, 'too many failed API keys'));
    expect(throttled).toEqual({ status: 429, headers: { 'retry-after': '42' }, body: { request_id: 'req-4', code: 'RATE_LIMITED', message: 'too many failed API keys' } });

    const late: { status?: number } = {};
    writeError({ requestId: 'req-3' } as Request, { headersSent: true, status: (s: number) => (late.status = s) } as unknown as Response, ApiError.forbidden());
    expect(late).toEqual({});
  });
});

describe('toApiError: what the filter makes of anything thrown', () => {
  const view = (e: ApiError) => ({ code: e.code, status: e.status, message: e.message });
  const internal = { code: 'INTERNAL_ERROR', status: 500, message: 'internal server error' };

  it('keeps an ApiError as it is', () => {
    const err = ApiError.notFound('project p-1');
    expect(toApiError(err)).toBe(err);
  });

  it('an unknown error is a 500 that reveals nothing of it', () => {
    const err = new Error('duplicate key value violates unique constraint "api_keys_hash" password=hunter2');
    expect(view(toApiError(err))).toEqual(internal);
    expect(JSON.stringify(errorBody('r', toApiError(err)))).not.toMatch(/hunter2|api_keys|constraint/);
  });

  it.each<[string, unknown]>([
    ['a string', 'boom'],
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a plain object', { message: 'secret' }],
    ['an error with a 5xx status', Object.assign(new Error('pool exhausted'), { status: 500 })],
    ['an error with a non-number status', Object.assign(new Error('odd'), { status: '404' })],
  ])('%s is a 500 "internal server error"', (_what, thrown) => {
    expect(view(toApiError(thrown))).toEqual(internal);
  });

  it('maps Nest HttpExceptions by status, keeping 4xx messages', () => {
    expect(view(toApiError(new NotFoundException('Cannot GET /api/v2/nope')))).toEqual({ code: 'ROUTE_NOT_FOUND', status: 404, message: 'Cannot GET /api/v2/nope' });
    expect(view(toApiError(new UnauthorizedException()))).toEqual({ code: 'UNAUTHORIZED', status: 401, message: 'Unauthorized' });
    expect(view(toApiError(new ForbiddenException('no')))).toEqual({ code: 'FORBIDDEN', status: 403, message: 'no' });
    expect(view(toApiError(new ConflictException('taken')))).toEqual({ code: 'CONFLICT', status: 409, message: 'taken' });
    expect(view(toApiError(new HttpException('busy', 423)))).toEqual({ code: 'LOCKED', status: 423, message: 'busy' });
    expect(view(toApiError(new HttpException('plain text body', 400)))).toEqual({ code: 'VALIDATION_ERROR', status: 400, message: 'plain text body' });
  });

  it('joins a validation message list', () => {
    const err = new BadRequestException({ message: ['[name] must be a string', '[email] must be an email address'], error: 'Bad Request' });
    expect(view(toApiError(err))).toEqual({ code: 'VALIDATION_ERROR', status: 400, message: '[name] must be a string; [email] must be an email address' });
  });

  it('a 5xx HttpException says no more than any other failure; a 503 keeps its status and message', () => {
    expect(view(toApiError(new InternalServerErrorException('connect ECONNREFUSED 10.1.2.3:5432')))).toEqual(internal);
    expect(view(toApiError(new HttpException('upstream 10.1.2.3 failed', 502)))).toEqual(internal);
    expect(view(toApiError(new ServiceUnavailableException('shutting down')))).toEqual({ code: 'SERVICE_UNAVAILABLE', status: 503, message: 'shutting down' });
  });

  it('other 4xx HttpExceptions become a 400 VALIDATION_ERROR', () => {
    expect(view(toApiError(new HttpException('slow down', 429)))).toEqual({ code: 'VALIDATION_ERROR', status: 400, message: 'slow down' });
    expect(view(toApiError(new HttpException('no such method', 405)))).toEqual({ code: 'VALIDATION_ERROR', status: 400, message: 'no such method' });
  });

  it('maps body-parser failures: malformed JSON, too large, other 4xx', () => {
    const parse = Object.assign(new SyntaxError('Unexpected token } in JSON at position 9'), { type: 'entity.parse.failed', status: 400 });
    expect(view(toApiError(parse))).toEqual({ code: 'MALFORMED_JSON', status: 400, message: 'malformed JSON in request body: Unexpected token } in JSON at position 9' });
    const large = Object.assign(new Error('request entity too large'), { type: 'entity.too.large', status: 413, limit: 102_400 });
    expect(view(toApiError(large))).toEqual({ code: 'PAYLOAD_TOO_LARGE', status: 400, message: 'request body is too large: the limit is 102400 bytes' });
    const charset = Object.assign(new Error('unsupported charset "UTF-7"'), { type: 'charset.unsupported', status: 415 });
    expect(view(toApiError(charset))).toEqual({ code: 'VALIDATION_ERROR', status: 400, message: 'bad request: unsupported charset "UTF-7"' });
  });
});

describe('ErrorFilter and serializeError', () => {
  it('logs an unexpected failure without its bound parameters or row detail, and answers 500', () => {
    const lines: Record<string, unknown>[] = [];
    const filter = new ErrorFilter(pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) }));
    const sent: { status?: number; body?: unknown } = {};
    const res = {
      headersSent: false,
      status(code: number) {
        sent.status = code;
        return this;
      },
      json(body: unknown) {
        sent.body = body;
        return this;
      },
    };
    const host = { switchToHttp: () => ({ getRequest: () => ({ requestId: 'req-9', path: '/api/v2/x' }), getResponse: () => res }) };
    const failure = Object.assign(new Error('duplicate key value violates unique constraint "api_keys_key_hash_key"'), {
      code: '23505',
      constraint: 'api_keys_key_hash_key',
      table: 'api_keys',
      parameters: ['$2a$10$secret-hash'],
      detail: 'Key (key_hash)=($2a$10$secret-hash) already exists.',
    });

    filter.catch(failure, host as unknown as ArgumentsHost);

    expect(sent).toEqual({ status: 500, body: { request_id: 'req-9', code: 'INTERNAL_ERROR', message: 'internal server error' } });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'unhandled error', requestId: 'req-9', path: '/api/v2/x', err: { code: '23505', constraint: 'api_keys_key_hash_key', table: 'api_keys' } });
    expect(JSON.stringify(lines[0])).not.toContain('secret-hash');

    filter.catch(ApiError.notFound('project p'), host as unknown as ArgumentsHost);
    expect(lines).toHaveLength(1);
    expect(sent).toEqual({ status: 404, body: { request_id: 'req-9', code: 'NOT_FOUND', message: 'project p not found' } });
  });

  it('reads the safe fields from a driver error too, and leaves the query text out', () => {
    const typeorm = Object.assign(new Error('query failed'), { driverError: { code: '42P01', table: 'users_sync', detail: 'row (secret)' }, query: 'SELECT 1' });
    const out = serializeError(typeorm);
    expect(out).toMatchObject({ type: 'Error', message: 'query failed', code: '42P01', table: 'users_sync' });
    expect(out).not.toHaveProperty('detail');
    expect(out).not.toHaveProperty('driverError');
    expect(out).not.toHaveProperty('query');
  });
});
