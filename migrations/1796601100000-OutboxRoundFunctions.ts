import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The webhook dispatcher's delivery round in two round trips instead of four (DeliveryRounds): `BEGIN; SELECT * FROM
 * stack_auth.outbox_lock_heads(…)` as one message, the requests, then `SELECT * FROM stack_auth.outbox_record_round(…);
 * COMMIT` as one more. The simple protocol that carries several statements takes no parameters, so the statements are
 * functions: their plans are kept per session by PL/pgSQL (a literal statement would be planned on every round, which
 * costs more than the round trip it saves), and only values are written into the message.
 *
 * outbox_lock_heads: the heads of the round's keys of one endpoint, locked, unless they wait for a retry. The head is
 * chosen first and then locked with SKIP LOCKED, so a head held by another delivery is skipped, never overtaken by the
 * row behind it.
 *
 * outbox_record_round: every outcome of a round in one statement: delivered rows (and rows of a disabled endpoint, not
 * sent) marked with whether their key has more rows; failed rows with their error and backoff.
 */
export class OutboxRoundFunctions1796601100000 implements MigrationInterface {
    name = 'OutboxRoundFunctions1796601100000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE FUNCTION "stack_auth"."outbox_lock_heads"(p_endpoint uuid, p_keys text[])
RETURNS TABLE (id bigint, ordering_key text, message_id text, payload jsonb, attempts int, url text, secret_encrypted text, disabled boolean)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT o.id, o.ordering_key, o.message_id, o.payload, o.attempts, e.url, e.secret_encrypted, e.disabled_at IS NOT NULL
    FROM "stack_auth"."webhook_outbox" o JOIN "stack_auth"."webhook_endpoints" e ON e.id = o.endpoint_id
   WHERE o.id IN (
     SELECT (SELECT h.id FROM "stack_auth"."webhook_outbox" h
              WHERE h.endpoint_id = p_endpoint AND h.ordering_key = k.key AND h.delivered_at IS NULL ORDER BY h.id LIMIT 1)
       FROM unnest(p_keys) AS k (key)
   ) AND o.delivered_at IS NULL AND NOT (o.attempts > 0 AND o.next_attempt_at > now())
   FOR UPDATE OF o SKIP LOCKED;
END
$$`);
        await queryRunner.query(`CREATE FUNCTION "stack_auth"."outbox_record_round"(p_ids bigint[], p_ok boolean[], p_sent boolean[], p_errors text[], p_backoff float8[])
RETURNS TABLE (id bigint, ordering_key text, more boolean)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH recorded AS (
  UPDATE "stack_auth"."webhook_outbox" o SET
      delivered_at = CASE WHEN x.ok THEN clock_timestamp() END,
      attempts = o.attempts + x.sent::int,
      last_error = x.error,
      next_attempt_at = CASE WHEN x.ok THEN o.next_attempt_at ELSE clock_timestamp() + make_interval(secs => x.backoff) END
    FROM unnest(p_ids, p_ok, p_sent, p_errors, p_backoff) AS x (id, ok, sent, error, backoff)
   WHERE o.id = x.id
  RETURNING o.id, o.ordering_key, EXISTS (
    SELECT 1 FROM "stack_auth"."webhook_outbox" p
     WHERE p.endpoint_id = o.endpoint_id AND p.ordering_key = o.ordering_key AND p.delivered_at IS NULL AND p.id <> o.id
  ) AS more
  )
  SELECT r.id, r.ordering_key, r.more FROM recorded r;
END
$$`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP FUNCTION "stack_auth"."outbox_record_round"(bigint[], boolean[], boolean[], text[], float8[])`);
        await queryRunner.query(`DROP FUNCTION "stack_auth"."outbox_lock_heads"(uuid, text[])`);
    }

}
