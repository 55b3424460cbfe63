/**
 * The example body of every operation that takes one, by operation id: what Swagger UI pre-fills under "Try it out"
 * and what the generated client's readers see. Each is meant to be sent as it is and succeed (test/e2e/
 * openapi-examples.e2e-spec.ts sends every one of them to a real server): only fields that work anywhere, values
 * that pass validation, no generated placeholders (`"string"`, `0`, `additionalProp1`). A body that names a resource
 * by id (the legacy Neon Auth routes take `project_id` in the body) carries an id in the product's own format, to be
 * replaced by yours, like the ids in the path.
 *
 * test/e2e/openapi-examples.e2e-spec.ts fails when an operation with a body has no example here (or an example names
 * no operation), so a new route cannot ship Swagger UI's generated body.
 */

/** The id placeholders of the examples (the same forms the server issues). */
export const EXAMPLE_PROJECT_ID = 'shiny-meadow-12345678';
export const EXAMPLE_BRANCH_ID = 'br-quiet-river-482913';

const account = { email: 'ada@example.com', name: 'Ada Lovelace' };
/** An SMTP server's settings (the e-mail provider's and the test e-mail's). */
const smtp = {
  host: 'smtp.example.com',
  port: 587,
  username: 'apikey',
  password: 'your-smtp-password',
  sender_email: 'auth@example.com',
  sender_name: 'My app',
};

export const REQUEST_EXAMPLES: Readonly<Record<string, unknown>> = {
  // Projects and branches
  createProject: { project: { name: 'my-app' } },
  updateProject: { project: { name: 'my-app-production' } },
  createProjectBranch: { branch: { name: 'dev' }, endpoints: [{ type: 'read_write' }] },
  createProjectBranchDatabase: { database: { name: 'app', owner_name: 'neondb_owner' } },
  createProjectBranchRole: { role: { name: 'app_user' } },
  grantPermissionToProject: { email: account.email },

  // Neon Auth on a branch
  createNeonAuth: { auth_provider: 'better_auth' },
  disableNeonAuth: { delete_data: false },
  updateNeonAuthConfig: { name: 'My app' },
  updateNeonAuthAllowLocalhost: { allow_localhost: true },
  addBranchNeonAuthTrustedDomain: { auth_provider: 'better_auth', domain: 'https://app.example.com' },
  deleteBranchNeonAuthTrustedDomain: { auth_provider: 'better_auth', domains: [{ domain: 'https://app.example.com' }] },
  addBranchNeonAuthOauthProvider: { id: 'github', client_id: 'Iv1.0123456789abcdef', client_secret: 'your-github-client-secret' },
  updateBranchNeonAuthOauthProvider: { client_id: 'Iv1.fedcba9876543210', client_secret: 'your-new-github-client-secret' },
  updateNeonAuthEmailAndPasswordConfig: { enabled: true, require_email_verification: false, min_password_length: 10 },
  updateNeonAuthEmailProvider: { type: 'standard', ...smtp },
  sendNeonAuthEmailProviderTest: { recipient_email: account.email },
  sendNeonAuthTestEmail: { ...smtp, recipient_email: account.email },
  updateNeonAuthMagicLinkPlugin: { enabled: true, expires_in: 15 },
  updateNeonAuthOrganizationPlugin: { enabled: true, organization_limit: 5, creator_role: 'owner' },
  updateNeonAuthPhoneNumberPlugin: { enabled: true, otp_expires_in: 300 },
  updateNeonAuthWebhookConfig: { enabled: true, webhook_url: 'https://hooks.example.com/neon-auth', enabled_events: ['user.created'], timeout_seconds: 5 },
  createBranchNeonAuthNewUser: account,
  updateNeonAuthUserRole: { roles: ['editor'] },
  replayNeonAuthSyncDeadLetters: {},

  // Neon Auth, the legacy project-level routes (Stack Auth)
  createNeonAuthIntegration: { auth_provider: 'stack', project_id: EXAMPLE_PROJECT_ID, branch_id: EXAMPLE_BRANCH_ID },
  createNeonAuthProviderSDKKeys: { auth_provider: 'stack', project_id: EXAMPLE_PROJECT_ID },
  createNeonAuthNewUser: { auth_provider: 'stack', project_id: EXAMPLE_PROJECT_ID, email: 'grace@example.com', name: 'Grace Hopper' },
  transferNeonAuthProviderProject: { auth_provider: 'stack', project_id: EXAMPLE_PROJECT_ID },
  addNeonAuthDomainToRedirectURIWhitelist: { auth_provider: 'stack', domain: 'https://app.example.com' },
  deleteNeonAuthDomainFromRedirectURIWhitelist: { auth_provider: 'stack', domains: [{ domain: 'https://app.example.com' }] },
  addNeonAuthOauthProvider: { id: 'github', client_id: 'Iv1.0123456789abcdef', client_secret: 'your-github-client-secret' },
  updateNeonAuthOauthProvider: { client_id: 'Iv1.fedcba9876543210', client_secret: 'your-new-github-client-secret' },
  updateNeonAuthEmailServer: { type: 'shared' },
  deleteNeonAuthIntegration: { delete_data: false },

  // Organizations, members, API keys, accounts
  createOrganization: { name: 'Acme' },
  createOrganizationInvitations: { invitations: [{ email: account.email, role: 'member' }] },
  updateOrganizationMember: { role: 'admin' },
  createOrgApiKey: { key_name: 'deploy' },
  createApiKey: { key_name: 'my-laptop' },
  createAccount: account,
};
