import { MigrationInterface, QueryRunner } from "typeorm";

export class AuditEvents1795750000000 implements MigrationInterface {
    name = 'AuditEvents1795750000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "audit_events" ("id" BIGSERIAL NOT NULL, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "org_id" text, "actor_kind" text NOT NULL, "actor_account_id" text, "actor_key_id" bigint NOT NULL, "action" text NOT NULL, "target_type" text NOT NULL, "target_id" text, "project_id" text, "status" integer NOT NULL, "details" jsonb NOT NULL DEFAULT '{}', "request_id" text NOT NULL, "client_addr" text NOT NULL, CONSTRAINT "PK_audit_events_id" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "audit_events_org_idx" ON "audit_events" ("org_id", "id") `);
        // Append-only: what was recorded stays as it was.
        await queryRunner.query(`CREATE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$`);
        await queryRunner.query(`CREATE TRIGGER "audit_events_append_only" BEFORE UPDATE OR DELETE OR TRUNCATE ON "audit_events" FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_append_only"()`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TRIGGER "audit_events_append_only" ON "audit_events"`);
        await queryRunner.query(`DROP FUNCTION "audit_events_append_only"()`);
        await queryRunner.query(`DROP INDEX "public"."audit_events_org_idx"`);
        await queryRunner.query(`DROP TABLE "audit_events"`);
    }

}
