import { AccountEntity } from '../iam/entities/account.entity.js';
import { ApiKeyEntity } from '../iam/entities/api-key.entity.js';
import { InvitationEntity } from '../iam/entities/invitation.entity.js';
import { MemberEntity } from '../iam/entities/member.entity.js';
import { OrganizationEntity } from '../iam/entities/organization.entity.js';
import { BranchEntity } from '../projects/entities/branch.entity.js';
import { DatabaseEntity } from '../projects/entities/database.entity.js';
import { EndpointEntity } from '../projects/entities/endpoint.entity.js';
import { ProjectPermissionEntity } from '../projects/entities/project-permission.entity.js';
import { ProjectEntity } from '../projects/entities/project.entity.js';
import { RoleEntity } from '../projects/entities/role.entity.js';
import { OperationEntity } from '../projects/operations/operation.entity.js';
import { MOCK_PROVIDER_ENTITIES } from '../providers/mock/mock-provider.entities.js';
import { STACK_AUTH_ENTITIES } from '../stack-auth/entities/index.js';
import { NeonAuthIntegrationEntity } from '../neon-auth/integrations/integration.entity.js';
import { NeonAuthDetachedProjectEntity, NeonAuthForeignUserEntity } from '../neon-auth/integrations/detached-project.entity.js';
import { SystemStateEntity } from './system-state.entity.js';
import { MailboxMessageEntity } from '../better-auth/mailbox/mailbox-message.entity.js';
import { WebhookDeliveryEntity } from '../better-auth/webhooks/webhook-delivery.entity.js';
import { IdempotencyKeyEntity } from '../common/idempotency.entity.js';
import { RateLimitEntity } from '../common/rate-limit.entity.js';
import { NeonAuthSyncReconciliationEntity } from '../sync/reconciler/reconciliation.entity.js';
import { SyncConfirmationEntity } from '../sync/sync-confirmation.entity.js';
import { SyncInboxEntity } from '../sync/sync-inbox.entity.js';
import { AuditEventEntity } from '../audit/audit-event.entity.js';

/**
 * Every entity of the control-plane database, the embedded provider's schema included; migrations must
 * create exactly these tables (a test checks it).
 */
export const CONTROL_PLANE_ENTITIES = [
  SystemStateEntity,
  AccountEntity,
  OrganizationEntity,
  MemberEntity,
  InvitationEntity,
  ApiKeyEntity,
  ProjectEntity,
  BranchEntity,
  EndpointEntity,
  RoleEntity,
  DatabaseEntity,
  ProjectPermissionEntity,
  OperationEntity,
  NeonAuthIntegrationEntity,
  NeonAuthDetachedProjectEntity,
  NeonAuthForeignUserEntity,
  IdempotencyKeyEntity,
  RateLimitEntity,
  NeonAuthSyncReconciliationEntity,
  SyncConfirmationEntity,
  SyncInboxEntity,
  AuditEventEntity,
  MailboxMessageEntity,
  WebhookDeliveryEntity,
  ...STACK_AUTH_ENTITIES,
  ...MOCK_PROVIDER_ENTITIES,
];
