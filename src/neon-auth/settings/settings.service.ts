import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { ClusterLocks } from '../../common/cluster-locks.js';
import { ApiError, ErrorCode } from '../../common/errors.js';
import { LOGGER } from '../../common/logger.js';
import { OutboundHttp } from '../../common/outbound-http.js';
import { SecretsService } from '../../common/secrets.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { BetterAuthEmail } from '../../better-auth/email/better-auth-email.js';
import { ManualSends } from '../../better-auth/manual-sends.js';
import { hasSharedOAuthCredentials } from '../../better-auth/social-providers.js';
import { webhookTargetProblem } from '../../better-auth/webhooks/webhook-target.js';
import {
  DEFAULT_WEBHOOK_CONFIG,
  sealedFieldContext,
  trustedOriginForm,
  type EmailProviderConfig,
  type OAuthProviderId,
  type ProjectSettings,
  type SocialProviderConfig,
  type WebhookEvent,
} from '../../better-auth/project-config.js';
import type { AccessContext } from '../../iam/principal.js';
import type { BranchDatabase } from '../../projects/branch-databases/branch-databases.service.js';
import type { ProviderSettings, SettingsSection } from '../../providers/auth-provider.port.js';
import { projectAccessOf } from '../access.js';
import { NeonAuthIntegrationResolver, type ResolvedIntegration } from '../integrations/integration-resolver.js';
import { providerErrorToApi } from '../provider-errors.js';
import {
  MAX_TRUSTED_DOMAINS,
  type ListNeonAuthOauthProvidersResponseDto,
  type NeonAuthAddDomainToRedirectURIWhitelistRequestDto,
  type NeonAuthAddOAuthProviderRequestDto,
  type NeonAuthAllowLocalhostResponseDto,
  type NeonAuthConfigResponseDto,
  type NeonAuthConfigUpdateDto,
  type NeonAuthDeleteDomainFromRedirectURIWhitelistRequestDto,
  type NeonAuthEmailAndPasswordConfigDto,
  type NeonAuthEmailAndPasswordConfigUpdateDto,
  type NeonAuthEmailServerConfigDto,
  type NeonAuthEmailServerConfigResponseDto,
  type NeonAuthMagicLinkConfigDto,
  type NeonAuthMagicLinkConfigUpdateDto,
  type NeonAuthOauthProviderDto,
  type NeonAuthOrganizationConfigDto,
  type NeonAuthOrganizationConfigUpdateDto,
  type NeonAuthPhoneNumberConfigDto,
  type NeonAuthPhoneNumberConfigUpdateDto,
  type NeonAuthPluginConfigsDto,
  type NeonAuthRedirectURIWhitelistResponseDto,
  type NeonAuthUpdateOAuthProviderRequestDto,
  type NeonAuthWebhookConfigDto,
  type SendNeonAuthEmailProviderTestRequestDto,
  type SendNeonAuthTestEmailRequestDto,
  type SendNeonAuthTestEmailResponseDto,
} from './dto/settings.dto.js';
import { normalizeTrustedOrigin } from './trusted-origins.js';

/** The first key of the settings' advisory locks (the second is the integration id's hash). */
const SETTINGS_LOCK_NAMESPACE = 73_051_016;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Which branch a route names: its own (branch routes) or the project's default branch (legacy routes). */
export type SettingsScope = { branchId: string } | 'default-branch';

/** A branch's integration with the provider's settings store. */
interface SettingsTarget {
  resolved: ResolvedIntegration;
  settings: ProviderSettings;
  database: BranchDatabase;
  kind: string;
}

const SECTION_NAMES: Record<SettingsSection, string> = {
  trusted_domains: 'trusted domains',
  allow_localhost: 'allow_localhost',
  oauth_providers: 'OAuth providers',
  email_provider: 'the e-mail provider',
  email_and_password: 'e-mail and password settings',
  plugins: 'plugins',
  webhooks: 'webhooks',
  name: 'the application name',
};

