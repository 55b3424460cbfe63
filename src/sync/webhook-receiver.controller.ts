import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request } from 'express';
import { Access, Policy } from '../iam/policy.js';
import { SYNC_WEBHOOK_PATH } from './sync-paths.js';
import { WebhookIntakeService } from './webhook-intake.service.js';

export { SYNC_WEBHOOK_PATH };

/**
 * The sync engine's webhook receiver: the provider's user events for one integration
 * (`${PUBLIC_URL}/webhooks/neon-auth/{integration_id}`, registered on enable). Public route: the svix
 * signature with the integration's own secret is the authentication (5-minute timestamp tolerance, the svix
 * library's). Unknown integration -> 404; missing/forged signature, tampered body, timestamp outside the
 * tolerance -> 401; a signed body that is not a `{type, data}` event we can apply -> 400. Nothing is stored
 * in those cases.
 *
 * 204 only after the event is durable (WebhookIntakeService; SYNC_ENGINE=on, else 503) in `sync_inbox` (unique per integration and svix id, so a redelivery
 * is stored once and answered 204 again); the applier is kicked right after, without waiting for it.
 */
@ApiExcludeController()
@Controller(SYNC_WEBHOOK_PATH.slice(1))
export class WebhookReceiverController {
  constructor(private readonly intake: WebhookIntakeService) {}

  @Post(':integration_id')
  @Access(Policy.Public)
  @HttpCode(204)
  async receive(@Param('integration_id') integrationId: string, @Req() req: Request): Promise<void> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    await this.intake.ingest(integrationId, req.body as unknown, headers);
  }
}
