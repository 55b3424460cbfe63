/* eslint-disable */
/* tslint:disable */
// @ts-nocheck
/*
 * ---------------------------------------------------------------
 * ## THIS FILE WAS GENERATED VIA SWAGGER-TYPESCRIPT-API        ##
 * ##                                                           ##
 * ## AUTHOR: acacode                                           ##
 * ## SOURCE: https://github.com/acacode/swagger-typescript-api ##
 * ---------------------------------------------------------------
 */

export interface AcceptInvitationParams {
  /** @format uuid */
  invitationId: string;
}

export interface AddBranchNeonAuthOauthProviderParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface AddBranchNeonAuthTrustedDomainParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface AddNeonAuthDomainToRedirectUriWhitelistParams {
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface AddNeonAuthOauthProviderParams {
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface AdminAccount {
  /** @format email */
  email: string;
  /** @format uuid */
  id: string;
  name: string;
}

export interface AdminAccountApiKey {
  /** @format int64 */
  id: number;
  /** Personal API key of the new account: shown only in this response */
  key: string;
}

export interface AdminAccountCreateRequest {
  /**
   * @format email
   * @maxLength 256
   */
  email: string;
  /**
   * @minLength 1
   * @maxLength 256
   */
  name: string;
}

export interface AdminAccountCreateResponse {
  account: AdminAccount;
  api_key: AdminAccountApiKey;
}

export interface AllowedIps {
  /** Addresses, CIDR blocks or ranges allowed to connect (stored; enforced by Neon Auth) */
  ips?: string[];
  /** Apply the list to protected branches only */
  protected_branches_only?: boolean;
}

export interface ApiKeyCreateRequest {
  /**
   * A user-specified API key name
   * @maxLength 64
   * @example "ci"
   */
  key_name: string;
}

export interface ApiKeyCreateResponse {
  /** @format date-time */
  created_at: string;
  /**
   * ID of the user who created this API key
   * @format uuid
   */
  created_by: string;
  /** @format int64 */
  id: number;
  /** The secret: shown only in this response */
  key: string;
  name: string;
}

export interface ApiKeyCreatorData {
  /** @format uuid */
  id: string;
  /** URL of the user's avatar image (empty when none) */
  image: string;
  name: string;
}

export interface ApiKeyRevokeResponse {
  /** @format date-time */
  created_at: string;
  /** @format uuid */
  created_by: string;
  /** @format int64 */
  id: number;
  /** @format date-time */
  last_used_at?: string | null;
  last_used_from_addr: string;
  name: string;
  revoked: boolean;
}

export interface ApiKeysListResponseItem {
  /** @format date-time */
  created_at: string;
  created_by: ApiKeyCreatorData;
  /** @format int64 */
  id: number;
  /** @format date-time */
  last_used_at?: string | null;
  last_used_from_addr: string;
  name: string;
}

export interface AuditActor {
  /** The account of a personal key; null for organization and project keys */
  account_id: string | null;
  /**
   * The API key that acted
   * @format int64
   */
  key_id: number;
  /** The kind of API key that acted */
  kind: "personal" | "organization" | "project";
}

export interface AuditEvent {
  /**
   * What was done; `.refused` ends a refusal that is recorded (quotas)
   * @example "neon_auth.enable"
   */
  action: string;
  actor: AuditActor;
  /** The client address (see TRUST_PROXY) */
  client_addr: string;
  /** Chosen request fields (never a secret); `refused`: the error code of a refusal */
  details: Record<string, any>;
  /** Increasing with time */
  id: string;
  /** @format date-time */
  occurred_at: string;
  project_id: string | null;
  request_id: string;
  /** The HTTP status the request was answered with */
  status: number;
  target: AuditTarget;
}

export interface AuditLogResponse {
  events: AuditEvent[];
  pagination?: CursorPagination;
}

export interface AuditTarget {
  id: string | null;
  /** @example "branch" */
  type: string;
}

export interface AuthDetailsResponse {
  /** The account (personal key) or organization (organization and project keys) behind the key */
  account_id: string;
  /** For project-scoped keys: the project id */
  auth_data?: string;
  auth_method:
    | "keycloak"
    | "session_cookie"
    | "api_key_user"
    | "api_key_org"
    | "oauth";
}

export interface Branch {
  /**
   * Not metered: 0
   * @format int64
   */
  active_time_seconds: number;
  /**
   * Not metered: 0
   * @format int64
   */
  compute_time_seconds: number;
  /**
   * Not metered: 0
   * @deprecated
   * @format int64
   */
  cpu_used_sec: number;
  /** @format date-time */
  created_at: string;
  creation_source: string;
  current_state: "init" | "resetting" | "ready" | "archived";
  /**
   * Not metered: 0
   * @format int64
   */
  data_transfer_bytes: number;
  /** Whether the branch is the project's default branch */
  default: boolean;
  /**
   * @pattern ^[a-z0-9-]{1,60}$
   * @example "br-quiet-river-482913"
   */
  id: string;
  init_source?: "parent-data";
  name: string;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  parent_id?: string;
  /**
   * When the parent was copied
   * @format date-time
   */
  parent_timestamp?: string;
  /** @deprecated */
  primary?: boolean;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  project_id: string;
  protected: boolean;
  /** @format date-time */
  state_changed_at: string;
  /** @format date-time */
  updated_at: string;
  /**
   * Not metered: 0
   * @format int64
   */
  written_data_bytes: number;
}

export interface BranchCreateBranch {
  /** Only `parent-data`: a full copy of the parent */
  init_source?: "parent-data";
  /**
   * Default: the generated branch id
   * @minLength 1
   * @maxLength 256
   */
  name?: string;
  /**
   * Parent branch; default: the default branch
   * @pattern ^[a-z0-9-]{1,60}$
   */
  parent_id?: string;
  protected?: boolean;
}

export interface BranchCreateRequest {
  /** Only `{}`: annotations are not supported */
  annotation_value?: Record<string, string>;
  branch?: BranchCreateBranch;
  /** At most one, read_write */
  endpoints?: BranchCreateRequestEndpointOptions[];
}

export interface BranchCreateRequestEndpointOptions {
  /** Accepted; the compute server does not autoscale */
  autoscaling_limit_max_cu?: number;
  /** Accepted; the compute server does not autoscale */
  autoscaling_limit_min_cu?: number;
  /** Accepted; the compute server never suspends */
  suspend_timeout_seconds?: number;
  /** Every branch has one read-write endpoint: the compute server */
  type: "read_write";
}

export interface BranchCreateResponse {
  branch: Branch;
  /** Present when the branch has exactly one role and one database */
  connection_uris?: ConnectionDetails[];
  databases: Database[];
  endpoints: Endpoint[];
  operations: Operation[];
  roles: Role[];
}

export interface BranchOperations {
  branch: Branch;
  operations: Operation[];
}

export interface BranchResponse {
  branch: Branch;
}

export interface BranchesResponse {
  /** Branch annotations by branch id; none here: {} */
  annotations: Record<string, any>;
  branches: Branch[];
  pagination?: CursorPagination;
}

export interface ConnectionDetails {
  connection_parameters: ConnectionParameters;
  /** @example "postgresql://neondb_owner.shiny-meadow-12345678:npg_...@127.0.0.1:5432/neondb.br-quiet-river-482913" */
  connection_uri: string;
}

export interface ConnectionParameters {
  /** Name of the real database on the compute server (what you connect to) */
  database: string;
  /** Host name; the port is in connection_uri */
  host: string;
  password: string;
  /** There is no separate pooler: same as host */
  pooler_host: string;
  /** Name of the real role on the compute server (what you connect as) */
  role: string;
}

export interface ConnectionUriResponse {
  /** The connection URI */
  uri: string;
}

export interface CreateBranchNeonAuthNewUserParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface CreateBranchNeonAuthNewUserRequest {
  /**
   * @format email
   * @minLength 1
   * @maxLength 256
   * @example "jane@example.com"
   */
  email: string;
  /**
   * The user's display name. Optional: when omitted the email is used, as neonctl does (`neon-auth user create` sends the email as the name), so a user looks the same whichever client made it.
   * @minLength 1
   * @maxLength 255
   */
  name?: string;
  /**
   * Extension: a password the user signs in with (e-mail and password). Omitted, as Neon does, the user signs in another way (one-time code, magic link, OAuth). Never stored in clear, never returned.
   * @minLength 8
   * @maxLength 128
   */
  password?: string;
}

export interface CreateNeonAuthParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface CreateOrgApiKeyParams {
  /**
   * The organization ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  orgId: string;
}

export interface CreateOrganizationInvitationsParams {
  /**
   * The organization ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  orgId: string;
}

export interface CreateProjectBranchDatabaseParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface CreateProjectBranchParams {
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface CreateProjectBranchRoleParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface CurrentUserAuthAccount {
  /** @format email */
  email: string;
  image: string;
  /** @deprecated */
  login: string;
  name: string;
  /** Identity provider; always `api_key` here */
  provider: string;
}

export interface CurrentUserInfoResponse {
  /**
   * 0: no limit
   * @format int64
   */
  active_seconds_limit: number;
  auth_accounts: CurrentUserAuthAccount[];
  /**
   * 0: no limit
   * @format int64
   */
  branches_limit: number;
  /** @format email */
  email: string;
  id: string;
  image: string;
  last_name: string;
  /** @deprecated */
  login: string;
  /**
   * 0: no limit
   * @format double
   */
  max_autoscaling_limit: number;
  name: string;
  plan: string;
  /**
   * 0: no limit
   * @format int64
   */
  projects_limit: number;
}

export interface CursorPagination {
  /** Pass as `cursor` to get the next page; absent on the last page */
  next?: string;
  sort_by?: string;
  sort_order?: string;
}

export interface Database {
  /** @pattern ^[a-z0-9-]{1,60}$ */
  branch_id: string;
  /** @format date-time */
  created_at: string;
  /** @format int64 */
  id: number;
  /** The database name */
  name: string;
  /** The name of the role that owns the database */
  owner_name: string;
  /** @format date-time */
  updated_at: string;
}

export interface DatabaseCreateBody {
  /**
   * The database name, 1..63 bytes
   * @maxLength 63
   */
  name: string;
  /**
   * A role of the branch that will own the database
   * @maxLength 63
   */
  owner_name: string;
}

export interface DatabaseCreateRequest {
  database: DatabaseCreateBody;
}

export interface DatabaseOperations {
  database: Database;
  operations: Operation[];
}

export interface DatabaseResponse {
  database: Database;
}

export interface DatabasesResponse {
  databases: Database[];
}

export interface DeleteBranchNeonAuthOauthProviderParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /** The OAuth provider id */
  oauthProviderId: "google" | "github" | "microsoft" | "vercel";
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface DeleteBranchNeonAuthTrustedDomainParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface DeleteBranchNeonAuthUserParams {
  /** The auth provider's user ID */
  authUserId: string;
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface DeleteNeonAuthDomainFromRedirectUriWhitelistParams {
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface DeleteNeonAuthIntegrationParams {
  authProvider: NeonAuthSupportedAuthProvider;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface DeleteNeonAuthOauthProviderParams {
  /** The OAuth provider id */
  oauthProviderId: "google" | "github" | "microsoft" | "vercel";
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface DeleteNeonAuthUserParams {
  /** The auth provider's user ID */
  authUserId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface DeleteProjectBranchDatabaseParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The database name
   * @maxLength 63
   */
  databaseName: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface DeleteProjectBranchParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /** Accepted; deletion is always immediate and final here */
  hard_delete?: boolean;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface DeleteProjectBranchRoleParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
  /**
   * The role name
   * @maxLength 63
   */
  roleName: string;
}

export interface DeleteProjectParams {
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface DisableNeonAuthParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface DisableNeonAuthRequest {
  /**
   * If true, deletes the neon_auth schema (and users_sync with its rows) from the database. If false, the schema and rows stay and enabling again reuses them.
   * @default false
   */
  delete_data?: boolean;
}

export type EmptyResponse = object;

export interface EnableNeonAuthIntegrationRequest {
  /** mock and stack are supported; better_auth answers 400 AUTH_PROVIDER_NOT_SUPPORTED */
  auth_provider: NeonAuthSupportedAuthProvider;
  /**
   * Manual setup (extension of this product; Neon offers it in its console only): connect an EXISTING provider project instead of having one provisioned (Quick Start). Give `auth_provider_base_url`, `auth_provider_project_id` and `secret_server_key` together (all three, or none for Quick Start); `webhook_signing_secret` is optional. The connection is verified with the provider, the integration is `owned_by: user`, and the provider's existing users are copied into neon_auth.users_sync. Register the sync webhook in your provider at the `webhook_url` the response names (`<PUBLIC_URL>/webhooks/neon-auth/<integration id>`). No SDK keys are created: `pub_client_key` and `secret_server_key` of the response are empty (use your provider project's own keys). The server calls the base URL only on a public address: loopback, private, link-local, unique-local, shared, reserved and cloud metadata addresses (and names resolving to them) answer 400 `AUTH_PROVIDER_URL_NOT_ALLOWED` unless the operator allows them (`OUTBOUND_ALLOWED_HOSTS`).
   *
   * Base URL of the provider (Stack: the SDK's baseUrl, e.g. https://api.stack-auth.com).
   * @format uri
   * @maxLength 2048
   */
  auth_provider_base_url?: string;
  /**
   * Manual setup: the id of the existing provider project (Stack: a UUID).
   * @minLength 1
   * @maxLength 256
   */
  auth_provider_project_id?: string;
  /** Database that holds neon_auth.users_sync. When omitted, the branch's default database. */
  database_name?: string;
  /**
   * Manual setup: a secret server key of that project (Stack: `ssk_…`); stored encrypted, never shown again.
   * @minLength 1
   * @maxLength 1024
   */
  secret_server_key?: string;
  /**
   * Manual setup: the signing secret of the webhook endpoint you registered in the provider, as svix issues it: `whsec_` and the standard base64 of a 24 to 64 byte key; stored encrypted.
   * @minLength 38
   * @maxLength 94
   * @pattern ^whsec_(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$
   */
  webhook_signing_secret?: string;
}

export interface Endpoint {
  /** Fixed: the compute server does not autoscale */
  autoscaling_limit_max_cu: number;
  /** Fixed: the compute server does not autoscale */
  autoscaling_limit_min_cu: number;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  branch_id: string;
  /** @format date-time */
  created_at: string;
  creation_source: string;
  /** The compute server is always running: `active` */
  current_state: "init" | "active" | "idle";
  disabled: boolean;
  /** Host name of the compute server */
  host: string;
  /**
   * @pattern ^[a-z0-9-]{1,60}$
   * @example "ep-cool-darkness-123456"
   */
  id: string;
  passwordless_access: boolean;
  /** @deprecated */
  pooler_enabled: boolean;
  /** @deprecated */
  pooler_mode: string;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  project_id: string;
  provisioner: string;
  /** @deprecated */
  proxy_host: string;
  region_id: string;
  settings: Record<string, any>;
  /** -1: never suspended */
  suspend_timeout_seconds: number;
  type: "read_write" | "read_only";
  /** @format date-time */
  updated_at: string;
}

export interface GeneralError {
  /**
   * Machine-readable error code
   * @example "VALIDATION_ERROR"
   */
  code: string;
  /**
   * Human-readable message
   * @example "invalid request: [project.name] must be a string"
   */
  message: string;
  /**
   * Echo of X-Request-ID, or a generated id
   * @example "3e3eacf0-2a73-4cba-a930-139ba7fb7f8e"
   */
  request_id: string;
}

export interface GetConnectionUriParams {
  /**
   * Default: the branch of endpoint_id, else the default branch
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branch_id?: string;
  /** The database name */
  database_name: string;
  /**
   * Default: the branch's read-write endpoint
   * @pattern ^[a-z0-9-]{1,60}$
   */
  endpoint_id?: string;
  /** Accepted; there is no separate pooler, so the URI is the direct one */
  pooled?: boolean;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
  /** The role name */
  role_name: string;
}

export interface GetNeonAuthAllowLocalhostParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface GetNeonAuthEmailAndPasswordConfigParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface GetNeonAuthEmailProviderParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface GetNeonAuthEmailServerParams {
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface GetNeonAuthParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface GetNeonAuthPhoneNumberPluginParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface GetNeonAuthPluginConfigsParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface GetNeonAuthSyncStatusParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface GetNeonAuthWebhookConfigParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface GetOrganizationInvitationsParams {
  /**
   * The organization ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  orgId: string;
}

export interface GetOrganizationMemberParams {
  /** @format uuid */
  memberId: string;
  /**
   * The organization ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  orgId: string;
}

export interface GetOrganizationMembersParams {
  /** Cursor from a previous page */
  cursor?: string;
  /**
   * @min 1
   * @max 500
   */
  limit?: number;
  /**
   * The organization ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  orgId: string;
  /** @default "joined_at" */
  sort_by?: "email" | "role" | "joined_at";
  /** @default "desc" */
  sort_order?: "asc" | "desc";
}

export interface GetOrganizationParams {
  /**
   * The organization ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  orgId: string;
}

export interface GetProjectBranchDatabaseParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The database name
   * @maxLength 63
   */
  databaseName: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface GetProjectBranchParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface GetProjectBranchRoleParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
  /**
   * The role name
   * @maxLength 63
   */
  roleName: string;
}

export interface GetProjectBranchRolePasswordParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
  /**
   * The role name
   * @maxLength 63
   */
  roleName: string;
}

export interface GetProjectOperationParams {
  /** @format uuid */
  operationId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface GetProjectParams {
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface GrantPermissionToProjectParams {
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface GrantPermissionToProjectRequest {
  /**
   * @format email
   * @minLength 1
   * @maxLength 256
   */
  email: string;
}

export interface Invitation {
  /** @format email */
  email: string;
  /** @format uuid */
  id: string;
  /** @format date-time */
  invited_at: string;
  /**
   * Account that extended the invitation
   * @format uuid
   */
  invited_by: string;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  org_id: string;
  role: "admin" | "member";
}

export interface ListBranchNeonAuthOauthProvidersParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface ListBranchNeonAuthTrustedDomainsParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface ListBranchNeonAuthUsersParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /** Pass `pagination.next` of the previous page */
  cursor?: string;
  /**
   * Include soft-deleted users (deleted_at set)
   * @default false
   */
  include_deleted?: boolean;
  /**
   * @min 1
   * @max 1000
   * @default 100
   */
  limit?: number;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
  /**
   * Search: users whose email or name contains this text (case-insensitive), or whose id is exactly this
   * @maxLength 256
   */
  query?: string;
}

export interface ListBranchNeonAuthUsersResponse {
  pagination?: CursorPagination;
  users: NeonAuthUser[];
}

export interface ListMailboxResponse {
  /** Newest first */
  messages: MailboxMessage[];
}

export interface ListNeonAuthIntegrationsParams {
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface ListNeonAuthIntegrationsResponse {
  data: NeonAuthIntegration[];
}

export interface ListNeonAuthMailboxParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * @min 1
   * @max 500
   * @default 50
   */
  limit?: number;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
  /**
   * Only messages to this e-mail address or phone number
   * @maxLength 256
   */
  to?: string;
}

export interface ListNeonAuthOauthProvidersParams {
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface ListNeonAuthOauthProvidersResponse {
  providers: NeonAuthOauthProvider[];
}

export interface ListNeonAuthRedirectUriWhitelistDomainsParams {
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface ListNeonAuthSyncDeadLettersParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /** pagination.next of the previous page */
  cursor?: string;
  /**
   * @min 1
   * @max 1000
   * @default 100
   */
  limit?: number;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface ListNeonAuthWebhookDeliveriesParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /** Only deliveries of this event type */
  event_type?:
    | "user.before_create"
    | "user.created"
    | "send.otp"
    | "send.magic_link"
    | "organization.invitation.created"
    | "organization.invitation.accepted"
    | "phone_number.verified";
  /**
   * @min 1
   * @max 500
   * @default 50
   */
  limit?: number;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface ListOrgApiKeysParams {
  /**
   * The organization ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  orgId: string;
}

export interface ListOrganizationAuditLogParams {
  /**
   * Pass `pagination.next` of the previous page
   * @maxLength 512
   */
  cursor?: string;
  /**
   * @min 1
   * @max 1000
   * @default 100
   */
  limit?: number;
  /**
   * The organization ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  orgId: string;
}

export interface ListProjectBranchDatabasesParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface ListProjectBranchRolesParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface ListProjectBranchesParams {
  /** pagination.next of the previous page */
  cursor?: string;
  /** Deleted branches within a recovery window; deletion is final here, so none */
  include_deleted?: boolean;
  /**
   * Default: every branch
   * @min 1
   * @max 10000
   */
  limit?: number;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
  /** Part of a branch name or id */
  search?: string;
  /** @default "updated_at" */
  sort_by?: "name" | "created_at" | "updated_at";
  /** @default "desc" */
  sort_order?: "asc" | "desc";
}

export interface ListProjectOperationsParams {
  /**
   * pagination.cursor of the previous page
   * @maxLength 512
   */
  cursor?: string;
  /**
   * @min 1
   * @max 1000
   * @default 10
   */
  limit?: number;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface ListProjectPermissionsParams {
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface ListProjectsParams {
  /** pagination.cursor of the previous page */
  cursor?: string;
  /**
   * @min 1
   * @max 400
   * @default 10
   */
  limit?: number;
  /**
   * Only projects of this organization (404 when the caller cannot see it)
   * @pattern ^[a-z0-9-]{1,60}$
   */
  org_id?: string;
  /** Deleted projects within a recovery window; deletion is final here, so none */
  recoverable?: boolean;
  /** Part of a project name or id */
  search?: string;
  /**
   * Accepted; lists are never partial here
   * @min 100
   * @max 30000
   */
  timeout?: number;
}

export interface ListSharedProjectsParams {
  /** pagination.cursor of the previous page */
  cursor?: string;
  /**
   * @min 1
   * @max 400
   * @default 10
   */
  limit?: number;
  /** Part of a project name or id */
  search?: string;
  /**
   * Accepted; lists are never partial here
   * @min 100
   * @max 30000
   */
  timeout?: number;
}

export interface ListWebhookDeliveriesResponse {
  /** Newest first */
  deliveries: WebhookDelivery[];
}

export interface MailboxMessage {
  /** @format date-time */
  created_at: string;
  /** The link, token or one-time code the message carries */
  data: Record<string, any>;
  /** The database whose auth server sent it */
  database_name: string;
  /** @format uuid */
  id: string;
  kind:
    | "verification_link"
    | "password_reset"
    | "email_otp"
    | "magic_link"
    | "organization_invitation"
    | "phone_otp";
  subject: string;
  text: string;
  /** E-mail address (phone number for phone_otp) */
  to: string;
}

export interface Member {
  /** @format uuid */
  id: string;
  /** @format date-time */
  joined_at?: string;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  org_id: string;
  role: "admin" | "member";
  /** @format uuid */
  user_id: string;
}

export interface MemberUserInfo {
  /** @format email */
  email: string;
}

export interface MemberWithUser {
  member: Member;
  user: MemberUserInfo;
}

export interface NeonAuthAddDomainToRedirectURIWhitelistRequest {
  auth_provider: NeonAuthSupportedAuthProvider;
  /**
   * A full origin: `http(s)://host[:port]`, no path, query or credentials. A leading `*.` label is a wildcard (`https://*.example.app` trusts every subdomain). Stored lower-cased, without a trailing slash.
   * @format uri
   * @maxLength 2048
   * @example "https://app.example.com"
   */
  domain: string;
}

export interface NeonAuthAddOAuthProviderRequest {
  /**
   * With client_secret: your own OAuth app (standard). Both omitted: the shared app (needs shared credentials on this installation).
   * @minLength 1
   * @maxLength 512
   */
  client_id?: string;
  /**
   * Write-only: stored encrypted, never returned.
   * @minLength 1
   * @maxLength 1024
   */
  client_secret?: string;
  id: NeonAuthOauthProviderId;
  /**
   * Microsoft only: `common`, `organizations`, `consumers`, a tenant id (GUID) or a verified domain.
   * @maxLength 128
   * @pattern ^[A-Za-z0-9][A-Za-z0-9.-]*$
   */
  microsoft_tenant_id?: string;
}

export interface NeonAuthAllowLocalhostResponse {
  allow_localhost: boolean;
}

export interface NeonAuthConfigResponse {
  name: string;
}

export interface NeonAuthConfigUpdate {
  /**
   * The application name used in auth e-mails.
   * @minLength 1
   * @maxLength 256
   */
  name: string;
}

export interface NeonAuthCreateAuthProviderSDKKeysRequest {
  auth_provider: NeonAuthSupportedAuthProvider;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  project_id: string;
}

export interface NeonAuthCreateIntegrationRequest {
  auth_provider: NeonAuthSupportedAuthProvider;
  /**
   * Manual setup (extension of this product; Neon offers it in its console only): connect an EXISTING provider project instead of having one provisioned (Quick Start). Give `auth_provider_base_url`, `auth_provider_project_id` and `secret_server_key` together (all three, or none for Quick Start); `webhook_signing_secret` is optional. The connection is verified with the provider, the integration is `owned_by: user`, and the provider's existing users are copied into neon_auth.users_sync. Register the sync webhook in your provider at the `webhook_url` the response names (`<PUBLIC_URL>/webhooks/neon-auth/<integration id>`). No SDK keys are created: `pub_client_key` and `secret_server_key` of the response are empty (use your provider project's own keys). The server calls the base URL only on a public address: loopback, private, link-local, unique-local, shared, reserved and cloud metadata addresses (and names resolving to them) answer 400 `AUTH_PROVIDER_URL_NOT_ALLOWED` unless the operator allows them (`OUTBOUND_ALLOWED_HOSTS`).
   *
   * Base URL of the provider (Stack: the SDK's baseUrl, e.g. https://api.stack-auth.com).
   * @format uri
   * @maxLength 2048
   */
  auth_provider_base_url?: string;
  /**
   * Manual setup: the id of the existing provider project (Stack: a UUID).
   * @minLength 1
   * @maxLength 256
   */
  auth_provider_project_id?: string;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  branch_id: string;
  /** Database that holds neon_auth.users_sync. When omitted, the branch's default database. */
  database_name?: string;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  project_id: string;
  /**
   * Ignored (as at Neon).
   * @deprecated
   */
  role_name?: string;
  /**
   * Manual setup: a secret server key of that project (Stack: `ssk_…`); stored encrypted, never shown again.
   * @minLength 1
   * @maxLength 1024
   */
  secret_server_key?: string;
  /**
   * Manual setup: the signing secret of the webhook endpoint you registered in the provider, as svix issues it: `whsec_` and the standard base64 of a 24 to 64 byte key; stored encrypted.
   * @minLength 38
   * @maxLength 94
   * @pattern ^whsec_(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$
   */
  webhook_signing_secret?: string;
}

export interface NeonAuthCreateIntegrationResponse {
  auth_provider: NeonAuthSupportedAuthProvider;
  auth_provider_project_id: string;
  base_url?: string;
  jwks_url: string;
  /** Publishable client key (pck_…). Returned only here, once; empty for manual setup. */
  pub_client_key: string;
  /** @example "neon_auth" */
  schema_name: string;
  /** Secret server key (ssk_…). Returned only here, once; empty for manual setup. */
  secret_server_key: string;
  /** @example "users_sync" */
  table_name: string;
  /** Extension: where the provider delivers user webhooks for users_sync (<PUBLIC_URL>/webhooks/neon-auth/<integration id>); for manual setup, register it in your provider. */
  webhook_url?: string;
}

export interface NeonAuthCreateNewUserRequest {
  auth_provider: NeonAuthSupportedAuthProvider;
  /**
   * @format email
   * @minLength 1
   * @maxLength 256
   * @example "jane@example.com"
   */
  email: string;
  /**
   * The user's display name. Optional: when omitted the email is used, as neonctl does (`neon-auth user create` sends the email as the name), so a user looks the same whichever client made it.
   * @minLength 1
   * @maxLength 255
   */
  name?: string;
  /**
   * Extension: a password the user signs in with (e-mail and password). Omitted, as Neon does, the user signs in another way (one-time code, magic link, OAuth). Never stored in clear, never returned.
   * @minLength 8
   * @maxLength 128
   */
  password?: string;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  project_id: string;
}

export interface NeonAuthCreateNewUserResponse {
  /** ID of newly created user */
  id: string;
}

export interface NeonAuthDeleteDomainFromRedirectURIWhitelistRequest {
  auth_provider: NeonAuthSupportedAuthProvider;
  /**
   * The domains to remove; one that is not in the list is ignored.
   * @maxItems 100
   * @minItems 1
   */
  domains: NeonAuthDomain[];
}

export interface NeonAuthDomain {
  /**
   * A full origin: `http(s)://host[:port]`, no path, query or credentials. A leading `*.` label is a wildcard (`https://*.example.app` trusts every subdomain). Stored lower-cased, without a trailing slash.
   * @format uri
   * @maxLength 2048
   * @example "https://app.example.com"
   */
  domain: string;
}

export interface NeonAuthEmailAndPasswordConfig {
  auto_sign_in_after_verification: boolean;
  disable_sign_up: boolean;
  email_verification_method: NeonAuthEmailVerificationMethod;
  enabled: boolean;
  /** Extension: longest password accepted (default 128). */
  max_password_length?: number;
  /** Extension: shortest password accepted at sign-up and reset (default 8). */
  min_password_length?: number;
  require_email_verification: boolean;
  send_verification_email_on_sign_in: boolean;
  send_verification_email_on_sign_up: boolean;
}

export interface NeonAuthEmailAndPasswordConfigUpdate {
  auto_sign_in_after_verification?: boolean;
  disable_sign_up?: boolean;
  email_verification_method?: NeonAuthEmailVerificationMethod;
  enabled?: boolean;
  /**
   * Extension: longest password accepted (at least min_password_length).
   * @min 1
   * @max 1024
   */
  max_password_length?: number;
  /**
   * Extension: shortest password accepted (at most max_password_length).
   * @min 1
   * @max 1024
   */
  min_password_length?: number;
  require_email_verification?: boolean;
  send_verification_email_on_sign_in?: boolean;
  send_verification_email_on_sign_up?: boolean;
}

export interface NeonAuthEmailServerConfig {
  /**
   * SMTP host name or IP address (standard).
   * @minLength 1
   * @maxLength 253
   * @pattern ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:.]+\]?$
   */
  host?: string;
  /**
   * Write-only: stored encrypted; answers carry "".
   * @maxLength 1024
   */
  password?: string;
  /**
   * SMTP port (standard): 587 (STARTTLS), 465 (TLS), 25.
   * @min 1
   * @max 65535
   */
  port?: number;
  /**
   * @format email
   * @minLength 1
   * @maxLength 256
   */
  sender_email?: string;
  /**
   * @minLength 1
   * @maxLength 256
   */
  sender_name?: string;
  /** `standard`: your SMTP server; `shared`: the installation's sender (the local mailbox). */
  type: NeonAuthEmailServerType;
  /** @maxLength 256 */
  username?: string;
}

export interface NeonAuthEmailServerConfigResponse {
  host?: string;
  /** Always "" (the password is write-only). */
  password?: string;
  port?: number;
  sender_email?: string;
  sender_name?: string;
  type: NeonAuthEmailServerType;
  username?: string;
}

export type NeonAuthEmailServerType = "standard" | "shared";

export type NeonAuthEmailVerificationMethod = "link" | "otp";

export interface NeonAuthIntegration {
  auth_provider: NeonAuthSupportedAuthProvider;
  auth_provider_project_id: string;
  base_url?: string;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  branch_id: string;
  /** @format date-time */
  created_at: string;
  db_name: string;
  jwks_url: string;
  /**
   * Defaults to the Neon project name.
   * @minLength 1
   * @maxLength 256
   */
  name?: string;
  owned_by: NeonAuthProviderProjectOwnedBy;
  transfer_status?: NeonAuthProviderProjectTransferStatus;
  /** Extension: where the provider delivers user webhooks for users_sync (<PUBLIC_URL>/webhooks/neon-auth/<integration id>). */
  webhook_url?: string;
}

export interface NeonAuthMagicLinkConfig {
  /** @default false */
  disable_sign_up: boolean;
  /** @default false */
  enabled: boolean;
  /**
   * Minutes a link stays valid.
   * @min 5
   * @max 1440
   * @default 5
   */
  expires_in: number;
}

export interface NeonAuthMagicLinkConfigUpdate {
  disable_sign_up?: boolean;
  enabled?: boolean;
  /**
   * Minutes a link stays valid.
   * @min 5
   * @max 1440
   */
  expires_in?: number;
}

export interface NeonAuthOauthProvider {
  /** The OAuth app's client id (standard); "" for shared. */
  client_id?: string;
  /** Never returned: the client secret is write-only (stored encrypted). */
  client_secret?: string;
  id: NeonAuthOauthProviderId;
  /** Microsoft only: the Entra tenant (`common` by default). */
  microsoft_tenant_id?: string;
  type: NeonAuthOauthProviderType;
}

export type NeonAuthOauthProviderId =
  | "google"
  | "github"
  | "microsoft"
  | "vercel";

export type NeonAuthOauthProviderType = "standard" | "shared";

export interface NeonAuthOrganizationConfig {
  /** @default "owner" */
  creator_role: "admin" | "owner";
  /** @default true */
  enabled: boolean;
  /**
   * @min 1
   * @default 100
   */
  membership_limit: number;
  /**
   * @min 1
   * @default 10
   */
  organization_limit: number;
  /** @default false */
  send_invitation_email: boolean;
}

export interface NeonAuthOrganizationConfigUpdate {
  creator_role?: "admin" | "owner";
  enabled?: boolean;
  /**
   * @min 1
   * @max 2147483647
   */
  membership_limit?: number;
  /**
   * @min 1
   * @max 2147483647
   */
  organization_limit?: number;
  send_invitation_email?: boolean;
}

export interface NeonAuthPhoneNumberConfig {
  /** @default false */
  enabled: boolean;
  /**
   * Seconds a code stays valid.
   * @min 60
   * @max 600
   * @default 300
   */
  otp_expires_in?: number;
}

export interface NeonAuthPhoneNumberConfigUpdate {
  enabled?: boolean;
  /**
   * Seconds a code stays valid.
   * @min 60
   * @max 600
   */
  otp_expires_in?: number;
}

export interface NeonAuthPluginConfigs {
  allow_localhost?: boolean;
  email_and_password?: NeonAuthEmailAndPasswordConfig;
  email_provider?: NeonAuthEmailServerConfigResponse;
  magic_link?: NeonAuthMagicLinkConfig;
  oauth_providers?: NeonAuthOauthProvider[];
  organization?: NeonAuthOrganizationConfig;
  phone_number?: NeonAuthPhoneNumberConfig;
}

export type NeonAuthProviderProjectOwnedBy = "neon" | "user";

export type NeonAuthProviderProjectTransferStatus = "finished" | "initiated";

export interface NeonAuthRedirectURIWhitelistDomain {
  auth_provider: NeonAuthSupportedAuthProvider;
  /** @example "https://app.example.com" */
  domain: string;
}

export interface NeonAuthRedirectURIWhitelistResponse {
  domains: NeonAuthRedirectURIWhitelistDomain[];
}

export type NeonAuthSupportedAuthProvider = "better_auth" | "mock" | "stack";

export interface NeonAuthSyncDeadLetter {
  /** Failed apply attempts */
  attempts: number;
  /**
   * Provider event type, e.g. user.created
   * @example "user.updated"
   */
  event_type: string;
  /**
   * Inbox id of the event (decimal; arrival order). Pass it to replay.
   * @example "42"
   */
  id: string;
  /** Error of the last failed attempt */
  last_error: string | null;
  /** The provider's message id (svix-id) */
  message_id: string;
  /**
   * When the event was first made durable
   * @format date-time
   */
  received_at: string;
  /** The provider user's id the event is about (data.id); null when absent */
  user_id: string | null;
}

export interface NeonAuthSyncDeadLettersResponse {
  /** Dead letters in arrival order (oldest first) */
  dead_letters: NeonAuthSyncDeadLetter[];
  /** Present when there is a next page */
  pagination?: CursorPagination;
}

export interface NeonAuthSyncLag {
  /** Median of applied_at - received_at (ms) over events applied in the last hour; null when none */
  p50: number | null;
  /** 99th percentile of applied_at - received_at (ms) over events applied in the last hour; null when none */
  p99: number | null;
}

export interface NeonAuthSyncReconcileResponse {
  /** False when no provider listing completed (nothing was deleted) */
  complete: boolean;
  /** Rows of users the provider no longer has, soft-deleted */
  deleted: number;
  /** Provider users that had no row in users_sync */
  inserted: number;
  /** Duration of the run in milliseconds */
  ms: number;
  /** Writes refused because the row already held a newer state */
  skipped: number;
  /** Provider users whose row already matched */
  unchanged: number;
  /** Rows that differed from the provider and were rewritten */
  updated: number;
}

export interface NeonAuthSyncStatus {
  /** Why the newest events that are still pending (or parked as dead letters) could not be written to users_sync, e.g. a table whose grants to the control plane's role were revoked; null when no such event failed */
  apply_error: string | null;
  /** Provider events parked after exhausting their apply attempts */
  dead_letters: number;
  /** How users_sync is kept: `webhooks` (stack, mock: provider events through the sync engine, with the lag and queue below), `in_transaction` (better_auth: a trigger writes users_sync in the transaction of every user change, so lag and queue are 0) */
  delivery: "webhooks" | "in_transaction";
  /** Webhook-to-users_sync lag over the last hour (0 for in_transaction) */
  lag_ms: NeonAuthSyncLag;
  /**
   * When the last event was applied to users_sync
   * @format date-time
   */
  last_applied_at: string | null;
  /**
   * Start of the last complete reconciliation with the provider
   * @format date-time
   */
  last_reconciled_at: string | null;
  /** Provider events received and not yet applied (pending) */
  queued: number;
  /** Why the last reconciliation failed; null when it succeeded (or none ran) */
  reconcile_error: string | null;
}

export interface NeonAuthTransferAuthProviderProjectRequest {
  auth_provider: NeonAuthSupportedAuthProvider;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  project_id: string;
}

export interface NeonAuthTransferAuthProviderProjectResponse {
  /** URL for completing the process of ownership transfer: open it in a browser and confirm in the auth provider's page */
  url: string;
}

export interface NeonAuthUpdateOAuthProviderRequest {
  /**
   * @minLength 1
   * @maxLength 512
   */
  client_id?: string;
  /**
   * Write-only: stored encrypted, never returned.
   * @minLength 1
   * @maxLength 1024
   */
  client_secret?: string;
  /**
   * Microsoft only: `common`, `organizations`, `consumers`, a tenant id (GUID) or a verified domain.
   * @maxLength 128
   * @pattern ^[A-Za-z0-9][A-Za-z0-9.-]*$
   */
  microsoft_tenant_id?: string;
}

export interface NeonAuthUser {
  /** @format date-time */
  created_at: string | null;
  /**
   * Set when the user was deleted (soft delete)
   * @format date-time
   */
  deleted_at: string | null;
  email: string | null;
  id: string;
  name: string | null;
  /** The provider's user object, as neon_auth.users_sync.raw_json holds it */
  raw_json: Record<string, any>;
  /** Roles stored with the provider's user (Stack Auth: server_metadata.roles) */
  roles: string[];
  /** @format date-time */
  updated_at: string | null;
}

export interface NeonAuthWebhookConfig {
  enabled: boolean;
  /** @default [] */
  enabled_events?: NeonAuthWebhookEvent[];
  /**
   * Seconds each delivery attempt may take.
   * @min 1
   * @max 10
   * @default 5
   */
  timeout_seconds?: number;
  /**
   * Where events are POSTed: https (http only for a destination the operator allows). Required when enabled. Loopback, private, link-local and metadata addresses are refused unless the operator allows them (OUTBOUND_ALLOWED_HOSTS).
   * @maxLength 2048
   */
  webhook_url?: string;
}

export type NeonAuthWebhookEvent =
  | "user.before_create"
  | "user.created"
  | "send.otp"
  | "send.magic_link"
  | "organization.invitation.created"
  | "organization.invitation.accepted"
  | "phone_number.verified";

export interface Operation {
  /** e.g. create_timeline, start_compute, apply_config, delete_timeline */
  action: string;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  branch_id?: string;
  /** @format date-time */
  created_at: string;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  endpoint_id?: string;
  /** Why the last attempt failed (`error`, `failed`) */
  error?: string;
  failures_count: number;
  /** @format uuid */
  id: string;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  project_id: string;
  /**
   * When an `error` operation is tried again
   * @format date-time
   */
  retry_at?: string;
  /** Operations are recorded before their work starts and driven to the end by the request, or, when its process stopped or the work failed, by the reconciler: `error` is retried (at `retry_at`); `failed` was rolled back */
  status:
    | "scheduling"
    | "running"
    | "finished"
    | "failed"
    | "error"
    | "cancelling"
    | "cancelled"
    | "skipped";
  /** Measured duration of the work, in milliseconds */
  total_duration_ms: number;
  /** @format date-time */
  updated_at: string;
}

export interface OperationResponse {
  operation: Operation;
}

export interface OperationsPagination {
  /** Pass as `cursor` for the next page */
  cursor: string;
}

export interface OperationsResponse {
  operations: Operation[];
  pagination?: OperationsPagination;
}

export interface OrgApiKeyCreateRequest {
  /**
   * A user-specified API key name
   * @maxLength 64
   * @example "ci"
   */
  key_name: string;
  /**
   * If set, the API key can access only this project
   * @pattern ^[a-z0-9-]{1,60}$
   */
  project_id?: string;
}

export interface OrgApiKeyCreateResponse {
  /** @format date-time */
  created_at: string;
  /**
   * ID of the user who created this API key
   * @format uuid
   */
  created_by: string;
  /** @format int64 */
  id: number;
  /** The secret: shown only in this response */
  key: string;
  name: string;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  project_id?: string;
}

export interface OrgApiKeyRevokeResponse {
  /** @format date-time */
  created_at: string;
  /** @format uuid */
  created_by: string;
  /** @format int64 */
  id: number;
  /** @format date-time */
  last_used_at?: string | null;
  last_used_from_addr: string;
  name: string;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  project_id?: string;
  revoked: boolean;
}

export interface OrgApiKeysListResponseItem {
  /** @format date-time */
  created_at: string;
  created_by: ApiKeyCreatorData;
  /** @format int64 */
  id: number;
  /** @format date-time */
  last_used_at?: string | null;
  last_used_from_addr: string;
  name: string;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  project_id?: string;
}

export interface Organization {
  /** @format date-time */
  created_at: string;
  handle: string;
  /**
   * @pattern ^[a-z0-9-]{1,60}$
   * @example "org-morning-bread-81040908"
   */
  id: string;
  /** Organizations created through the API are managed by `console` */
  managed_by: string;
  name: string;
  plan: string;
  /** @format date-time */
  updated_at: string;
}

export interface OrganizationCreateRequest {
  /**
   * @minLength 1
   * @maxLength 256
   * @example "Acme"
   */
  name: string;
}

export interface OrganizationInvitationsResponse {
  invitations: Invitation[];
}

export interface OrganizationInviteCreateRequest {
  /**
   * @format email
   * @minLength 1
   * @maxLength 256
   */
  email: string;
  role: "admin" | "member";
}

export interface OrganizationInvitesCreateRequest {
  invitations: OrganizationInviteCreateRequest[];
}

export interface OrganizationMemberUpdateRequest {
  role: "admin" | "member";
}

export interface OrganizationMembersResponse {
  members: MemberWithUser[];
  pagination?: CursorPagination;
}

export interface OrganizationsResponse {
  organizations: Organization[];
}

export interface Pagination {
  /**
   * Pass as `cursor` to get the page after this one
   * @minLength 1
   */
  cursor: string;
}

export interface Project {
  /**
   * Not metered: 0
   * @format int64
   */
  active_time_seconds: number;
  /**
   * 0: no limit
   * @format int64
   */
  branch_logical_size_limit: number;
  /**
   * 0: no limit
   * @format int64
   */
  branch_logical_size_limit_bytes: number;
  /**
   * Not metered: 0
   * @format int64
   */
  compute_time_seconds: number;
  /**
   * Start of the next calendar month (UTC)
   * @format date-time
   */
  consumption_period_end: string;
  /**
   * Start of the current calendar month (UTC)
   * @format date-time
   */
  consumption_period_start: string;
  /**
   * @deprecated
   * @format int64
   */
  cpu_used_sec: number;
  /** @format date-time */
  created_at: string;
  creation_source: string;
  /**
   * Not metered: 0
   * @format int64
   */
  data_storage_bytes_hour: number;
  /**
   * Not metered: 0
   * @format int64
   */
  data_transfer_bytes: number;
  effective_project_permission?: "CAN_VIEW" | "CAN_EDIT" | "CAN_MANAGE" | null;
  history_retention_seconds: number;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  id: string;
  name: string;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  org_id?: string;
  /** Account that created the project; empty when an organization key did */
  owner_id: string;
  /** Major version of the compute server */
  pg_version: number;
  /** Always `local` */
  platform_id: string;
  provisioner: string;
  /** Host name of the compute server */
  proxy_host: string;
  region_id: string;
  settings?: ProjectSettingsData;
  store_passwords: boolean;
  /** @format date-time */
  updated_at: string;
  /**
   * Not metered: 0
   * @format int64
   */
  written_data_bytes: number;
}

export interface ProjectCreateBody {
  branch?: ProjectCreateBranch;
  /**
   * @min 0
   * @max 2592000
   */
  history_retention_seconds?: number;
  /**
   * Defaults to the generated project id
   * @minLength 1
   * @maxLength 256
   */
  name?: string;
  /**
   * Organization to create the project in (implied by organization keys)
   * @pattern ^[a-z0-9-]{1,60}$
   */
  org_id?: string;
  /** Must be the compute server's major version when given */
  pg_version?: number;
  /** Must be this server's region (REGION_ID) when given */
  region_id?: string;
  settings?: ProjectSettingsData;
  /** Only `true`: passwords are kept (encrypted) so connection_uri can return them */
  store_passwords?: boolean;
}

export interface ProjectCreateBranch {
  /** Only `{}`: annotations are not supported */
  annotations?: Record<string, string>;
  /**
   * Default `neondb`; 1..63 bytes
   * @maxLength 63
   */
  database_name?: string;
  /**
   * @minLength 1
   * @maxLength 256
   * @default "main"
   */
  name?: string;
  /**
   * Default `{database_name}_owner`; 1..63 bytes
   * @maxLength 63
   */
  role_name?: string;
}

export interface ProjectCreateRequest {
  project: ProjectCreateBody;
}

export interface ProjectCreateResponse {
  branch: Branch;
  connection_uris: ConnectionDetails[];
  databases: Database[];
  endpoints: Endpoint[];
  operations: Operation[];
  project: Project;
  roles: Role[];
}

export interface ProjectListItem {
  /**
   * Not metered: 0
   * @format int64
   */
  active_time: number;
  /**
   * 0: no limit
   * @format int64
   */
  branch_logical_size_limit: number;
  /**
   * 0: no limit
   * @format int64
   */
  branch_logical_size_limit_bytes: number;
  /**
   * @deprecated
   * @format int64
   */
  cpu_used_sec: number;
  /** @format date-time */
  created_at: string;
  creation_source: string;
  effective_project_permission?: "CAN_VIEW" | "CAN_EDIT" | "CAN_MANAGE" | null;
  history_retention_seconds: number;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  id: string;
  name: string;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  org_id?: string;
  org_name?: string;
  /** Account that created the project; empty when an organization key did */
  owner_id: string;
  /** Major version of the compute server */
  pg_version: number;
  /** Always `local` */
  platform_id: string;
  provisioner: string;
  /** Host name of the compute server */
  proxy_host: string;
  region_id: string;
  settings?: ProjectSettingsData;
  store_passwords: boolean;
  /** @format date-time */
  updated_at: string;
}

export interface ProjectPermission {
  /** @format date-time */
  granted_at: string;
  /** @format email */
  granted_to_email: string;
  /** @format uuid */
  id: string;
  /** @format date-time */
  revoked_at?: string;
}

export interface ProjectPermissions {
  project_permissions: ProjectPermission[];
}

export interface ProjectResponse {
  project: Project;
}

export interface ProjectSettingsData {
  allowed_ips?: AllowedIps;
  /** Disallow connections from the public internet (Private Link); stored, enforced by Neon Auth */
  block_public_connections?: boolean;
  /** Disallow connections through VPC endpoints; stored */
  block_vpc_connections?: boolean;
  /** Stored; the compute server decides its own wal_level */
  enable_logical_replication?: boolean;
}

export interface ProjectUpdateBody {
  /**
   * @min 0
   * @max 2592000
   */
  history_retention_seconds?: number;
  /**
   * @minLength 1
   * @maxLength 256
   */
  name?: string;
  /** Merged into the stored settings: only the keys given change */
  settings?: ProjectSettingsData;
}

export interface ProjectUpdateRequest {
  project: ProjectUpdateBody;
}

export interface ProjectUpdateResponse {
  operations: Operation[];
  project: Project;
}

export interface ProjectsResponse {
  /** None here: {} */
  applications: Record<string, string[]>;
  /** None here: {} */
  integrations: Record<string, string[]>;
  /** Absent when the page is empty */
  pagination?: Pagination;
  projects: ProjectListItem[];
}

export interface RemoveOrganizationMemberParams {
  /** @format uuid */
  memberId: string;
  /**
   * The organization ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  orgId: string;
}

export interface ReplayNeonAuthSyncDeadLettersParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface ReplayNeonAuthSyncDeadLettersRequest {
  /**
   * Dead letters to replay (ids from the list). Absent: every dead letter of the branch's integration.
   * @example ["42","43"]
   */
  ids?: string[];
}

export interface ReplayNeonAuthSyncDeadLettersResponse {
  /** Dead letters put back in the queue (status pending, attempts reset) */
  replayed: number;
}

export interface ReplayNeonAuthWebhookDeliveryParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The id of a delivery of the log
   * @format uuid
   */
  deliveryId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface RevokeApiKeyParams {
  /** @format int64 */
  keyId: number;
}

export interface RevokeOrgApiKeyParams {
  /** @format int64 */
  keyId: number;
  /**
   * The organization ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  orgId: string;
}

export interface RevokePermissionFromProjectParams {
  /** @format uuid */
  permissionId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface Role {
  /** Always `password` here */
  authentication_method?: string;
  /** @pattern ^[a-z0-9-]{1,60}$ */
  branch_id: string;
  /** @format date-time */
  created_at: string;
  /** The role name */
  name: string;
  /** The role password; only in the responses that create the role */
  password?: string;
  protected?: boolean;
  /** @format date-time */
  updated_at: string;
}

export interface RoleCreateBody {
  /**
   * The role name, 1..63 bytes (not starting with pg_)
   * @maxLength 63
   */
  name: string;
  /** Create a role that cannot log in */
  no_login?: boolean;
}

export interface RoleCreateRequest {
  role: RoleCreateBody;
}

export interface RoleOperations {
  operations: Operation[];
  role: Role;
}

export interface RolePasswordResponse {
  /** The role password */
  password: string;
}

export interface RoleResponse {
  role: Role;
}

export interface RolesResponse {
  roles: Role[];
}

export interface SendNeonAuthEmailProviderTestParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface SendNeonAuthEmailProviderTestRequest {
  /**
   * @format email
   * @minLength 1
   * @maxLength 256
   */
  recipient_email: string;
}

export interface SendNeonAuthTestEmailParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface SendNeonAuthTestEmailRequest {
  /**
   * @minLength 1
   * @maxLength 253
   * @pattern ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:.]+\]?$
   */
  host: string;
  /** @maxLength 1024 */
  password: string;
  /**
   * @min 1
   * @max 65535
   */
  port: number;
  /**
   * @format email
   * @minLength 1
   * @maxLength 256
   */
  recipient_email: string;
  /**
   * @format email
   * @minLength 1
   * @maxLength 256
   */
  sender_email: string;
  /**
   * @minLength 1
   * @maxLength 256
   */
  sender_name: string;
  /** @maxLength 256 */
  username: string;
}

export interface SendNeonAuthTestEmailResponse {
  /** Why the SMTP conversation failed (connection, TLS, authentication, recipient). */
  error_message?: string;
  success: boolean;
}

export interface SharedProjectsResponse {
  pagination?: Pagination;
  projects: ProjectListItem[];
}

export interface StartNeonAuthSyncParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface UpdateBranchNeonAuthOauthProviderParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /** The OAuth provider id */
  oauthProviderId: "google" | "github" | "microsoft" | "vercel";
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface UpdateNeonAuthAllowLocalhostParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface UpdateNeonAuthAllowLocalhostRequest {
  /** Trust http://localhost and http://127.0.0.1 on any port (development). */
  allow_localhost: boolean;
}

export interface UpdateNeonAuthConfigParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface UpdateNeonAuthEmailAndPasswordConfigParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface UpdateNeonAuthEmailProviderParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface UpdateNeonAuthEmailServerParams {
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface UpdateNeonAuthMagicLinkPluginParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface UpdateNeonAuthOauthProviderParams {
  /** The OAuth provider id */
  oauthProviderId: "google" | "github" | "microsoft" | "vercel";
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface UpdateNeonAuthOrganizationPluginParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface UpdateNeonAuthPhoneNumberPluginParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface UpdateNeonAuthUserRoleParams {
  /** The auth provider's user ID */
  authUserId: string;
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface UpdateNeonAuthUserRoleRequest {
  /**
   * Array of roles to assign to the user (replaces the current list; built-ins "user" and "admin", custom strings allowed; 1..255 characters each)
   * @maxItems 100
   * @minItems 1
   * @example ["admin"]
   */
  roles: string[];
}

export interface UpdateNeonAuthUserRoleResponse {
  /** ID of the updated user */
  id: string;
}

export interface UpdateNeonAuthWebhookConfigParams {
  /**
   * The branch ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  branchId: string;
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface UpdateOrganizationMemberParams {
  /** @format uuid */
  memberId: string;
  /**
   * The organization ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  orgId: string;
}

export interface UpdateProjectParams {
  /**
   * The Neon project ID
   * @pattern ^[a-z0-9-]{1,60}$
   */
  projectId: string;
}

export interface WebhookAttempt {
  /**
   * X-Neon-Delivery-Attempt of this try
   * @min 1
   * @max 3
   */
  attempt: number;
  /** Why the try failed (no answer in time, a network error, a refused destination, a non-2xx status) */
  error: string | null;
  /** From sending the request to the end of the answer (at most 10 KB of it is read) */
  latency_ms: number;
  /** The start of the receiver's answer (512 characters) */
  response_excerpt: string | null;
  /** @format date-time */
  started_at: string;
  /** The receiver's HTTP status; null when it did not answer */
  status_code: number | null;
}

export interface WebhookDelivery {
  attempts: WebhookAttempt[];
  /** @format date-time */
  completed_at: string | null;
  /** @format date-time */
  created_at: string;
  /** The database whose auth server sent it */
  database_name: string;
  /**
   * X-Neon-Event-Id (a replay keeps the id of the event it replays)
   * @format uuid
   */
  event_id: string;
  event_type:
    | "user.before_create"
    | "user.created"
    | "send.otp"
    | "send.magic_link"
    | "organization.invitation.created"
    | "organization.invitation.accepted"
    | "phone_number.verified";
  /** @format uuid */
  id: string;
  /** What came of it: for user.before_create `allowed`, `refused (<error_code>)` or `malformed answer: …`; `not sent: …` when the URL is not allowed */
  outcome: string | null;
  /** Neon's envelope as sent, except one-time codes and link tokens (otp_code, token, link_url's token) shown as [redacted] */
  payload: Record<string, any>;
  /**
   * The delivery this one replays
   * @format uuid
   */
  replay_of?: string | null;
  /** delivered: a 2xx answer; pending: under way */
  status: "pending" | "delivered" | "failed";
  /** Where it was sent */
  webhook_url: string;
}

export type QueryParamsType = Record<string | number, any>;
export type ResponseFormat = keyof Omit<Body, "body" | "bodyUsed">;

export interface FullRequestParams extends Omit<RequestInit, "body"> {
  /** set parameter to `true` for call `securityWorker` for this request */
  secure?: boolean;
  /** request path */
  path: string;
  /** content type of request body */
  type?: ContentType;
  /** query params */
  query?: QueryParamsType;
  /** format of response (i.e. response.json() -> format: "json") */
  format?: ResponseFormat;
  /** request body */
  body?: unknown;
  /** base url */
  baseUrl?: string;
  /** request cancellation token */
  cancelToken?: CancelToken;
}

export type RequestParams = Omit<
  FullRequestParams,
  "body" | "method" | "query" | "path"
>;

export interface ApiConfig<SecurityDataType = unknown> {
  baseUrl?: string;
  baseApiParams?: Omit<RequestParams, "baseUrl" | "cancelToken" | "signal">;
  securityWorker?: (
    securityData: SecurityDataType | null,
  ) => Promise<RequestParams | void> | RequestParams | void;
  customFetch?: typeof fetch;
}

export interface HttpResponse<D extends unknown, E extends unknown = unknown>
  extends Response {
  data: D;
  error: E;
}

type CancelToken = Symbol | string | number;

export type ContentType =
  | "application/json"
  | "application/vnd.api+json"
  | "multipart/form-data"
  | "application/x-www-form-urlencoded"
  | "text/plain";

export class HttpClient<SecurityDataType = unknown> {
  public baseUrl: string = "/";
  private securityData: SecurityDataType | null = null;
  private securityWorker?: ApiConfig<SecurityDataType>["securityWorker"];
  private abortControllers = new Map<CancelToken, AbortController>();
  private customFetch = (...fetchParams: Parameters<typeof fetch>) =>
    fetch(...fetchParams);

  private baseApiParams: RequestParams = {
    credentials: "same-origin",
    headers: {},
    redirect: "follow",
    referrerPolicy: "no-referrer",
  };

  constructor(apiConfig: ApiConfig<SecurityDataType> = {}) {
    Object.assign(this, apiConfig);
  }

  public setSecurityData = (data: SecurityDataType | null) => {
    this.securityData = data;
  };

  protected encodeQueryParam(key: string, value: any) {
    const encodedKey = encodeURIComponent(key);
    return `${encodedKey}=${encodeURIComponent(typeof value === "number" ? value : `${value}`)}`;
  }

  protected addQueryParam(query: QueryParamsType, key: string) {
    return this.encodeQueryParam(key, query[key]);
  }

  protected addArrayQueryParam(query: QueryParamsType, key: string) {
    const value = query[key];
    return value.map((v: any) => this.encodeQueryParam(key, v)).join("&");
  }

  protected toQueryString(rawQuery?: QueryParamsType): string {
    const query = rawQuery || {};
    const keys = Object.keys(query).filter(
      (key) => "undefined" !== typeof query[key],
    );
    return keys
      .map((key) =>
        Array.isArray(query[key])
          ? this.addArrayQueryParam(query, key)
          : this.addQueryParam(query, key),
      )
      .join("&");
  }

  protected addQueryParams(rawQuery?: QueryParamsType): string {
    const queryString = this.toQueryString(rawQuery);
    return queryString ? `?${queryString}` : "";
  }

  private contentFormatters: Record<ContentType, (input: any) => any> = {
    ["application/json"]: (input: any) =>
      input !== null && (typeof input === "object" || typeof input === "string")
        ? JSON.stringify(input)
        : input,
    ["application/vnd.api+json"]: (input: any) =>
      input !== null && (typeof input === "object" || typeof input === "string")
        ? JSON.stringify(input)
        : input,
    ["text/plain"]: (input: any) =>
      input !== null && typeof input !== "string"
        ? JSON.stringify(input)
        : input,
    ["multipart/form-data"]: (input: any) => {
      if (input instanceof FormData) {
        return input;
      }

      return Object.keys(input || {}).reduce((formData, key) => {
        const property = input[key];
        formData.append(
          key,
          property instanceof Blob
            ? property
            : typeof property === "object" && property !== null
              ? JSON.stringify(property)
              : `${property}`,
        );
        return formData;
      }, new FormData());
    },
    ["application/x-www-form-urlencoded"]: (input: any) =>
      this.toQueryString(input),
  };

  protected mergeRequestParams(
    params1: RequestParams,
    params2?: RequestParams,
  ): RequestParams {
    return {
      ...this.baseApiParams,
      ...params1,
      ...(params2 || {}),
      headers: {
        ...(this.baseApiParams.headers || {}),
        ...(params1.headers || {}),
        ...((params2 && params2.headers) || {}),
      },
    };
  }

  protected createAbortSignal = (
    cancelToken: CancelToken,
  ): AbortSignal | undefined => {
    if (this.abortControllers.has(cancelToken)) {
      const abortController = this.abortControllers.get(cancelToken);
      if (abortController) {
        return abortController.signal;
      }
      return void 0;
    }

    const abortController = new AbortController();
    this.abortControllers.set(cancelToken, abortController);
    return abortController.signal;
  };

  public abortRequest = (cancelToken: CancelToken) => {
    const abortController = this.abortControllers.get(cancelToken);

    if (abortController) {
      abortController.abort();
      this.abortControllers.delete(cancelToken);
    }
  };

  public request = async <T = any, E = any>({
    body,
    secure,
    path,
    type,
    query,
    format,
    baseUrl,
    cancelToken,
    ...params
  }: FullRequestParams): Promise<HttpResponse<T, E>> => {
    const secureParams =
      ((typeof secure === "boolean" ? secure : this.baseApiParams.secure) &&
        this.securityWorker &&
        (await this.securityWorker(this.securityData))) ||
      {};
    const requestParams = this.mergeRequestParams(params, secureParams);
    const queryString = query && this.toQueryString(query);
    const payloadFormatter = this.contentFormatters[type || "application/json"];
    const responseFormat = format || requestParams.format;

    return this.customFetch(
      `${baseUrl || this.baseUrl || ""}${path}${queryString ? `?${queryString}` : ""}`,
      {
        ...requestParams,
        headers: {
          ...(requestParams.headers || {}),
          ...(type && type !== "multipart/form-data"
            ? { "Content-Type": type }
            : {}),
        },
        signal:
          (cancelToken
            ? this.createAbortSignal(cancelToken)
            : requestParams.signal) || null,
        body:
          typeof body === "undefined" || body === null
            ? null
            : payloadFormatter(body),
      },
    ).then(async (response) => {
      const r = response as HttpResponse<T, E>;
      r.data = null as unknown as T;
      r.error = null as unknown as E;

      const responseToParse = responseFormat ? response.clone() : response;
      const data = !responseFormat
        ? r
        : await responseToParse[responseFormat]()
            .then((data) => {
              if (r.ok) {
                r.data = data;
              } else {
                r.error = data;
              }
              return r;
            })
            .catch((e) => {
              r.error = e;
              return r;
            });

      if (cancelToken) {
        this.abortControllers.delete(cancelToken);
      }

      if (!response.ok) throw data;
      return data;
    });
  };
}

/**
 * @title Neon Auth control plane API
 * @version v2
 * @baseUrl /
 * @contact
 *
 * A self-hostable, Neon-compatible management API (`/api/v2`). Paths, bodies, status codes and errors follow Neon's API so that `@neondatabase/api-client` and `neonctl` work unchanged. Operations Neon performs in its console rather than its API are tagged `Extensions`. Every error body is a GeneralError.
 */
export class Api<
  SecurityDataType extends unknown,
> extends HttpClient<SecurityDataType> {
  extensions = {
    /**
     * No description
     *
     * @tags Extensions
     * @name AcceptInvitation
     * @summary Accept an invitation with the invitee's personal key; returns the new membership (Extension)
     * @request POST:/api/v2/invitations/{invitation_id}/accept
     * @secure
     */
    acceptInvitation: (
      { invitationId }: AcceptInvitationParams,
      params: RequestParams = {},
    ) =>
      this.request<Member, GeneralError>({
        path: `/api/v2/invitations/${invitationId}/accept`,
        method: "POST",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Extensions
     * @name CreateAccount
     * @summary Create an account and its first personal API key (platform admins only; Extension)
     * @request POST:/api/v2/admin/accounts
     * @secure
     */
    createAccount: (
      data: AdminAccountCreateRequest,
      params: RequestParams = {},
    ) =>
      this.request<AdminAccountCreateResponse, GeneralError>({
        path: `/api/v2/admin/accounts`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description Health of the branch's provider -> `neon_auth.users_sync` sync: webhook-to-write lag (p50/p99 over events applied in the last hour; null when none), events queued, dead letters, last applied event, last complete reconciliation. 404 when Neon Auth is not enabled on the branch.
     *
     * @tags Extensions
     * @name GetNeonAuthSyncStatus
     * @summary Get the users_sync sync status (extension)
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}/auth/sync
     * @secure
     */
    getNeonAuthSyncStatus: (
      { projectId, branchId }: GetNeonAuthSyncStatusParams,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthSyncStatus, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/sync`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description Verification links, password resets, one-time codes (e-mail and phone), magic links and organization invitations that the branch's Better Auth server sent while no e-mail provider is configured for it land here, newest first, for a day. They carry live codes and links, so only organization admins may read them. Not in Neon's API.
     *
     * @tags Extensions
     * @name ListNeonAuthMailbox
     * @summary Read the messages the branch's auth server sent (extension; organization admins)
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}/auth/mailbox
     * @secure
     */
    listNeonAuthMailbox: (
      { projectId, branchId, ...query }: ListNeonAuthMailboxParams,
      params: RequestParams = {},
    ) =>
      this.request<ListMailboxResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/mailbox`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description Provider events parked after SYNC_MAX_ATTEMPTS failed applies to `neon_auth.users_sync`, oldest first, with the last error (cursor pagination: pass pagination.next as cursor). Readable by whoever may read the sync status. 404 when Neon Auth is not enabled on the branch.
     *
     * @tags Extensions
     * @name ListNeonAuthSyncDeadLetters
     * @summary List the users_sync sync dead letters (extension)
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}/auth/sync/dead_letters
     * @secure
     */
    listNeonAuthSyncDeadLetters: (
      { projectId, branchId, ...query }: ListNeonAuthSyncDeadLettersParams,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthSyncDeadLettersResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/sync/dead_letters`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description Every event the branch's Better Auth servers sent to the webhook URL, newest first, for a day (at most 1000 per branch): each attempt with its status, latency and error, and the envelope as sent with one-time codes and link tokens redacted. Not in Neon's API.
     *
     * @tags Extensions
     * @name ListNeonAuthWebhookDeliveries
     * @summary Read the delivery log of the branch's auth webhooks (extension; organization admins)
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}/auth/webhooks/deliveries
     * @secure
     */
    listNeonAuthWebhookDeliveries: (
      { projectId, branchId, ...query }: ListNeonAuthWebhookDeliveriesParams,
      params: RequestParams = {},
    ) =>
      this.request<ListWebhookDeliveriesResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/webhooks/deliveries`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description Administrative actions in the organization, newest first, in cursor pages (pass `pagination.next` as `cursor`): enabling and disabling Neon Auth, SDK keys, ownership transfers, project settings, members, invitations, API keys, project permissions, and refused project or branch creations (quotas). Each record says who acted (key kind, key id, the account of a personal key), what, on what, when and from where. Append-only; no secret is ever recorded. Organization admins only. Not in Neon's API.
     *
     * @tags Extensions
     * @name ListOrganizationAuditLog
     * @summary List the organization's audit log (extension)
     * @request GET:/api/v2/organizations/{org_id}/audit_log
     * @secure
     */
    listOrganizationAuditLog: (
      { orgId, ...query }: ListOrganizationAuditLogParams,
      params: RequestParams = {},
    ) =>
      this.request<AuditLogResponse, GeneralError>({
        path: `/api/v2/organizations/${orgId}/audit_log`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description Puts the named dead letters (every dead letter of the branch when `ids` is absent) back in the queue with their attempts reset, and wakes the applier. All or nothing: ids that are not dead letters of this branch -> 404, ids no longer dead (already replayed) -> 400, naming them. Safe to repeat. Organization admins only. 404 when Neon Auth is not enabled on the branch.
     *
     * @tags Extensions
     * @name ReplayNeonAuthSyncDeadLetters
     * @summary Replay users_sync sync dead letters (extension)
     * @request POST:/api/v2/projects/{project_id}/branches/{branch_id}/auth/sync/dead_letters/replay
     * @secure
     */
    replayNeonAuthSyncDeadLetters: (
      { projectId, branchId }: ReplayNeonAuthSyncDeadLettersParams,
      data?: ReplayNeonAuthSyncDeadLettersRequest,
      params: RequestParams = {},
    ) =>
      this.request<ReplayNeonAuthSyncDeadLettersResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/sync/dead_letters/replay`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description Sends the same event (same X-Neon-Event-Id, same body: a one-time code in it is the same code) to the branch's current webhook URL, signed anew, attempts numbered from 1, and answers the new delivery once it ends (within 15 s). 409 when the branch's webhooks are disabled or have no URL. Not in Neon's API.
     *
     * @tags Extensions
     * @name ReplayNeonAuthWebhookDelivery
     * @summary Send a logged webhook delivery again (extension; organization admins)
     * @request POST:/api/v2/projects/{project_id}/branches/{branch_id}/auth/webhooks/deliveries/{delivery_id}/replay
     * @secure
     */
    replayNeonAuthWebhookDelivery: (
      { projectId, branchId, deliveryId }: ReplayNeonAuthWebhookDeliveryParams,
      params: RequestParams = {},
    ) =>
      this.request<WebhookDelivery, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/webhooks/deliveries/${deliveryId}/replay`,
        method: "POST",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description Runs a full reconciliation of the branch's `neon_auth.users_sync` with the auth provider (waits for a run in progress first) and answers its counts. Organization admins only. 404 when Neon Auth is not enabled on the branch; 503 AUTH_PROVIDER_UNAVAILABLE when the provider cannot be reached.
     *
     * @tags Extensions
     * @name StartNeonAuthSync
     * @summary Reconcile users_sync with the provider now (extension)
     * @request POST:/api/v2/projects/{project_id}/branches/{branch_id}/auth/sync
     * @secure
     */
    startNeonAuthSync: (
      { projectId, branchId }: StartNeonAuthSyncParams,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthSyncReconcileResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/sync`,
        method: "POST",
        secure: true,
        format: "json",
        ...params,
      }),
  };
  apiKey = {
    /**
     * No description
     *
     * @tags API Key
     * @name CreateApiKey
     * @summary Create a personal API key (the secret is returned only here)
     * @request POST:/api/v2/api_keys
     * @secure
     */
    createApiKey: (data: ApiKeyCreateRequest, params: RequestParams = {}) =>
      this.request<ApiKeyCreateResponse, GeneralError>({
        path: `/api/v2/api_keys`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags API Key
     * @name ListApiKeys
     * @summary List the caller's personal API keys
     * @request GET:/api/v2/api_keys
     * @secure
     */
    listApiKeys: (params: RequestParams = {}) =>
      this.request<ApiKeysListResponseItem[], GeneralError>({
        path: `/api/v2/api_keys`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags API Key
     * @name RevokeApiKey
     * @summary Revoke a personal API key; it stops working at once
     * @request DELETE:/api/v2/api_keys/{key_id}
     * @secure
     */
    revokeApiKey: ({ keyId }: RevokeApiKeyParams, params: RequestParams = {}) =>
      this.request<ApiKeyRevokeResponse, GeneralError>({
        path: `/api/v2/api_keys/${keyId}`,
        method: "DELETE",
        secure: true,
        format: "json",
        ...params,
      }),
  };
  users = {
    /**
     * No description
     *
     * @tags Users
     * @name GetAuthDetails
     * @summary Return auth details of the caller
     * @request GET:/api/v2/auth
     * @secure
     */
    getAuthDetails: (params: RequestParams = {}) =>
      this.request<AuthDetailsResponse, GeneralError>({
        path: `/api/v2/auth`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Users
     * @name GetCurrentUserInfo
     * @summary Return the current user (personal API keys only)
     * @request GET:/api/v2/users/me
     * @secure
     */
    getCurrentUserInfo: (params: RequestParams = {}) =>
      this.request<CurrentUserInfoResponse, GeneralError>({
        path: `/api/v2/users/me`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Users
     * @name GetCurrentUserOrganizations
     * @summary Return the caller's organizations (for organization and project keys: the key's organization)
     * @request GET:/api/v2/users/me/organizations
     * @secure
     */
    getCurrentUserOrganizations: (params: RequestParams = {}) =>
      this.request<OrganizationsResponse, GeneralError>({
        path: `/api/v2/users/me/organizations`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),
  };
  organizations = {
    /**
     * No description
     *
     * @tags Organizations, Extensions
     * @name CreateOrganization
     * @summary Create an organization; the caller becomes its admin (Extension: Neon does this in its console)
     * @request POST:/api/v2/organizations
     * @secure
     */
    createOrganization: (
      data: OrganizationCreateRequest,
      params: RequestParams = {},
    ) =>
      this.request<Organization, GeneralError>({
        path: `/api/v2/organizations`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Organizations
     * @name CreateOrganizationInvitations
     * @summary Invite people to the organization (personal key of an admin)
     * @request POST:/api/v2/organizations/{org_id}/invitations
     * @secure
     */
    createOrganizationInvitations: (
      { orgId }: CreateOrganizationInvitationsParams,
      data: OrganizationInvitesCreateRequest,
      params: RequestParams = {},
    ) =>
      this.request<OrganizationInvitationsResponse, GeneralError>({
        path: `/api/v2/organizations/${orgId}/invitations`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Organizations
     * @name CreateOrgApiKey
     * @summary Create an organization API key, or a project-scoped key with project_id (personal key of an admin)
     * @request POST:/api/v2/organizations/{org_id}/api_keys
     * @secure
     */
    createOrgApiKey: (
      { orgId }: CreateOrgApiKeyParams,
      data: OrgApiKeyCreateRequest,
      params: RequestParams = {},
    ) =>
      this.request<OrgApiKeyCreateResponse, GeneralError>({
        path: `/api/v2/organizations/${orgId}/api_keys`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Organizations
     * @name GetOrganization
     * @summary Get organization details
     * @request GET:/api/v2/organizations/{org_id}
     * @secure
     */
    getOrganization: (
      { orgId }: GetOrganizationParams,
      params: RequestParams = {},
    ) =>
      this.request<Organization, GeneralError>({
        path: `/api/v2/organizations/${orgId}`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Organizations
     * @name GetOrganizationInvitations
     * @summary List pending invitations
     * @request GET:/api/v2/organizations/{org_id}/invitations
     * @secure
     */
    getOrganizationInvitations: (
      { orgId }: GetOrganizationInvitationsParams,
      params: RequestParams = {},
    ) =>
      this.request<OrganizationInvitationsResponse, GeneralError>({
        path: `/api/v2/organizations/${orgId}/invitations`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Organizations
     * @name GetOrganizationMember
     * @summary Get an organization member
     * @request GET:/api/v2/organizations/{org_id}/members/{member_id}
     * @secure
     */
    getOrganizationMember: (
      { orgId, memberId }: GetOrganizationMemberParams,
      params: RequestParams = {},
    ) =>
      this.request<Member, GeneralError>({
        path: `/api/v2/organizations/${orgId}/members/${memberId}`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Organizations
     * @name GetOrganizationMembers
     * @summary List organization members
     * @request GET:/api/v2/organizations/{org_id}/members
     * @secure
     */
    getOrganizationMembers: (
      { orgId, ...query }: GetOrganizationMembersParams,
      params: RequestParams = {},
    ) =>
      this.request<OrganizationMembersResponse, GeneralError>({
        path: `/api/v2/organizations/${orgId}/members`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Organizations
     * @name ListOrgApiKeys
     * @summary List organization and project-scoped API keys
     * @request GET:/api/v2/organizations/{org_id}/api_keys
     * @secure
     */
    listOrgApiKeys: (
      { orgId }: ListOrgApiKeysParams,
      params: RequestParams = {},
    ) =>
      this.request<OrgApiKeysListResponseItem[], GeneralError>({
        path: `/api/v2/organizations/${orgId}/api_keys`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Organizations
     * @name RemoveOrganizationMember
     * @summary Remove a member (personal key of an admin; the last admin cannot be removed)
     * @request DELETE:/api/v2/organizations/{org_id}/members/{member_id}
     * @secure
     */
    removeOrganizationMember: (
      { orgId, memberId }: RemoveOrganizationMemberParams,
      params: RequestParams = {},
    ) =>
      this.request<EmptyResponse, GeneralError>({
        path: `/api/v2/organizations/${orgId}/members/${memberId}`,
        method: "DELETE",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Organizations
     * @name RevokeOrgApiKey
     * @summary Revoke an organization or project-scoped API key; it stops working at once
     * @request DELETE:/api/v2/organizations/{org_id}/api_keys/{key_id}
     * @secure
     */
    revokeOrgApiKey: (
      { orgId, keyId }: RevokeOrgApiKeyParams,
      params: RequestParams = {},
    ) =>
      this.request<OrgApiKeyRevokeResponse, GeneralError>({
        path: `/api/v2/organizations/${orgId}/api_keys/${keyId}`,
        method: "DELETE",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Organizations
     * @name UpdateOrganizationMember
     * @summary Change a member's role (an organization keeps at least one admin)
     * @request PATCH:/api/v2/organizations/{org_id}/members/{member_id}
     * @secure
     */
    updateOrganizationMember: (
      { orgId, memberId }: UpdateOrganizationMemberParams,
      data: OrganizationMemberUpdateRequest,
      params: RequestParams = {},
    ) =>
      this.request<Member, GeneralError>({
        path: `/api/v2/organizations/${orgId}/members/${memberId}`,
        method: "PATCH",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),
  };
  project = {
    /**
     * @description Organization: `project.org_id`; organization keys use their organization; a personal key without `org_id` uses the account's only organization, and with several answers 400 "org_id is required".
     *
     * @tags Project
     * @name CreateProject
     * @summary Create a project with its default branch, database and role (real, on the compute server)
     * @request POST:/api/v2/projects
     * @secure
     */
    createProject: (data: ProjectCreateRequest, params: RequestParams = {}) =>
      this.request<ProjectCreateResponse, GeneralError>({
        path: `/api/v2/projects`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Project
     * @name DeleteProject
     * @summary Delete a project and drop all its databases and roles (organization admins and keys only)
     * @request DELETE:/api/v2/projects/{project_id}
     * @secure
     */
    deleteProject: (
      { projectId }: DeleteProjectParams,
      params: RequestParams = {},
    ) =>
      this.request<ProjectResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}`,
        method: "DELETE",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Project
     * @name GetConnectionUri
     * @summary Get a connection URI for a database and role of a branch (it really connects)
     * @request GET:/api/v2/projects/{project_id}/connection_uri
     * @secure
     */
    getConnectionUri: (
      { projectId, ...query }: GetConnectionUriParams,
      params: RequestParams = {},
    ) =>
      this.request<ConnectionUriResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/connection_uri`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Project
     * @name GetProject
     * @summary Get a project
     * @request GET:/api/v2/projects/{project_id}
     * @secure
     */
    getProject: ({ projectId }: GetProjectParams, params: RequestParams = {}) =>
      this.request<ProjectResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Project
     * @name GrantPermissionToProject
     * @summary Share a project with an email address (collaborator); granting again returns the active grant
     * @request POST:/api/v2/projects/{project_id}/permissions
     * @secure
     */
    grantPermissionToProject: (
      { projectId }: GrantPermissionToProjectParams,
      data: GrantPermissionToProjectRequest,
      params: RequestParams = {},
    ) =>
      this.request<ProjectPermission, GeneralError>({
        path: `/api/v2/projects/${projectId}/permissions`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Project
     * @name ListProjectPermissions
     * @summary List the collaborators a project is shared with
     * @request GET:/api/v2/projects/{project_id}/permissions
     * @secure
     */
    listProjectPermissions: (
      { projectId }: ListProjectPermissionsParams,
      params: RequestParams = {},
    ) =>
      this.request<ProjectPermissions, GeneralError>({
        path: `/api/v2/projects/${projectId}/permissions`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description Personal keys: projects of the organizations the account belongs to, plus projects shared with its email. Organization keys: the organization's projects. Project-scoped keys: their project. `org_id` narrows the list to one organization the caller belongs to (404 otherwise). Newest first; pass `pagination.cursor` as `cursor`.
     *
     * @tags Project
     * @name ListProjects
     * @summary List the projects the caller can see
     * @request GET:/api/v2/projects
     * @secure
     */
    listProjects: (
      query: ListProjectsParams = {},
      params: RequestParams = {},
    ) =>
      this.request<ProjectsResponse, GeneralError>({
        path: `/api/v2/projects`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Project
     * @name ListSharedProjects
     * @summary List projects shared with the caller (personal keys; empty for other keys)
     * @request GET:/api/v2/projects/shared
     * @secure
     */
    listSharedProjects: (
      query: ListSharedProjectsParams = {},
      params: RequestParams = {},
    ) =>
      this.request<SharedProjectsResponse, GeneralError>({
        path: `/api/v2/projects/shared`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Project
     * @name RevokePermissionFromProject
     * @summary Stop sharing a project with a collaborator
     * @request DELETE:/api/v2/projects/{project_id}/permissions/{permission_id}
     * @secure
     */
    revokePermissionFromProject: (
      { projectId, permissionId }: RevokePermissionFromProjectParams,
      params: RequestParams = {},
    ) =>
      this.request<ProjectPermission, GeneralError>({
        path: `/api/v2/projects/${projectId}/permissions/${permissionId}`,
        method: "DELETE",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Project
     * @name UpdateProject
     * @summary Update a project: name, history retention, settings (allowed_ips, block_public_connections, ...)
     * @request PATCH:/api/v2/projects/{project_id}
     * @secure
     */
    updateProject: (
      { projectId }: UpdateProjectParams,
      data: ProjectUpdateRequest,
      params: RequestParams = {},
    ) =>
      this.request<ProjectUpdateResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}`,
        method: "PATCH",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),
  };
  authLegacy = {
    /**
     * @description The project's default branch (deprecated: use the branch routes under /projects/{project_id}/branches/{branch_id}/auth). Answers 201 with no body.
     *
     * @tags Auth (legacy)
     * @name AddNeonAuthDomainToRedirectUriWhitelist
     * @summary Adds a trusted redirect domain (deprecated)
     * @request POST:/api/v2/projects/{project_id}/auth/domains
     * @deprecated
     * @secure
     */
    addNeonAuthDomainToRedirectUriWhitelist: (
      { projectId }: AddNeonAuthDomainToRedirectUriWhitelistParams,
      data: NeonAuthAddDomainToRedirectURIWhitelistRequest,
      params: RequestParams = {},
    ) =>
      this.request<void, GeneralError>({
        path: `/api/v2/projects/${projectId}/auth/domains`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        ...params,
      }),

    /**
     * @description The project's default branch (deprecated: use the branch routes under /projects/{project_id}/branches/{branch_id}/auth). Answers 200.
     *
     * @tags Auth (legacy)
     * @name AddNeonAuthOauthProvider
     * @summary Adds an OAuth provider (deprecated)
     * @request POST:/api/v2/projects/{project_id}/auth/oauth_providers
     * @deprecated
     * @secure
     */
    addNeonAuthOauthProvider: (
      { projectId }: AddNeonAuthOauthProviderParams,
      data: NeonAuthAddOAuthProviderRequest,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthOauthProvider, GeneralError>({
        path: `/api/v2/projects/${projectId}/auth/oauth_providers`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description The body names the project (organization admins only: 403 otherwise, 404 outside your reach) and the branch. `better_auth` (recommended, as Neon): a Better Auth server for the branch database, hosted by this product at `base_url` (`<PUBLIC_URL>/neon-auth/<branch_id>/<database>/auth`; JWKS at `jwks_url`), its tables and the settings row `project_config` in the database's `neon_auth` schema, and `neon_auth.users_sync` kept by a trigger in the transaction of every user change; the key fields are empty (apps use NEON_AUTH_BASE_URL=<base_url>). `stack` / `mock` Quick Start: provisions a provider project managed by Neon Auth (owned_by neon), registers its user webhook, creates neon_auth.users_sync in `database_name` (default: the branch's default database) and answers SDK keys ONCE (never again on GET). Manual setup (extension, stack and mock only): see the auth_provider_* fields of the body. 409 NEON_AUTH_ALREADY_ENABLED when already enabled. Refused with 400 NEON_AUTH_NOT_SUPPORTED_WITH_PRIVATE_LINK_OR_IP_ALLOW on a project with Private Link (settings.block_public_connections) or IP Allow (settings.allowed_ips.ips non-empty). Accepts Idempotency-Key. The provider delivers user events to <PUBLIC_URL>/webhooks/neon-auth/<integration id> (webhook_url on GET), where the sync engine checks their signature and applies them to neon_auth.users_sync (its state: GET …/auth/sync). A failure half-way (or losing to a concurrent enable: 409) leaves no integration, drops a neon_auth schema it created and deletes the provider project it created.
     *
     * @tags Auth (legacy)
     * @name CreateNeonAuthIntegration
     * @summary Create Neon Auth integration (deprecated: use createNeonAuth)
     * @request POST:/api/v2/projects/auth/create
     * @deprecated
     * @secure
     */
    createNeonAuthIntegration: (
      data: NeonAuthCreateIntegrationRequest,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthCreateIntegrationResponse, GeneralError>({
        path: `/api/v2/projects/auth/create`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description `project_id` is in the body: anyone who can see the project may call it (404 otherwise). Creates the user in the auth provider of the project's default branch and in `neon_auth.users_sync`. `name` defaults to the email.
     *
     * @tags Auth (legacy)
     * @name CreateNeonAuthNewUser
     * @summary Create a new auth user (default branch)
     * @request POST:/api/v2/projects/auth/user
     * @deprecated
     * @secure
     */
    createNeonAuthNewUser: (
      data: NeonAuthCreateNewUserRequest,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthCreateNewUserResponse, GeneralError>({
        path: `/api/v2/projects/auth/user`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description Generates a new publishable client key (pck_…) and secret server key (ssk_…) for the auth provider project of the project's default branch; they are shown only in this response. Organization admins (personal key or organization key) only: `project_id` is in the body, so others get 404 (project outside their reach) or 403. A provider project that belongs to you (owned_by: user) manages its keys in the provider: 409.
     *
     * @tags Auth (legacy)
     * @name CreateNeonAuthProviderSdkKeys
     * @summary Create auth provider SDK keys
     * @request POST:/api/v2/projects/auth/keys
     * @secure
     */
    createNeonAuthProviderSdkKeys: (
      data: NeonAuthCreateAuthProviderSDKKeysRequest,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthCreateIntegrationResponse, GeneralError>({
        path: `/api/v2/projects/auth/keys`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description The project's default branch (deprecated: use the branch routes under /projects/{project_id}/branches/{branch_id}/auth).
     *
     * @tags Auth (legacy)
     * @name DeleteNeonAuthDomainFromRedirectUriWhitelist
     * @summary Removes trusted redirect domains (deprecated)
     * @request DELETE:/api/v2/projects/{project_id}/auth/domains
     * @deprecated
     * @secure
     */
    deleteNeonAuthDomainFromRedirectUriWhitelist: (
      { projectId }: DeleteNeonAuthDomainFromRedirectUriWhitelistParams,
      data: NeonAuthDeleteDomainFromRedirectURIWhitelistRequest,
      params: RequestParams = {},
    ) =>
      this.request<EmptyResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/auth/domains`,
        method: "DELETE",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description delete_data true drops the neon_auth schema; false (default) keeps it and its rows, and enabling again reuses them. A provider project managed by Neon Auth (owned_by neon) is then deleted in the provider with its users and keys (the SDK keys stop working); if the provider cannot be reached the disable still succeeds and the project stays in the provider (logged with its id). A user-owned provider project (manual setup, or transferred) is never deleted. 404 NEON_AUTH_NOT_ENABLED when the default branch has no integration of that provider.
     *
     * @tags Auth (legacy)
     * @name DeleteNeonAuthIntegration
     * @summary Delete the default branch's Neon Auth integration of a provider (deprecated: use disableNeonAuth)
     * @request DELETE:/api/v2/projects/{project_id}/auth/integration/{auth_provider}
     * @deprecated
     * @secure
     */
    deleteNeonAuthIntegration: (
      { projectId, authProvider }: DeleteNeonAuthIntegrationParams,
      data?: DisableNeonAuthRequest,
      params: RequestParams = {},
    ) =>
      this.request<EmptyResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/auth/integration/${authProvider}`,
        method: "DELETE",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description The project's default branch (deprecated: use the branch routes under /projects/{project_id}/branches/{branch_id}/auth). Answers 200 (the spec; older docs said 204).
     *
     * @tags Auth (legacy)
     * @name DeleteNeonAuthOauthProvider
     * @summary Removes an OAuth provider (deprecated)
     * @request DELETE:/api/v2/projects/{project_id}/auth/oauth_providers/{oauth_provider_id}
     * @deprecated
     * @secure
     */
    deleteNeonAuthOauthProvider: (
      { projectId, oauthProviderId }: DeleteNeonAuthOauthProviderParams,
      params: RequestParams = {},
    ) =>
      this.request<EmptyResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/auth/oauth_providers/${oauthProviderId}`,
        method: "DELETE",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Auth (legacy)
     * @name DeleteNeonAuthUser
     * @summary Delete an auth user (default branch)
     * @request DELETE:/api/v2/projects/{project_id}/auth/users/{auth_user_id}
     * @deprecated
     * @secure
     */
    deleteNeonAuthUser: (
      { projectId, authUserId }: DeleteNeonAuthUserParams,
      params: RequestParams = {},
    ) =>
      this.request<void, GeneralError>({
        path: `/api/v2/projects/${projectId}/auth/users/${authUserId}`,
        method: "DELETE",
        secure: true,
        ...params,
      }),

    /**
     * @description The project's default branch (deprecated: use the branch routes under /projects/{project_id}/branches/{branch_id}/auth).
     *
     * @tags Auth (legacy)
     * @name GetNeonAuthEmailServer
     * @summary Gets the e-mail server (deprecated)
     * @request GET:/api/v2/projects/{project_id}/auth/email_server
     * @deprecated
     * @secure
     */
    getNeonAuthEmailServer: (
      { projectId }: GetNeonAuthEmailServerParams,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthEmailServerConfigResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/auth/email_server`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Auth (legacy)
     * @name ListNeonAuthIntegrations
     * @summary List a project's Neon Auth integrations, all branches (deprecated)
     * @request GET:/api/v2/projects/{project_id}/auth/integrations
     * @deprecated
     * @secure
     */
    listNeonAuthIntegrations: (
      { projectId }: ListNeonAuthIntegrationsParams,
      params: RequestParams = {},
    ) =>
      this.request<ListNeonAuthIntegrationsResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/auth/integrations`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description The project's default branch (deprecated: use the branch routes under /projects/{project_id}/branches/{branch_id}/auth).
     *
     * @tags Auth (legacy)
     * @name ListNeonAuthOauthProviders
     * @summary Lists the OAuth providers (deprecated)
     * @request GET:/api/v2/projects/{project_id}/auth/oauth_providers
     * @deprecated
     * @secure
     */
    listNeonAuthOauthProviders: (
      { projectId }: ListNeonAuthOauthProvidersParams,
      params: RequestParams = {},
    ) =>
      this.request<ListNeonAuthOauthProvidersResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/auth/oauth_providers`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description The project's default branch (deprecated: use the branch routes under /projects/{project_id}/branches/{branch_id}/auth).
     *
     * @tags Auth (legacy)
     * @name ListNeonAuthRedirectUriWhitelistDomains
     * @summary Lists the trusted redirect domains (deprecated)
     * @request GET:/api/v2/projects/{project_id}/auth/domains
     * @deprecated
     * @secure
     */
    listNeonAuthRedirectUriWhitelistDomains: (
      { projectId }: ListNeonAuthRedirectUriWhitelistDomainsParams,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthRedirectURIWhitelistResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/auth/domains`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description Transfer initiated. Follow the URL to complete the process in your auth provider's UI. Only for a provider project managed by Neon Auth (owned_by: neon); the integration then shows transfer_status: initiated, and owned_by: user with transfer_status: finished once the transfer was confirmed. Organization admins only (404 / 403 for others).
     *
     * @tags Auth (legacy)
     * @name TransferNeonAuthProviderProject
     * @summary Transfer the auth provider project to your own provider account
     * @request POST:/api/v2/projects/auth/transfer_ownership
     * @secure
     */
    transferNeonAuthProviderProject: (
      data: NeonAuthTransferAuthProviderProjectRequest,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthTransferAuthProviderProjectResponse, GeneralError>({
        path: `/api/v2/projects/auth/transfer_ownership`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description The project's default branch (deprecated: use the branch routes under /projects/{project_id}/branches/{branch_id}/auth).
     *
     * @tags Auth (legacy)
     * @name UpdateNeonAuthEmailServer
     * @summary Updates the e-mail server (deprecated)
     * @request PATCH:/api/v2/projects/{project_id}/auth/email_server
     * @deprecated
     * @secure
     */
    updateNeonAuthEmailServer: (
      { projectId }: UpdateNeonAuthEmailServerParams,
      data: NeonAuthEmailServerConfig,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthEmailServerConfigResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/auth/email_server`,
        method: "PATCH",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description The project's default branch (deprecated: use the branch routes under /projects/{project_id}/branches/{branch_id}/auth).
     *
     * @tags Auth (legacy)
     * @name UpdateNeonAuthOauthProvider
     * @summary Updates an OAuth provider (deprecated)
     * @request PATCH:/api/v2/projects/{project_id}/auth/oauth_providers/{oauth_provider_id}
     * @deprecated
     * @secure
     */
    updateNeonAuthOauthProvider: (
      { projectId, oauthProviderId }: UpdateNeonAuthOauthProviderParams,
      data: NeonAuthUpdateOAuthProviderRequest,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthOauthProvider, GeneralError>({
        path: `/api/v2/projects/${projectId}/auth/oauth_providers/${oauthProviderId}`,
        method: "PATCH",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),
  };
  branch = {
    /**
     * @description Answers 423 Locked (retry) while the parent's databases have open connections: PostgreSQL copies a database only when no one is connected.
     *
     * @tags Branch
     * @name CreateProjectBranch
     * @summary Create a branch: a real copy of the parent's databases, sharing its roles
     * @request POST:/api/v2/projects/{project_id}/branches
     * @secure
     */
    createProjectBranch: (
      { projectId }: CreateProjectBranchParams,
      data: BranchCreateRequest,
      params: RequestParams = {},
    ) =>
      this.request<BranchCreateResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Branch
     * @name CreateProjectBranchDatabase
     * @summary Create a real database on a branch, owned by one of its roles
     * @request POST:/api/v2/projects/{project_id}/branches/{branch_id}/databases
     * @secure
     */
    createProjectBranchDatabase: (
      { projectId, branchId }: CreateProjectBranchDatabaseParams,
      data: DatabaseCreateRequest,
      params: RequestParams = {},
    ) =>
      this.request<DatabaseOperations, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/databases`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Branch
     * @name CreateProjectBranchRole
     * @summary Create a real role on a branch; it may connect to the branch's databases. The password is in this answer
     * @request POST:/api/v2/projects/{project_id}/branches/{branch_id}/roles
     * @secure
     */
    createProjectBranchRole: (
      { projectId, branchId }: CreateProjectBranchRoleParams,
      data: RoleCreateRequest,
      params: RequestParams = {},
    ) =>
      this.request<RoleOperations, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/roles`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Branch
     * @name DeleteProjectBranch
     * @summary Delete a branch and drop its databases (not the default branch, nor one with children: 409)
     * @request DELETE:/api/v2/projects/{project_id}/branches/{branch_id}
     * @secure
     */
    deleteProjectBranch: (
      { projectId, branchId, ...query }: DeleteProjectBranchParams,
      params: RequestParams = {},
    ) =>
      this.request<BranchOperations, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}`,
        method: "DELETE",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Branch
     * @name DeleteProjectBranchDatabase
     * @summary Delete a database of a branch and drop the real database (refused while Neon Auth is enabled on it)
     * @request DELETE:/api/v2/projects/{project_id}/branches/{branch_id}/databases/{database_name}
     * @secure
     */
    deleteProjectBranchDatabase: (
      { projectId, branchId, databaseName }: DeleteProjectBranchDatabaseParams,
      params: RequestParams = {},
    ) =>
      this.request<DatabaseOperations, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/databases/${databaseName}`,
        method: "DELETE",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Branch
     * @name DeleteProjectBranchRole
     * @summary Delete a role of a branch (not one that owns a database of the branch) and drop the real role when no other branch has it
     * @request DELETE:/api/v2/projects/{project_id}/branches/{branch_id}/roles/{role_name}
     * @secure
     */
    deleteProjectBranchRole: (
      { projectId, branchId, roleName }: DeleteProjectBranchRoleParams,
      params: RequestParams = {},
    ) =>
      this.request<RoleOperations, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/roles/${roleName}`,
        method: "DELETE",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Branch
     * @name GetProjectBranch
     * @summary Get a branch
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}
     * @secure
     */
    getProjectBranch: (
      { projectId, branchId }: GetProjectBranchParams,
      params: RequestParams = {},
    ) =>
      this.request<BranchResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Branch
     * @name GetProjectBranchDatabase
     * @summary Get a database of a branch
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}/databases/{database_name}
     * @secure
     */
    getProjectBranchDatabase: (
      { projectId, branchId, databaseName }: GetProjectBranchDatabaseParams,
      params: RequestParams = {},
    ) =>
      this.request<DatabaseResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/databases/${databaseName}`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Branch
     * @name GetProjectBranchRole
     * @summary Get a role of a branch
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}/roles/{role_name}
     * @secure
     */
    getProjectBranchRole: (
      { projectId, branchId, roleName }: GetProjectBranchRoleParams,
      params: RequestParams = {},
    ) =>
      this.request<RoleResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/roles/${roleName}`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Branch
     * @name GetProjectBranchRolePassword
     * @summary Get a role's password (the same rule as connection_uri, which carries it too)
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}/roles/{role_name}/reveal_password
     * @secure
     */
    getProjectBranchRolePassword: (
      { projectId, branchId, roleName }: GetProjectBranchRolePasswordParams,
      params: RequestParams = {},
    ) =>
      this.request<RolePasswordResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/roles/${roleName}/reveal_password`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Branch
     * @name ListProjectBranchDatabases
     * @summary List a branch's databases
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}/databases
     * @secure
     */
    listProjectBranchDatabases: (
      { projectId, branchId }: ListProjectBranchDatabasesParams,
      params: RequestParams = {},
    ) =>
      this.request<DatabasesResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/databases`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Branch
     * @name ListProjectBranches
     * @summary List a project's branches (cursor pagination: pass pagination.next as cursor)
     * @request GET:/api/v2/projects/{project_id}/branches
     * @secure
     */
    listProjectBranches: (
      { projectId, ...query }: ListProjectBranchesParams,
      params: RequestParams = {},
    ) =>
      this.request<BranchesResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Branch
     * @name ListProjectBranchRoles
     * @summary List a branch's roles
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}/roles
     * @secure
     */
    listProjectBranchRoles: (
      { projectId, branchId }: ListProjectBranchRolesParams,
      params: RequestParams = {},
    ) =>
      this.request<RolesResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/roles`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),
  };
  auth = {
    /**
     * @description Answers 200 (as Neon). With client_id and client_secret: your own OAuth app (the secret is stored encrypted); without: the shared app, which exists only when the operator configured shared credentials (else 400 INVALID_SHARED_OAUTH_PROVIDER). The callback URL to register is <base_url>/callback/<id>. 409 when the provider is already configured. Applied to the running auth server before the answer (every replica): the next request follows the new settings, none after the answer the old. Organization admins only (members and collaborators get 403).
     *
     * @tags Auth
     * @name AddBranchNeonAuthOauthProvider
     * @summary Adds an OAuth provider to a branch
     * @request POST:/api/v2/projects/{project_id}/branches/{branch_id}/auth/oauth_providers
     * @secure
     */
    addBranchNeonAuthOauthProvider: (
      { projectId, branchId }: AddBranchNeonAuthOauthProviderParams,
      data: NeonAuthAddOAuthProviderRequest,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthOauthProvider, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/oauth_providers`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description Answers 201 with no body (as Neon). Adding a domain already listed changes nothing. Applied to the running auth server before the answer (every replica): the next request follows the new settings, none after the answer the old. Organization admins only (members and collaborators get 403).
     *
     * @tags Auth
     * @name AddBranchNeonAuthTrustedDomain
     * @summary Adds a trusted redirect domain to a branch
     * @request POST:/api/v2/projects/{project_id}/branches/{branch_id}/auth/domains
     * @secure
     */
    addBranchNeonAuthTrustedDomain: (
      { projectId, branchId }: AddBranchNeonAuthTrustedDomainParams,
      data: NeonAuthAddDomainToRedirectURIWhitelistRequest,
      params: RequestParams = {},
    ) =>
      this.request<void, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/domains`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        ...params,
      }),

    /**
     * @description Creates the user in the auth provider and writes it to `neon_auth.users_sync` before answering. `name` is optional (default: the email, as neonctl sends it). A user with the same email -> 409.
     *
     * @tags Auth
     * @name CreateBranchNeonAuthNewUser
     * @summary Create a new auth user
     * @request POST:/api/v2/projects/{project_id}/branches/{branch_id}/auth/users
     * @secure
     */
    createBranchNeonAuthNewUser: (
      { projectId, branchId }: CreateBranchNeonAuthNewUserParams,
      data: CreateBranchNeonAuthNewUserRequest,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthCreateNewUserResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/users`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description `better_auth` (recommended, as Neon): a Better Auth server for the branch database, hosted by this product at `base_url` (`<PUBLIC_URL>/neon-auth/<branch_id>/<database>/auth`; JWKS at `jwks_url`), its tables and the settings row `project_config` in the database's `neon_auth` schema, and `neon_auth.users_sync` kept by a trigger in the transaction of every user change; the key fields are empty (apps use NEON_AUTH_BASE_URL=<base_url>). `stack` / `mock` Quick Start: provisions a provider project managed by Neon Auth (owned_by neon), registers its user webhook, creates neon_auth.users_sync in `database_name` (default: the branch's default database) and answers SDK keys ONCE (never again on GET). Manual setup (extension, stack and mock only): see the auth_provider_* fields of the body. 409 NEON_AUTH_ALREADY_ENABLED when already enabled. Refused with 400 NEON_AUTH_NOT_SUPPORTED_WITH_PRIVATE_LINK_OR_IP_ALLOW on a project with Private Link (settings.block_public_connections) or IP Allow (settings.allowed_ips.ips non-empty). Accepts Idempotency-Key. The provider delivers user events to <PUBLIC_URL>/webhooks/neon-auth/<integration id> (webhook_url on GET), where the sync engine checks their signature and applies them to neon_auth.users_sync (its state: GET …/auth/sync). A failure half-way (or losing to a concurrent enable: 409) leaves no integration, drops a neon_auth schema it created and deletes the provider project it created.
     *
     * @tags Auth
     * @name CreateNeonAuth
     * @summary Enable Neon Auth on a branch (organization admins)
     * @request POST:/api/v2/projects/{project_id}/branches/{branch_id}/auth
     * @secure
     */
    createNeonAuth: (
      { projectId, branchId }: CreateNeonAuthParams,
      data: EnableNeonAuthIntegrationRequest,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthCreateIntegrationResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description Applied to the running auth server before the answer (every replica): the next request follows the new settings, none after the answer the old. Organization admins only (members and collaborators get 403).
     *
     * @tags Auth
     * @name DeleteBranchNeonAuthOauthProvider
     * @summary Removes an OAuth provider from a branch
     * @request DELETE:/api/v2/projects/{project_id}/branches/{branch_id}/auth/oauth_providers/{oauth_provider_id}
     * @secure
     */
    deleteBranchNeonAuthOauthProvider: (
      {
        projectId,
        branchId,
        oauthProviderId,
      }: DeleteBranchNeonAuthOauthProviderParams,
      params: RequestParams = {},
    ) =>
      this.request<EmptyResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/oauth_providers/${oauthProviderId}`,
        method: "DELETE",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description Domains not in the list are ignored. Applied to the running auth server before the answer (every replica): the next request follows the new settings, none after the answer the old. Organization admins only (members and collaborators get 403).
     *
     * @tags Auth
     * @name DeleteBranchNeonAuthTrustedDomain
     * @summary Removes trusted redirect domains from a branch
     * @request DELETE:/api/v2/projects/{project_id}/branches/{branch_id}/auth/domains
     * @secure
     */
    deleteBranchNeonAuthTrustedDomain: (
      { projectId, branchId }: DeleteBranchNeonAuthTrustedDomainParams,
      data: NeonAuthDeleteDomainFromRedirectURIWhitelistRequest,
      params: RequestParams = {},
    ) =>
      this.request<EmptyResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/domains`,
        method: "DELETE",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description Deletes the user in the auth provider and marks it deleted in `neon_auth.users_sync` (`deleted_at`; the row stays).
     *
     * @tags Auth
     * @name DeleteBranchNeonAuthUser
     * @summary Delete an auth user
     * @request DELETE:/api/v2/projects/{project_id}/branches/{branch_id}/auth/users/{auth_user_id}
     * @secure
     */
    deleteBranchNeonAuthUser: (
      { projectId, branchId, authUserId }: DeleteBranchNeonAuthUserParams,
      params: RequestParams = {},
    ) =>
      this.request<void, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/users/${authUserId}`,
        method: "DELETE",
        secure: true,
        ...params,
      }),

    /**
     * @description delete_data true drops the neon_auth schema; false (default) keeps it and its rows, and enabling again reuses them. A provider project managed by Neon Auth (owned_by neon) is then deleted in the provider with its users and keys (the SDK keys stop working); if the provider cannot be reached the disable still succeeds and the project stays in the provider (logged with its id). A user-owned provider project (manual setup, or transferred) is never deleted. Answers 404 (code NEON_AUTH_NOT_ENABLED) when Neon Auth is not enabled on the branch.
     *
     * @tags Auth
     * @name DisableNeonAuth
     * @summary Disable Neon Auth on a branch (organization admins)
     * @request DELETE:/api/v2/projects/{project_id}/branches/{branch_id}/auth
     * @secure
     */
    disableNeonAuth: (
      { projectId, branchId }: DisableNeonAuthParams,
      data?: DisableNeonAuthRequest,
      params: RequestParams = {},
    ) =>
      this.request<EmptyResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth`,
        method: "DELETE",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description Answers 404 (code NEON_AUTH_NOT_ENABLED) when Neon Auth is not enabled on the branch.
     *
     * @tags Auth
     * @name GetNeonAuth
     * @summary Get Neon Auth integration details for a branch
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}/auth
     * @secure
     */
    getNeonAuth: (
      { projectId, branchId }: GetNeonAuthParams,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthIntegration, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description Localhost: http://localhost and http://127.0.0.1 on any port.
     *
     * @tags Auth
     * @name GetNeonAuthAllowLocalhost
     * @summary Gets whether a branch trusts localhost
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}/auth/allow_localhost
     * @secure
     */
    getNeonAuthAllowLocalhost: (
      { projectId, branchId }: GetNeonAuthAllowLocalhostParams,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthAllowLocalhostResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/allow_localhost`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description 400 AUTH_PROVIDER_NOT_SUPPORTED when the branch's provider has no e-mail and password settings (stack).
     *
     * @tags Auth
     * @name GetNeonAuthEmailAndPasswordConfig
     * @summary Gets the e-mail and password settings of a branch
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}/auth/email_and_password
     * @secure
     */
    getNeonAuthEmailAndPasswordConfig: (
      { projectId, branchId }: GetNeonAuthEmailAndPasswordConfigParams,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthEmailAndPasswordConfig, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/email_and_password`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description password is always "".
     *
     * @tags Auth
     * @name GetNeonAuthEmailProvider
     * @summary Gets the e-mail provider of a branch
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}/auth/email_provider
     * @secure
     */
    getNeonAuthEmailProvider: (
      { projectId, branchId }: GetNeonAuthEmailProviderParams,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthEmailServerConfigResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/email_provider`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Auth
     * @name GetNeonAuthPhoneNumberPlugin
     * @summary Gets the phone number plugin of a branch
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}/auth/plugins/phone-number
     * @secure
     */
    getNeonAuthPhoneNumberPlugin: (
      { projectId, branchId }: GetNeonAuthPhoneNumberPluginParams,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthPhoneNumberConfig, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/plugins/phone-number`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description Only the sections the provider has are present.
     *
     * @tags Auth
     * @name GetNeonAuthPluginConfigs
     * @summary Gets all plugin and configuration settings of a branch
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}/auth/plugins
     * @secure
     */
    getNeonAuthPluginConfigs: (
      { projectId, branchId }: GetNeonAuthPluginConfigsParams,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthPluginConfigs, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/plugins`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Auth
     * @name GetNeonAuthWebhookConfig
     * @summary Gets the webhook settings of a branch
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}/auth/webhooks
     * @secure
     */
    getNeonAuthWebhookConfig: (
      { projectId, branchId }: GetNeonAuthWebhookConfigParams,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthWebhookConfig, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/webhooks`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description client_secret is never returned.
     *
     * @tags Auth
     * @name ListBranchNeonAuthOauthProviders
     * @summary Lists the OAuth providers of a branch
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}/auth/oauth_providers
     * @secure
     */
    listBranchNeonAuthOauthProviders: (
      { projectId, branchId }: ListBranchNeonAuthOauthProvidersParams,
      params: RequestParams = {},
    ) =>
      this.request<ListNeonAuthOauthProvidersResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/oauth_providers`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description Origins accepted as redirect and callback URLs, and granted CORS.
     *
     * @tags Auth
     * @name ListBranchNeonAuthTrustedDomains
     * @summary Lists the trusted redirect domains of a branch
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}/auth/domains
     * @secure
     */
    listBranchNeonAuthTrustedDomains: (
      { projectId, branchId }: ListBranchNeonAuthTrustedDomainsParams,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthRedirectURIWhitelistResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/domains`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description Reads `neon_auth.users_sync` of the branch's Neon Auth database, newest sign-ups first, in cursor pages (pass `pagination.next` as `cursor`). Deleted users are left out unless `include_deleted=true`. Not in Neon's API: Neon shows this list in its console.
     *
     * @tags Auth, Extensions
     * @name ListBranchNeonAuthUsers
     * @summary List and search auth users (extension)
     * @request GET:/api/v2/projects/{project_id}/branches/{branch_id}/auth/users
     * @secure
     */
    listBranchNeonAuthUsers: (
      { projectId, branchId, ...query }: ListBranchNeonAuthUsersParams,
      params: RequestParams = {},
    ) =>
      this.request<ListBranchNeonAuthUsersResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/users`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description As send_test_email, with the saved settings. 400 for a shared provider or a branch that does not use better_auth. Organization admins only (members and collaborators get 403).
     *
     * @tags Auth
     * @name SendNeonAuthEmailProviderTest
     * @summary Sends a test e-mail through the saved SMTP provider
     * @request POST:/api/v2/projects/{project_id}/branches/{branch_id}/auth/email_provider/test
     * @secure
     */
    sendNeonAuthEmailProviderTest: (
      { projectId, branchId }: SendNeonAuthEmailProviderTestParams,
      data: SendNeonAuthEmailProviderTestRequest,
      params: RequestParams = {},
    ) =>
      this.request<SendNeonAuthTestEmailResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/email_provider/test`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description A real SMTP conversation (connection, TLS as the server offers, authentication, the message); nothing is saved. Failures answer 200 with success false and the reason (connection refused, timeout, certificate, authentication, recipient refused, destination not allowed). At most 30 test e-mails and webhook replays per project in 10 minutes (429 with Retry-After). Organization admins only (members and collaborators get 403).
     *
     * @tags Auth
     * @name SendNeonAuthTestEmail
     * @summary Sends a test e-mail through the SMTP settings in the body
     * @request POST:/api/v2/projects/{project_id}/branches/{branch_id}/auth/send_test_email
     * @secure
     */
    sendNeonAuthTestEmail: (
      { projectId, branchId }: SendNeonAuthTestEmailParams,
      data: SendNeonAuthTestEmailRequest,
      params: RequestParams = {},
    ) =>
      this.request<SendNeonAuthTestEmailResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/send_test_email`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description Omitting both client_id and client_secret switches to the shared app (see add). Applied to the running auth server before the answer (every replica): the next request follows the new settings, none after the answer the old. Organization admins only (members and collaborators get 403).
     *
     * @tags Auth
     * @name UpdateBranchNeonAuthOauthProvider
     * @summary Updates an OAuth provider's credentials
     * @request PATCH:/api/v2/projects/{project_id}/branches/{branch_id}/auth/oauth_providers/{oauth_provider_id}
     * @secure
     */
    updateBranchNeonAuthOauthProvider: (
      {
        projectId,
        branchId,
        oauthProviderId,
      }: UpdateBranchNeonAuthOauthProviderParams,
      data: NeonAuthUpdateOAuthProviderRequest,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthOauthProvider, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/oauth_providers/${oauthProviderId}`,
        method: "PATCH",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description Applied to the running auth server before the answer (every replica): the next request follows the new settings, none after the answer the old. Organization admins only (members and collaborators get 403).
     *
     * @tags Auth
     * @name UpdateNeonAuthAllowLocalhost
     * @summary Sets whether a branch trusts localhost
     * @request PATCH:/api/v2/projects/{project_id}/branches/{branch_id}/auth/allow_localhost
     * @secure
     */
    updateNeonAuthAllowLocalhost: (
      { projectId, branchId }: UpdateNeonAuthAllowLocalhostParams,
      data: UpdateNeonAuthAllowLocalhostRequest,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthAllowLocalhostResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/allow_localhost`,
        method: "PATCH",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description Applied to the running auth server before the answer (every replica): the next request follows the new settings, none after the answer the old. Organization admins only (members and collaborators get 403).
     *
     * @tags Auth
     * @name UpdateNeonAuthConfig
     * @summary Updates the application name used in auth e-mails
     * @request PATCH:/api/v2/projects/{project_id}/branches/{branch_id}/auth/config
     * @secure
     */
    updateNeonAuthConfig: (
      { projectId, branchId }: UpdateNeonAuthConfigParams,
      data: NeonAuthConfigUpdate,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthConfigResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/config`,
        method: "PATCH",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description Only the fields given change. Applied to the running auth server before the answer (every replica): the next request follows the new settings, none after the answer the old. Organization admins only (members and collaborators get 403).
     *
     * @tags Auth
     * @name UpdateNeonAuthEmailAndPasswordConfig
     * @summary Updates the e-mail and password settings of a branch
     * @request PATCH:/api/v2/projects/{project_id}/branches/{branch_id}/auth/email_and_password
     * @secure
     */
    updateNeonAuthEmailAndPasswordConfig: (
      { projectId, branchId }: UpdateNeonAuthEmailAndPasswordConfigParams,
      data: NeonAuthEmailAndPasswordConfigUpdate,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthEmailAndPasswordConfig, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/email_and_password`,
        method: "PATCH",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description `standard`: your SMTP server, used for verification, one-time-code, magic-link and invitation mails (password stored encrypted, answered as ""). better_auth merges a partial `standard` update into the stored one; stack wants all six fields. `shared`: the installation's sender (the branch's mailbox). Applied to the running auth server before the answer (every replica): the next request follows the new settings, none after the answer the old. Organization admins only (members and collaborators get 403).
     *
     * @tags Auth
     * @name UpdateNeonAuthEmailProvider
     * @summary Updates the e-mail provider of a branch
     * @request PATCH:/api/v2/projects/{project_id}/branches/{branch_id}/auth/email_provider
     * @secure
     */
    updateNeonAuthEmailProvider: (
      { projectId, branchId }: UpdateNeonAuthEmailProviderParams,
      data: NeonAuthEmailServerConfig,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthEmailServerConfigResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/email_provider`,
        method: "PATCH",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description Disabled, its routes answer 404. Applied to the running auth server before the answer (every replica): the next request follows the new settings, none after the answer the old. Organization admins only (members and collaborators get 403).
     *
     * @tags Auth
     * @name UpdateNeonAuthMagicLinkPlugin
     * @summary Updates the magic link plugin of a branch
     * @request PATCH:/api/v2/projects/{project_id}/branches/{branch_id}/auth/plugins/magic-link
     * @secure
     */
    updateNeonAuthMagicLinkPlugin: (
      { projectId, branchId }: UpdateNeonAuthMagicLinkPluginParams,
      data: NeonAuthMagicLinkConfigUpdate,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthMagicLinkConfig, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/plugins/magic-link`,
        method: "PATCH",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description Disabled, its routes answer 404. Applied to the running auth server before the answer (every replica): the next request follows the new settings, none after the answer the old. Organization admins only (members and collaborators get 403).
     *
     * @tags Auth
     * @name UpdateNeonAuthOrganizationPlugin
     * @summary Updates the organization plugin of a branch
     * @request PATCH:/api/v2/projects/{project_id}/branches/{branch_id}/auth/plugins/organization
     * @secure
     */
    updateNeonAuthOrganizationPlugin: (
      { projectId, branchId }: UpdateNeonAuthOrganizationPluginParams,
      data: NeonAuthOrganizationConfigUpdate,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthOrganizationConfig, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/plugins/organization`,
        method: "PATCH",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description Codes go out through the send.otp webhook (or the mailbox). Applied to the running auth server before the answer (every replica): the next request follows the new settings, none after the answer the old. Organization admins only (members and collaborators get 403).
     *
     * @tags Auth
     * @name UpdateNeonAuthPhoneNumberPlugin
     * @summary Updates the phone number plugin of a branch
     * @request PATCH:/api/v2/projects/{project_id}/branches/{branch_id}/auth/plugins/phone-number
     * @secure
     */
    updateNeonAuthPhoneNumberPlugin: (
      { projectId, branchId }: UpdateNeonAuthPhoneNumberPluginParams,
      data: NeonAuthPhoneNumberConfigUpdate,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthPhoneNumberConfig, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/plugins/phone-number`,
        method: "PATCH",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description Replaces the roles stored with the provider user (Stack Auth: `server_metadata.roles`); `users_sync.raw_json` shows them.
     *
     * @tags Auth
     * @name UpdateNeonAuthUserRole
     * @summary Update an auth user's roles
     * @request PUT:/api/v2/projects/{project_id}/branches/{branch_id}/auth/users/{auth_user_id}/role
     * @secure
     */
    updateNeonAuthUserRole: (
      { projectId, branchId, authUserId }: UpdateNeonAuthUserRoleParams,
      data: UpdateNeonAuthUserRoleRequest,
      params: RequestParams = {},
    ) =>
      this.request<UpdateNeonAuthUserRoleResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/users/${authUserId}/role`,
        method: "PUT",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description Full replace: omitted fields return to their defaults. Applied to the running auth server before the answer (every replica): the next request follows the new settings, none after the answer the old. Organization admins only (members and collaborators get 403).
     *
     * @tags Auth
     * @name UpdateNeonAuthWebhookConfig
     * @summary Replaces the webhook settings of a branch
     * @request PUT:/api/v2/projects/{project_id}/branches/{branch_id}/auth/webhooks
     * @secure
     */
    updateNeonAuthWebhookConfig: (
      { projectId, branchId }: UpdateNeonAuthWebhookConfigParams,
      data: NeonAuthWebhookConfig,
      params: RequestParams = {},
    ) =>
      this.request<NeonAuthWebhookConfig, GeneralError>({
        path: `/api/v2/projects/${projectId}/branches/${branchId}/auth/webhooks`,
        method: "PUT",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),
  };
  operation = {
    /**
     * No description
     *
     * @tags Operation
     * @name GetProjectOperation
     * @summary Get an operation
     * @request GET:/api/v2/projects/{project_id}/operations/{operation_id}
     * @secure
     */
    getProjectOperation: (
      { projectId, operationId }: GetProjectOperationParams,
      params: RequestParams = {},
    ) =>
      this.request<OperationResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/operations/${operationId}`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags Operation
     * @name ListProjectOperations
     * @summary List the project's operations, newest first
     * @request GET:/api/v2/projects/{project_id}/operations
     * @secure
     */
    listProjectOperations: (
      { projectId, ...query }: ListProjectOperationsParams,
      params: RequestParams = {},
    ) =>
      this.request<OperationsResponse, GeneralError>({
        path: `/api/v2/projects/${projectId}/operations`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),
  };
}
