import type { PreparedRow } from '../neon-auth/users-sync/users-sync.statements.js';
import { microsToIso } from '../common/db-clock.js';
import { stateVersion } from '../neon-auth/users-sync/versions.js';

/** Webhook event types the applier understands; others are stored and marked skipped. */
export const APPLIED_EVENT_TYPES = new Set(['user.created', 'user.updated', 'user.deleted']);

/** A pending inbox row as the applier reads it: the user object as jsonb's text (never parsed here). */
export interface InboxRow {
  id: string;
  event_type: string;
  /** data.id (for rows stored before the user_id column existed, read from the payload). */
  user_id: string;
  /** JSON text of the event's `data` (the user object; checked by the receiver, held by jsonb since). */
  data: string;
  /** data.signed_up_at_millis as text, if any. */
  signed_up_at_millis: string | null;
  /** received_at in microseconds since the epoch (the full precision of the version). */
  received_us: string;
}

/** What the inbox knows about one user of a batch, beyond the batch. */
export interface UserHistory {
  /** Events of the user in the inbox, this batch's included. */
  events: number;
  /** Arrival (µs) of the user's earliest user.deleted event, if any. */
  deletedUs: number | null;
}

/** What one batch writes to users_sync, and which users it leaves to confirm. */
export interface WritePlan {
  upserts: PreparedRow[];
  /** Deletion time -> ids. */
  deletes: Map<string, string[]>;
  toConfirm: Set<string>;
  /**
   * Users of `upserts` whose deletion the inbox does not hold (never deleted, or its row was pruned): the writer
   * checks users_sync for them, so that a create or update never revives a deleted user (see SyncInboxStore.prune).
   */
  deletionUnknown: Set<string>;
}

/**
 * Plans a batch's writes; answers the users to confirm with the provider (see SyncConfirmationService):
 * those with more than one event, whose order the transport does not guarantee. A create or update that
 * arrived after the user's deletion is not written: Stack Auth never reuses a user id, so it is an older
 * event delivered late (the confirmation settles it either way). Deletions are soft and stamped with their
 * arrival time. Rows of event types outside APPLIED_EVENT_TYPES must be left out by the caller.
 */
export function planWrites(rows: InboxRow[], history: Map<string, UserHistory>): WritePlan {
  const plan: WritePlan = { upserts: [], deletes: new Map(), toConfirm: new Set(), deletionUnknown: new Set() };
  for (const r of rows) {
    const userId = r.user_id;
    const h = history.get(userId);
    if (r.event_type === 'user.deleted') {
      const at = microsToIso(Number(r.received_us));
      const list = plan.deletes.get(at) ?? [];
      list.push(userId);
      plan.deletes.set(at, list);
      continue;
    }
    if (h && h.events > 1) plan.toConfirm.add(userId);
    if (h?.deletedUs != null && Number(r.received_us) > h.deletedUs) continue;
    plan.upserts.push({ id: userId, json: r.data, updatedAt: versionOf(r), deletedAt: null });
    if (h?.deletedUs == null) plan.deletionUnknown.add(userId);
  }
  return plan;
}

/**
 * users_sync.updated_at of a user.created / user.updated event (the version; see stateVersion, the rule the users
 * API stamps its writes with too): a create is stamped with the provider's sign-up time but before its arrival, an
 * update with its arrival time. Arrival times keep the database's microseconds, so two events never tie on a
 * rounded millisecond.
 */
export function versionOf(r: { event_type: string; signed_up_at_millis: string | number | null; received_us: string | number }): string {
  return stateVersion(r.event_type === 'user.created' ? 'created' : 'changed', r.signed_up_at_millis, Number(r.received_us));
}
