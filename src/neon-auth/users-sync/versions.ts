import { microsToIso } from '../../common/db-clock.js';

/**
 * The version (`users_sync.updated_at`) of a user state, shared by the users API (NeonAuthUsersService) and the
 * sync engine's webhook events (src/sync/write-plan.ts), so that both order a user's states by one rule:
 *
 * - `at` is when the state became known, on the control-plane database's clock (a webhook event's arrival, or the
 *   moment the users API writes what the provider answered), in microseconds;
 * - a creation is stamped with the provider's sign-up time (`signed_up_at_millis`), so a create made through the
 *   API and its webhook write the same state (the second changes nothing), but never later than just before `at`:
 *   a provider whose clock runs ahead cannot push a version past the database's clock;
 * - any other change is stamped with `at` itself. It is newer than the user's creation whatever the provider's
 *   clock says, since that was stamped before its own `at`.
 */
export function stateVersion(kind: 'created' | 'changed', signedUpAtMillis: unknown, atMicros: number): string {
  if (kind === 'changed') return microsToIso(atMicros);
  const millis = typeof signedUpAtMillis === 'string' ? Number(signedUpAtMillis) : signedUpAtMillis;
  if (typeof millis !== 'number' || !Number.isFinite(millis)) return microsToIso(atMicros - 1);
  return microsToIso(Math.min(Math.trunc(millis) * 1000, atMicros - 1));
}
