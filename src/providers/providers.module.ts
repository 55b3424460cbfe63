import { Injectable, Module } from '@nestjs/common';
import { AUTH_PROVIDER_KINDS, ProviderNotSupported, type AuthProvider, type AuthProviderKind } from './auth-provider.port.js';
import { BetterAuthModule } from '../better-auth/better-auth.module.js';
import { BetterAuthProviderAdapter } from './better-auth/better-auth-provider.adapter.js';
import { MockProviderAdapter, MockWebhookBus } from './mock/mock-provider.adapter.js';
import { StackProviderAdapter } from './stack/stack-provider.adapter.js';

/** The adapter of each provider kind. Callers ask by the `auth_provider` value of the request. */
@Injectable()
export class AuthProviderRegistry {
  private readonly adapters: ReadonlyMap<AuthProviderKind, AuthProvider>;

  constructor(stack: StackProviderAdapter, mock: MockProviderAdapter, betterAuth: BetterAuthProviderAdapter) {
    this.adapters = new Map<AuthProviderKind, AuthProvider>([
      ['stack', stack],
      ['mock', mock],
      ['better_auth', betterAuth],
    ]);
  }

  /** The adapter, or ProviderNotSupported for an unknown kind. */
  get(kind: string): AuthProvider {
    const adapter = (AUTH_PROVIDER_KINDS as readonly string[]).includes(kind) ? this.adapters.get(kind as AuthProviderKind) : undefined;
    if (!adapter) throw new ProviderNotSupported(kind);
    return adapter;
  }

  /** The kinds `get` answers with an adapter. */
  supportedKinds(): AuthProviderKind[] {
    return [...this.adapters.keys()];
  }
}

/**
 * The AuthProvider port's adapters: `stack` (HTTP to a Stack-Auth-compatible server), `mock` (in process, state in
 * the control-plane database) and `better_auth` (Better Auth hosted per branch database, src/better-auth). Uses the
 * global config, logger, secrets and TypeORM data source.
 */
@Module({
  imports: [BetterAuthModule],
  providers: [StackProviderAdapter, MockProviderAdapter, MockWebhookBus, BetterAuthProviderAdapter, AuthProviderRegistry],
  exports: [StackProviderAdapter, MockProviderAdapter, MockWebhookBus, AuthProviderRegistry, BetterAuthModule],
})
export class ProvidersModule {}
