import { MigrationInterface, QueryRunner } from "typeorm";

export class MockProviderSettings1796600700000 implements MigrationInterface {
    name = 'MockProviderSettings1796600700000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "mock_provider_projects" ADD "settings" jsonb`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "mock_provider_projects" DROP COLUMN "settings"`);
    }

}
