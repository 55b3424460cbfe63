import type { MigrationInterface } from 'typeorm';
import { Initial1795742193927 } from './1795742193927-Initial.js';
import { EmbeddedStackAuth1795744178259 } from './1795744178259-EmbeddedStackAuth.js';
import { MockAuthProvider1795745893724 } from './1795745893724-MockAuthProvider.js';
import { NeonAuthIntegrations1795746313068 } from './1795746313068-NeonAuthIntegrations.js';
import { IdempotencyKeys1795746597783 } from './1795746597783-IdempotencyKeys.js';
import { MockProviderProjectTombstones1795746900000 } from './1795746900000-MockProviderProjectTombstones.js';
import { SyncReconciliations1795748306025 } from './1795748306025-SyncReconciliations.js';
import { SyncInbox1795747500000 } from './1795747500000-SyncInbox.js';
import { SyncOrdering1795749000000 } from './1795749000000-SyncOrdering.js';
import { AuditEvents1795750000000 } from './1795750000000-AuditEvents.js';
import { RateLimits1796554149947 } from './1796554149947-RateLimits.js';
import { Operations1796600000000 } from './1796600000000-Operations.js';
import { NeonAuthDetached1796600100000 } from './1796600100000-NeonAuthDetached.js';
import { IntegrationChangeEvents1796600200000 } from './1796600200000-IntegrationChangeEvents.js';
import { StackAuthSessionPruning1796600300000 } from './1796600300000-StackAuthSessionPruning.js';
import { ProvisionKeys1796600400000 } from './1796600400000-ProvisionKeys.js';
import { BetterAuthMailbox1796600500000 } from './1796600500000-BetterAuthMailbox.js';
import { BetterAuthWebhookDeliveries1796600600000 } from './1796600600000-BetterAuthWebhookDeliveries.js';
import { MockProviderSettings1796600700000 } from './1796600700000-MockProviderSettings.js';
import { StackProjectChangeEvents1796600800000 } from './1796600800000-StackProjectChangeEvents.js';
import { ClusterTruncateEvents1796600900000 } from './1796600900000-ClusterTruncateEvents.js';
import { SyncReadBatch1796601000000 } from './1796601000000-SyncReadBatch.js';
import { OutboxRoundFunctions1796601100000 } from './1796601100000-OutboxRoundFunctions.js';

type MigrationClass = new () => MigrationInterface;

/** Every migration, in order. Never edit a migration that has landed; add a new one. */
export const MIGRATIONS: MigrationClass[] = [Initial1795742193927, EmbeddedStackAuth1795744178259, MockAuthProvider1795745893724, NeonAuthIntegrations1795746313068, IdempotencyKeys1795746597783, MockProviderProjectTombstones1795746900000, SyncInbox1795747500000, SyncReconciliations1795748306025, SyncOrdering1795749000000, AuditEvents1795750000000, RateLimits1796554149947, Operations1796600000000, NeonAuthDetached1796600100000, IntegrationChangeEvents1796600200000, StackAuthSessionPruning1796600300000, ProvisionKeys1796600400000, BetterAuthMailbox1796600500000, BetterAuthWebhookDeliveries1796600600000, MockProviderSettings1796600700000, StackProjectChangeEvents1796600800000, ClusterTruncateEvents1796600900000, SyncReadBatch1796601000000, OutboxRoundFunctions1796601100000];
