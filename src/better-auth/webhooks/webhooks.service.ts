import { randomUUID } from 'node:crypto';
import { AsyncResource } from 'node:async_hooks';
import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../../common/logger.js';
import { OutboundHttp } from '../../common/outbound-http.js';
import { SecretsService } from '../../common/secrets.js';
import type { BetterAuthLibrary } from '../better-auth-library.js';
import type { AuthEventContext, BranchAuthEvents, OutgoingMessage } from '../better-auth-options.js';
import { requestOrigin } from '../better-auth-options.js';
import type { BetterAuthServer, BranchAuthTenant } from '../better-auth-servers.js';
import { pruneBranchLog } from '../branch-log.js';
import type { ProjectConfig, WebhookEvent } from '../project-config.js';
import { WebhookDeliveryEntity } from './webhook-delivery.entity.js';
import { parseBeforeCreateAnswer, redactedEnvelope, webhookUser, type WebhookEnvelope, type WebhookUser } from './webhook-envelope.js';
import { sendWebhook, type WebhookResult } from './webhook-attempts.js';
import { signWebhook, type WebhookSigningKey } from './webhook-signature.js';
import { webhookTargetProblem } from './webhook-target.js';

/** How long a delivery stays in the log (its codes and links expire well before). */
export const WEBHOOK_LOG_RETENTION_MS = 24 * 3600_000;
/** Most deliveries kept per branch (a flood of sign-ups cannot grow the control-plane database without bound). */
export const WEBHOOK_LOG_MAX_PER_BRANCH = 1000;
/** How long a resolved signing key is used before it is read again (a stale one serves while it is re-read). */
const SIGNING_KEY_TTL_MS = 5 * 60_000;
/** Most signing keys kept (one per integration that sends webhooks). */
const MAX_CACHED_KEYS = 10_000;

/** The AAD a delivery's sealed body is encrypted with: the event, so a body moved to another event does not open. */
export function sealedBodyContext(eventId: string): string {
  return `neon_auth_webhook_deliveries.sealed_body:${eventId}`;
}

/**
 * Runs `fn` outside the async context of the request that calls it. Better Auth keeps its transaction in an
 * AsyncLocalStorage: the signing key must be read (and, the first time, created) outside the sign-up's transaction, so
 * it is committed before the receiver fetches the JWKS to verify; background deliveries must not carry a finished
 * request's context either. The resource is created when this module loads, where no request context exists.
 */
const outsideRequests = new AsyncResource('neon-auth-webhooks');
function detached<T>(fn: () => Promise<T>): Promise<T> {
  return outsideRequests.runInAsyncScope(fn);
}

/** Where and how a branch's event is delivered. */
interface DeliveryTarget {
  tenant: Pick<BranchAuthTenant, 'integrationId' | 'projectId' | 'branchId' | 'databaseName'>;
  url: string;
  timeoutSeconds: number;
  sign: (timestamp: string, rawBody: string) => Promise<{ signature: string; kid: string }>;
}

/** An event to deliver: its body as sent (a replay sends the stored one) and what the log shows of it. */
interface DeliveryEvent {
  eventId: string;
  eventType: WebhookEvent;
  rawBody: string;
  payload: WebhookEnvelope;
}

export interface DeliveryOutcome {
  result: WebhookResult;
  /** The log row (undefined when the log could not be written: the delivery happened all the same). */
  deliveryId?: string;
}

/**
 * Neon Auth's outgoing webhooks for the hosted Better Auth servers (reference: neon-auth-better-auth.md "Webhooks"):
 * the events of a branch's server (forBranch), their delivery, signed with the branch's JWKS key, through the guarded
 * outbound client, and the delivery log (src/better-auth/webhooks/webhook-deliveries.service.ts reads and replays it).
 */
