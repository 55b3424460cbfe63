import { MigrationInterface, QueryRunner } from "typeorm";

export class IdempotencyKeys1795746597783 implements MigrationInterface {
    name = 'IdempotencyKeys1795746597783'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "idempotency_keys" ("caller" text NOT NULL, "key" text NOT NULL, "fingerprint" text NOT NULL, "method" text NOT NULL, "path" text NOT NULL, "status" integer, "response_encrypted" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_a661c9488678a6eb48ebb65eb63" PRIMARY KEY ("caller", "key"))`);
        await queryRunner.query(`CREATE INDEX "idempotency_keys_expires_at_idx" ON "idempotency_keys"  ("expires_at") `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."idempotency_keys_expires_at_idx"`);
        await queryRunner.query(`DROP TABLE "idempotency_keys"`);
    }

}
