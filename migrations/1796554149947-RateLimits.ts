import { MigrationInterface, QueryRunner } from "typeorm";

export class RateLimits1796554149947 implements MigrationInterface {
    name = 'RateLimits1796554149947'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "rate_limits" ("key" character varying(255) NOT NULL, "points" integer NOT NULL DEFAULT '0', "expire" bigint, CONSTRAINT "rate_limits_pkey" PRIMARY KEY ("key"))`);
        await queryRunner.query(`CREATE INDEX "rate_limits_expire_idx" ON "rate_limits"  ("expire") `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."rate_limits_expire_idx"`);
        await queryRunner.query(`DROP TABLE "rate_limits"`);
    }

}