export const INVALID_SHARED_OAUTH_PROVIDER_MESSAGE = (id: string): string =>
  `the shared ${id} OAuth app is not available on this installation (Neon's shared credentials do not exist offline): ` +
  'add the provider with client_id and client_secret of your own OAuth app, or ask the operator to configure shared credentials (NEON_AUTH_SHARED_OAUTH_CREDENTIALS)';

/**
 * Neon's configuration API for a branch's Neon Auth (trusted domains, OAuth providers, e-mail provider, e-mail and
 * password, localhost, plugins, webhooks, application name): the rules. Storage and effect are the provider's
 * (ProviderSettings: Better Auth keeps them in the branch's `neon_auth.project_config` row and rebuilds its server;
 * stack in its project's config): every change is one read-modify-write there, refused as a whole (nothing written)
 * when the body does not fit the current settings.
 *
 * - Secrets (OAuth client secrets, the SMTP password) are sealed with SECRETS_KEY before they are stored and never
 *   returned: client_secret is left out of answers, password is "" (Neon redacts it the same way).
 * - A section the provider does not have (e.g. plugins for stack) -> 400 AUTH_PROVIDER_NOT_SUPPORTED.
 * - A `shared` OAuth provider needs the installation's shared credentials: 400 INVALID_SHARED_OAUTH_PROVIDER otherwise.
 * - Access: the routes declare it (reads: whoever may read the project; changes: organization admins).
 */
