import { ApiError, ErrorCode } from '../../common/errors.js';

/**
 * A `neon_auth.users_sync` exists in the database but is not Neon's table (409). Provisioning does
 * not touch it: replacing or altering a table someone else made would lose their data.
 */
export class UsersSyncTableMismatchError extends ApiError {
  constructor(
    readonly database: string,
    readonly differences: string[],
  ) {
    super(
      ErrorCode.Conflict,
      `database ${database} already has a table neon_auth.users_sync that is not Neon Auth's ` +
        `(${differences.join('; ')}); rename or drop it, or choose another database`,
    );
    this.name = 'UsersSyncTableMismatchError';
  }
}

/** Writing users into a database whose `neon_auth.users_sync` does not exist (never provisioned, or dropped). */
export class UsersSyncMissingError extends Error {
  constructor(readonly database: string) {
    super(`neon_auth.users_sync does not exist in database ${database}`);
    this.name = 'UsersSyncMissingError';
  }
}

/** The branch database itself is gone (SQLSTATE 3D000): its branch or project was deleted meanwhile. */
export class BranchDatabaseGoneError extends Error {
  constructor(readonly database: string) {
    super(`database ${database} no longer exists`);
    this.name = 'BranchDatabaseGoneError';
  }
}

/**
 * The tenant-data role was refused (SQLSTATE 42501) on a database whose `neon_auth.users_sync` exists: its grants
 * were revoked (the table's owner, a tenant, can). Enabling Neon Auth again grants them again.
 */
export class UsersSyncAccessDeniedError extends Error {
  constructor(
    readonly database: string,
    readonly reason: string,
  ) {
    super(
      `neon_auth.users_sync in database ${database} refuses the control plane's reads and writes (${reason}); ` +
        "were the grants of the tenant-data role revoked? Disable and enable Neon Auth to grant them again",
    );
    this.name = 'UsersSyncAccessDeniedError';
  }
}

/** Rows given to the users_sync writer that cannot be written; nothing of the call was written. */
export class UsersSyncRowError extends Error {
  constructor(readonly problems: { index: number; problem: string }[]) {
    const shown = problems.slice(0, 5).map((p) => `row ${p.index}: ${p.problem}`);
    super(`invalid users_sync rows: ${shown.join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`);
    this.name = 'UsersSyncRowError';
  }
}

/**
 * The API error for a failure of the users_sync store on `database` (its name in the API and its branch), or
 * undefined for anything else: a missing table 409, a dropped database 404, revoked grants 503 and, unless
 * `rowErrors` is false, unusable provider users 503. `consequence` is appended to the two that the caller's call
 * may have left half done (e.g. "; nothing was changed").
 */
export function usersSyncErrorToApi(
  err: unknown,
  database: { name: string; branchId: string },
  options: { consequence?: string; rowErrors?: boolean } = {},
): ApiError | undefined {
  const consequence = options.consequence ?? '';
  if (err instanceof UsersSyncMissingError) {
    return new ApiError(
      ErrorCode.NeonAuthUsersSyncMissing,
      `neon_auth.users_sync does not exist in database ${database.name}: disable and enable Neon Auth to provision it again${consequence}`,
    );
  }
  // Its branch (or project) was deleted while the call ran.
  if (err instanceof BranchDatabaseGoneError) return ApiError.notFound(`database ${database.name} of branch ${database.branchId}`);
  if (err instanceof UsersSyncAccessDeniedError) {
    return new ApiError(
      ErrorCode.NeonAuthUsersSyncUnavailable,
      `neon_auth.users_sync in database ${database.name} refuses the control plane's writes (its grants were revoked?): disable and enable Neon Auth to grant them again${consequence}`,
    );
  }
  if (err instanceof UsersSyncRowError && options.rowErrors !== false) {
    return new ApiError(ErrorCode.AuthProviderUnavailable, `the auth provider answered users that cannot be stored in neon_auth.users_sync: ${err.message}`);
  }
  return undefined;
}
