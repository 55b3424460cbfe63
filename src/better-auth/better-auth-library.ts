import type { APIError as APIErrorClass, betterAuth as BetterAuthFn } from 'better-auth';
import type * as Api from 'better-auth/api';
import type * as Cookies from 'better-auth/cookies';
import type { getMigrations as GetMigrationsFn } from 'better-auth/db/migration';
import type * as OAuth2 from 'better-auth/oauth2';
import type * as Plugins from 'better-auth/plugins';
import type { PostgresDialect as PostgresDialectClass } from 'kysely';

/** Better Auth and what the product uses of it, loaded on first use. */
export interface BetterAuthLibrary {
  betterAuth: typeof BetterAuthFn;
  /** The error a hook throws to make Better Auth answer a status and a message (the e-mail provider's failures). */
  APIError: typeof APIErrorClass;
  getMigrations: typeof GetMigrationsFn;
  plugins: Pick<typeof Plugins, 'jwt' | 'admin' | 'organization' | 'emailOTP' | 'magicLink' | 'phoneNumber' | 'resolveSigningKey'>;
  /** What the product's own plugins use: hooks, the OAuth state, errors. */
  api: Pick<typeof Api, 'createAuthMiddleware' | 'addOAuthServerContext' | 'getOAuthState' | 'APIError' | 'isAPIError'>;
  cookies: Pick<typeof Cookies, 'setSessionCookie' | 'expireCookie' | 'applySetCookies'>;
  /** Better Auth's OAuth 2.0 code exchange and refresh, for providers pointed at other endpoints. */
  oauth2: Pick<typeof OAuth2, 'validateAuthorizationCode' | 'refreshAccessToken'>;
  PostgresDialect: typeof PostgresDialectClass;
}

let loading: Promise<BetterAuthLibrary> | undefined;

/**
 * Loads Better Auth the first time a branch's server (or its schema) is needed, not at start: its modules take about
 * a third of a second to load, which every process start (API replicas, the sync worker, the test suite's servers)
 * would otherwise pay whether or not any branch uses Better Auth.
 */
export function loadBetterAuthLibrary(): Promise<BetterAuthLibrary> {
  loading ??= (async () => {
    // One after the other: they share modules, and loaders that link ES modules (Jest's among them) can trip over two
    // dynamic imports linking the same dependency at once.
    const kysely = await import('kysely');
    const core = await import('better-auth');
    const plugins = await import('better-auth/plugins');
    const migration = await import('better-auth/db/migration');
    const api = await import('better-auth/api');
    const cookies = await import('better-auth/cookies');
    const oauth2 = await import('better-auth/oauth2');
    return { betterAuth: core.betterAuth, APIError: core.APIError, getMigrations: migration.getMigrations, plugins, PostgresDialect: kysely.PostgresDialect, api, cookies, oauth2 };
  })().catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}