@Injectable()
export class BetterAuthWebhooks implements BeforeApplicationShutdown {
  /**
   * Signing keys by integration and secret (a server rebuilt after a settings change keeps using the key read for the
   * one before it: no sign-up after a change reads it inside its transaction). Bounded; oldest first out.
   */
  private readonly keys = new Map<string, { key: Promise<WebhookSigningKey>; at: number }>();
  /** Background deliveries under way (waited for at shutdown; each ends within the 15 s budget). */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly outbound: OutboundHttp,
    private readonly secrets: SecretsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * The webhooks of one built server: `events` for Better Auth's hooks (undefined when the branch listens to none of
   * them) and `send`, which replaces the e-mail or SMS of one-time codes (send.otp) and links (send.magic_link) while
   * those events are on, and otherwise hands the message to `fallback`. `server` is the server being built.
   */
  forBranch(
    tenant: BranchAuthTenant,
    config: ProjectConfig,
    lib: BetterAuthLibrary,
    server: () => BetterAuthServer,
  ): { events?: BranchAuthEvents; send: (fallback: (message: OutgoingMessage) => Promise<void>) => (message: OutgoingMessage) => Promise<void> } {
    const branch = new BranchWebhooks(this, tenant, config, lib, server);
    const w = config.webhook;
    const active = w.enabled && !!w.webhookUrl && w.enabledEvents.length > 0;
    if (active) {
      // The key read ahead, outside any request (the first sign-up would otherwise read it while holding its transaction).
      setImmediate(() => {
        try {
          void this.signingKey(lib, server(), tenant).catch(() => undefined);
        } catch {
          // The server was never built (its options were refused): nothing to warm.
        }
      });
    }
    return { events: active ? branch : undefined, send: (fallback) => (message) => branch.send(message, fallback) };
  }

  /** A server's current signing key: the jwt plugin's own resolution (decrypted with the branch's secret), read outside any transaction. */
  signingKey(lib: BetterAuthLibrary, server: BetterAuthServer, tenant: Pick<BranchAuthTenant, 'integrationId' | 'secret'>): Promise<WebhookSigningKey> {
    const cacheKey = `${tenant.integrationId}\u0000${tenant.secret}`;
    const cached = this.keys.get(cacheKey);
    const now = Date.now();
    if (cached && now - cached.at < SIGNING_KEY_TTL_MS) return cached.key;
    const fresh = detached(async () => {
      const context = (await server.$context) as unknown as { options: { plugins?: { id: string; options?: unknown }[] } };
      const jwtOptions = context.options.plugins?.find((p) => p.id === 'jwt')?.options;
      const resolved = await lib.plugins.resolveSigningKey({ context } as never, jwtOptions as never);
      if (!resolved) throw new Error('the jwt plugin signs through a callback: no stored key to sign webhooks with');
      return { kid: resolved.kid, alg: resolved.alg, privateKey: resolved.privateKey } satisfies WebhookSigningKey;
    });
    if (cached) {
      // Stale: it serves while the key is read again (a failed read keeps it for another period).
      cached.at = now;
      fresh.then(
        () => this.keys.set(cacheKey, { key: fresh, at: Date.now() }),
        (err: unknown) => this.logger.warn({ err }, 'better auth webhooks: could not read the signing key again; the previous one stays in use'),
      );
      return cached.key;
    }
    const entry = { key: fresh, at: now };
    if (this.keys.size >= MAX_CACHED_KEYS) this.keys.delete(this.keys.keys().next().value as string);
    this.keys.set(cacheKey, entry);
    fresh.catch(() => {
      if (this.keys.get(cacheKey) === entry) this.keys.delete(cacheKey);
    });
    return fresh;
  }

  /** The signer of a server's deliveries. */
  signer(lib: BetterAuthLibrary, server: BetterAuthServer, tenant: Pick<BranchAuthTenant, 'integrationId' | 'secret'>): DeliveryTarget['sign'] {
    return async (timestamp, rawBody) => {
      const key = await this.signingKey(lib, server, tenant);
      return { signature: await signWebhook(key, timestamp, rawBody), kid: key.kid };
    };
  }

  /**
   * Delivers an event now and logs it (the log never fails a delivery). `blocking`: someone waits on the answer (see
   * WebhookRequest.blocking). `outcome` words what the answer decided, for the log.
   */
  async deliver(
    target: DeliveryTarget,
    event: DeliveryEvent,
    options: { blocking: boolean; replayOf?: string; outcome?: (result: WebhookResult) => string | null },
  ): Promise<DeliveryOutcome> {
    const deliveryId = await this.logStart(target, event, options.replayOf);
    const problem = webhookTargetProblem(this.outbound.policy, target.url);
    let result: WebhookResult;
    let outcome: string | null;
    if (problem) {
      result = { delivered: false, attempts: [] };
      outcome = `not sent: ${problem}`;
    } else {
      result = await sendWebhook(this.outbound, {
        url: target.url,
        eventType: event.eventType,
        eventId: event.eventId,
        rawBody: event.rawBody,
        timeoutMs: target.timeoutSeconds * 1000,
        blocking: options.blocking,
        sign: target.sign,
      });
      outcome = options.outcome?.(result) ?? null;
    }
    if (deliveryId) await this.logEnd(deliveryId, result, outcome);
    if (!result.delivered) {
      const last = result.attempts.at(-1);
      this.logger.warn(
        { branchId: target.tenant.branchId, eventType: event.eventType, eventId: event.eventId, attempts: result.attempts.length, error: last?.error ?? outcome },
        'better auth webhooks: delivery failed',
      );
    }
    return { result, deliveryId };
  }

  /** Delivers in the background: never slows or fails the request that caused the event. */
  deliverLater(target: DeliveryTarget, event: DeliveryEvent): void {
    const running = detached(() => this.deliver(target, event, { blocking: false })).catch((err: unknown) =>
      this.logger.error({ err, branchId: target.tenant.branchId, eventType: event.eventType }, 'better auth webhooks: background delivery crashed'),
    );
    this.inFlight.add(running);
    void running.finally(() => this.inFlight.delete(running));
  }

  /** Lets background deliveries end (each within the 15 s budget) before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async logStart(target: DeliveryTarget, event: DeliveryEvent, replayOf: string | undefined): Promise<string | undefined> {
    try {
      const repo = this.db.getRepository(WebhookDeliveryEntity);
      const inserted = await repo.insert({
        integrationId: target.tenant.integrationId,
        projectId: target.tenant.projectId,
        branchId: target.tenant.branchId,
        databaseName: target.tenant.databaseName,
        eventId: event.eventId,
        eventType: event.eventType,
        webhookUrl: target.url,
        status: 'pending',
        outcome: null,
        attempts: [],
        payload: { ...event.payload },
        sealedBody: this.secrets.encrypt(event.rawBody, sealedBodyContext(event.eventId)),
        replayOf: replayOf ?? null,
        completedAt: null,
      });
      await pruneBranchLog(this.db, 'neon_auth_webhook_deliveries', target.tenant.branchId, { retentionMs: WEBHOOK_LOG_RETENTION_MS, maxPerBranch: WEBHOOK_LOG_MAX_PER_BRANCH });
      return (inserted.identifiers[0] as { id: string }).id;
    } catch (err) {
      this.logger.warn({ err, branchId: target.tenant.branchId, eventType: event.eventType }, 'better auth webhooks: could not log a delivery (it is sent all the same)');
      return undefined;
    }
  }

  private async logEnd(id: string, result: WebhookResult, outcome: string | null): Promise<void> {
    try {
      await this.db.getRepository(WebhookDeliveryEntity).update(
        { id },
        { status: result.delivered ? 'delivered' : 'failed', attempts: result.attempts, outcome, completedAt: new Date() },
      );
    } catch (err) {
      this.logger.warn({ err, deliveryId: id }, 'better auth webhooks: could not log the end of a delivery');
    }
  }
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * One built server's webhooks: Better Auth's hooks (BranchAuthEvents) and the replacement of the built-in delivery of
 * codes and links. The settings are the server's (a settings change rebuilds the server, and with it this).
 */
