import { Module } from '@nestjs/common';
import { ClusterEventsModule } from '../common/cluster-events.js';
import { RateLimitModule } from '../common/rate-limit.js';
import { OpsModule } from '../ops/ops.module.js';
import { NeonAuthUsersSyncModule } from '../neon-auth/users-sync/users-sync.module.js';
import { ProjectsModule } from '../projects/projects.module.js';
import { BetterAuthHost } from './better-auth-host.js';
import { BetterAuthSchema } from './better-auth-schema.js';
import { BetterAuthServers } from './better-auth-servers.js';
import { BetterAuthUsers } from './better-auth-users.js';
import { BetterAuthEmail } from './email/better-auth-email.js';
import { ManualSends } from './manual-sends.js';
import { BetterAuthMailboxController } from './mailbox/mailbox.controller.js';
import { BetterAuthMailbox } from './mailbox/mailbox.service.js';
import { WebhookDeliveriesController } from './webhooks/webhook-deliveries.controller.js';
import { WebhookDeliveries } from './webhooks/webhook-deliveries.service.js';
import { BetterAuthWebhooks } from './webhooks/webhooks.service.js';

/**
 * Better Auth hosted per branch database: the servers (built lazily, bounded), their schema in `neon_auth`, their
 * HTTP host at `/neon-auth/{branch_id}/{database}/auth`, the local mailbox of what they send, and their outgoing
 * webhooks (Neon's format) with a delivery log and replay. The `better_auth`
 * provider adapter (src/providers/better-auth) drives them for the control plane; Neon Auth's integrations tell the
 * servers which branch databases have one (BetterAuthServers.useDirectory).
 */
@Module({
  imports: [ProjectsModule, NeonAuthUsersSyncModule, RateLimitModule, ClusterEventsModule, OpsModule],
  controllers: [BetterAuthMailboxController, WebhookDeliveriesController],
  providers: [BetterAuthSchema, BetterAuthServers, BetterAuthUsers, BetterAuthMailbox, BetterAuthEmail, BetterAuthWebhooks, WebhookDeliveries, ManualSends, BetterAuthHost],
  exports: [BetterAuthSchema, BetterAuthServers, BetterAuthUsers, BetterAuthEmail, BetterAuthHost, BetterAuthWebhooks, ManualSends],
})
export class BetterAuthModule {}
