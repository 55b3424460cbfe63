import { MigrationInterface, QueryRunner } from "typeorm";

export class StackAuthSessionPruning1796600300000 implements MigrationInterface {
    name = 'StackAuthSessionPruning1796600300000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE INDEX "stack_sessions_expires_at_idx" ON "stack_auth"."sessions" ("expires_at") `);
        await queryRunner.query(`CREATE INDEX "stack_sessions_revoked_idx" ON "stack_auth"."sessions" ("revoked_at") WHERE "revoked_at" IS NOT NULL`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "stack_auth"."stack_sessions_revoked_idx"`);
        await queryRunner.query(`DROP INDEX "stack_auth"."stack_sessions_expires_at_idx"`);
    }

}
