import type { StackUserEntity } from '../entities/stack-user.entity.js';

/** Stack Auth's server user object (usersCrudServerReadSchema): every field, always present. */
export interface ServerUser {
  id: string;
  primary_email: string | null;
  primary_email_verified: boolean;
  primary_email_auth_enabled: boolean;
  display_name: string | null;
  selected_team: null;
  selected_team_id: null;
  profile_image_url: string | null;
  signed_up_at_millis: number;
  last_active_at_millis: number;
  client_metadata: unknown;
  client_read_only_metadata: unknown;
  server_metadata: unknown;
  has_password: boolean;
  otp_auth_enabled: boolean;
  passkey_auth_enabled: boolean;
  auth_with_email: boolean;
  requires_totp_mfa: boolean;
  oauth_providers: { id: string; account_id: string; email: string | null }[];
  is_anonymous: boolean;
  is_restricted: boolean;
  restricted_reason: { type: 'anonymous' | 'email_not_verified' | 'restricted_by_administrator' } | null;
  restricted_by_admin: boolean;
  restricted_by_admin_reason: string | null;
  restricted_by_admin_private_details: string | null;
  country_code: string | null;
  risk_scores: { sign_up: { bot: number; free_trial_abuse: number } };
}

/** The client user object: the server one without server-only fields. */
export type ClientUser = Omit<
  ServerUser,
  'primary_email_auth_enabled' | 'server_metadata' | 'last_active_at_millis' | 'restricted_by_admin_private_details' | 'country_code' | 'risk_scores'
>;

/** Stack Auth's computeRestrictedStatus: anonymous users are always restricted, then admin restrictions. */
export function restrictedReason(u: StackUserEntity): ServerUser['restricted_reason'] {
  if (u.isAnonymous) return { type: 'anonymous' };
  return u.restrictedByAdmin ? { type: 'restricted_by_administrator' } : null;
}

export function toServerUser(u: StackUserEntity): ServerUser {
  const hasPassword = u.passwordHash !== null;
  const reason = restrictedReason(u);
  return {
    id: u.id,
    primary_email: u.primaryEmail,
    primary_email_verified: u.primaryEmailVerified,
    primary_email_auth_enabled: u.primaryEmailAuthEnabled,
    display_name: u.displayName,
    selected_team: null,
    selected_team_id: null,
    profile_image_url: u.profileImageUrl,
    signed_up_at_millis: u.signedUpAt.getTime(),
    last_active_at_millis: u.lastActiveAt.getTime(),
    client_metadata: u.clientMetadata ?? null,
    client_read_only_metadata: u.clientReadOnlyMetadata ?? null,
    server_metadata: u.serverMetadata ?? null,
    has_password: hasPassword,
    otp_auth_enabled: u.otpAuthEnabled,
    passkey_auth_enabled: u.passkeyAuthEnabled,
    auth_with_email: hasPassword || u.otpAuthEnabled,
    requires_totp_mfa: u.totpSecretEncrypted !== null,
    oauth_providers: [],
    is_anonymous: u.isAnonymous,
    is_restricted: reason !== null,
    restricted_reason: reason,
    restricted_by_admin: u.restrictedByAdmin,
    restricted_by_admin_reason: u.restrictedByAdmin ? u.restrictedByAdminReason : null,
    restricted_by_admin_private_details: u.restrictedByAdmin ? u.restrictedByAdminPrivateDetails : null,
    country_code: u.countryCode,
    risk_scores: u.riskScores,
  };
}

export function toClientUser(u: StackUserEntity): ClientUser {
  const {
    primary_email_auth_enabled: _a,
    server_metadata: _b,
    last_active_at_millis: _c,
    restricted_by_admin_private_details: _d,
    country_code: _e,
    risk_scores: _f,
    ...client
  } = toServerUser(u);
  return client;
}
