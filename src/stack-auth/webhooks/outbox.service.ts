import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { IsNull, type EntityManager } from 'typeorm';
import { StackWebhookEndpointEntity } from '../entities/stack-webhook.entity.js';

export const WEBHOOK_EVENT_TYPES = ['user.created', 'user.updated', 'user.deleted'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Told of committed events: the project, the ordering key (user id) and, when known, the rows written. */
export type OutboxListener = (projectId: string, orderingKey: string, events: EnqueuedEvent[] | undefined) => void;

/** A svix message id: `msg_` and 27 random base62-ish characters. */
export function newMessageId(): string {
  return `msg_${randomBytes(20).toString('base64url').slice(0, 27)}`;
}

/** An outbox row a change just wrote: its id and endpoint (the ordering key is the changed user's id). */
export interface EnqueuedEvent {
  outboxId: string;
  endpointId: string;
}

/** The column enqueuedSelect answers. */
export const ENQUEUED_COLUMN = 'outbox_events';

/** A fresh svix message id per row, as newMessageId makes them (27 base64url characters of two random UUIDs). */
const NEW_MESSAGE_ID_SQL = `'msg_' || substr(translate(encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'base64'), '+/', '-_'), 1, 27)`;

/**
 * A data-modifying CTE (`<alias> AS (INSERT …)`) that records one `type` event per enabled endpoint of each row of
 * `source` (a CTE of changed users with `id` and `project_id`), with the payload SQL `payload` (a jsonb `{type, data}`;
 * it may read `source`'s columns). Written in the statement that makes the change, so the event commits with it.
 */
export function outboxInsert(alias: string, source: string, type: WebhookEventType, payload: string): string {
  // Written into the statement's text (it is fixed per statement): only ever one of the known types.
  if (!WEBHOOK_EVENT_TYPES.includes(type)) throw new Error(`unknown webhook event type ${String(type)}`);
  return `${alias} AS (
    INSERT INTO stack_auth.webhook_outbox (project_id, endpoint_id, message_id, event_type, payload, ordering_key)
    SELECT ${source}.project_id, e.id, ${NEW_MESSAGE_ID_SQL}, '${type}', ${payload}, ${source}.id::text
    FROM ${source} JOIN stack_auth.webhook_endpoints e ON e.project_id = ${source}.project_id AND e.disabled_at IS NULL
    RETURNING id, endpoint_id
  )`;
}

/** A select-list item answering the rows of outboxInsert's CTE `alias` as ENQUEUED_COLUMN (read with parseEnqueued). */
export function enqueuedSelect(alias: string): string {
  return `(SELECT coalesce(json_agg(json_build_array(${alias}.id::text, ${alias}.endpoint_id)), '[]'::json) FROM ${alias}) AS ${ENQUEUED_COLUMN}`;
}

export function parseEnqueued(value: unknown): EnqueuedEvent[] {
  return (value as [string, string][]).map(([outboxId, endpointId]) => ({ outboxId, endpointId }));
}

/**
 * The webhook outbox. `enqueue` runs inside the transaction of the change it reports, so an event exists
 * exactly when its change committed; `afterCommit` wakes the dispatcher so that delivery starts at once.
 * Delivery (signing, ordering, retries) is WebhookDispatcherService's.
 */
@Injectable()
export class OutboxService {
  private readonly listeners = new Set<OutboxListener>();

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
   * Call after the transaction that enqueued events of `orderingKey` (the user id) has committed, with the rows it
   * wrote when the statement answered them (otherwise the dispatcher looks them up). A listener that throws cannot
   * fail the (already committed) request: its events stay in the outbox for the sweep.
   */
  afterCommit(projectId: string, orderingKey: string, events?: EnqueuedEvent[]): void {
    if (events?.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(projectId, orderingKey, events);
      } catch {
        // see above
      }
    }
  }

  /** The dispatcher subscribes here to hear about new events without polling. */
  onEnqueued(listener: OutboxListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
