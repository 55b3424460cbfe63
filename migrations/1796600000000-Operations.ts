import { MigrationInterface, QueryRunner } from "typeorm";

export class Operations1796600000000 implements MigrationInterface {
    name = 'Operations1796600000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "operations" ("id" uuid NOT NULL, "group_id" uuid NOT NULL, "project_id" text NOT NULL, "branch_id" text, "endpoint_id" text, "action" text NOT NULL, "status" text NOT NULL, "kind" text, "plan" jsonb, "error" text, "rolling_back" boolean NOT NULL DEFAULT false, "lease" uuid, "failures_count" integer NOT NULL DEFAULT '0', "retry_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "operations_pkey" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "operations_project_idx" ON "operations" ("project_id", "created_at") `);
        await queryRunner.query(`CREATE INDEX "operations_unfinished_idx" ON "operations" ("status") WHERE status IN ('scheduling', 'running', 'error', 'cancelling')`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."operations_unfinished_idx"`);
        await queryRunner.query(`DROP INDEX "public"."operations_project_idx"`);
        await queryRunner.query(`DROP TABLE "operations"`);
    }

}
