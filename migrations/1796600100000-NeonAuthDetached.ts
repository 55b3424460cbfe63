import { MigrationInterface, QueryRunner } from "typeorm";

export class NeonAuthDetached1796600100000 implements MigrationInterface {
    name = 'NeonAuthDetached1796600100000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "neon_auth_detached_projects" ("integration_id" uuid NOT NULL, "project_id" text NOT NULL, "branch_id" text NOT NULL, "database_name" text NOT NULL, "auth_provider" text NOT NULL, "provider_project_id" text NOT NULL, "transfer_status" text, "credentials_encrypted" text NOT NULL, "webhook_secret_encrypted" text, "jwks_url" text NOT NULL, "base_url" text, "name" text, "detached_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "neon_auth_detached_projects_pkey" PRIMARY KEY ("integration_id"))`);
        await queryRunner.query(`CREATE INDEX "neon_auth_detached_projects_branch_idx" ON "neon_auth_detached_projects" ("branch_id") `);
        await queryRunner.query(`ALTER TABLE "neon_auth_detached_projects" ADD CONSTRAINT "FK_neon_auth_detached_projects_branch" FOREIGN KEY ("branch_id") REFERENCES "branches"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`CREATE TABLE "neon_auth_foreign_users" ("integration_id" uuid NOT NULL, "user_id" text NOT NULL, CONSTRAINT "neon_auth_foreign_users_pkey" PRIMARY KEY ("integration_id", "user_id"))`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "neon_auth_foreign_users"`);
        await queryRunner.query(`ALTER TABLE "neon_auth_detached_projects" DROP CONSTRAINT "FK_neon_auth_detached_projects_branch"`);
        await queryRunner.query(`DROP INDEX "public"."neon_auth_detached_projects_branch_idx"`);
        await queryRunner.query(`DROP TABLE "neon_auth_detached_projects"`);
    }

}
