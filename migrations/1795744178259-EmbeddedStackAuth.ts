import { MigrationInterface, QueryRunner } from "typeorm";

export class EmbeddedStackAuth1795744178259 implements MigrationInterface {
    name = 'EmbeddedStackAuth1795744178259'

    public async up(queryRunner: QueryRunner): Promise<void> {
        // The embedded Stack-Auth-compatible provider keeps its tables in its own schema.
        await queryRunner.query(`CREATE SCHEMA IF NOT EXISTS "stack_auth"`);
        await queryRunner.query(`CREATE TABLE "stack_auth"."projects" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "display_name" text NOT NULL, "description" text NOT NULL DEFAULT '', "config" jsonb NOT NULL, "owned_by" text NOT NULL DEFAULT 'neon', "owner_email" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_6271df0a7aed1d6c0691ce6ac50" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "stack_auth"."api_key_sets" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "description" text NOT NULL DEFAULT '', "publishable_client_key_hash" text, "secret_server_key_hash" text, "super_secret_admin_key_hash" text, "expires_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_45b454ed2da59a90ed78597026d" UNIQUE ("publishable_client_key_hash"), CONSTRAINT "UQ_947c37df5842402c721cdf0d83d" UNIQUE ("secret_server_key_hash"), CONSTRAINT "UQ_65dddf45e8922853bbd393f5f11" UNIQUE ("super_secret_admin_key_hash"), CONSTRAINT "PK_c9bdf6686bad5f88a4b3ea4c771" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "stack_api_key_sets_project_id_idx" ON "stack_auth"."api_key_sets"  ("project_id") `);
        await queryRunner.query(`CREATE TABLE "stack_auth"."users" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "display_name" text, "primary_email" text, "primary_email_verified" boolean NOT NULL DEFAULT false, "primary_email_auth_enabled" boolean NOT NULL DEFAULT false, "password_hash" text, "profile_image_url" text, "client_metadata" jsonb, "client_read_only_metadata" jsonb, "server_metadata" jsonb, "otp_auth_enabled" boolean NOT NULL DEFAULT false, "passkey_auth_enabled" boolean NOT NULL DEFAULT false, "totp_secret_encrypted" text, "is_anonymous" boolean NOT NULL DEFAULT false, "restricted_by_admin" boolean NOT NULL DEFAULT false, "restricted_by_admin_reason" text, "restricted_by_admin_private_details" text, "country_code" text, "risk_scores" jsonb NOT NULL, "signed_up_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_active_at" TIMESTAMP WITH TIME ZONE NOT NULL, "version" bigint NOT NULL DEFAULT '1', CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "stack_users_auth_email_key" ON "stack_auth"."users"  ("project_id", "primary_email") WHERE primary_email_auth_enabled`);
        await queryRunner.query(`CREATE INDEX "stack_users_project_last_active_idx" ON "stack_auth"."users"  ("project_id", "last_active_at", "id") `);
        await queryRunner.query(`CREATE INDEX "stack_users_project_signed_up_idx" ON "stack_auth"."users"  ("project_id", "signed_up_at", "id") `);
        await queryRunner.query(`CREATE TABLE "stack_auth"."sessions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "user_id" uuid NOT NULL, "refresh_token_hash" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_d6185b2849a1e4d0c067a57ca89" UNIQUE ("refresh_token_hash"), CONSTRAINT "PK_3238ef96f18b355b671619111bc" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "stack_sessions_user_id_idx" ON "stack_auth"."sessions"  ("user_id") `);
        await queryRunner.query(`CREATE TABLE "stack_auth"."signing_keys" ("kid" text NOT NULL, "project_id" uuid NOT NULL, "public_jwk" jsonb NOT NULL, "private_jwk_encrypted" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "retired_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_13362ac3e792c69417e1a53d355" PRIMARY KEY ("kid"))`);
        await queryRunner.query(`CREATE INDEX "stack_signing_keys_project_id_idx" ON "stack_auth"."signing_keys"  ("project_id") `);
        await queryRunner.query(`CREATE TABLE "stack_auth"."ownership_transfers" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "code_hash" text NOT NULL, "status" text NOT NULL DEFAULT 'initiated', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "finished_at" TIMESTAMP WITH TIME ZONE, "new_owner_email" text, CONSTRAINT "UQ_e5a0f6e385a781f95996c2cd864" UNIQUE ("code_hash"), CONSTRAINT "PK_e97d3c2e2f6a24be94fb9f087bb" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "stack_ownership_transfers_project_id_idx" ON "stack_auth"."ownership_transfers"  ("project_id") `);
        await queryRunner.query(`CREATE TABLE "stack_auth"."webhook_endpoints" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "url" text NOT NULL, "description" text NOT NULL DEFAULT '', "secret_encrypted" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "disabled_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_054c4cfb95223732f5939d2d546" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "stack_webhook_endpoints_project_id_idx" ON "stack_auth"."webhook_endpoints"  ("project_id") `);
        await queryRunner.query(`CREATE TABLE "stack_auth"."webhook_outbox" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "project_id" uuid NOT NULL, "endpoint_id" uuid NOT NULL, "message_id" text NOT NULL, "event_type" text NOT NULL, "payload" jsonb NOT NULL, "ordering_key" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "attempts" integer NOT NULL DEFAULT '0', "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "delivered_at" TIMESTAMP WITH TIME ZONE, "last_error" text, CONSTRAINT "UQ_4408307610066e6469c86467517" UNIQUE ("message_id"), CONSTRAINT "PK_f4a40df90155b6146edea062e4b" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "stack_webhook_outbox_pending_idx" ON "stack_auth"."webhook_outbox"  ("endpoint_id", "ordering_key", "id") WHERE delivered_at IS NULL`);
        await queryRunner.query(`ALTER TABLE "stack_auth"."api_key_sets" ADD CONSTRAINT "FK_16a9a19bfab53e48bf951f12868" FOREIGN KEY ("project_id") REFERENCES "stack_auth"."projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "stack_auth"."users" ADD CONSTRAINT "FK_22b2bcb031a944b0859d5afd0b2" FOREIGN KEY ("project_id") REFERENCES "stack_auth"."projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "stack_auth"."sessions" ADD CONSTRAINT "FK_085d540d9f418cfbdc7bd55bb19" FOREIGN KEY ("user_id") REFERENCES "stack_auth"."users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "stack_auth"."signing_keys" ADD CONSTRAINT "FK_dc18e7923887e80342048bbe7df" FOREIGN KEY ("project_id") REFERENCES "stack_auth"."projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "stack_auth"."ownership_transfers" ADD CONSTRAINT "FK_70d6d33daed20a9b28f1e3f05f2" FOREIGN KEY ("project_id") REFERENCES "stack_auth"."projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "stack_auth"."webhook_endpoints" ADD CONSTRAINT "FK_0ab4ea705a813fdebcc2b12ef2f" FOREIGN KEY ("project_id") REFERENCES "stack_auth"."projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "stack_auth"."webhook_outbox" ADD CONSTRAINT "FK_3e77f211d75382021d7b3a993b9" FOREIGN KEY ("endpoint_id") REFERENCES "stack_auth"."webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "stack_auth"."webhook_outbox" DROP CONSTRAINT "FK_3e77f211d75382021d7b3a993b9"`);
        await queryRunner.query(`ALTER TABLE "stack_auth"."webhook_endpoints" DROP CONSTRAINT "FK_0ab4ea705a813fdebcc2b12ef2f"`);
        await queryRunner.query(`ALTER TABLE "stack_auth"."ownership_transfers" DROP CONSTRAINT "FK_70d6d33daed20a9b28f1e3f05f2"`);
        await queryRunner.query(`ALTER TABLE "stack_auth"."signing_keys" DROP CONSTRAINT "FK_dc18e7923887e80342048bbe7df"`);
        await queryRunner.query(`ALTER TABLE "stack_auth"."sessions" DROP CONSTRAINT "FK_085d540d9f418cfbdc7bd55bb19"`);
        await queryRunner.query(`ALTER TABLE "stack_auth"."users" DROP CONSTRAINT "FK_22b2bcb031a944b0859d5afd0b2"`);
        await queryRunner.query(`ALTER TABLE "stack_auth"."api_key_sets" DROP CONSTRAINT "FK_16a9a19bfab53e48bf951f12868"`);
        await queryRunner.query(`DROP INDEX "stack_auth"."stack_webhook_outbox_pending_idx"`);
        await queryRunner.query(`DROP TABLE "stack_auth"."webhook_outbox"`);
        await queryRunner.query(`DROP INDEX "stack_auth"."stack_webhook_endpoints_project_id_idx"`);
        await queryRunner.query(`DROP TABLE "stack_auth"."webhook_endpoints"`);
        await queryRunner.query(`DROP INDEX "stack_auth"."stack_ownership_transfers_project_id_idx"`);
        await queryRunner.query(`DROP TABLE "stack_auth"."ownership_transfers"`);
        await queryRunner.query(`DROP INDEX "stack_auth"."stack_signing_keys_project_id_idx"`);
        await queryRunner.query(`DROP TABLE "stack_auth"."signing_keys"`);
        await queryRunner.query(`DROP INDEX "stack_auth"."stack_sessions_user_id_idx"`);
        await queryRunner.query(`DROP TABLE "stack_auth"."sessions"`);
        await queryRunner.query(`DROP INDEX "stack_auth"."stack_users_project_signed_up_idx"`);
        await queryRunner.query(`DROP INDEX "stack_auth"."stack_users_project_last_active_idx"`);
        await queryRunner.query(`DROP INDEX "stack_auth"."stack_users_auth_email_key"`);
        await queryRunner.query(`DROP TABLE "stack_auth"."users"`);
        await queryRunner.query(`DROP INDEX "stack_auth"."stack_api_key_sets_project_id_idx"`);
        await queryRunner.query(`DROP TABLE "stack_auth"."api_key_sets"`);
        await queryRunner.query(`DROP TABLE "stack_auth"."projects"`);
        await queryRunner.query(`DROP SCHEMA IF EXISTS "stack_auth"`);
    }

}
