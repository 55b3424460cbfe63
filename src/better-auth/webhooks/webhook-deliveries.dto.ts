import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EnumField, IntField } from '../../common/api-fields.js';
import { WEBHOOK_EVENTS, type WebhookEvent } from '../project-config.js';

export const DEFAULT_DELIVERIES_PAGE = 50;
export const MAX_DELIVERIES_PAGE = 500;

export class ListWebhookDeliveriesQueryDto {
  @EnumField({ optional: true, enum: WEBHOOK_EVENTS, description: 'Only deliveries of this event type' })
  event_type?: WebhookEvent;

  @IntField({ optional: true, query: true, minimum: 1, maximum: MAX_DELIVERIES_PAGE, default: DEFAULT_DELIVERIES_PAGE })
  limit?: number;
}

export class WebhookAttemptDto {
  @ApiProperty({ minimum: 1, maximum: 3, description: 'X-Neon-Delivery-Attempt of this try' }) attempt!: number;
  @ApiProperty({ format: 'date-time' }) started_at!: string;
  @ApiProperty({ type: 'integer', nullable: true, description: "The receiver's HTTP status; null when it did not answer" }) status_code!: number | null;
  @ApiProperty({ description: 'From sending the request to the end of the answer (at most 10 KB of it is read)' }) latency_ms!: number;
  @ApiProperty({ type: 'string', nullable: true, description: 'Why the try failed (no answer in time, a network error, a refused destination, a non-2xx status)' })
  error!: string | null;
  @ApiProperty({ type: 'string', nullable: true, description: "The start of the receiver's answer (512 characters)" }) response_excerpt!: string | null;
}

export class WebhookDeliveryDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'The database whose auth server sent it' }) database_name!: string;
  @ApiProperty({ format: 'uuid', description: 'X-Neon-Event-Id (a replay keeps the id of the event it replays)' }) event_id!: string;
  @ApiProperty({ enum: WEBHOOK_EVENTS }) event_type!: string;
  @ApiProperty({ description: 'Where it was sent' }) webhook_url!: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'failed'], description: 'delivered: a 2xx answer; pending: under way' }) status!: string;
  @ApiProperty({
    type: 'string',
    nullable: true,
    description: "What came of it: for user.before_create `allowed`, `refused (<error_code>)` or `malformed answer: …`; `not sent: …` when the URL is not allowed",
  })
  outcome!: string | null;
  @ApiProperty({ type: [WebhookAttemptDto] }) attempts!: WebhookAttemptDto[];
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: "Neon's envelope as sent, except one-time codes and link tokens (otp_code, token, link_url's token) shown as [redacted]",
  })
  payload!: Record<string, unknown>;
  @ApiPropertyOptional({ type: 'string', format: 'uuid', nullable: true, description: 'The delivery this one replays' }) replay_of!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ type: 'string', format: 'date-time', nullable: true }) completed_at!: string | null;
}

export class ListWebhookDeliveriesResponseDto {
  @ApiProperty({ type: [WebhookDeliveryDto], description: 'Newest first' }) deliveries!: WebhookDeliveryDto[];
}
