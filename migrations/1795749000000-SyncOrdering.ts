import { MigrationInterface, QueryRunner } from "typeorm";

export class SyncOrdering1795749000000 implements MigrationInterface {
    name = 'SyncOrdering1795749000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."sync_inbox_pending_idx"`);
        await queryRunner.query(`CREATE INDEX "sync_inbox_pending_idx" ON "sync_inbox" ("integration_id", "id") WHERE "status" = 'pending'`);
        await queryRunner.query(`ALTER TABLE "sync_inbox" ADD "user_id" text`);
        await queryRunner.query(`UPDATE "sync_inbox" SET "user_id" = "payload"->'data'->>'id' WHERE "user_id" IS NULL`);
        await queryRunner.query(`CREATE INDEX "sync_inbox_user_idx" ON "sync_inbox" ("integration_id", "user_id") `);
        await queryRunner.query(`CREATE INDEX "sync_inbox_dead_idx" ON "sync_inbox" ("integration_id", "id") WHERE "status" = 'dead'`);
        await queryRunner.query(`CREATE TABLE "sync_confirmations" ("integration_id" uuid NOT NULL, "user_id" text NOT NULL, "requested_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT clock_timestamp(), CONSTRAINT "sync_confirmations_pkey" PRIMARY KEY ("integration_id", "user_id"))`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "sync_confirmations"`);
        await queryRunner.query(`DROP INDEX "public"."sync_inbox_dead_idx"`);
        await queryRunner.query(`DROP INDEX "public"."sync_inbox_user_idx"`);
        await queryRunner.query(`ALTER TABLE "sync_inbox" DROP COLUMN "user_id"`);
        await queryRunner.query(`DROP INDEX "public"."sync_inbox_pending_idx"`);
        await queryRunner.query(`CREATE INDEX "sync_inbox_pending_idx" ON "sync_inbox" ("id") WHERE "status" = 'pending'`);
    }

}
