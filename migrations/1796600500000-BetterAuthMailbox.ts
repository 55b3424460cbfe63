import { MigrationInterface, QueryRunner } from "typeorm";

export class BetterAuthMailbox1796600500000 implements MigrationInterface {
    name = 'BetterAuthMailbox1796600500000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "neon_auth_mailbox" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "integration_id" uuid NOT NULL, "project_id" text NOT NULL, "branch_id" text NOT NULL, "database_name" text NOT NULL, "kind" text NOT NULL, "recipient" text NOT NULL, "subject" text NOT NULL, "body" text NOT NULL, "data" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_5997d3a50da6a77c74b05479381" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "neon_auth_mailbox_branch_idx" ON "neon_auth_mailbox"  ("branch_id", "created_at") `);
        await queryRunner.query(`ALTER TABLE "neon_auth_mailbox" ADD CONSTRAINT "FK_neon_auth_mailbox_branch" FOREIGN KEY ("branch_id") REFERENCES "branches"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "neon_auth_mailbox" DROP CONSTRAINT "FK_neon_auth_mailbox_branch"`);
        await queryRunner.query(`DROP INDEX "public"."neon_auth_mailbox_branch_idx"`);
        await queryRunner.query(`DROP TABLE "neon_auth_mailbox"`);
    }

}
