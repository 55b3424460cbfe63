import { MigrationInterface, QueryRunner } from "typeorm";

export class BetterAuthWebhookDeliveries1796600600000 implements MigrationInterface {
    name = 'BetterAuthWebhookDeliveries1796600600000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "neon_auth_webhook_deliveries" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "integration_id" uuid NOT NULL, "project_id" text NOT NULL, "branch_id" text NOT NULL, "database_name" text NOT NULL, "event_id" uuid NOT NULL, "event_type" text NOT NULL, "webhook_url" text NOT NULL, "status" text NOT NULL, "outcome" text, "attempts" jsonb NOT NULL, "payload" jsonb NOT NULL, "sealed_body" text NOT NULL, "replay_of" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "completed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_3f3ef555fb557bb6ca0d9c591e2" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "neon_auth_webhook_deliveries_branch_idx" ON "neon_auth_webhook_deliveries"  ("branch_id", "created_at") `);
        await queryRunner.query(`ALTER TABLE "neon_auth_webhook_deliveries" ADD CONSTRAINT "FK_neon_auth_webhook_deliveries_branch" FOREIGN KEY ("branch_id") REFERENCES "branches"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "neon_auth_webhook_deliveries" DROP CONSTRAINT "FK_neon_auth_webhook_deliveries_branch"`);
        await queryRunner.query(`DROP INDEX "public"."neon_auth_webhook_deliveries_branch_idx"`);
        await queryRunner.query(`DROP TABLE "neon_auth_webhook_deliveries"`);
    }

}
