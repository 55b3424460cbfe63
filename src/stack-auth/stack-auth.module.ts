import { Module } from '@nestjs/common';
import { RateLimitModule } from '../common/rate-limit.js';
import { StackAuthThrottle } from './auth/auth-throttle.service.js';
import { StackAuthController } from './auth/auth.controller.js';
import { OAuthTokenService } from './auth/oauth-token.service.js';
import { PasswordAuthService } from './auth/password-auth.service.js';
import { SessionPrunerService } from './auth/session-pruner.service.js';
import { SessionsService } from './auth/sessions.service.js';
import { TokensService } from './auth/tokens.service.js';
import { UserActivityService } from './auth/user-activity.service.js';
import { StackAuthGuard } from './http/stack-auth.guard.js';
import { StackErrorFilter } from './http/stack-error.filter.js';
import { IntegrationClientGuard } from './integrations/integration-client.guard.js';
import { NeonIntegrationController } from './integrations/neon-integration.controller.js';
import { NeonIntegrationService } from './integrations/neon-integration.service.js';
import { OwnershipTransferService } from './integrations/ownership-transfer.service.js';
import { TransferConfirmController } from './integrations/transfer-confirm.controller.js';
import { StackInternalProjectsController } from './projects/internal-projects.controller.js';
import { ProvisioningService } from './projects/provisioning.service.js';
import { StackProjectsController } from './projects/stack-projects.controller.js';
import { StackProjectsService } from './projects/stack-projects.service.js';
import { StackUsersService } from './users/stack-users.service.js';
import { StackUsersStore } from './users/stack-users.store.js';
import { StackUsersController } from './users/stack-users.controller.js';
import { OutboxService } from './webhooks/outbox.service.js';
import { WebhookDispatcherService } from './webhooks/webhook-dispatcher.service.js';
import { WebhookEndpointsService } from './webhooks/webhook-endpoints.service.js';
import { ClusterEventsModule } from '../common/cluster-events.js';

/**
 * The embedded Stack-Auth-compatible provider (`/stack-auth/api/v1`). It imports nothing from the control
 * plane's feature modules (a test enforces it): the control plane reaches it only over HTTP, and hears from
 * it only through signed webhooks.
 */
@Module({
  imports: [RateLimitModule, ClusterEventsModule],
  controllers: [StackProjectsController, StackInternalProjectsController, StackAuthController, StackUsersController, NeonIntegrationController, TransferConfirmController],
  providers: [StackAuthGuard, StackErrorFilter, StackProjectsService, ProvisioningService, TokensService, StackUsersService, StackUsersStore, OutboxService, SessionsService, PasswordAuthService, StackAuthThrottle, OAuthTokenService,
    IntegrationClientGuard, NeonIntegrationService, OwnershipTransferService, WebhookEndpointsService, WebhookDispatcherService, SessionPrunerService, UserActivityService],
  exports: [],
})
export class StackAuthModule {}
