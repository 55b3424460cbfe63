import { MigrationInterface, QueryRunner } from "typeorm";

export class Initial1795742193927 implements MigrationInterface {
    name = 'Initial1795742193927'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "accounts" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "email" text NOT NULL, "name" text NOT NULL, "is_platform_admin" boolean NOT NULL DEFAULT false, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_ee66de6cdc53993296d1ceb8aa0" UNIQUE ("email"), CONSTRAINT "PK_5a7a02c20412299d198e097a8fe" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "organizations" ("id" text NOT NULL, "name" text NOT NULL, "handle" text NOT NULL, "plan" text NOT NULL DEFAULT 'free', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_602d5697b1e17914c0a018150f7" UNIQUE ("handle"), CONSTRAINT "PK_6b031fcd0863e3f6b44230163f9" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE TABLE "projects" ("id" text NOT NULL, "org_id" text NOT NULL, "name" text NOT NULL, "region_id" text NOT NULL, "pg_version" integer NOT NULL, "settings" jsonb NOT NULL DEFAULT '{}'::jsonb, "store_passwords" boolean NOT NULL DEFAULT true, "history_retention_seconds" integer NOT NULL DEFAULT '86400', "creation_source" text NOT NULL DEFAULT 'api', "owner_id" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_6271df0a7aed1d6c0691ce6ac50" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "projects_org_id_idx" ON "projects"  ("org_id") `);
        await queryRunner.query(`CREATE TABLE "api_keys" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "kind" text NOT NULL, "name" text NOT NULL, "token_hash" text NOT NULL, "account_id" uuid, "org_id" text, "project_id" text, "created_by" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_used_at" TIMESTAMP WITH TIME ZONE, "last_used_from_addr" text NOT NULL DEFAULT '', "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_77f4ee004e33afac232c0a8fd18" UNIQUE ("token_hash"), CONSTRAINT "api_keys_scope_check" CHECK ((kind = 'personal' AND account_id IS NOT NULL AND org_id IS NULL AND project_id IS NULL)
   OR (kind = 'organization' AND org_id IS NOT NULL AND project_id IS NULL)
   OR (kind = 'project' AND org_id IS NOT NULL AND project_id IS NOT NULL)), CONSTRAINT "api_keys_kind_check" CHECK (kind IN ('personal', 'organization', 'project')), CONSTRAINT "PK_5c8a79801b44bd27b79228e1dad" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "api_keys_account_id_idx" ON "api_keys"  ("account_id") `);
        await queryRunner.query(`CREATE INDEX "api_keys_org_id_idx" ON "api_keys"  ("org_id") `);
        await queryRunner.query(`CREATE INDEX "api_keys_project_id_idx" ON "api_keys"  ("project_id") `);
        await queryRunner.query(`CREATE TABLE "organization_invitations" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" text NOT NULL, "email" text NOT NULL, "role" text NOT NULL, "invited_by" uuid, "invited_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "accepted_at" TIMESTAMP WITH TIME ZONE, "accepted_by" uuid, CONSTRAINT "organization_invitations_role_check" CHECK (role IN ('admin', 'member')), CONSTRAINT "PK_f172f12b8a9ee6584b661f57e24" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "organization_invitations_pending_key" ON "organization_invitations"  ("org_id", "email") WHERE accepted_at IS NULL`);
        await queryRunner.query(`CREATE TABLE "organization_members" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "org_id" text NOT NULL, "account_id" uuid NOT NULL, "role" text NOT NULL, "joined_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "organization_members_role_check" CHECK (role IN ('admin', 'member')), CONSTRAINT "PK_c2b39d5d072886a4d9c8105eb9a" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "organization_members_account_id_idx" ON "organization_members"  ("account_id") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "organization_members_org_account_key" ON "organization_members"  ("org_id", "account_id") `);
        await queryRunner.query(`CREATE TABLE "branches" ("id" text NOT NULL, "project_id" text NOT NULL, "parent_id" text, "name" text NOT NULL, "is_default" boolean NOT NULL DEFAULT false, "is_protected" boolean NOT NULL DEFAULT false, "current_state" text NOT NULL DEFAULT 'ready', "state_changed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_7f37d3b42defea97f1df0d19535" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "branches_project_default_key" ON "branches"  ("project_id") WHERE is_default`);
        await queryRunner.query(`CREATE UNIQUE INDEX "branches_project_name_key" ON "branches"  ("project_id", "name") `);
        await queryRunner.query(`CREATE TABLE "branch_databases" ("id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "branch_id" text NOT NULL, "name" text NOT NULL, "owner_name" text NOT NULL, "physical_name" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_471794efa76e034706010ad5730" UNIQUE ("physical_name"), CONSTRAINT "PK_d06fb3692fdb55812e50b6e8fc4" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "branch_databases_branch_name_key" ON "branch_databases"  ("branch_id", "name") `);
        await queryRunner.query(`CREATE TABLE "endpoints" ("id" text NOT NULL, "project_id" text NOT NULL, "branch_id" text NOT NULL, "type" text NOT NULL DEFAULT 'read_write', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_70835610dfa54ad5d990e02f70a" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "endpoints_branch_id_idx" ON "endpoints"  ("branch_id") `);
        await queryRunner.query(`CREATE TABLE "project_permissions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" text NOT NULL, "granted_to_email" text NOT NULL, "granted_by" uuid, "granted_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_bebd29c1039fb4f11c2727567e4" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "project_permissions_email_idx" ON "project_permissions"  ("granted_to_email") `);
        await queryRunner.query(`CREATE UNIQUE INDEX "project_permissions_active_key" ON "project_permissions"  ("project_id", "granted_to_email") WHERE revoked_at IS NULL`);
        await queryRunner.query(`CREATE TABLE "branch_roles" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "branch_id" text NOT NULL, "name" text NOT NULL, "physical_name" text NOT NULL, "password_encrypted" text NOT NULL, "is_protected" boolean NOT NULL DEFAULT false, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_56d868bc7d4d81ab0e2fd20306c" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "branch_roles_branch_name_key" ON "branch_roles"  ("branch_id", "name") `);
        await queryRunner.query(`CREATE TABLE "system_state" ("key" text NOT NULL, "value" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_a291c88459a85c912ca5f83eb83" PRIMARY KEY ("key"))`);
        await queryRunner.query(`ALTER TABLE "projects" ADD CONSTRAINT "FK_9f78c168a06314a987cf3bd401c" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "projects" ADD CONSTRAINT "FK_b1bd2fbf5d0ef67319c91acb5cf" FOREIGN KEY ("owner_id") REFERENCES "accounts"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "api_keys" ADD CONSTRAINT "FK_decaf331589778e33441b2a8d9e" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "api_keys" ADD CONSTRAINT "FK_ba7f5748f500d24aa18041d0439" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "api_keys" ADD CONSTRAINT "FK_f5de07dbb229225e2be643ff3d0" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "api_keys" ADD CONSTRAINT "FK_983d7eb19ca94bb8e343293068e" FOREIGN KEY ("created_by") REFERENCES "accounts"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "organization_invitations" ADD CONSTRAINT "FK_c3fa09b9335a278556d8de6b0cb" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "organization_invitations" ADD CONSTRAINT "FK_8ab435d962010401bc62c8d9e38" FOREIGN KEY ("invited_by") REFERENCES "accounts"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "organization_invitations" ADD CONSTRAINT "FK_c32c2131ff9ee01e0a430abb790" FOREIGN KEY ("accepted_by") REFERENCES "accounts"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "organization_members" ADD CONSTRAINT "FK_fd8ec3efd79b2ee163cf98edd8c" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "organization_members" ADD CONSTRAINT "FK_c44567fc1482dd0df4639a844bb" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "branches" ADD CONSTRAINT "FK_6dab82d7024195ac691c50f6942" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "branches" ADD CONSTRAINT "FK_a6aa735704d3f00c6033c57f81f" FOREIGN KEY ("parent_id") REFERENCES "branches"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "branch_databases" ADD CONSTRAINT "FK_3ba4747fc53ba8b3b645c99dfbf" FOREIGN KEY ("branch_id") REFERENCES "branches"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "endpoints" ADD CONSTRAINT "FK_f0503352feddfd78662f0981b29" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "endpoints" ADD CONSTRAINT "FK_6ccc8ff5a629a802c637de4ced2" FOREIGN KEY ("branch_id") REFERENCES "branches"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "project_permissions" ADD CONSTRAINT "FK_584bd3498e99449311acc725b98" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "project_permissions" ADD CONSTRAINT "FK_3416b85a4d9eed2d30eb4e7cd98" FOREIGN KEY ("granted_by") REFERENCES "accounts"("id") ON DELETE SET NULL ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "branch_roles" ADD CONSTRAINT "FK_059f51cdeabba36de2d73db1708" FOREIGN KEY ("branch_id") REFERENCES "branches"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "branch_roles" DROP CONSTRAINT "FK_059f51cdeabba36de2d73db1708"`);
        await queryRunner.query(`ALTER TABLE "project_permissions" DROP CONSTRAINT "FK_3416b85a4d9eed2d30eb4e7cd98"`);
        await queryRunner.query(`ALTER TABLE "project_permissions" DROP CONSTRAINT "FK_584bd3498e99449311acc725b98"`);
        await queryRunner.query(`ALTER TABLE "endpoints" DROP CONSTRAINT "FK_6ccc8ff5a629a802c637de4ced2"`);
        await queryRunner.query(`ALTER TABLE "endpoints" DROP CONSTRAINT "FK_f0503352feddfd78662f0981b29"`);
        await queryRunner.query(`ALTER TABLE "branch_databases" DROP CONSTRAINT "FK_3ba4747fc53ba8b3b645c99dfbf"`);
        await queryRunner.query(`ALTER TABLE "branches" DROP CONSTRAINT "FK_a6aa735704d3f00c6033c57f81f"`);
        await queryRunner.query(`ALTER TABLE "branches" DROP CONSTRAINT "FK_6dab82d7024195ac691c50f6942"`);
        await queryRunner.query(`ALTER TABLE "organization_members" DROP CONSTRAINT "FK_c44567fc1482dd0df4639a844bb"`);
        await queryRunner.query(`ALTER TABLE "organization_members" DROP CONSTRAINT "FK_fd8ec3efd79b2ee163cf98edd8c"`);
        await queryRunner.query(`ALTER TABLE "organization_invitations" DROP CONSTRAINT "FK_c32c2131ff9ee01e0a430abb790"`);
        await queryRunner.query(`ALTER TABLE "organization_invitations" DROP CONSTRAINT "FK_8ab435d962010401bc62c8d9e38"`);
        await queryRunner.query(`ALTER TABLE "organization_invitations" DROP CONSTRAINT "FK_c3fa09b9335a278556d8de6b0cb"`);
        await queryRunner.query(`ALTER TABLE "api_keys" DROP CONSTRAINT "FK_983d7eb19ca94bb8e343293068e"`);
        await queryRunner.query(`ALTER TABLE "api_keys" DROP CONSTRAINT "FK_f5de07dbb229225e2be643ff3d0"`);
        await queryRunner.query(`ALTER TABLE "api_keys" DROP CONSTRAINT "FK_ba7f5748f500d24aa18041d0439"`);
        await queryRunner.query(`ALTER TABLE "api_keys" DROP CONSTRAINT "FK_decaf331589778e33441b2a8d9e"`);
        await queryRunner.query(`ALTER TABLE "projects" DROP CONSTRAINT "FK_b1bd2fbf5d0ef67319c91acb5cf"`);
        await queryRunner.query(`ALTER TABLE "projects" DROP CONSTRAINT "FK_9f78c168a06314a987cf3bd401c"`);
        await queryRunner.query(`DROP TABLE "system_state"`);
        await queryRunner.query(`DROP INDEX "public"."branch_roles_branch_name_key"`);
        await queryRunner.query(`DROP TABLE "branch_roles"`);
        await queryRunner.query(`DROP INDEX "public"."project_permissions_active_key"`);
        await queryRunner.query(`DROP INDEX "public"."project_permissions_email_idx"`);
        await queryRunner.query(`DROP TABLE "project_permissions"`);
        await queryRunner.query(`DROP INDEX "public"."endpoints_branch_id_idx"`);
        await queryRunner.query(`DROP TABLE "endpoints"`);
        await queryRunner.query(`DROP INDEX "public"."branch_databases_branch_name_key"`);
        await queryRunner.query(`DROP TABLE "branch_databases"`);
        await queryRunner.query(`DROP INDEX "public"."branches_project_name_key"`);
        await queryRunner.query(`DROP INDEX "public"."branches_project_default_key"`);
        await queryRunner.query(`DROP TABLE "branches"`);
        await queryRunner.query(`DROP INDEX "public"."organization_members_org_account_key"`);
        await queryRunner.query(`DROP INDEX "public"."organization_members_account_id_idx"`);
        await queryRunner.query(`DROP TABLE "organization_members"`);
        await queryRunner.query(`DROP INDEX "public"."organization_invitations_pending_key"`);
        await queryRunner.query(`DROP TABLE "organization_invitations"`);
        await queryRunner.query(`DROP INDEX "public"."api_keys_project_id_idx"`);
        await queryRunner.query(`DROP INDEX "public"."api_keys_org_id_idx"`);
        await queryRunner.query(`DROP INDEX "public"."api_keys_account_id_idx"`);
        await queryRunner.query(`DROP TABLE "api_keys"`);
        await queryRunner.query(`DROP INDEX "public"."projects_org_id_idx"`);
        await queryRunner.query(`DROP TABLE "projects"`);
        await queryRunner.query(`DROP TABLE "organizations"`);
        await queryRunner.query(`DROP TABLE "accounts"`);
    }

}
