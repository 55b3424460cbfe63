import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { IsNull, type EntityManager } from 'typeorm';
import { StackWebhookEndpointEntity } from '../entities/stack-webhook.entity.js';

export type WebhookEventType = 'user.created' | 'user.updated' | 'user.deleted';

/** A svix message id: `msg_` and 27 random base62-ish characters. */
export function newMessageId(): string {
  return `msg_${randomBytes(20).toString('base64url').slice(0, 27)}`;
}

/**
 * The webhook outbox. `enqueue` runs inside the transaction of the change it reports, so an event exists
 * exactly when its change committed; `afterCommit` wakes the dispatcher so that delivery starts at once.
 * Delivery (signing, ordering, retries) is WebhookDispatcherService's.
 */
@Injectable()
export class OutboxService {
  private readonly listeners = new Set<(projectId: string, orderingKey: string) => void>();

  /** Records one delivery per enabled endpoint of the project. Returns how many were recorded. */
  async enqueue(tx: EntityManager, projectId: string, type: WebhookEventType, data: unknown, orderingKey: string): Promise<number> {
    const endpoints = await tx.getRepository(StackWebhookEndpointEntity).find({ where: { projectId, disabledAt: IsNull() }, select: { id: true } });
    if (endpoints.length === 0) return 0;
    // One INSERT (repository.save would wrap it in a savepoint and read generated columns back).
    await tx.query(
      `INSERT INTO stack_auth.webhook_outbox (project_id, endpoint_id, message_id, event_type, payload, ordering_key)
       SELECT $1, e.endpoint_id, e.message_id, $4, $5::jsonb, $6 FROM unnest($2::uuid[], $3::text[]) AS e (endpoint_id, message_id)`,
      [projectId, endpoints.map((e) => e.id), endpoints.map(() => newMessageId()), type, JSON.stringify({ type, data }), orderingKey],
    );
    return endpoints.length;
  }

  /**
   * Call after the transaction that enqueued events of `orderingKey` (the user id) has committed. A listener
   * that throws cannot fail the (already committed) request: its events stay in the outbox for the sweep.
   */
  afterCommit(projectId: string, orderingKey: string): void {
    for (const listener of this.listeners) {
      try {
        listener(projectId, orderingKey);
      } catch {
        // see above
      }
    }
  }

  /** The dispatcher subscribes here to hear about new events without polling. */
  onEnqueued(listener: (projectId: string, orderingKey: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