class BranchWebhooks implements BranchAuthEvents {
  constructor(
    private readonly webhooks: BetterAuthWebhooks,
    private readonly tenant: BranchAuthTenant,
    private readonly config: ProjectConfig,
    private readonly lib: BetterAuthLibrary,
    private readonly server: () => BetterAuthServer,
  ) {}

  private on(event: WebhookEvent): boolean {
    const w = this.config.webhook;
    return w.enabled && !!w.webhookUrl && w.enabledEvents.includes(event);
  }

  private target(): DeliveryTarget {
    return { tenant: this.tenant, url: this.config.webhook.webhookUrl ?? '', timeoutSeconds: this.config.webhook.timeoutSeconds, sign: this.webhooks.signer(this.lib, this.server(), this.tenant) };
  }

  private event(type: WebhookEvent, user: WebhookUser, data: Record<string, unknown>): DeliveryEvent {
    const envelope: WebhookEnvelope = {
      event_id: randomUUID(),
      event_type: type,
      timestamp: new Date().toISOString(),
      context: { endpoint_id: this.config.endpointId, project_name: this.config.name },
      user,
      event_data: data,
    };
    return { eventId: envelope.event_id, eventType: type, rawBody: JSON.stringify(envelope), payload: redactedEnvelope(envelope) };
  }

