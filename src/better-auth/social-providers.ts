import type { BetterAuthOptions, BetterAuthPlugin } from 'better-auth';
import type { AppConfig, OAuthEndpointOverrides, SharedOAuthCredentials } from '../config/config.js';
import type { BetterAuthLibrary } from './better-auth-library.js';
import { OAUTH_PROVIDER_IDS, sealedFieldContext, type OAuthProviderId, type SocialProviderConfig } from './project-config.js';

/** How long a user-info read of an overridden provider may take. */
const USERINFO_TIMEOUT_MS = 10_000;

/** A provider a branch offers, with credentials Better Auth can use (the secret in the clear: in memory only, never logged). */
export interface BranchSocialProvider {
  id: OAuthProviderId;
  clientId: string;
  clientSecret: string;
  /** Microsoft only (default `common`). */
  tenantId?: string;
  /** The installation's shared OAuth app (NEON_AUTH_SHARED_OAUTH_CREDENTIALS), not the branch's own. */
  shared: boolean;
}

/**
 * Whether the installation has shared credentials for `providerId` (NEON_AUTH_SHARED_OAUTH_CREDENTIALS): a
 * `social_providers` entry with `isShared: true` is offered only then. The settings API answers Neon's
 * `INVALID_SHARED_OAUTH_PROVIDER` when it is false.
 */
export function hasSharedOAuthCredentials(config: Pick<AppConfig, 'sharedOAuthCredentials'>, providerId: string): boolean {
  return (OAUTH_PROVIDER_IDS as readonly string[]).includes(providerId) && config.sharedOAuthCredentials[providerId as OAuthProviderId] !== undefined;
}

/**
 * The providers a branch offers, from its `social_providers`: an `isShared` entry takes the installation's shared
 * credentials (left out when there are none: Neon's default row names Google with shared credentials, which an
 * offline installation does not have); any other entry needs its own `clientId` and a sealed `clientSecret` that
 * opens. An entry that cannot be used is left out with a warning: a bad row never stops the branch's other sign-ins.
 */
export function branchSocialProviders(
  entries: SocialProviderConfig[],
  shared: SharedOAuthCredentials,
  open: (sealed: string, context: string) => string,
  warn: (providerId: OAuthProviderId, problem: string) => void,
): BranchSocialProvider[] {
  const out: BranchSocialProvider[] = [];
  for (const entry of entries) {
    const tenantId = entry.id === 'microsoft' ? entry.tenantId : undefined;
    if (entry.isShared) {
      const credentials = shared[entry.id];
      if (!credentials) continue;
      out.push({ id: entry.id, clientId: credentials.clientId, clientSecret: credentials.clientSecret, tenantId: tenantId ?? credentials.tenantId, shared: true });
      continue;
    }
    if (!entry.clientId || !entry.clientSecret) {
      warn(entry.id, 'has no client id or client secret: not offered');
      continue;
    }
    let clientSecret: string;
    try {
      clientSecret = open(entry.clientSecret, sealedFieldContext('social_providers.clientSecret'));
    } catch {
      warn(entry.id, 'has a client secret that does not open with SECRETS_KEY: not offered');
      continue;
    }
    out.push({ id: entry.id, clientId: entry.clientId, clientSecret, tenantId, shared: false });
  }
  return out;
}

/**
 * Better Auth's `socialProviders` for a branch. Better Auth builds each provider with its real endpoints
 * (accounts.google.com, github.com, login.microsoftonline.com/<tenant>, vercel.com) and the callback
 * `<base_url>/callback/<id>`. A provider named in NEON_AUTH_OAUTH_ENDPOINTS is pointed elsewhere, through the
 * provider options Better Auth has for that, and through oauthEndpointsPlugin for the token endpoint (see there):
 * - `authorizationEndpoint` (Better Auth's documented option "for testing with local OAuth servers") for the
 *   authorize redirect; its query (client_id, redirect_uri, state, PKCE, scopes) is Better Auth's;
 * - the user: google and microsoft read it from the ID token the token endpoint answers, as Better Auth does with
 *   the real ones (Microsoft's profile photo, read from Graph, is skipped: Graph is not among the endpoints);
 *   github and vercel read `userinfo_endpoint` through Better Auth's `getUserInfo` option (oauthUserInfo).
 */
