import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The applier's batch read as one call: up to `p_limit` pending inbox rows of an integration above `p_after`, in id
 * order, each with its user's history in the inbox (how many events, when the first deletion arrived). Before, the
 * read and the history were two round trips, and an event on its own took BEGIN, the advisory lock, the read and the
 * history one after the other: four wake-ups of the backend where one does (SyncInboxStore.takeFirstBatch sends
 * `BEGIN; SELECT pg_advisory_xact_lock(…); SELECT * FROM sync_read_batch(…)` as one message; in READ COMMITTED each
 * statement takes a new snapshot, so the read sees what the lock's previous holder committed).
 *
 * PL/pgSQL keeps the statement's plan for the session (a SQL function would be planned on every call in PostgreSQL 17).
 * VOLATILE (the default): the statement sees the database as of its own start, never an older snapshot.
 */
export class SyncReadBatch1796601000000 implements MigrationInterface {
    name = 'SyncReadBatch1796601000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE FUNCTION "public"."sync_read_batch"(p_integration uuid, p_limit int, p_after bigint)
RETURNS TABLE (id text, event_type text, user_id text, data text, signed_up_at_millis text, received_us text, events int, deleted_us text)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT b.id::text, b.event_type, b.user_id, b.data, b.signed_up_at_millis, b.received_us, h.events, h.deleted_us
    FROM (
      SELECT s.id, s.event_type, coalesce(s.user_id, s.payload->'data'->>'id') AS user_id, (s.payload->'data')::text AS data,
             s.payload->'data'->>'signed_up_at_millis' AS signed_up_at_millis,
             ((extract(epoch FROM s.received_at) * 1000000)::bigint)::text AS received_us
        FROM "public"."sync_inbox" s
       WHERE s.id IN (SELECT p.id FROM "public"."sync_inbox" p
                       WHERE p.integration_id = p_integration AND p.status = 'pending' AND p.id > p_after ORDER BY p.id LIMIT p_limit)
    ) b
    -- One index probe per row (the history of rows the applier writes; zero events for the others).
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS events,
             (min((extract(epoch FROM i.received_at) * 1000000)::bigint) FILTER (WHERE i.event_type = 'user.deleted'))::text AS deleted_us
        FROM "public"."sync_inbox" i
       WHERE b.event_type IN ('user.created', 'user.updated', 'user.deleted') AND i.integration_id = p_integration AND i.user_id = b.user_id
    ) h
   ORDER BY b.id;
END
$$`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP FUNCTION "public"."sync_read_batch"(uuid, int, bigint)`);
    }

}
