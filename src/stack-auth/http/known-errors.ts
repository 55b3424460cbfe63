/**
 * Stack Auth's error protocol. A known error is JSON `{code, details?, error}` with the header
 * `x-stack-known-error: <code>` (and its `x-hexclave-` twin); a plain error is `text/plain`. The SDK
 * recognises errors by these codes, so only codes Stack Auth itself uses appear here, each with the
 * status Stack Auth gives it.
 */
export class StackKnownError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'StackKnownError';
  }
}

/** A plain-text error response (Stack Auth's StatusError). */
export class StackStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'StackStatusError';
  }
}

/**
 * Too many attempts: a plain-text 429 with `Retry-After` (seconds). Stack Auth has no known error for this:
 * @stackframe/stack-shared 2.8.108 (and 2.8.102) defines none, and its SDK answers a known error whose code it does
 * not know with "Please update your version of the Stack Auth SDK". What the SDK does understand is a 429 that is
 * not a known error: its request loop reads Retry-After, waits that long and sends the request again (up to five
 * tries in all), so a sign-in made through the SDK during a lockout goes through, or fails on its merits, once the
 * window has ended. Other clients get the status, the header and a message, as for any Stack status error.
 */
export class StackTooManyRequestsError extends StackStatusError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, `Too many attempts. Try again in ${retryAfterSeconds} seconds.`);
    this.name = 'StackTooManyRequestsError';
  }
}

const known = (code: string, status: number, message: string, details?: Record<string, unknown>) =>
  new StackKnownError(code, status, message, details);

