import { Injectable, Module } from '@nestjs/common';
import { AUTH_PROVIDER_KINDS, ProviderNotSupported, type AuthProvider, type AuthProviderKind } from './auth-provider.port.js';
import { MockProviderAdapter, MockWebhookBus } from './mock/mock-provider.adapter.js';
import { StackProviderAdapter } from './stack/stack-provider.adapter.js';

/** The adapter of each provider kind. Callers ask by the `auth_provider` value of the request. */
@Injectable()
export class AuthProviderRegistry {
  private readonly adapters: ReadonlyMap<AuthProviderKind, AuthProvider>;

  constructor(stack: StackProviderAdapter, mock: MockProviderAdapter) {
    this.adapters = new Map<AuthProviderKind, AuthProvider>([
      ['stack', stack],
      ['mock', mock],
    ]);
  }

  /** The adapter, or ProviderNotSupported (`better_auth` for now: "better_auth is not supported yet"; unknown kinds too). */
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
 * The AuthProvider port's adapters: `stack` (HTTP to a Stack-Auth-compatible server) and `mock` (in
 * process, state in the control-plane database). Uses the global config, logger, secrets and TypeORM
 * data source.
 */
@Module({
  providers: [StackProviderAdapter, MockProviderAdapter, MockWebhookBus, AuthProviderRegistry],
  exports: [StackProviderAdapter, MockProviderAdapter, MockWebhookBus, AuthProviderRegistry],
})
export class ProvidersModule {}