export function socialProvidersOption(providers: BranchSocialProvider[], endpoints: OAuthEndpointOverrides): NonNullable<BetterAuthOptions['socialProviders']> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const p of providers) {
    const options: Record<string, unknown> = { clientId: p.clientId, clientSecret: p.clientSecret };
    // The installation's shared app is every branch's: an ID token it issued to a user of one branch names the same
    // client (its audience), so Better Auth's ID-token sign-in (`/sign-in/social` with `idToken`) would let one tenant
    // sign in as that user at another. Shared providers sign in through the redirect flow only.
    if (p.shared) options.disableIdTokenSignIn = true;
    if (p.id === 'microsoft') options.tenantId = p.tenantId ?? 'common';
    const override = endpoints[p.id];
    if (override) {
      options.authorizationEndpoint = override.authorizationEndpoint;
      if (p.id === 'microsoft') options.disableProfilePhoto = true;
      if ((p.id === 'github' || p.id === 'vercel') && override.userinfoEndpoint) options.getUserInfo = oauthUserInfo(p.id, override.userinfoEndpoint);
    }
    out[p.id] = options;
  }
  return out as NonNullable<BetterAuthOptions['socialProviders']>;
}

/**
 * The user of an access token, read from an overridden provider's user-info endpoint (github, vercel), mapped as
 * Better Auth maps the real one: GitHub's `/user` (id, login, name, email, avatar_url) or OpenID Connect claims
 * (sub, name, preferred_username, email, picture, email_verified). `id` (GitHub's account subject) falls back to
 * `sub` and `sub` (Vercel's) to `id`, so an OpenID Connect server can stand in for either. Null (Better Auth then
 * redirects with `unable_to_get_user_info`) when the endpoint does not answer a profile.
 */
function oauthUserInfo(providerId: 'github' | 'vercel', endpoint: string) {
  return async (tokens: { accessToken?: string }) => {
    if (!tokens.accessToken) return null;
    let profile: Record<string, unknown>;
    try {
      const res = await fetch(endpoint, {
        headers: { authorization: `Bearer ${tokens.accessToken}`, accept: 'application/json', 'user-agent': 'better-auth' },
        redirect: 'error',
        signal: AbortSignal.timeout(USERINFO_TIMEOUT_MS),
      });
      if (!res.ok) return null;
      const body: unknown = await res.json();
      if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
      profile = body as Record<string, unknown>;
    } catch {
      return null;
    }
    const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);
    const subject = providerId === 'github' ? (text(profile.id) ?? text(profile.sub)) : (text(profile.sub) ?? text(profile.id));
    if (!subject) return null;
    const data = providerId === 'github' ? { ...profile, id: subject } : { ...profile, sub: subject };
    return {
      user: {
        id: subject,
        name: text(profile.name) ?? text(profile.preferred_username) ?? text(profile.login) ?? '',
        email: text(profile.email),
        image: text(profile.picture) ?? text(profile.avatar_url),
        emailVerified: profile.email_verified === true,
      },
      data,
    };
  };
}

/**
 * Points the token endpoint of the providers named in NEON_AUTH_OAUTH_ENDPOINTS elsewhere. Better Auth 1.7.29 has
 * an option for the authorization endpoint but hard-codes each provider's token endpoint inside its
 * `validateAuthorizationCode` (and `refreshAccessToken`); its provider objects are built from `socialProviders` by
 * the context, so a plugin's `init` (which may replace `context.socialProviders`, as Better Auth's generic-oauth
 * plugin does) is the one place to adjust them. Each overridden provider keeps everything of its own (authorize URL
 * with PKCE, ID-token and user-info reading, account subject, callback) but exchanges the code with Better Auth's
 * own `validateAuthorizationCode` (the same request the provider makes: grant, code, PKCE verifier, redirect_uri,
 * client authentication) against the configured token endpoint, and refreshes the same way. Nothing is faked: the
 * code exchange, the user read, the account row and the session are Better Auth's.
 */
export function oauthEndpointsPlugin(lib: BetterAuthLibrary, endpoints: OAuthEndpointOverrides): BetterAuthPlugin {
  const { validateAuthorizationCode, refreshAccessToken } = lib.oauth2;
  return {
    id: 'neon-oauth-endpoints',
    init(ctx) {
      const socialProviders = ctx.socialProviders.map((provider) => {
        const override = endpoints[provider.id as OAuthProviderId];
        if (!override) return provider;
        const options = (provider.options ?? {}) as { clientId?: string; clientSecret?: string; tokenEndpointAuth?: Parameters<typeof validateAuthorizationCode>[0]['tokenEndpointAuth'] };
        const tokenEndpoint = override.tokenEndpoint;
        return {
          ...provider,
          validateAuthorizationCode: (data: { code: string; redirectURI: string; codeVerifier?: string; deviceId?: string }) =>
            validateAuthorizationCode({ ...data, options, tokenEndpoint, tokenEndpointAuth: options.tokenEndpointAuth }),
          refreshAccessToken: provider.refreshAccessToken
            ? (refreshToken: string) => refreshAccessToken({ refreshToken, options: { clientId: options.clientId, clientSecret: options.clientSecret }, tokenEndpoint })
            : undefined,
        };
      });
      return { context: { socialProviders } };
    },
  };
}
