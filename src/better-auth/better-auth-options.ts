import type { BetterAuthOptions, BetterAuthPlugin } from 'better-auth';
import type { PostgresPool } from 'kysely';
import type { BetterAuthLibrary } from './better-auth-library.js';
import { NEON_AUTH_SCHEMA } from '../neon-auth/users-sync/users-sync.ddl.js';
import type { ProjectConfig } from './project-config.js';
import type { OAuthEndpointOverrides } from '../config/config.js';
import { sessionVerifierPlugin } from './session-verifier.js';
import { oauthEndpointsPlugin, socialProvidersOption, type BranchSocialProvider } from './social-providers.js';

/** Where a branch's auth server answers: `${PUBLIC_URL}/neon-auth/{branch_id}/{database}/auth`. */
export const BETTER_AUTH_PATH = '/neon-auth';

/** The header the host sets to the client's address (after dropping whatever the client sent under that name). */
export const CLIENT_IP_HEADER = 'x-neon-auth-client-ip';

/** Neon's cookie prefix: `__Secure-neon-auth.session_token` and friends. */
export const COOKIE_PREFIX = 'neon-auth';

/** Lifetime of the JWTs the server issues (Neon: 15 minutes). */
export const JWT_EXPIRATION = '15m';

/** The base URL of a branch database's auth server. */
export function betterAuthBaseUrl(publicUrl: string, branchId: string, databaseName: string): string {
  return `${publicUrl}${betterAuthBasePath(branchId, databaseName)}`;
}

export function betterAuthBasePath(branchId: string, databaseName: string): string {
  return `${BETTER_AUTH_PATH}/${encodeURIComponent(branchId)}/${encodeURIComponent(databaseName)}/auth`;
}

/** How long Better Auth keeps what it sends valid, where this file does not set it (Better Auth's defaults, seconds). */
export const EMAIL_OTP_EXPIRES_IN_S = 300;
export const VERIFICATION_LINK_EXPIRES_IN_S = 3600;
export const PASSWORD_RESET_EXPIRES_IN_S = 3600;

/** A message the server wants delivered (verification link, one-time code, magic link, invitation). */
export interface OutgoingMessage {
  kind: 'verification_link' | 'password_reset' | 'email_otp' | 'magic_link' | 'organization_invitation' | 'phone_otp';
  /** An e-mail address, or a phone number for `phone_otp`. */
  to: string;
  subject: string;
  text: string;
  /** The link, code and what else the message carries, for readers of the mailbox. */
  data: Record<string, unknown>;
  /** When the code or link stops working (what the webhooks announce as expires_at). */
  expiresAt?: Date;
  /** The request that asked for it (the webhooks' ip_address and user_agent); absent for server-side calls. */
  origin?: RequestOrigin;
}

/** Who made a request: the client's address (the host's header) and its User-Agent. */
export interface RequestOrigin {
  ipAddress: string | null;
  userAgent: string | null;
}

/** The part of Better Auth's endpoint context the event sinks read (absent when no endpoint runs, e.g. a server-side call). */
export interface AuthEventContext {
  path?: string;
  params?: Record<string, unknown>;
  headers?: Headers;
  request?: Request;
}

/**
 * What happens in a branch's server that others may want to hear of (src/better-auth/webhooks): user creation (the
 * `before` one may refuse by throwing, or return fields to create the user with), phone number verification and
 * organization invitations. The non-blocking ones must return at once.
 */
export interface BranchAuthEvents {
  beforeUserCreate(user: Record<string, unknown>, ctx: AuthEventContext | null): Promise<{ data: Record<string, unknown> } | undefined>;
  userCreated(user: Record<string, unknown>, ctx: AuthEventContext | null): void;
  phoneNumberVerified(user: Record<string, unknown>, phoneNumber: string, ctx: AuthEventContext | null): void;
  invitationCreated(invitation: Record<string, unknown>, inviter: Record<string, unknown>, organization: Record<string, unknown>): void;
  invitationAccepted(invitation: Record<string, unknown>, user: Record<string, unknown>, organization: Record<string, unknown>): void;
}

