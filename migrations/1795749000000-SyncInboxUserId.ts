import { MigrationInterface, QueryRunner } from "typeorm";

export class SyncInboxUserId1795749000000 implements MigrationInterface {
    name = 'SyncInboxUserId1795749000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "sync_inbox" ADD "user_id" text`);
        await queryRunner.query(`UPDATE "sync_inbox" SET "user_id" = "payload"->'data'->>'id' WHERE "user_id" IS NULL`);
        await queryRunner.query(`CREATE INDEX "sync_inbox_user_idx" ON "sync_inbox" ("integration_id", "user_id") `);
        await queryRunner.query(`CREATE INDEX "sync_inbox_dead_idx" ON "sync_inbox" ("integration_id", "id") WHERE "status" = 'dead'`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."sync_inbox_dead_idx"`);
        await queryRunner.query(`DROP INDEX "public"."sync_inbox_user_idx"`);
        await queryRunner.query(`ALTER TABLE "sync_inbox" DROP COLUMN "user_id"`);
    }

}
