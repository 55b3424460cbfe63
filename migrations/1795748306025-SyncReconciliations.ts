import { MigrationInterface, QueryRunner } from "typeorm";

export class SyncReconciliations1795748306025 implements MigrationInterface {
    name = 'SyncReconciliations1795748306025'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "neon_auth_sync_reconciliations" ("integration_id" uuid NOT NULL, "last_reconciled_at" TIMESTAMP WITH TIME ZONE, "last_result" jsonb, "last_error" text, "last_run_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_c56129f1f4de0e8a4eaa41bf9ca" PRIMARY KEY ("integration_id"))`);
        await queryRunner.query(`ALTER TABLE "neon_auth_sync_reconciliations" ADD CONSTRAINT "FK_c56129f1f4de0e8a4eaa41bf9ca" FOREIGN KEY ("integration_id") REFERENCES "neon_auth_integrations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "neon_auth_sync_reconciliations" DROP CONSTRAINT "FK_c56129f1f4de0e8a4eaa41bf9ca"`);
        await queryRunner.query(`DROP TABLE "neon_auth_sync_reconciliations"`);
    }

}
