import type { APIError as APIErrorClass, betterAuth as BetterAuthFn } from 'better-auth';
import type { getMigrations as GetMigrationsFn } from 'better-auth/db/migration';
import type * as Plugins from 'better-auth/plugins';
import type { PostgresDialect as PostgresDialectClass } from 'kysely';

/** Better Auth and what the product uses of it, loaded on first use. */
export interface BetterAuthLibrary {
  betterAuth: typeof BetterAuthFn;
  /** The error an endpoint or hook throws to answer with a status, a code and a message. */
  APIError: typeof APIErrorClass;
  getMigrations: typeof GetMigrationsFn;
  /** The plugins, and the jwt plugin's key resolution (the webhooks sign with the branch's JWKS key). */
  plugins: Pick<typeof Plugins, 'jwt' | 'admin' | 'organization' | 'emailOTP' | 'magicLink' | 'phoneNumber' | 'resolveSigningKey'>;
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
    return { betterAuth: core.betterAuth, APIError: core.APIError, getMigrations: migration.getMigrations, plugins, PostgresDialect: kysely.PostgresDialect };
  })().catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}
