import { MigrationInterface, QueryRunner } from "typeorm";

export class NeonAuthIntegrations1795746313068 implements MigrationInterface {
    name = 'NeonAuthIntegrations1795746313068'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "neon_auth_integrations" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" text NOT NULL, "branch_id" text NOT NULL, "database_name" text NOT NULL, "auth_provider" text NOT NULL, "provider_project_id" text NOT NULL, "owned_by" text NOT NULL, "transfer_status" text, "credentials_encrypted" text NOT NULL, "webhook_secret_encrypted" text, "jwks_url" text NOT NULL, "base_url" text, "name" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_82f30cc95f2cc81f266784da3e0" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "neon_auth_integrations_project_id_idx" ON "neon_auth_integrations"  ("project_id") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "neon_auth_integrations_branch_key" ON "neon_auth_integrations"  ("branch_id") `);
        await queryRunner.query(`ALTER TABLE "neon_auth_integrations" ADD CONSTRAINT "FK_ec913b5a695ab64b8afb8867959" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "neon_auth_integrations" ADD CONSTRAINT "FK_6ad4a81acaa60fe6dcdecd05479" FOREIGN KEY ("branch_id") REFERENCES "branches"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "neon_auth_integrations" DROP CONSTRAINT "FK_6ad4a81acaa60fe6dcdecd05479"`);
        await queryRunner.query(`ALTER TABLE "neon_auth_integrations" DROP CONSTRAINT "FK_ec913b5a695ab64b8afb8867959"`);
        await queryRunner.query(`DROP INDEX "public"."neon_auth_integrations_branch_key"`);
        await queryRunner.query(`DROP INDEX "public"."neon_auth_integrations_project_id_idx"`);
        await queryRunner.query(`DROP TABLE "neon_auth_integrations"`);
    }

}