  /**
   * user.before_create, blocking and fail-closed: the user is created only when the receiver answers 2xx with
   * `{"allowed": true}`. A refusal answers the client 400 with the receiver's error_message and error_code; no answer,
   * a failed one or a malformed one answers 503 (the sign-up can be tried again). The id the user will have is
   * chosen here and sent along, so user.before_create and user.created name the same user.
   */
  async beforeUserCreate(user: Record<string, unknown>, ctx: AuthEventContext | null): Promise<{ data: Record<string, unknown> } | undefined> {
    if (!this.on('user.before_create')) return undefined;
    const id = typeof user.id === 'string' && UUID_V4.test(user.id) ? user.id : randomUUID();
    const event = this.event('user.before_create', webhookUser({ ...user, id }), { auth_provider: authProviderOf(ctx), ...originData(ctx) });
    const { result } = await this.webhooks.deliver(this.target(), event, {
      blocking: true,
      outcome: (r) => {
        if (!r.answer) return null;
        const answer = parseBeforeCreateAnswer(r.answer.text);
        return 'malformed' in answer ? `malformed answer: ${answer.malformed}` : answer.allowed ? 'allowed' : `refused${answer.errorCode ? ` (${answer.errorCode})` : ''}`;
      },
    });
    const answer = result.answer ? parseBeforeCreateAnswer(result.answer.text) : undefined;
    if (answer && 'allowed' in answer) {
      if (answer.allowed) return { data: { id } };
      throw new this.lib.APIError('BAD_REQUEST', { code: answer.errorCode ?? 'SIGN_UP_REFUSED', message: answer.errorMessage ?? 'Sign-up is not allowed' });
    }
    throw new this.lib.APIError('SERVICE_UNAVAILABLE', { code: 'SIGN_UP_CHECK_FAILED', message: 'Sign-up could not be completed right now; try again later' });
  }

  userCreated(user: Record<string, unknown>, ctx: AuthEventContext | null): void {
    if (!this.on('user.created')) return;
    this.webhooks.deliverLater(this.target(), this.event('user.created', webhookUser(user), { auth_provider: authProviderOf(ctx), ...originData(ctx) }));
  }

  phoneNumberVerified(user: Record<string, unknown>, phoneNumber: string, ctx: AuthEventContext | null): void {
    if (!this.on('phone_number.verified')) return;
    this.webhooks.deliverLater(this.target(), this.event('phone_number.verified', webhookUser(user), { phone_number: phoneNumber, ...originData(ctx) }));
  }

  invitationCreated(invitation: Record<string, unknown>, inviter: Record<string, unknown>, organization: Record<string, unknown>): void {
    if (!this.on('organization.invitation.created')) return;
    this.webhooks.deliverLater(this.target(), this.event('organization.invitation.created', webhookUser(inviter), invitationData(invitation, organization)));
  }

  invitationAccepted(invitation: Record<string, unknown>, user: Record<string, unknown>, organization: Record<string, unknown>): void {
    if (!this.on('organization.invitation.accepted')) return;
    this.webhooks.deliverLater(this.target(), this.event('organization.invitation.accepted', webhookUser(user), invitationData(invitation, organization)));
  }

  /**
   * send.otp (e-mail and SMS codes) and send.magic_link (sign-in, e-mail verification and password reset links): while
   * the event is on, the webhook is the delivery (nothing is e-mailed, nothing lands in the mailbox) and a failed one
   * fails the send (Better Auth logs it; the phone number route answers 503). Otherwise `fallback` delivers.
   */
  async send(message: OutgoingMessage, fallback: (message: OutgoingMessage) => Promise<void>): Promise<void> {
    const type = sendEventOf(message.kind);
    if (!type || !this.on(type)) return fallback(message);
    const user = await this.userOf(message);
    const expiresAt = (message.expiresAt ?? new Date()).toISOString();
    const origin = message.origin ? { ip_address: message.origin.ipAddress, user_agent: message.origin.userAgent } : { ip_address: null, user_agent: null };
    const data: Record<string, unknown> =
      type === 'send.otp'
        ? {
            otp_code: message.data.otp,
            otp_type: message.kind === 'phone_otp' ? 'phone-number' : message.data.type,
            delivery_preference: message.kind === 'phone_otp' ? 'sms' : 'email',
            ...(message.kind === 'phone_otp' ? { phone_number: message.to } : {}),
            expires_at: expiresAt,
            ...origin,
          }
        : {
            link_type: message.kind === 'magic_link' ? 'sign-in' : message.kind === 'verification_link' ? 'email-verification' : 'forget-password',
            link_url: message.data.url,
            token: message.data.token,
            expires_at: expiresAt,
          };
    const fallbackUser = message.kind === 'phone_otp' ? {} : { email: message.to };
    const { result } = await this.webhooks.deliver(this.target(), this.event(type, webhookUser(user, fallbackUser), data), { blocking: true });
    if (!result.delivered) {
      throw new this.lib.APIError('SERVICE_UNAVAILABLE', { code: 'MESSAGE_DELIVERY_FAILED', message: 'The message could not be sent right now; try again later' });
    }
  }

