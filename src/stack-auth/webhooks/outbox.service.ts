import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export const WEBHOOK_EVENT_TYPES = ['user.created', 'user.updated', 'user.deleted'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Told of committed events: the project, the ordering key (user id) and, when known, the rows written. */
export type OutboxListener = (projectId: string, orderingKey: string, events: EnqueuedEvent[] | undefined) => void;

/** An outbox row a change just wrote: its id and endpoint (the ordering key is the changed user's id). */
export interface EnqueuedEvent {
  outboxId: string;
  endpointId: string;
}

/** The column enqueuedSelect answers. */
export const ENQUEUED_COLUMN = 'outbox_events';

/** A fresh svix message id per row: `msg_` and 27 base64url characters of two random UUIDs. */
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

  /**
   * Records one delivery per enabled endpoint of the project, in the caller's transaction, with the same statement
   * fragment as the users' writes (outboxInsert). Returns how many were recorded. (The users' writes enqueue in their
   * own statements; this is for events written apart from a user row.)
   */
  async enqueue(tx: EntityManager, projectId: string, type: WebhookEventType, data: unknown, orderingKey: string): Promise<number> {
    const rows = (await tx.query(
      `WITH event AS (SELECT $1::uuid AS project_id, $2::text AS id), ${outboxInsert('o', 'event', type, '$3::jsonb')}
       SELECT count(*)::int AS n FROM o`,
      [projectId, orderingKey, JSON.stringify({ type, data })],
    )) as { n: number }[];
    return rows[0].n;
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
