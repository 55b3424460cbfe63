import type { PreparedRow } from '../neon-auth/users-sync/users-sync.statements.js';
import { microsToIso } from './versions.js';

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
}

/**
 * Plans a batch's writes; answers the users to confirm with the provider (see SyncConfirmationService):
 * those with more than one event, whose order the transport does not guarantee. A create or update that
 * arrived after the user's deletion is not written: Stack Auth never reuses a user id, so it is an older
 * event delivered late (the confirmation settles it either way). Deletions are soft and stamped with their
 * arrival time. Rows of event types outside APPLIED_EVENT_TYPES must be left out by the caller.
 */
export function planWrites(rows: InboxRow[], history: Map<string, UserHistory>): WritePlan {
  const plan: WritePlan = { upserts: [], deletes: new Map(), toConfirm: new Set() };
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
  }
  return plan;
}

/**
 * users_sync.updated_at of a user.created / user.updated event (the version; see SyncApplierService):
 * - user.created: the provider's sign-up time (`signed_up_at_millis`), as the users API writes it, so a
 *   create made through the API and its webhook write the same state (the second is a no-op); never later
 *   than the arrival time, so an update that arrives after it is always newer, whatever the provider's clock;
 * - user.updated: the arrival time, but after the sign-up time (as the users API stamps its changes).
 * Arrival times keep the database's microseconds, so two events never tie on a rounded millisecond.
 */
export function versionOf(r: { event_type: string; signed_up_at_millis: string | number | null; received_us: string | number }): string {
  const received = Number(r.received_us);
  const millis = r.signed_up_at_millis === null ? NaN : Number(r.signed_up_at_millis);
  if (!Number.isFinite(millis)) return microsToIso(received);
  const signedUp = Math.trunc(millis) * 1000;
  const at = r.event_type === 'user.created' ? Math.min(signedUp, received) : Math.max(received, signedUp + 1000);
  return microsToIso(at);
}