  /** The user a code or link is for, when there is one (a sign-in code may go to an address with no user yet). */
  private async userOf(message: OutgoingMessage): Promise<Record<string, unknown> | undefined> {
    try {
      return await detached(async () => {
        const context = (await this.server().$context) as unknown as {
          internalAdapter: { findUserByEmail(email: string): Promise<{ user: Record<string, unknown> } | null> };
          adapter: { findOne(query: { model: string; where: { field: string; value: string }[] }): Promise<Record<string, unknown> | null> };
        };
        if (message.kind === 'phone_otp') return (await context.adapter.findOne({ model: 'user', where: [{ field: 'phoneNumber', value: message.to }] })) ?? undefined;
        return (await context.internalAdapter.findUserByEmail(message.to))?.user ?? undefined;
      });
    } catch {
      return undefined;
    }
  }
}

function sendEventOf(kind: OutgoingMessage['kind']): WebhookEvent | undefined {
  switch (kind) {
    case 'email_otp':
    case 'phone_otp':
      return 'send.otp';
    case 'magic_link':
    case 'verification_link':
    case 'password_reset':
      return 'send.magic_link';
    default:
      return undefined;
  }
}

/** ip_address and user_agent of the request behind an event (null when a server-side call caused it). */
function originData(ctx: AuthEventContext | null): { ip_address: string | null; user_agent: string | null } {
  const origin = requestOrigin(ctx);
  return { ip_address: origin?.ipAddress ?? null, user_agent: origin?.userAgent ?? null };
}

/**
 * How the user signs up, from the endpoint creating them: `email` (password), the OAuth provider's id, `magic_link`,
 * `email_otp`, `phone_number`, `anonymous`, `admin` (the admin plugin, which the management API uses too).
 */
export function authProviderOf(ctx: AuthEventContext | null): string {
  const path = ctx?.path ?? '';
  if (path.startsWith('/sign-up/email')) return 'email';
  if (path.startsWith('/callback/') || path.startsWith('/oauth2/callback/')) {
    const id = ctx?.params?.id ?? ctx?.params?.providerId;
    return typeof id === 'string' && id !== '' ? id : (path.split('/').filter(Boolean).at(-1) ?? 'oauth');
  }
  if (path.startsWith('/sign-in/social') || path.startsWith('/sign-in/id-token')) return 'oauth';
  if (path.startsWith('/magic-link')) return 'magic_link';
  if (path.startsWith('/sign-in/email-otp') || path.startsWith('/email-otp')) return 'email_otp';
  if (path.startsWith('/phone-number')) return 'phone_number';
  if (path.startsWith('/sign-in/anonymous')) return 'anonymous';
  if (path.startsWith('/admin')) return 'admin';
  return path === '' ? 'api' : path.replace(/^\//, '').split('/')[0];
}

function invitationData(invitation: Record<string, unknown>, organization: Record<string, unknown>): Record<string, unknown> {
  const time = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : typeof v === 'string' ? v : null);
  return {
    invitation_id: invitation.id ?? null,
    organization_id: organization.id ?? invitation.organizationId ?? null,
    organization_name: organization.name ?? null,
    organization_slug: organization.slug ?? null,
    email: invitation.email ?? null,
    role: invitation.role ?? null,
    status: invitation.status ?? null,
    inviter_id: invitation.inviterId ?? null,
    expires_at: time(invitation.expiresAt),
  };
}
