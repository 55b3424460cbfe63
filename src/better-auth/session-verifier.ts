import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { BetterAuthPlugin } from 'better-auth';
import type { BetterAuthLibrary } from './better-auth-library.js';

/** The query parameter Neon's SDK reads on the callback URL and sends back to get-session. */
export const SESSION_VERIFIER_PARAM = 'neon_auth_session_verifier';
/** `__Secure-neon-auth.session_challenge`, and the spelling Neon's server used first (the SDK reads both). */
export const SESSION_CHALLENGE_COOKIE = 'session_challenge';
export const LEGACY_SESSION_CHALLENGE_COOKIE = 'session_challange';
/** How long a verifier may wait for its exchange (the SDK exchanges it when the callback page loads). */
export const SESSION_VERIFIER_TTL_MS = 5 * 60_000;
/** The challenge cookie outlives the OAuth state (10 minutes) plus the verifier. */
const CHALLENGE_MAX_AGE_SECONDS = 15 * 60;
const VERIFIER_IDENTIFIER_PREFIX = 'neon-auth-session-verifier:';
/** Where the challenge's digest rides the OAuth state (Better Auth's server context: the client cannot set it). */
const STATE_KEY = 'neonAuthSessionChallenge';

function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

function digest(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `location` with `name=value` in its query (replacing any), relative locations kept relative. */
export function withQueryParam(location: string, name: string, value: string): string {
  const relative = location.startsWith('/') && !location.startsWith('//');
  let url: URL;
  try {
    url = new URL(location, relative ? 'http://relative.invalid' : undefined);
  } catch {
    return `${location}${location.includes('?') ? '&' : '?'}${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
  }
  url.searchParams.set(name, value);
  return relative ? `${url.pathname}${url.search}${url.hash}` : url.href;
}

type Hooked = {
  path?: string;
  body?: Record<string, unknown>;
  query?: Record<string, unknown>;
};

/**
 * Neon's OAuth session verifier, as Neon's SDK (`@neondatabase/auth`) drives it. A browser app talks to base_url
 * cross-site, so the session cookie the OAuth callback sets (a top-level visit of base_url) is not one the app's
 * later requests carry (third-party cookies are partitioned or blocked); the session is handed over instead:
 * 1. `POST /sign-in/social` also sets `__Secure-neon-auth.session_challenge` (random, HttpOnly, in the app's cookie
 *    partition) and puts its SHA-256 into the OAuth state (Better Auth's server context: the client cannot set it);
 * 2. the callback, once Better Auth has signed the user in, stores a one-time verifier (5 minutes, in
 *    `neon_auth.verification`, by its digest) bound to that digest and to the new session, and redirects to
 *    `callbackURL?neon_auth_session_verifier=<verifier>`;
 * 3. `GET /get-session?neon_auth_session_verifier=…` with the challenge cookie (either spelling) consumes the verifier
 *    (atomically: a second use finds nothing), checks the cookie against it, sets the session cookie, clears the
 *    challenge, and lets get-session answer `{session, user}` with `set-auth-jwt` as for any session.
 * Refusals: no challenge cookie, 400 SESSION_CHALLANGE_COOKIE_NOT_FOUND (Neon's code, spelling included); an
 * unknown, used or expired verifier (or its session gone), 400 INVALID_SESSION_VERIFIER; a cookie of another
 * sign-in, 403 SESSION_CHALLENGE_MISMATCH (the verifier is used up all the same).
 *
 * The OAuth state cookie: Better Auth also binds the callback to the browser with a state cookie set by
 * sign-in/social. Set by a cross-site request, that cookie lands in the app's partition and never reaches the
 * top-level callback, so Neon's flow cannot require it (the options set `account.skipStateCookieCheck`). The
 * challenge takes its place: the callback keeps Better Auth's session cookie only when the browser presents the
 * matching state cookie (the browser that started the flow, same-site); otherwise the session can be had only
 * through the verifier and the challenge cookie, which only the starting browser holds. So a callback URL replayed
 * into someone else's browser (login CSRF) signs nobody in.
 */
export function sessionVerifierPlugin(lib: BetterAuthLibrary): BetterAuthPlugin {
  const { createAuthMiddleware, addOAuthServerContext, getOAuthState, APIError, isAPIError } = lib.api;
  const { setSessionCookie, expireCookie, applySetCookies } = lib.cookies;
  /** Challenges issued by a sign-in/social request, until its after hook sets the cookie (keyed by its context). */
  const issued = new WeakMap<object, string>();

  return {
    id: 'neon-session-verifier',
    hooks: {
      before: [
        {
          matcher: (ctx: Hooked) => ctx.path === '/sign-in/social' && !ctx.body?.idToken,
          handler: createAuthMiddleware(async (ctx) => {
            const challenge = randomToken();
            await addOAuthServerContext({ [STATE_KEY]: digest(challenge) });
            issued.set(ctx.context, challenge);
          }),
        },
        {
          matcher: (ctx: Hooked) => ctx.path === '/get-session' && typeof ctx.query?.[SESSION_VERIFIER_PARAM] === 'string',
          handler: createAuthMiddleware(async (ctx) => {
            const verifier = String(ctx.query?.[SESSION_VERIFIER_PARAM]);
            const cookies = [SESSION_CHALLENGE_COOKIE, LEGACY_SESSION_CHALLENGE_COOKIE].map((name) => ctx.context.createAuthCookie(name));
            const present = cookies.flatMap((cookie) => {
              const value = ctx.getCookie(cookie.name);
              return value ? [{ cookie, value }] : [];
            });
            if (present.length === 0) {
              throw new APIError('BAD_REQUEST', {
                code: 'SESSION_CHALLANGE_COOKIE_NOT_FOUND',
                message: 'the session challenge cookie is missing: complete the sign-in in the browser that started it',
              });
            }
            const invalid = () => new APIError('BAD_REQUEST', { code: 'INVALID_SESSION_VERIFIER', message: 'the session verifier is unknown, already used or expired' });
            const row = await ctx.context.internalAdapter.consumeVerificationValue(`${VERIFIER_IDENTIFIER_PREFIX}${digest(verifier)}`);
            if (!row) throw invalid();
            let bound: { challenge?: unknown; token?: unknown };
            try {
              bound = JSON.parse(row.value) as typeof bound;
            } catch {
              throw invalid();
            }
            if (typeof bound.challenge !== 'string' || typeof bound.token !== 'string') throw invalid();
            const challenge = bound.challenge;
            if (!present.some(({ value }) => sameDigest(digest(value), challenge))) {
              throw new APIError('FORBIDDEN', { code: 'SESSION_CHALLENGE_MISMATCH', message: 'the session challenge cookie belongs to another sign-in' });
            }
            const session = await ctx.context.internalAdapter.findSession(bound.token);
            if (!session || new Date(session.session.expiresAt).getTime() <= Date.now()) throw invalid();
            await setSessionCookie(ctx as unknown as Parameters<typeof setSessionCookie>[0], session as Parameters<typeof setSessionCookie>[1]);
            for (const { cookie } of present) expireCookie(ctx as unknown as Parameters<typeof expireCookie>[0], cookie);
            // get-session reads the session from the request's cookies: give it the one just set.
            const sessionCookie = ctx.context.authCookies.sessionToken.name;
            const headers = new Headers(ctx.headers);
            applySetCookies(headers, ctx.responseHeaders.getSetCookie().filter((line) => line.startsWith(`${sessionCookie}=`)));
            return { context: { headers } };
          }),
        },
      ],
      after: [
        {
          matcher: (ctx: Hooked) => ctx.path === '/sign-in/social',
          handler: createAuthMiddleware(async (ctx) => {
            const challenge = issued.get(ctx.context);
            issued.delete(ctx.context);
            if (!challenge || isAPIError((ctx.context as { returned?: unknown }).returned)) return;
            const cookie = ctx.context.createAuthCookie(SESSION_CHALLENGE_COOKIE, { maxAge: CHALLENGE_MAX_AGE_SECONDS });
            ctx.setCookie(cookie.name, challenge, cookie.attributes);
          }),
        },
        {
          matcher: (ctx: Hooked) => ctx.path?.startsWith('/callback/') === true,
          handler: createAuthMiddleware(async (ctx) => {
            const state = await getOAuthState();
            const challenge = state?.serverContext?.[STATE_KEY];
            const created = ctx.context.newSession;
            const headers = (ctx.context as { responseHeaders?: Headers }).responseHeaders;
            const location = headers?.get('location');
            // Only a sign-in that started with a challenge and ended with a session (not an error redirect).
            if (typeof challenge !== 'string' || !created || !headers || !location) return;
            const verifier = randomToken();
            await ctx.context.internalAdapter.createVerificationValue({
              identifier: `${VERIFIER_IDENTIFIER_PREFIX}${digest(verifier)}`,
              value: JSON.stringify({ challenge, token: created.session.token }),
              expiresAt: new Date(Date.now() + SESSION_VERIFIER_TTL_MS),
            });
            headers.set('location', withQueryParam(location, SESSION_VERIFIER_PARAM, verifier));
            const stateCookie = ctx.context.createAuthCookie('state');
            const sameBrowser = (await ctx.getSignedCookie(stateCookie.name, ctx.context.secret)) === ctx.query?.state;
            if (!sameBrowser) {
              const sessionCookies = new Set([ctx.context.authCookies.sessionToken.name, ctx.context.authCookies.sessionData.name, ctx.context.authCookies.dontRememberToken.name]);
              const kept = headers.getSetCookie().filter((line) => !sessionCookies.has(line.slice(0, line.indexOf('='))));
              headers.delete('set-cookie');
              for (const line of kept) headers.append('set-cookie', line);
            }
          }),
        },
      ],
    },
  };
}
