import { MigrationInterface, QueryRunner } from "typeorm";

export class MockAuthProvider1795745893724 implements MigrationInterface {
    name = 'MockAuthProvider1795745893724'

    public async up(queryRunner: QueryRunner): Promise<void> {
        // State of the `mock` auth provider (src/providers/mock): projects and users, in the control-plane schema.
        await queryRunner.query(`CREATE TABLE "mock_provider_projects" ("id" uuid NOT NULL, "display_name" text NOT NULL, "owned_by" text NOT NULL DEFAULT 'neon', "transfer_status" text NOT NULL DEFAULT 'none', "transfer_links" integer NOT NULL DEFAULT '0', "key_generation" integer NOT NULL DEFAULT '0', "webhook_urls" jsonb NOT NULL DEFAULT '[]', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_a7b05f389f29ddf9b9d1e0041d0" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "mock_provider_users" ("id" uuid NOT NULL, "project_id" uuid NOT NULL, "email" text NOT NULL, "display_name" text, "server_metadata" jsonb, "signed_up_at" TIMESTAMP WITH TIME ZONE NOT NULL, "version" integer NOT NULL DEFAULT '1', "deleted_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_646bc07cf0c1f5144ac5cb48d4e" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "mock_provider_users_project_order_idx" ON "mock_provider_users"  ("project_id", "signed_up_at", "id") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "mock_provider_users_email_key" ON "mock_provider_users"  ("project_id", "email") WHERE deleted_at IS NULL`);
        await queryRunner.query(`ALTER TABLE "mock_provider_users" ADD CONSTRAINT "FK_8291ed6032637684f1655ce7f83" FOREIGN KEY ("project_id") REFERENCES "mock_provider_projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "mock_provider_users" DROP CONSTRAINT "FK_8291ed6032637684f1655ce7f83"`);
        await queryRunner.query(`DROP INDEX "public"."mock_provider_users_email_key"`);
        await queryRunner.query(`DROP INDEX "public"."mock_provider_users_project_order_idx"`);
        await queryRunner.query(`DROP TABLE "mock_provider_users"`);
        await queryRunner.query(`DROP TABLE "mock_provider_projects"`);
    }

}