/** The client's address (set by the host, see CLIENT_IP_HEADER) and User-Agent of the request behind `source`. */
export function requestOrigin(source: { headers?: Headers; request?: Request } | Request | null | undefined): RequestOrigin | undefined {
  const headers = source instanceof Request ? source.headers : (source?.headers ?? source?.request?.headers);
  if (!headers) return undefined;
  return { ipAddress: headers.get(CLIENT_IP_HEADER) || null, userAgent: headers.get('user-agent') };
}

const expiresIn = (seconds: number): Date => new Date(Date.now() + seconds * 1000);

export interface BranchAuthSettings {
  baseUrl: string;
  secret: string;
  config: ProjectConfig;
  /** Connections to the branch database as its least-privilege tenant-data role. */
  pool: PostgresPool;
  /** Delivers a message (the configured e-mail provider, or the local mailbox). */
  send: (message: OutgoingMessage) => Promise<void>;
  /** Origins allowed besides the base URL's own (trusted domains; localhost while allowed). */
  trustedOrigins: (request?: Request) => string[];
  /** The user's membership of the session's active organization, for the JWT's `o` claim. */
  membership?: (organizationId: string, userId: string) => Promise<{ id: string; slug: string; role: string } | undefined>;
  /** The OAuth providers the branch offers, credentials opened (branchSocialProviders). */
  socialProviders?: BranchSocialProvider[];
  /** NEON_AUTH_OAUTH_ENDPOINTS: providers pointed at other endpoints than their real ones. */
  oauthEndpoints?: OAuthEndpointOverrides;
  /** Told of user creations, phone verifications and invitations (the branch's webhooks), when any is listened to. */
  events?: BranchAuthEvents;
}

/**
 * The Better Auth options that give a branch Neon's behaviour (reference: neon-auth-better-auth.md), from its
 * `project_config` row:
 * - tables in the branch database's `neon_auth` schema, uuid ids, through the tenant-data role's connections;
 * - `baseURL` the origin of base_url, `basePath` its path; the JWTs' `iss` and `aud` are base_url itself (see the jwt plugin);
 * - cookies `__Secure-neon-auth.*`, `SameSite=None; Secure; Partitioned`, scoped to the branch's path, so two branches
 *   served from one host never see each other's sessions;
 * - OAuth providers (`socialProviders`) from the row's `social_providers` (social-providers.ts), callbacks at
 *   `<base_url>/callback/<id>`, and Neon's session verifier for the cross-site hand-over of the session
 *   (session-verifier.ts; it replaces Better Auth's OAuth state cookie check, which a cross-site start cannot pass);
 * - plugins: jwt (EdDSA keys in `neon_auth.jwks`, JWKS at /.well-known/jwks.json, 15-minute tokens with
 *   `role: "authenticated"`), admin (roles), e-mail OTP, and, as the row enables them, organization, magic link and
 *   phone number; the JWT carries Neon's `o` claim (`{id, slug, role}` of the active organization) when there is one;
 * - no telemetry (no network here), the origin check on in every environment, rate limits left to the host (its
 *   budgets are shared by replicas and kept per branch), the client address taken only from the host's header.
 *
 * `withAllPlugins` gives every plugin whatever the row says: the schema provisioning uses it, so each table and column
 * a plugin may need exists before the plugin is turned on.
 */
