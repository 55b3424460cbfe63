import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { WebhookVerificationError } from 'svix/dist/webhook.js';
import { ApiError, ErrorCode } from '../common/errors.js';
import { MAX_ID_BYTES, prepareRow, rawJsonProblem, type PreparedRow } from '../neon-auth/users-sync/users-sync.statements.js';
import { MockWebhookBus } from '../providers/mock/mock-provider.adapter.js';
import { InboxEventRejected, InboxWriter } from './inbox-writer.js';
import { SyncQueue } from './sync-queue.js';
import { SyncIntegrations } from './sync-integrations.js';
import { SyncMetrics } from './sync-metrics.js';
import { isUuid } from '../common/validation.js';

/** What prepareRow needs as a version to check a user object; nothing is written with it (the applier stamps versions). */
const CHECK_ONLY_VERSION = new Date(0);

/** JSON's escape of U+0000 (a NUL character can only reach parsed JSON through it). */
const NUL_ESCAPE = Buffer.from('\\u0000');


/**
 * Verifies and stores one delivery (HTTP from the receiver above, in process from the mock provider's
 * MockWebhookBus), then kicks the applier. Throws ApiError 404/401/400/503 without storing anything.
 *
 * The hot path is one verified HMAC and a share of one group-committed INSERT (InboxWriter): no per-event
 * commit, and the integration's verifier is cached (SyncIntegrations) instead of read per request.
 */
@Injectable()
export class WebhookIntakeService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private unsubscribe?: () => void;
  private readonly writer: InboxWriter;

  constructor(
    private readonly syncIntegrations: SyncIntegrations,
    private readonly queue: SyncQueue,
    private readonly mockBus: MockWebhookBus,
    private readonly metrics: SyncMetrics,
  ) {
    // Durable: apply now (grouped with concurrent events), without holding the answers.
    this.writer = new InboxWriter(
      () => this.queue.db,
      (integrationIds) => {
        for (const id of integrationIds) this.queue.wake(id); // kick here (on), or pg_notify the workers (receive)
      },
    );
  }

  onApplicationBootstrap(): void {
    if (!this.queue.enabled) return;
    // The mock provider "delivers" to the registered URL in process; its last path segment is the integration id.
    this.unsubscribe = this.mockBus.subscribe(async (d) => {
      const integrationId = d.url.slice(d.url.lastIndexOf('/') + 1);
      await this.ingest(integrationId, Buffer.from(d.body, 'utf8'), { ...d.headers });
    });
  }

  beforeApplicationShutdown(): void {
    this.unsubscribe?.();
  }

  async ingest(integrationId: string, raw: unknown, headers: Record<string, string>): Promise<void> {
    if (!this.queue.enabled) throw new ApiError(ErrorCode.ServiceUnavailable, 'the users_sync sync engine is not enabled on this server (SYNC_ENGINE=on)');
    if (!isUuid(integrationId)) throw ApiError.notFound(`integration ${integrationId}`);
    const integration = await this.syncIntegrations.get(integrationId);
    if (!integration) throw ApiError.notFound(`integration ${integrationId}`);
    const webhook = integration.verifier;
    if (!webhook) throw ApiError.unauthorized('this integration receives no signed webhooks');
    if (!Buffer.isBuffer(raw)) throw ApiError.validation('the body must be the signed JSON event');
    let event: unknown;
    try {
      event = webhook.verify(raw, headers);
    } catch (err) {
      if (err instanceof WebhookVerificationError) throw ApiError.unauthorized(`webhook signature verification failed: ${err.message}`);
      throw new ApiError(ErrorCode.MalformedJson, 'the signed body is not valid JSON');
    }
    const messageId = headers['svix-id'] ?? headers['webhook-id'];
    const { type, userId } = checkEvent(event, raw);
    try {
      await this.writer.write({ integrationId, messageId, eventType: type, userId, payload: raw.toString('utf8') });
      this.metrics.received();
    } catch (err) {
      if (err instanceof InboxEventRejected) throw ApiError.validation('the event cannot be stored as JSON');
      throw err;
    }
  }

}

/** The event's type and user id when the body (`event`, parsed from `raw`) is an event the applier can take (others: 400). */
function checkEvent(event: unknown, raw: Buffer): { type: string; userId: string | null } {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) throw ApiError.validation('the event must be a JSON object {type, data}');
  const { type, data } = event as { type?: unknown; data?: unknown };
  if (typeof type !== 'string' || type.length === 0 || type.length > 200) throw ApiError.validation('type must be a non-empty string');
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw ApiError.validation('data must be an object');
  const id = (data as { id?: unknown }).id;
  if (type === 'user.created' || type === 'user.updated') {
    // Without a \u0000 escape in the body, the parsed object serializes without a NUL: the checks before serializing
    // are all of prepareRow's (no second JSON.stringify of every user object).
    const problem = raw.includes(NUL_ESCAPE)
      ? problemOf(prepareRow({ raw_json: data as Record<string, unknown>, updated_at: CHECK_ONLY_VERSION }))
      : rawJsonProblem(data);
    if (problem !== undefined) throw ApiError.validation(`data is not a user object: ${problem}`);
  } else if (type === 'user.deleted') {
    if (typeof id !== 'string' || id.length === 0 || Buffer.byteLength(id) > MAX_ID_BYTES || id.includes('\u0000')) {
      throw ApiError.validation('data.id must be a user id');
    }
  }
  return { type, userId: typeof id === 'string' && id.length > 0 && Buffer.byteLength(id) <= MAX_ID_BYTES && !id.includes('\u0000') ? id : null };
}

function problemOf(p: PreparedRow | { problem: string }): string | undefined {
  return 'problem' in p ? p.problem : undefined;
}
