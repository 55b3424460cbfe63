import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApiError, ErrorCode } from '../../common/errors.js';
import { isoTime } from '../../common/pagination.js';
import { SecretsService } from '../../common/secrets.js';
import { loadBetterAuthLibrary } from '../better-auth-library.js';
import { BetterAuthServers } from '../better-auth-servers.js';
import { ManualSends } from '../manual-sends.js';
import type { WebhookEvent } from '../project-config.js';
import type { WebhookDeliveryDto } from './webhook-deliveries.dto.js';
import { WebhookDeliveryEntity } from './webhook-delivery.entity.js';
import type { WebhookEnvelope } from './webhook-envelope.js';
import { BetterAuthWebhooks, sealedBodyContext } from './webhooks.service.js';

/** The delivery log of a branch's webhooks (extension): read it, replay a delivery. */
@Injectable()
export class WebhookDeliveries {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly webhooks: BetterAuthWebhooks,
    private readonly servers: BetterAuthServers,
    private readonly secrets: SecretsService,
    private readonly manualSends: ManualSends,
  ) {}

  /** The branch's deliveries, newest first (optionally of one event type). */
  async list(projectId: string, branchId: string, options: { eventType?: WebhookEvent; limit: number }): Promise<WebhookDeliveryDto[]> {
    const rows = await this.db.getRepository(WebhookDeliveryEntity).find({
      where: { projectId, branchId, ...(options.eventType !== undefined ? { eventType: options.eventType } : {}) },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: options.limit,
    });
    return rows.map(deliveryDto);
  }

  /**
   * Sends a logged delivery again: the same event id and body (a one-time code in it is the same code, valid or not),
   * signed anew, attempts numbered from 1, to the branch's CURRENT webhook URL and timeout (the point of a replay is a
   * receiver that was fixed), whatever the enabled events say. Waits for the outcome (at most 15 s) and answers the
   * new delivery, which names the replayed one in replay_of. 404 when the delivery is not the branch's; 409 when the
   * branch's webhooks are off or have no URL, or Neon Auth on its database is gone.
   */
  async replay(projectId: string, branchId: string, deliveryId: string): Promise<WebhookDeliveryDto> {
    const repo = this.db.getRepository(WebhookDeliveryEntity);
    const original = await repo.findOneBy({ id: deliveryId, projectId, branchId });
    if (!original) throw ApiError.notFound('webhook delivery');
    const tenant = await this.servers.tenantOf(branchId, original.databaseName);
    if (!tenant) throw new ApiError(ErrorCode.NeonAuthNotEnabled, `Neon Auth is no longer enabled on database ${original.databaseName} of branch ${branchId}`);
    const { server, config } = await this.servers.serverFor(tenant);
    const w = config.webhook;
    if (!w.enabled || !w.webhookUrl) throw ApiError.conflict('webhooks are disabled on this branch (or have no webhook_url): enable them to replay a delivery');
    await this.manualSends.consume(projectId);
    let rawBody: string;
    try {
      rawBody = this.secrets.decrypt(original.sealedBody, sealedBodyContext(original.eventId));
    } catch {
      throw ApiError.conflict('this delivery cannot be replayed: its body does not open with the current SECRETS_KEY');
    }
    const lib = await loadBetterAuthLibrary();
    const { deliveryId: replayId } = await this.webhooks.deliver(
      { tenant, url: w.webhookUrl, timeoutSeconds: w.timeoutSeconds, sign: this.webhooks.signer(lib, server, tenant) },
      { eventId: original.eventId, eventType: original.eventType as WebhookEvent, rawBody, payload: original.payload as unknown as WebhookEnvelope },
      { blocking: false, replayOf: original.id },
    );
    const replayed = replayId ? await repo.findOneBy({ id: replayId }) : null;
    if (!replayed) throw new Error('the replay was sent but its delivery could not be logged');
    return deliveryDto(replayed);
  }
}

function deliveryDto(r: WebhookDeliveryEntity): WebhookDeliveryDto {
  return {
    id: r.id,
    database_name: r.databaseName,
    event_id: r.eventId,
    event_type: r.eventType,
    webhook_url: r.webhookUrl,
    status: r.status,
    outcome: r.outcome,
    attempts: r.attempts,
    payload: r.payload,
    replay_of: r.replayOf,
    created_at: isoTime(r.createdAt),
    completed_at: r.completedAt ? isoTime(r.completedAt) : null,
  };
}
