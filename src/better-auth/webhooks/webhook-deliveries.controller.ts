import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.js';
import { Audited } from '../../common/audited.js';
import { BRANCH_ID_PARAM, PROJECT_ID_PARAM } from '../../common/request-params.js';
import { NeonIdPipe, UuidPipe } from '../../common/validation.js';
import { EXTENSIONS_TAG } from '../../openapi/swagger.js';
import { Access } from '../../iam/policy.js';
import { Caller } from '../../iam/caller.decorator.js';
import type { AccessContext } from '../../iam/principal.js';
import { NEON_AUTH_POLICY, projectAccessOf } from '../../neon-auth/access.js';
import { WebhookDeliveries } from './webhook-deliveries.service.js';
import { DEFAULT_DELIVERIES_PAGE, ListWebhookDeliveriesQueryDto, ListWebhookDeliveriesResponseDto, WebhookDeliveryDto } from './webhook-deliveries.dto.js';

const DELIVERY_ID_PARAM = { name: 'delivery_id', description: 'The id of a delivery of the log', schema: { type: 'string', format: 'uuid' } } as const;

/** The delivery log of a branch's Neon Auth webhooks, and its replay (extension: Neon offers neither). */
@ApiTags(EXTENSIONS_TAG)
@Controller('api/v2/projects/:project_id/branches/:branch_id/auth/webhooks/deliveries')
export class WebhookDeliveriesController {
  constructor(private readonly deliveries: WebhookDeliveries) {}

  @Get()
  @Access(NEON_AUTH_POLICY.manage)
  @ApiOperation({
    summary: "Read the delivery log of the branch's auth webhooks (extension; organization admins)",
    description:
      "Every event the branch's Better Auth servers sent to the webhook URL, newest first, for a day (at most 1000 per branch): " +
      'each attempt with its status, latency and error, and the envelope as sent with one-time codes and link tokens redacted. ' +
      "Not in Neon's API.",
  })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiOkResponse({ type: ListWebhookDeliveriesResponseDto })
  @ApiErrors(400, 401, 403, 404)
  async listNeonAuthWebhookDeliveries(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Query() query: ListWebhookDeliveriesQueryDto,
  ): Promise<ListWebhookDeliveriesResponseDto> {
    const projectId = projectAccessOf(caller).project.id;
    return { deliveries: await this.deliveries.list(projectId, branchId, { eventType: query.event_type, limit: query.limit ?? DEFAULT_DELIVERIES_PAGE }) };
  }

  @Post(':delivery_id/replay')
  @HttpCode(201)
  @Access(NEON_AUTH_POLICY.manage)
  @Audited({ action: 'neon_auth.webhook_delivery.replay', target: 'webhook_delivery', targetId: { param: 'delivery_id' } })
  @ApiOperation({
    summary: 'Send a logged webhook delivery again (extension; organization admins)',
    description:
      'Sends the same event (same X-Neon-Event-Id, same body: a one-time code in it is the same code) to the branch\'s current ' +
      'webhook URL, signed anew, attempts numbered from 1, and answers the new delivery once it ends (within 15 s). ' +
      '409 when the branch\'s webhooks are disabled or have no URL. Not in Neon\'s API.',
  })
  @ApiParam(PROJECT_ID_PARAM)
  @ApiParam(BRANCH_ID_PARAM)
  @ApiParam(DELIVERY_ID_PARAM)
  @ApiCreatedResponse({ type: WebhookDeliveryDto })
  @ApiErrors(400, 401, 403, 404, 409, 429)
  async replayNeonAuthWebhookDelivery(
    @Caller() caller: AccessContext,
    @Param('project_id', NeonIdPipe) _projectId: string,
    @Param('branch_id', NeonIdPipe) branchId: string,
    @Param('delivery_id', UuidPipe) deliveryId: string,
  ): Promise<WebhookDeliveryDto> {
    return this.deliveries.replay(projectAccessOf(caller).project.id, branchId, deliveryId);
  }
}
