import { ApiError, ErrorCode } from '../common/errors.js';
import {
  ProviderAuthFailed,
  ProviderDestinationRefused,
  ProviderDuplicateEmail,
  ProviderError,
  ProviderNotSupported,
  ProviderRequestRejected,
  ProviderTransferNotAllowed,
  ProviderUnavailable,
  ProviderUserNotFound,
} from '../providers/auth-provider.port.js';

/**
 * The ONE mapping from the provider port's typed errors to API errors (Neon's GeneralError body):
 *
 * | provider error               | status | code                            |
 * |------------------------------|--------|---------------------------------|
 * | ProviderUserNotFound         | 404    | AUTH_USER_NOT_FOUND             |
 * | ProviderDuplicateEmail       | 409    | AUTH_USER_ALREADY_EXISTS        |
 * | ProviderNotSupported         | 400    | AUTH_PROVIDER_NOT_SUPPORTED     |
 * | ProviderTransferNotAllowed   | 409    | AUTH_TRANSFER_NOT_ALLOWED       |
 * | ProviderRequestRejected      | 400    | AUTH_PROVIDER_REQUEST_REJECTED  |
 * | ProviderAuthFailed           | 400    | AUTH_PROVIDER_AUTH_FAILED       |
 * | ProviderUnavailable          | 503    | AUTH_PROVIDER_UNAVAILABLE       |
 * | ProviderDestinationRefused   | 400    | AUTH_PROVIDER_URL_NOT_ALLOWED   | (credentials 'caller'; else as ProviderUnavailable)
 *
 * `credentials` says whose credentials the call used: 'caller' (manual setup: a person typed them, so the
 * message asks them to check what they sent) or 'product' (stored ones: the message says the provider refused
 * the stored credentials). Anything that is not a ProviderError is returned unchanged (rethrow it).
 */
export interface ProviderErrorOptions {
  credentials?: 'caller' | 'product';
}

export const AUTH_PROVIDER_URL_NOT_ALLOWED_MESSAGE =
  'auth_provider_base_url is not allowed: outgoing calls go to public addresses only (not to loopback, private, link-local, ' +
  'unique-local, shared or reserved addresses, nor to cloud metadata services); an operator can allow a self-hosted provider with OUTBOUND_ALLOWED_HOSTS';

export function isProviderError(err: unknown): err is ProviderError {
  return err instanceof ProviderError;
}

/** The API error for a provider error; any other value comes back unchanged. */
export function providerErrorToApi(err: unknown, options: ProviderErrorOptions = {}): unknown {
  if (!(err instanceof ProviderError)) return err;
  if (err instanceof ProviderUserNotFound) return new ApiError(ErrorCode.AuthUserNotFound, `auth user ${err.userId} not found`);
  if (err instanceof ProviderDuplicateEmail) {
    return new ApiError(ErrorCode.AuthUserAlreadyExists, `a user with email ${err.email} already exists`);
  }
  if (err instanceof ProviderNotSupported) return new ApiError(ErrorCode.AuthProviderNotSupported, err.message);
  if (err instanceof ProviderTransferNotAllowed) return new ApiError(ErrorCode.AuthTransferNotAllowed, err.message);
  if (err instanceof ProviderRequestRejected) {
    return new ApiError(ErrorCode.AuthProviderRequestRejected, `the auth provider rejected the request: ${err.message}`);
  }
  if (err instanceof ProviderAuthFailed) {
    const why = err.providerCode ? ` (${err.providerCode})` : '';
    return new ApiError(
      ErrorCode.AuthProviderAuthFailed,
      options.credentials === 'caller'
        ? `the auth provider refused the credentials${why}: check the provider project id, base URL and secret server key`
        : `the auth provider refused the stored credentials of this integration${why}: ${err.message}`,
    );
  }
  if (err instanceof ProviderDestinationRefused && options.credentials === 'caller') {
    // One message for every refusal: nothing about what the name resolved to, or whether anything listens there.
    return new ApiError(ErrorCode.AuthProviderUrlNotAllowed, AUTH_PROVIDER_URL_NOT_ALLOWED_MESSAGE);
  }
  if (err instanceof ProviderUnavailable) {
    const retry = err.retryAfterSeconds !== undefined ? `; retry after ${err.retryAfterSeconds} s` : '; retry later';
    return new ApiError(ErrorCode.AuthProviderUnavailable, `the auth provider is unavailable${retry}`);
  }
  return new ApiError(ErrorCode.AuthProviderUnavailable, `the auth provider failed: ${err.message}`);
}

/** Runs a provider call, translating its typed errors to API errors. */
export async function callProvider<T>(fn: () => Promise<T>, options: ProviderErrorOptions = {}): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw providerErrorToApi(err, options);
  }
}
