import { MigrationInterface, QueryRunner } from "typeorm";

export class MockProviderProjectTombstones1795746900000 implements MigrationInterface {
    name = 'MockProviderProjectTombstones1795746900000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        // A deleted mock provider project stays as a tombstone, so its id and keys are never issued again.
        await queryRunner.query(`ALTER TABLE "mock_provider_projects" ADD "deleted_at" TIMESTAMP WITH TIME ZONE`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "mock_provider_projects" DROP COLUMN "deleted_at"`);
    }

}
