import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Every insert, update or delete of a Neon Auth integration (by any code path, cascades from a deleted project or
 * branch included) sends a cluster event in its own transaction, delivered at commit: processes that cache
 * integrations (the sync engine's SyncIntegrations) drop the entry at once. Channel and payload: see
 * src/common/cluster-events.ts (CLUSTER_EVENTS_CHANNEL) and NEON_AUTH_INTEGRATION_TOPIC.
 */
export class IntegrationChangeEvents1796600200000 implements MigrationInterface {
    name = 'IntegrationChangeEvents1796600200000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE FUNCTION "neon_auth_integrations_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_catalog.pg_notify('neon_auth_cluster', pg_catalog.json_build_object('topic', 'neon_auth_integration', 'key', (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)::text)::text);
  RETURN NULL;
END
$$`);
        await queryRunner.query(`CREATE TRIGGER "neon_auth_integrations_changed" AFTER INSERT OR UPDATE OR DELETE ON "neon_auth_integrations" FOR EACH ROW EXECUTE FUNCTION "neon_auth_integrations_changed"()`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TRIGGER "neon_auth_integrations_changed" ON "neon_auth_integrations"`);
        await queryRunner.query(`DROP FUNCTION "neon_auth_integrations_changed"()`);
    }

}
