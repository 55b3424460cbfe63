import { MigrationInterface, QueryRunner } from "typeorm";

export class SyncInbox1795747500000 implements MigrationInterface {
    name = 'SyncInbox1795747500000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "sync_inbox" ("id" BIGSERIAL NOT NULL, "integration_id" uuid NOT NULL, "message_id" text NOT NULL, "event_type" text NOT NULL, "payload" jsonb NOT NULL, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT clock_timestamp(), "status" text NOT NULL DEFAULT 'pending', "attempts" integer NOT NULL DEFAULT '0', "last_error" text, "applied_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "sync_inbox_pkey" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "sync_inbox_pending_idx" ON "sync_inbox" ("id") WHERE "status" = 'pending'`);
        await queryRunner.query(`CREATE UNIQUE INDEX "sync_inbox_message_key" ON "sync_inbox" ("integration_id", "message_id") `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."sync_inbox_message_key"`);
        await queryRunner.query(`DROP INDEX "public"."sync_inbox_pending_idx"`);
        await queryRunner.query(`DROP TABLE "sync_inbox"`);
    }

}
