import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Every insert, update or delete of an embedded-provider project or of one of its API key sets (by any code path,
 * the cascades of a deleted project included) sends a cluster event in its own transaction, delivered at commit:
 * processes that cache the provider's project-and-key checks (StackProjectsService) drop the project's entries at
 * once. Channel and payload: see src/common/cluster-events.ts (CLUSTER_EVENTS_CHANNEL) and STACK_PROJECT_TOPIC.
 */
export class StackProjectChangeEvents1796600800000 implements MigrationInterface {
    name = 'StackProjectChangeEvents1796600800000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE FUNCTION "stack_auth"."project_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_catalog.pg_notify('neon_auth_cluster', pg_catalog.json_build_object('topic', 'stack_project', 'key', (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)::text)::text);
  RETURN NULL;
END
$$`);
        await queryRunner.query(`CREATE FUNCTION "stack_auth"."api_key_set_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_catalog.pg_notify('neon_auth_cluster', pg_catalog.json_build_object('topic', 'stack_project', 'key', (CASE WHEN TG_OP = 'DELETE' THEN OLD.project_id ELSE NEW.project_id END)::text)::text);
  RETURN NULL;
END
$$`);
        await queryRunner.query(`CREATE TRIGGER "project_changed" AFTER INSERT OR UPDATE OR DELETE ON "stack_auth"."projects" FOR EACH ROW EXECUTE FUNCTION "stack_auth"."project_changed"()`);
        await queryRunner.query(`CREATE TRIGGER "api_key_set_changed" AFTER INSERT OR UPDATE OR DELETE ON "stack_auth"."api_key_sets" FOR EACH ROW EXECUTE FUNCTION "stack_auth"."api_key_set_changed"()`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TRIGGER "api_key_set_changed" ON "stack_auth"."api_key_sets"`);
        await queryRunner.query(`DROP TRIGGER "project_changed" ON "stack_auth"."projects"`);
        await queryRunner.query(`DROP FUNCTION "stack_auth"."api_key_set_changed"()`);
        await queryRunner.query(`DROP FUNCTION "stack_auth"."project_changed"()`);
    }

}
