import { Module } from '@nestjs/common';
import { TokensService } from './auth/tokens.service.js';
import { StackAuthGuard } from './http/stack-auth.guard.js';
import { StackErrorFilter } from './http/stack-error.filter.js';
import { ProvisioningService } from './projects/provisioning.service.js';
import { StackProjectsController } from './projects/stack-projects.controller.js';
import { StackProjectsService } from './projects/stack-projects.service.js';
import { StackUsersService } from './users/stack-users.service.js';
import { OutboxService } from './webhooks/outbox.service.js';

/**
 * The embedded Stack-Auth-compatible provider (`/stack-auth/api/v1`). It imports nothing from the control
 * plane's feature modules (a test enforces it): the control plane reaches it only over HTTP, and hears from
 * it only through signed webhooks.
 */
@Module({
  controllers: [StackProjectsController],
  providers: [StackAuthGuard, StackErrorFilter, StackProjectsService, ProvisioningService, TokensService, StackUsersService, OutboxService],
  exports: [],
})
export class StackAuthModule {}
