import { MigrationInterface, QueryRunner } from "typeorm";

export class ProvisionKeys1796600400000 implements MigrationInterface {
    name = 'ProvisionKeys1796600400000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "stack_auth"."projects" ADD "provision_key" text`);
        await queryRunner.query(`ALTER TABLE "stack_auth"."projects" ADD CONSTRAINT "UQ_b6a0be8705c970477fbc73f0610" UNIQUE ("provision_key")`);
        await queryRunner.query(`ALTER TABLE "mock_provider_projects" ADD "provision_key" text`);
        await queryRunner.query(`ALTER TABLE "mock_provider_projects" ADD CONSTRAINT "UQ_7ac1b9f23bc6ad5b05ba7bc839e" UNIQUE ("provision_key")`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "mock_provider_projects" DROP CONSTRAINT "UQ_7ac1b9f23bc6ad5b05ba7bc839e"`);
        await queryRunner.query(`ALTER TABLE "mock_provider_projects" DROP COLUMN "provision_key"`);
        await queryRunner.query(`ALTER TABLE "stack_auth"."projects" DROP CONSTRAINT "UQ_b6a0be8705c970477fbc73f0610"`);
        await queryRunner.query(`ALTER TABLE "stack_auth"."projects" DROP COLUMN "provision_key"`);
    }

}
