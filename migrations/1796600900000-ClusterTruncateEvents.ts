import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * A TRUNCATE fires no row triggers, so the cluster events of the cached tables (IntegrationChangeEvents,
 * StackProjectChangeEvents) missed it: an operator emptying `stack_auth.api_key_sets` in an emergency would have
 * left every replica accepting the old keys until its cache's time limit. A statement trigger now announces a
 * truncate of each cached table with key null, "forget everything of this topic" (src/common/cluster-events.ts).
 */
export class ClusterTruncateEvents1796600900000 implements MigrationInterface {
    name = 'ClusterTruncateEvents1796600900000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE FUNCTION "neon_auth_cluster_truncated"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_catalog.pg_notify('neon_auth_cluster', pg_catalog.json_build_object('topic', TG_ARGV[0], 'key', NULL)::text);
  RETURN NULL;
END
$$`);
        await queryRunner.query(`CREATE TRIGGER "neon_auth_integrations_truncated" AFTER TRUNCATE ON "neon_auth_integrations" FOR EACH STATEMENT EXECUTE FUNCTION "neon_auth_cluster_truncated"('neon_auth_integration')`);
        await queryRunner.query(`CREATE TRIGGER "projects_truncated" AFTER TRUNCATE ON "stack_auth"."projects" FOR EACH STATEMENT EXECUTE FUNCTION "neon_auth_cluster_truncated"('stack_project')`);
        await queryRunner.query(`CREATE TRIGGER "api_key_sets_truncated" AFTER TRUNCATE ON "stack_auth"."api_key_sets" FOR EACH STATEMENT EXECUTE FUNCTION "neon_auth_cluster_truncated"('stack_project')`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TRIGGER "api_key_sets_truncated" ON "stack_auth"."api_key_sets"`);
        await queryRunner.query(`DROP TRIGGER "projects_truncated" ON "stack_auth"."projects"`);
        await queryRunner.query(`DROP TRIGGER "neon_auth_integrations_truncated" ON "neon_auth_integrations"`);
        await queryRunner.query(`DROP FUNCTION "neon_auth_cluster_truncated"()`);
    }

}
