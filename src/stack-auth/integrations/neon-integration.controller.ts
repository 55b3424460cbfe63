import { Body, Get, Headers, HttpCode, Post, Query } from '@nestjs/common';
import { StackStatusError } from '../http/known-errors.js';
import { StackAccess, StackCaller, type StackAuth } from '../http/stack-auth.guard.js';
import { StackController } from '../http/stack-controller.decorator.js';
import { CreateApiKeySetDto, CreateWebhookEndpointDto, ProvisionProjectDto, StartTransferDto, TransferStatusQueryDto } from './dto/neon-integration.dto.js';
import { IntegrationClientAuth, IntegrationClientGuard, INVALID_INTEGRATION_CLIENT_MESSAGE } from './integration-client.guard.js';
import { NeonIntegrationService } from './neon-integration.service.js';
import { OwnershipTransferService } from './ownership-transfer.service.js';

/** Neon's integration routes (`/api/v1/integrations/neon/...`), as Stack Auth serves them. */
@StackController('integrations/neon')
export class NeonIntegrationController {
  constructor(
    private readonly integration: NeonIntegrationService,
    private readonly transfers: OwnershipTransferService,
    private readonly integrationClient: IntegrationClientGuard,
  ) {}

  /** Integration client credentials (HTTP Basic) only: there is no project yet. */
  @Post('projects/provision')
  @HttpCode(200)
  @IntegrationClientAuth()
  provisionProject(@Body() body: ProvisionProjectDto, @Headers('idempotency-key') idempotencyKey?: string) {
    return this.integration.provision(body, idempotencyKey);
  }

  @Post('api-keys')
  @HttpCode(200)
  @StackAccess('admin')
  createApiKeySet(@StackCaller() auth: StackAuth, @Body() body: CreateApiKeySetDto) {
    return this.integration.createApiKeySet(auth.project, body);
  }

  /** Admin access and the integration client's credentials, as in Stack Auth. */
  @Post('webhooks')
  @HttpCode(200)
  @StackAccess('admin')
  @IntegrationClientAuth()
  createWebhookEndpoint(@StackCaller() auth: StackAuth, @Body() body: CreateWebhookEndpointDto) {
    return this.integration.registerWebhook(auth.project, body);
  }

  /** Starts a transfer (admin key; integration credentials, when sent, must be right too). */
  @Post('projects/transfer')
  @HttpCode(200)
  @StackAccess('admin')
  startTransfer(@StackCaller() auth: StackAuth, @Body() body: StartTransferDto, @Headers('authorization') authorization?: string) {
    this.checkOptionalClient(authorization);
    this.integration.assertSameProject(auth.project, body.project_id);
    return this.transfers.start(auth.project);
  }

  /** Whether the project's transfer finished. */
  @Get('projects/transfer')
  @StackAccess('admin')
  getTransferStatus(@StackCaller() auth: StackAuth, @Query() query: TransferStatusQueryDto, @Headers('authorization') authorization?: string) {
    this.checkOptionalClient(authorization);
    this.integration.assertSameProject(auth.project, query.project_id);
    return this.transfers.status(auth.project);
  }

  private checkOptionalClient(authorization: string | undefined): void {
    if (authorization !== undefined && !this.integrationClient.isValid(authorization)) throw new StackStatusError(401, INVALID_INTEGRATION_CLIENT_MESSAGE);
  }
}
