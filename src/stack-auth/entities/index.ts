import { StackApiKeySetEntity } from './stack-api-key-set.entity.js';
import { StackProjectEntity } from './stack-project.entity.js';
import { StackSessionEntity } from './stack-session.entity.js';
import { StackSigningKeyEntity } from './stack-signing-key.entity.js';
import { StackOwnershipTransferEntity } from './stack-transfer.entity.js';
import { StackUserEntity } from './stack-user.entity.js';
import { StackWebhookEndpointEntity, StackWebhookOutboxEntity } from './stack-webhook.entity.js';

/** Every table of the embedded provider (schema `stack_auth`). */
export const STACK_AUTH_ENTITIES = [
  StackProjectEntity,
  StackApiKeySetEntity,
  StackUserEntity,
  StackSessionEntity,
  StackSigningKeyEntity,
  StackWebhookEndpointEntity,
  StackWebhookOutboxEntity,
  StackOwnershipTransferEntity,
];