@Injectable()
export class NeonAuthSettingsService {
  constructor(
    private readonly locks: ClusterLocks,
    private readonly integrations: NeonAuthIntegrationResolver,
    private readonly secrets: SecretsService,
    private readonly outbound: OutboundHttp,
    private readonly email: BetterAuthEmail,
    private readonly manualSends: ManualSends,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  // ---- trusted domains ----

  async listDomains(caller: AccessContext, scope: SettingsScope): Promise<NeonAuthRedirectURIWhitelistResponseDto> {
    const target = await this.target(caller, scope, 'trusted_domains');
    const settings = await this.read(target);
    return { domains: settings.trustedOrigins.map((domain) => ({ domain, auth_provider: target.kind })) };
  }

  async addDomain(caller: AccessContext, scope: SettingsScope, body: NeonAuthAddDomainToRedirectURIWhitelistRequestDto): Promise<void> {
    const target = await this.target(caller, scope, 'trusted_domains', body.auth_provider);
    const origin = normalizeTrustedOrigin(body.domain, 'domain');
    await this.update(target, (s) => {
      // Kept as given (what neonctl looks for when it deletes); one entry per origin.
      if (s.trustedOrigins.some((d) => trustedOriginForm(d) === origin)) return s;
      if (s.trustedOrigins.length >= MAX_TRUSTED_DOMAINS) throw ApiError.validation(`a branch has at most ${MAX_TRUSTED_DOMAINS} trusted domains; remove one first`);
      return { ...s, trustedOrigins: [...s.trustedOrigins, body.domain] };
    });
  }

  async deleteDomains(caller: AccessContext, scope: SettingsScope, body: NeonAuthDeleteDomainFromRedirectURIWhitelistRequestDto): Promise<void> {
    const target = await this.target(caller, scope, 'trusted_domains', body.auth_provider);
    const gone = new Set(body.domains.map((d, i) => normalizeTrustedOrigin(d.domain, `domains[${i}].domain`)));
    await this.update(target, (s) => ({ ...s, trustedOrigins: s.trustedOrigins.filter((d) => !gone.has(trustedOriginForm(d)) && !gone.has(d)) }));
  }

  // ---- allow_localhost ----

  async getAllowLocalhost(caller: AccessContext, scope: SettingsScope): Promise<NeonAuthAllowLocalhostResponseDto> {
    const target = await this.target(caller, scope, 'allow_localhost');
    return { allow_localhost: (await this.read(target)).allowLocalhost };
  }

  async setAllowLocalhost(caller: AccessContext, scope: SettingsScope, allow: boolean): Promise<NeonAuthAllowLocalhostResponseDto> {
    const target = await this.target(caller, scope, 'allow_localhost');
    const s = await this.update(target, (current) => ({ ...current, allowLocalhost: allow }));
    return { allow_localhost: s.allowLocalhost };
  }

  // ---- OAuth providers ----

  async listOAuthProviders(caller: AccessContext, scope: SettingsScope): Promise<ListNeonAuthOauthProvidersResponseDto> {
    const target = await this.target(caller, scope, 'oauth_providers');
    return { providers: (await this.read(target)).socialProviders.map(oauthProviderDto) };
  }

  async addOAuthProvider(caller: AccessContext, scope: SettingsScope, body: NeonAuthAddOAuthProviderRequestDto): Promise<NeonAuthOauthProviderDto> {
    const target = await this.target(caller, scope, 'oauth_providers');
    this.checkOAuthProviderId(target, body.id);
    checkTenantId(body.id, body.microsoft_tenant_id);
    const entry = this.oauthEntry(body.id, body.client_id, body.client_secret, body.microsoft_tenant_id);
    const s = await this.update(target, (current) => {
      const existing = current.socialProviders.find((p) => p.id === body.id);
      // Neon's default row lists Google with the shared app: adding it with your own credentials (what `neonctl
      // oauth-provider add --provider-id google --oauth-client-id …` does right after enabling) replaces that entry.
      if (existing && !(existing.isShared && !entry.isShared)) {
        throw ApiError.conflict(`the ${body.id} OAuth provider is already configured; update it with PATCH …/auth/oauth_providers/${body.id}`);
      }
      return { ...current, socialProviders: existing ? current.socialProviders.map((p) => (p.id === body.id ? entry : p)) : [...current.socialProviders, entry] };
    });
    return oauthProviderDto(s.socialProviders.find((p) => p.id === body.id) ?? entry);
  }

  async updateOAuthProvider(caller: AccessContext, scope: SettingsScope, id: string, body: NeonAuthUpdateOAuthProviderRequestDto): Promise<NeonAuthOauthProviderDto> {
    const target = await this.target(caller, scope, 'oauth_providers');
    this.checkOAuthProviderId(target, id);
    checkTenantId(id, body.microsoft_tenant_id);
    const providerId = id as OAuthProviderId;
    const s = await this.update(target, (current) => {
      const existing = current.socialProviders.find((p) => p.id === providerId);
      if (!existing) throw oauthProviderNotFound(providerId);
      let next: SocialProviderConfig;
      if (body.client_id === undefined && body.client_secret === undefined) {
        // Only the tenant changes, or nothing was given: Neon's "omit both to use the shared app".
        next = body.microsoft_tenant_id !== undefined ? { ...existing, tenantId: body.microsoft_tenant_id } : this.oauthEntry(providerId, undefined, undefined, existing.tenantId);
      } else if (existing.isShared && (body.client_id === undefined || body.client_secret === undefined)) {
        throw ApiError.validation(`the ${providerId} OAuth provider uses the shared app: give both client_id and client_secret to use your own`);
      } else {
        next = {
          id: providerId,
          isShared: false,
          clientId: body.client_id ?? existing.clientId,
          clientSecret: body.client_secret !== undefined ? this.sealClientSecret(body.client_secret) : existing.clientSecret,
          ...((body.microsoft_tenant_id ?? existing.tenantId) !== undefined ? { tenantId: body.microsoft_tenant_id ?? existing.tenantId } : {}),
        };
      }
      return { ...current, socialProviders: current.socialProviders.map((p) => (p.id === providerId ? next : p)) };
    });
    const stored = s.socialProviders.find((p) => p.id === providerId);
    if (!stored) throw new ApiError(ErrorCode.AuthProviderUnavailable, `the ${providerId} OAuth provider was not kept by the auth provider; read the list and retry`);
    return oauthProviderDto(stored);
  }

  async deleteOAuthProvider(caller: AccessContext, scope: SettingsScope, id: string): Promise<void> {
    const target = await this.target(caller, scope, 'oauth_providers');
    this.checkOAuthProviderId(target, id);
    await this.update(target, (current) => {
      if (!current.socialProviders.some((p) => p.id === id)) throw oauthProviderNotFound(id);
      return { ...current, socialProviders: current.socialProviders.filter((p) => p.id !== id) };
    });
  }

  // ---- e-mail provider ----

  async getEmailProvider(caller: AccessContext, scope: SettingsScope): Promise<NeonAuthEmailServerConfigResponseDto> {
    const target = await this.target(caller, scope, 'email_provider');
    return emailProviderDto((await this.read(target)).emailProvider);
  }

  async updateEmailProvider(caller: AccessContext, scope: SettingsScope, body: NeonAuthEmailServerConfigDto): Promise<NeonAuthEmailServerConfigResponseDto> {
    const target = await this.target(caller, scope, 'email_provider');
    if (body.type === 'shared') {
      const extra = (['host', 'port', 'username', 'password'] as const).filter((k) => body[k] !== undefined);
      if (extra.length > 0) throw ApiError.validation(`${extra.join(', ')} only apply to type "standard"`);
    } else if (body.host !== undefined) {
      this.checkSmtpHost(body.host);
    }
    const s = await this.update(target, (current) => ({ ...current, emailProvider: this.emailProviderFrom(body, current, target.settings.mergesPartialEmailProvider) }));
    return emailProviderDto(s.emailProvider);
  }

  /** Neon's send_test_email: a real SMTP conversation with the settings in the body (nothing is saved). */
  async sendTestEmail(caller: AccessContext, scope: SettingsScope, body: SendNeonAuthTestEmailRequestDto): Promise<SendNeonAuthTestEmailResponseDto> {
    const target = await this.target(caller, scope, 'email_provider');
    await this.manualSends.consume(target.resolved.integration.projectId);
    const { host, port, username, password, sender_email: senderEmail, sender_name: senderName } = body;
    return this.email.test({ host, port, username, password, senderEmail, senderName }, body.recipient_email);
  }

  /** Neon's email_provider/test: the same with the saved provider, which must be Better Auth's own SMTP server. */
  async testEmailProvider(caller: AccessContext, scope: SettingsScope, body: SendNeonAuthEmailProviderTestRequestDto): Promise<SendNeonAuthTestEmailResponseDto> {
    const target = await this.target(caller, scope, 'email_provider');
    if (target.kind !== 'better_auth') {
      throw new ApiError(ErrorCode.AuthProviderNotSupported, `the saved e-mail provider can be tested for better_auth only (this branch uses ${target.kind}); use POST …/auth/send_test_email with the settings instead`);
    }
    const provider = (await this.read(target)).emailProvider;
    if (provider.type !== 'standard') {
      throw ApiError.validation('the saved e-mail provider is the shared one: save your SMTP server first (PATCH …/auth/email_provider with type "standard")');
    }
    await this.manualSends.consume(target.resolved.integration.projectId);
    return this.email.testSaved(provider, body.recipient_email);
  }

  // ---- e-mail and password ----

  async getEmailAndPassword(caller: AccessContext, scope: SettingsScope): Promise<NeonAuthEmailAndPasswordConfigDto> {
    const target = await this.target(caller, scope, 'email_and_password');
    return emailAndPasswordDto(await this.read(target));
  }

  async updateEmailAndPassword(caller: AccessContext, scope: SettingsScope, body: NeonAuthEmailAndPasswordConfigUpdateDto): Promise<NeonAuthEmailAndPasswordConfigDto> {
    const target = await this.target(caller, scope, 'email_and_password');
    const s = await this.update(target, (current) => {
      const ep = current.emailAndPassword;
      const next = {
        enabled: body.enabled ?? ep.enabled,
        disableSignUp: body.disable_sign_up ?? ep.disableSignUp,
        emailVerificationMethod: body.email_verification_method ?? ep.emailVerificationMethod,
        requireEmailVerification: body.require_email_verification ?? ep.requireEmailVerification,
        autoSignInAfterVerification: body.auto_sign_in_after_verification ?? ep.autoSignInAfterVerification,
        sendVerificationEmailOnSignIn: body.send_verification_email_on_sign_in ?? ep.sendVerificationEmailOnSignIn,
        sendVerificationEmailOnSignUp: body.send_verification_email_on_sign_up ?? ep.sendVerificationEmailOnSignUp,
        minPasswordLength: body.min_password_length ?? ep.minPasswordLength,
        maxPasswordLength: body.max_password_length ?? ep.maxPasswordLength,
      };
      if (next.minPasswordLength > next.maxPasswordLength) {
        throw ApiError.validation(`min_password_length (${next.minPasswordLength}) must not exceed max_password_length (${next.maxPasswordLength})`);
      }
      return { ...current, emailAndPassword: next };
    });
    return emailAndPasswordDto(s);
  }

  // ---- application name ----

  async updateName(caller: AccessContext, scope: SettingsScope, body: NeonAuthConfigUpdateDto): Promise<NeonAuthConfigResponseDto> {
    const target = await this.target(caller, scope, 'name');
    const s = await this.update(target, (current) => ({ ...current, name: body.name.trim() }));
    return { name: s.name };
  }

  // ---- plugins ----

  async getPlugins(caller: AccessContext, scope: SettingsScope): Promise<NeonAuthPluginConfigsDto> {
    const target = await this.target(caller, scope);
    const s = await this.read(target);
    const has = (section: SettingsSection) => target.settings.sections.includes(section);
    const out: NeonAuthPluginConfigsDto = {};
    if (has('plugins')) {
      out.organization = organizationDto(s);
      out.magic_link = magicLinkDto(s);
      out.phone_number = phoneNumberDto(s);
    }
    if (has('email_provider')) out.email_provider = emailProviderDto(s.emailProvider);
    if (has('email_and_password')) out.email_and_password = emailAndPasswordDto(s);
    if (has('oauth_providers')) out.oauth_providers = s.socialProviders.map(oauthProviderDto);
    if (has('allow_localhost')) out.allow_localhost = s.allowLocalhost;
    return out;
  }

  async updateOrganization(caller: AccessContext, scope: SettingsScope, body: NeonAuthOrganizationConfigUpdateDto): Promise<NeonAuthOrganizationConfigDto> {
    const target = await this.target(caller, scope, 'plugins');
    const s = await this.update(target, (current) => {
      const org = current.plugins.organization;
      return {
        ...current,
        plugins: {
          ...current.plugins,
          organization: {
            enabled: body.enabled ?? org.enabled,
            config: {
              organizationLimit: body.organization_limit ?? org.config.organizationLimit,
              membershipLimit: body.membership_limit ?? org.config.membershipLimit,
              creatorRole: body.creator_role ?? org.config.creatorRole,
              sendInvitationEmail: body.send_invitation_email ?? org.config.sendInvitationEmail,
            },
          },
        },
      };
    });
    return organizationDto(s);
  }

  async updateMagicLink(caller: AccessContext, scope: SettingsScope, body: NeonAuthMagicLinkConfigUpdateDto): Promise<NeonAuthMagicLinkConfigDto> {
    const target = await this.target(caller, scope, 'plugins');
    const s = await this.update(target, (current) => {
      const magic = current.plugins.magicLink;
      return {
        ...current,
        plugins: {
          ...current.plugins,
          magicLink: {
            enabled: body.enabled ?? magic.enabled,
            config: { expiresIn: body.expires_in ?? magic.config.expiresIn, disableSignUp: body.disable_sign_up ?? magic.config.disableSignUp },
          },
        },
      };
    });
    return magicLinkDto(s);
  }

  async getPhoneNumber(caller: AccessContext, scope: SettingsScope): Promise<NeonAuthPhoneNumberConfigDto> {
    const target = await this.target(caller, scope, 'plugins');
    return phoneNumberDto(await this.read(target));
  }

  async updatePhoneNumber(caller: AccessContext, scope: SettingsScope, body: NeonAuthPhoneNumberConfigUpdateDto): Promise<NeonAuthPhoneNumberConfigDto> {
    const target = await this.target(caller, scope, 'plugins');
    const s = await this.update(target, (current) => {
      const phone = current.plugins.phoneNumber;
      return {
        ...current,
        plugins: {
          ...current.plugins,
          phoneNumber: { enabled: body.enabled ?? phone.enabled, config: { otp_expires_in: body.otp_expires_in ?? phone.config.otp_expires_in } },
        },
      };
    });
    return phoneNumberDto(s);
  }

  // ---- webhooks ----

  async getWebhooks(caller: AccessContext, scope: SettingsScope): Promise<NeonAuthWebhookConfigDto> {
    const target = await this.target(caller, scope, 'webhooks');
    return webhookDto(await this.read(target));
  }

  /** Full replace (PUT): what the body leaves out goes back to Neon's default. */
  async replaceWebhooks(caller: AccessContext, scope: SettingsScope, body: NeonAuthWebhookConfigDto): Promise<NeonAuthWebhookConfigDto> {
    const target = await this.target(caller, scope, 'webhooks');
    const url = body.webhook_url === undefined || body.webhook_url === '' ? undefined : this.checkWebhookUrl(body.webhook_url);
    if (body.enabled && !url) throw ApiError.validation('webhook_url is required when enabled is true');
    const events = [...new Set(body.enabled_events ?? [])] as WebhookEvent[];
    const s = await this.update(target, (current) => ({
      ...current,
      webhook: {
        enabled: body.enabled,
        enabledEvents: events,
        timeoutSeconds: body.timeout_seconds ?? DEFAULT_WEBHOOK_CONFIG.timeoutSeconds,
        ...(url ? { webhookUrl: url } : {}),
      },
    }));
    return webhookDto(s);
  }

  // ---- the rules ----

  /**
   * The branch's integration and its provider's settings store. `section` must be one the provider has (400
   * otherwise); `bodyProvider` (the `auth_provider` some bodies carry) must name the integration's provider.
   */
  private async target(caller: AccessContext, scope: SettingsScope, section?: SettingsSection, bodyProvider?: string): Promise<SettingsTarget> {
    const { project } = projectAccessOf(caller);
    const integration =
      scope === 'default-branch' ? await this.integrations.findForDefaultBranch(project.id) : await this.integrations.findForBranch(project.id, scope.branchId);
    const kind = integration.authProvider;
    if (bodyProvider !== undefined && bodyProvider !== kind) {
      throw ApiError.validation(`auth_provider is ${bodyProvider}, but Neon Auth on this branch uses ${kind}`);
    }
    const resolved = this.integrations.resolve(integration);
    const settings = resolved.provider.settings;
    if (!settings || (section && !settings.sections.includes(section))) {
      throw new ApiError(ErrorCode.AuthProviderNotSupported, `${section ? SECTION_NAMES[section] : 'settings'} cannot be configured for auth_provider ${kind}${settings ? '' : ' (it has no settings)'}`);
    }
    const database = await this.integrations.branchDatabaseOf(integration);
    return { resolved, settings, database, kind };
  }

  private async read(target: SettingsTarget): Promise<ProjectSettings> {
    try {
      return await target.settings.read(target.resolved.credentials, target.database);
    } catch (err) {
      throw this.storeFailure(err, target, 'read');
    }
  }

  /**
   * One change at a time per integration across the cluster (ClusterLocks: an advisory lock in the control-plane
   * database): a provider whose store has no compare-and-set (Stack's GET then PATCH) must not lose a change made
   * through another replica in between. Better Auth's row lock would do alone; the lock costs it nothing.
   */
  private async update(target: SettingsTarget, change: (current: ProjectSettings) => ProjectSettings): Promise<ProjectSettings> {
    try {
      return await this.locks.withLock(SETTINGS_LOCK_NAMESPACE, target.resolved.integration.id, () =>
        target.settings.update(target.resolved.credentials, target.database, change),
      );
    } catch (err) {
      throw this.storeFailure(err, target, 'write');
    }
  }

  /** ApiErrors (a refusal of the change) pass; provider errors map as everywhere; anything else is an outage (503). */
  private storeFailure(err: unknown, target: SettingsTarget, what: 'read' | 'write'): unknown {
    if (err instanceof ApiError) return err;
    const mapped = providerErrorToApi(err);
    if (mapped instanceof ApiError) return mapped;
    this.logger.warn({ err, integrationId: target.resolved.integration.id }, `neon auth settings: could not ${what} the settings`);
    return new ApiError(ErrorCode.AuthProviderUnavailable, `the Neon Auth settings of this branch could not be ${what === 'read' ? 'read' : 'saved'}; retry later`);
  }

  private checkOAuthProviderId(target: SettingsTarget, id: string): void {
    if (!target.settings.oauthProviders.includes(id)) {
      throw ApiError.validation(`unknown OAuth provider id ${JSON.stringify(id)}: ${target.kind} supports ${target.settings.oauthProviders.join(', ')}`);
    }
  }

  /** A provider entry from a request: both credentials (standard), or neither (shared, if the installation has it). */
  private oauthEntry(id: OAuthProviderId, clientId: string | undefined, clientSecret: string | undefined, tenantId: string | undefined): SocialProviderConfig {
    const tenant = tenantId !== undefined ? { tenantId } : {};
    if (clientId === undefined && clientSecret === undefined) {
      if (!hasSharedOAuthCredentials(this.config, id)) throw new ApiError(ErrorCode.InvalidSharedOauthProvider, INVALID_SHARED_OAUTH_PROVIDER_MESSAGE(id));
      return { id, isShared: true, ...tenant };
    }
    if (clientId === undefined || clientSecret === undefined) throw ApiError.validation('client_id and client_secret go together: give both (your own OAuth app) or neither (the shared app)');
    return { id, isShared: false, clientId, clientSecret: this.sealClientSecret(clientSecret), ...tenant };
  }

  /**
   * The stored e-mail provider after a PATCH. `standard` needs all six fields, except that a provider which merges
   * (Better Auth) takes the missing ones from the stored standard settings. The password is never carried over to
   * another server: a change of host, port or login needs the password again (it is sealed for its server).
   */
  private emailProviderFrom(body: NeonAuthEmailServerConfigDto, current: ProjectSettings, merges: boolean): EmailProviderConfig {
    if (body.type === 'shared') {
      return { type: 'shared', ...(body.sender_email !== undefined ? { senderEmail: body.sender_email } : {}), ...(body.sender_name !== undefined ? { senderName: body.sender_name } : {}) };
    }
    const stored = current.emailProvider;
    const base = merges && stored.type === 'standard' ? stored : undefined;
    const username = body.username ?? base?.username;
    const merged = {
      host: body.host ?? base?.host,
      port: body.port ?? base?.port,
      username,
      password: body.password,
      // neonctl sends no sender unless asked: a merging provider defaults it to the SMTP login when that is an address
      // (most servers want From to be the account) and to the application's name.
      senderEmail: body.sender_email ?? base?.senderEmail ?? (merges && username && EMAIL.test(username) ? username : undefined),
      senderName: body.sender_name ?? base?.senderName ?? (merges ? current.name : undefined),
    };
    const sameServer = base !== undefined && merged.host?.toLowerCase() === base.host.toLowerCase() && merged.port === base.port && merged.username === base.username;
    const names: Record<keyof typeof merged, string> = { host: 'host', port: 'port', username: 'username', password: 'password', senderEmail: 'sender_email', senderName: 'sender_name' };
    const missing = (Object.keys(merged) as (keyof typeof merged)[]).filter((k) => merged[k] === undefined && !(k === 'password' && sameServer)).map((k) => names[k]);
    if (missing.length > 0) {
      throw ApiError.validation(
        !merges
          ? `type "standard" needs all six fields host, port, username, password, sender_email and sender_name; missing: ${missing.join(', ')}`
          : base && missing.includes('password') && missing.length === 1
            ? 'password is required when host, port or username change (the stored password is only ever sent to the server it was saved for)'
            : `type "standard" needs ${missing.join(', ')} (the stored e-mail provider has none to keep)`,
      );
    }
    const server = { host: merged.host!, port: merged.port!, username: merged.username! };
    const password = body.password !== undefined ? this.secrets.encrypt(body.password, sealedFieldContext('email_provider.password', server)) : base!.password;
    return { type: 'standard', ...server, password, senderEmail: merged.senderEmail!, senderName: merged.senderName! };
  }

  /** An SMTP host that is an address (or a metadata name) must pass the outgoing-request rule now; names are checked when connected to. */
  private checkSmtpHost(host: string): void {
    const decision = this.outbound.policy.checkUrl(`https://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}`);
    if (decision.verdict === 'refuse') {
      throw ApiError.validation('host is not allowed: outgoing connections go to public addresses only (an operator can allow a private mail server with OUTBOUND_ALLOWED_HOSTS)');
    }
  }

  /**
   * A webhook target, judged as far as it can be before connecting (webhookTargetProblem: https unless the operator
   * allows the host, no credentials, no refused address or metadata name). Names are not resolved here (an offline
   * install may not resolve them yet): every delivery resolves and checks them again at connect time.
   */
  private checkWebhookUrl(raw: string): string {
    const problem = webhookTargetProblem(this.outbound.policy, raw);
    if (problem) throw ApiError.validation(problem);
    return new URL(raw).toString();
  }

  private sealClientSecret(value: string): string {
    return this.secrets.encrypt(value, sealedFieldContext('social_providers.clientSecret'));
  }
}

function checkTenantId(id: string, tenantId: string | undefined): void {
  if (tenantId !== undefined && id !== 'microsoft') throw ApiError.validation('microsoft_tenant_id only applies to the microsoft provider');
}

function oauthProviderNotFound(id: string): ApiError {
  return ApiError.notFound(`OAuth provider ${id}`);
}

// ---- answers (secrets never leave) ----

function oauthProviderDto(p: SocialProviderConfig): NeonAuthOauthProviderDto {
  const out: NeonAuthOauthProviderDto = { id: p.id, type: p.isShared ? 'shared' : 'standard', client_id: p.isShared ? '' : (p.clientId ?? '') };
  if (p.id === 'microsoft') out.microsoft_tenant_id = p.tenantId ?? 'common';
  return out;
}

function emailProviderDto(e: EmailProviderConfig): NeonAuthEmailServerConfigResponseDto {
  if (e.type === 'shared') {
    return { type: 'shared', ...(e.senderEmail !== undefined ? { sender_email: e.senderEmail } : {}), ...(e.senderName !== undefined ? { sender_name: e.senderName } : {}) };
  }
  return { type: 'standard', host: e.host, port: e.port, username: e.username, password: '', sender_email: e.senderEmail, sender_name: e.senderName };
}

function emailAndPasswordDto(s: ProjectSettings): NeonAuthEmailAndPasswordConfigDto {
  const ep = s.emailAndPassword;
  return {
    enabled: ep.enabled,
    email_verification_method: ep.emailVerificationMethod,
    require_email_verification: ep.requireEmailVerification,
    auto_sign_in_after_verification: ep.autoSignInAfterVerification,
    send_verification_email_on_sign_up: ep.sendVerificationEmailOnSignUp,
    send_verification_email_on_sign_in: ep.sendVerificationEmailOnSignIn,
    disable_sign_up: ep.disableSignUp,
    min_password_length: ep.minPasswordLength,
    max_password_length: ep.maxPasswordLength,
  };
}

function organizationDto(s: ProjectSettings): NeonAuthOrganizationConfigDto {
  const org = s.plugins.organization;
  return {
    enabled: org.enabled,
    organization_limit: org.config.organizationLimit,
    membership_limit: org.config.membershipLimit,
    creator_role: org.config.creatorRole,
    send_invitation_email: org.config.sendInvitationEmail,
  };
}

function magicLinkDto(s: ProjectSettings): NeonAuthMagicLinkConfigDto {
  const m = s.plugins.magicLink;
  return { enabled: m.enabled, expires_in: m.config.expiresIn, disable_sign_up: m.config.disableSignUp };
}

function phoneNumberDto(s: ProjectSettings): NeonAuthPhoneNumberConfigDto {
  const p = s.plugins.phoneNumber;
  return { enabled: p.enabled, otp_expires_in: p.config.otp_expires_in };
}

function webhookDto(s: ProjectSettings): NeonAuthWebhookConfigDto {
  const w = s.webhook;
  return { enabled: w.enabled, webhook_url: w.webhookUrl ?? '', enabled_events: [...w.enabledEvents], timeout_seconds: w.timeoutSeconds };
}