export function betterAuthOptions(lib: BetterAuthLibrary, settings: BranchAuthSettings, withAllPlugins = false): BetterAuthOptions {
  const { admin, emailOTP, jwt, magicLink, organization, phoneNumber } = lib.plugins;
  const url = new URL(settings.baseUrl);
  const basePath = url.pathname.replace(/\/+$/, '');
  const { config, send, events } = settings;
  const ep = config.emailAndPassword;
  const plugins: BetterAuthPlugin[] = [
    jwt({
      jwks: { jwksPath: '/.well-known/jwks.json', keyPairConfig: { alg: 'EdDSA', crv: 'Ed25519' } },
      jwt: {
        // base_url, not its origin: Neon serves each branch from a host of its own, so there the origin tells branches
        // apart; here branches share one origin, and a copied branch carries its parent's keys, so only the full base
        // URL keeps a token of one branch from passing for another's (verifiers check iss and aud).
        issuer: settings.baseUrl,
        audience: settings.baseUrl,
        expirationTime: JWT_EXPIRATION,
        definePayload: async ({ user, session }) => {
          const payload: Record<string, unknown> = {
            email: user.email,
            name: user.name,
            email_verified: user.emailVerified,
            user_role: (user as { role?: string | null }).role ?? null,
            session_id: session.id,
            role: 'authenticated',
          };
          // Neon's `o` claim: the session's active organization and the user's role in it.
          const active = (session as { activeOrganizationId?: string | null }).activeOrganizationId;
          const o = active && settings.membership ? await settings.membership(active, user.id) : undefined;
          if (o) payload.o = o;
          return payload;
        },
      },
    }) as BetterAuthPlugin,
    admin() as BetterAuthPlugin,
    emailOTP({
      overrideDefaultEmailVerification: ep.emailVerificationMethod === 'otp',
      expiresIn: EMAIL_OTP_EXPIRES_IN_S,
      sendVerificationOTP: async ({ email, otp, type }, ctx) =>
        send({
          kind: 'email_otp',
          to: email,
          subject: `Your ${config.name} code: ${otp}`,
          text: `Your one-time code is ${otp}.`,
          data: { otp, type },
          expiresAt: expiresIn(EMAIL_OTP_EXPIRES_IN_S),
          origin: requestOrigin(ctx),
        }),
    }) as BetterAuthPlugin,
    sessionVerifierPlugin(lib),
  ];
  const providers = settings.socialProviders ?? [];
  const endpoints = settings.oauthEndpoints ?? {};
  if (providers.some((p) => endpoints[p.id])) plugins.push(oauthEndpointsPlugin(lib, endpoints));
  const org = config.plugins.organization;
  if (org.enabled || withAllPlugins) {
    plugins.push(
      organization({
        organizationLimit: org.config.organizationLimit,
        membershipLimit: org.config.membershipLimit,
        creatorRole: org.config.creatorRole,
        ...(events
          ? {
              organizationHooks: {
                afterCreateInvitation: async ({ invitation, inviter, organization: o }) => events.invitationCreated({ ...invitation }, { ...inviter }, { ...o }),
                afterAcceptInvitation: async ({ invitation, user, organization: o }) => events.invitationAccepted({ ...invitation }, { ...user }, { ...o }),
              },
            }
          : {}),
        sendInvitationEmail: async (invitation) => {
          if (!org.config.sendInvitationEmail) return;
          await send({
            kind: 'organization_invitation',
            to: invitation.email,
            subject: `You are invited to ${invitation.organization.name}`,
            text: `${invitation.inviter.user.email} invited you to join ${invitation.organization.name} as ${invitation.role}. Invitation id: ${invitation.id}`,
            data: { invitation_id: invitation.id, organization_id: invitation.organization.id, role: invitation.role, inviter_email: invitation.inviter.user.email },
          });
        },
      }) as BetterAuthPlugin,
    );
  }
  const magic = config.plugins.magicLink;
  if (magic.enabled || withAllPlugins) {
    plugins.push(
      magicLink({
        expiresIn: magic.config.expiresIn * 60,
        disableSignUp: magic.config.disableSignUp,
        sendMagicLink: async ({ email, url: link, token }, ctx) =>
          send({
            kind: 'magic_link',
            to: email,
            subject: `Sign in to ${config.name}`,
            text: `Sign in with this link: ${link}`,
            data: { url: link, token },
            expiresAt: expiresIn(magic.config.expiresIn * 60),
            origin: requestOrigin(ctx),
          }),
      }) as BetterAuthPlugin,
    );
  }
  const phone = config.plugins.phoneNumber;
  if (phone.enabled || withAllPlugins) {
    plugins.push(
      phoneNumber({
        expiresIn: phone.config.otp_expires_in,
        sendOTP: async ({ phoneNumber: to, code }, ctx) => {
          await send({
            kind: 'phone_otp',
            to,
            subject: `Your ${config.name} code: ${code}`,
            text: `Your one-time code is ${code}.`,
            data: { otp: code },
            expiresAt: expiresIn(phone.config.otp_expires_in),
            origin: requestOrigin(ctx),
          });
        },
        ...(events ? { callbackOnVerification: async ({ phoneNumber: verified, user }, ctx) => events.phoneNumberVerified({ ...user }, verified, ctx ?? null) } : {}),
      }) as BetterAuthPlugin,
    );
  }
  return {
    appName: config.name,
    baseURL: url.origin,
    basePath,
    secret: settings.secret,
    telemetry: { enabled: false },
    database: { dialect: new lib.PostgresDialect({ pool: settings.pool }), type: 'postgres', schemaName: NEON_AUTH_SCHEMA, transaction: true },
    trustedOrigins: (request?: Request) => settings.trustedOrigins(request),
    socialProviders: socialProvidersOption(providers, endpoints),
    // The session verifier binds the OAuth callback to the browser instead (see session-verifier.ts).
    account: { skipStateCookieCheck: true },
    emailAndPassword: {
      enabled: ep.enabled,
      disableSignUp: ep.disableSignUp,
      requireEmailVerification: ep.requireEmailVerification,
      minPasswordLength: ep.minPasswordLength,
      maxPasswordLength: ep.maxPasswordLength,
      resetPasswordTokenExpiresIn: PASSWORD_RESET_EXPIRES_IN_S,
      sendResetPassword: async ({ user, url: link, token }, request) =>
        send({
          kind: 'password_reset',
          to: user.email,
          subject: `Reset your ${config.name} password`,
          text: `Reset your password with this link: ${link}`,
          data: { url: link, token },
          expiresAt: expiresIn(PASSWORD_RESET_EXPIRES_IN_S),
          origin: requestOrigin(request),
        }),
    },
    emailVerification: {
      sendOnSignUp: ep.sendVerificationEmailOnSignUp,
      sendOnSignIn: ep.sendVerificationEmailOnSignIn,
      autoSignInAfterVerification: ep.autoSignInAfterVerification,
      expiresIn: VERIFICATION_LINK_EXPIRES_IN_S,
      // `otp`: the e-mail OTP plugin sends a code instead (overrideDefaultEmailVerification supplies this sender; an
      // explicit one here would win over it, and every verification would still be a link).
      ...(ep.emailVerificationMethod === 'link'
        ? {
            sendVerificationEmail: async ({ user, url: link, token }: { user: { email: string }; url: string; token: string }, request?: Request) =>
              send({
                kind: 'verification_link',
                to: user.email,
                subject: `Verify your ${config.name} e-mail`,
                text: `Verify your e-mail with this link: ${link}`,
                data: { url: link, token },
                expiresAt: expiresIn(VERIFICATION_LINK_EXPIRES_IN_S),
                origin: requestOrigin(request),
              }),
          }
        : {}),
    },
    ...(events
      ? {
          databaseHooks: {
            user: {
              create: {
                before: async (user, ctx) => events.beforeUserCreate({ ...user }, ctx ?? null),
                after: async (user, ctx) => events.userCreated({ ...user }, ctx ?? null),
              },
            },
          },
        }
      : {}),
    rateLimit: { enabled: false },
    advanced: {
      database: { generateId: 'uuid' },
      cookiePrefix: COOKIE_PREFIX,
      useSecureCookies: true,
      defaultCookieAttributes: { sameSite: 'none', secure: true, partitioned: true, path: basePath },
      disableOriginCheck: false,
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
    },
    logger: { disabled: true },
    plugins,
  };
}