/** The known errors the embedded provider sends, by code. */
export const KnownErrors = {
  accessTypeRequired: () =>
    known('ACCESS_TYPE_REQUIRED', 400, 'You must specify an access level for this Stack project. Make sure project API keys are provided (eg. x-stack-publishable-client-key) and you set the x-stack-access-type header to \'client\', \'server\', or \'admin\'.'),
  projectKeyWithoutAccessType: () =>
    known('PROJECT_KEY_WITHOUT_ACCESS_TYPE', 400, 'Either an API key or an admin access token was provided, but the x-stack-access-type header is missing. Set it to \'client\', \'server\', or \'admin\' as appropriate.'),
  invalidAccessType: (accessType: string) =>
    known('INVALID_ACCESS_TYPE', 400, `The x-stack-access-type header must be 'client', 'server', or 'admin', but was '${accessType}'.`, { access_type: accessType }),
  accessTypeWithoutProjectId: (requestType: string) =>
    known('ACCESS_TYPE_WITHOUT_PROJECT_ID', 400, `The x-stack-access-type header was '${requestType}', but the x-stack-project-id header was not provided.`, { request_type: requestType }),
  currentProjectNotFound: (projectId: string) =>
    known('CURRENT_PROJECT_NOT_FOUND', 400, `The current project with ID ${projectId} was not found. Please check the value of the x-stack-project-id header.`, { project_id: projectId }),
  projectNotFound: (projectId: string) => known('PROJECT_NOT_FOUND', 404, `Project ${projectId} not found or is not accessible with the current user.`, { project_id: projectId }),
  publishableClientKeyRequired: (projectId: string) =>
    known('PUBLISHABLE_CLIENT_KEY_REQUIRED_FOR_PROJECT', 401, `Publishable client key must be provided for this project. Set the x-stack-publishable-client-key header.`, { project_id: projectId }),
  invalidPublishableClientKey: (projectId: string) =>
    known('INVALID_PUBLISHABLE_CLIENT_KEY', 401, `The publishable key is not valid for the project ${JSON.stringify(projectId)}. Does the project and/or the key exist?`, { project_id: projectId }),
  serverAuthenticationRequired: () =>
    known('SERVER_AUTHENTICATION_REQUIRED', 401, 'The secret server key must be provided.'),
  invalidSecretServerKey: (projectId: string) =>
    known('INVALID_SECRET_SERVER_KEY', 401, `The secret server key is not valid for the project ${JSON.stringify(projectId)}. Does the project and/or the key exist?`, { project_id: projectId }),
  adminAuthenticationRequired: () => known('ADMIN_AUTHENTICATION_REQUIRED', 401, 'Admin authentication is required for this endpoint.'),
  invalidSuperSecretAdminKey: (projectId: string) =>
    known('INVALID_SUPER_SECRET_ADMIN_KEY', 401, `The super secret admin key is not valid for the project ${JSON.stringify(projectId)}. Does the project and/or the key exist?`, { project_id: projectId }),
  insufficientAccessType: (actual: string, allowed: string[]) =>
    known('INSUFFICIENT_ACCESS_TYPE', 401, `The x-stack-access-type header must be ${allowed.map((a) => `'${a}'`).join(' or ')}, but was '${actual}'.`, { actual_access_type: actual, allowed_access_types: allowed }),
  schemaError: (message: string) => known('SCHEMA_ERROR', 400, message, { message }),
  bodyParsingError: (message: string) => known('BODY_PARSING_ERROR', 400, message),
  userNotFound: () => known('USER_NOT_FOUND', 404, 'User not found.'),
  teamMembershipNotFound: (teamId: string, userId: string) =>
    known('TEAM_MEMBERSHIP_NOT_FOUND', 404, `User ${userId} is not found in team ${teamId}.`, { team_id: teamId, user_id: userId }),
  userEmailAlreadyExists: (email: string) =>
    known('USER_EMAIL_ALREADY_EXISTS', 409, `A user with email ${JSON.stringify(email)} already exists.`, { email, would_work_if_email_was_verified: false }),
  cannotGetOwnUserWithoutUser: () =>
    known('CANNOT_GET_OWN_USER_WITHOUT_USER', 400, 'You have specified \'me\' as a userId, but did not provide authentication for a user.'),
  unparsableAccessToken: () => known('UNPARSABLE_ACCESS_TOKEN', 401, 'Access token is not parsable.'),
  accessTokenExpired: (expiredAt?: Date) =>
    known('ACCESS_TOKEN_EXPIRED', 401, `Access token has expired${expiredAt ? ` at ${expiredAt.toISOString()}` : ''}. Please refresh it and try again.`, expiredAt ? { expired_at_millis: expiredAt.getTime() } : undefined),
  invalidProjectForAccessToken: (expected: string, actual: string) =>
    known('INVALID_PROJECT_FOR_ACCESS_TOKEN', 401, `Access token not valid for this project. Expected project ID ${JSON.stringify(expected)}, but the token is for project ID ${JSON.stringify(actual)}.`, { expected_project_id: expected, actual_project_id: actual }),
  refreshTokenNotFoundOrExpired: () =>
    known('REFRESH_TOKEN_NOT_FOUND_OR_EXPIRED', 401, 'Refresh token not found for this project, or the session has expired/been revoked.'),
  invalidOAuthClientIdOrSecret: (clientId?: string) =>
    known('INVALID_OAUTH_CLIENT_ID_OR_SECRET', 400, 'The OAuth client ID or secret is invalid.', clientId ? { client_id: clientId } : undefined),
  passwordAuthenticationNotEnabled: () => known('PASSWORD_AUTHENTICATION_NOT_ENABLED', 400, 'Password authentication is not enabled for this project.'),
  signUpNotEnabled: () => known('SIGN_UP_NOT_ENABLED', 400, 'Creation of new accounts is not enabled for this project. Please ask the project owner to enable it.'),
  passwordTooShort: (minLength: number) => known('PASSWORD_TOO_SHORT', 400, `Password too short. Minimum length is ${minLength}.`, { min_length: minLength }),
  passwordTooLong: (maxLength: number) => known('PASSWORD_TOO_LONG', 400, `Password too long. Maximum length is ${maxLength}.`, { maxLength }),
  emailPasswordMismatch: () => known('EMAIL_PASSWORD_MISMATCH', 400, 'Wrong e-mail or password.'),
  redirectUrlNotWhitelisted: (url: string) => known('REDIRECT_URL_NOT_WHITELISTED', 400, 'Redirect URL not whitelisted. Did you forget to add this domain to the trusted domains list on the Stack Auth dashboard?', { redirect_url: url }),
};
