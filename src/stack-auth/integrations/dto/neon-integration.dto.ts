import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsDefined, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';

/** A branch connection string that Neon passes when provisioning (accepted and validated, not stored). */
export class NeonConnectionStringDto {
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  branch_id!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  connection_string!: string;
}

/** `POST /integrations/neon/projects/provision` */
export class ProvisionProjectDto {
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  display_name!: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => NeonConnectionStringDto)
  connection_strings?: NeonConnectionStringDto[];
}

/** Latest accepted expiry: JavaScript's largest Date (year 275760). */
const MAX_DATE_MILLIS = 8.64e15;

/** `POST /integrations/neon/api-keys` (every field required, as in Stack Auth). */
export class CreateApiKeySetDto {
  @IsDefined()
  @IsString()
  @MaxLength(1000)
  description!: string;

  @IsDefined()
  @IsInt()
  @Min(0)
  @Max(MAX_DATE_MILLIS)
  expires_at_millis!: number;

  @IsDefined()
  @IsBoolean()
  has_publishable_client_key!: boolean;

  @IsDefined()
  @IsBoolean()
  has_secret_server_key!: boolean;

  @IsDefined()
  @IsBoolean()
  has_super_secret_admin_key!: boolean;
}

/** `POST /integrations/neon/webhooks` */
export class CreateWebhookEndpointDto {
  @IsDefined()
  @IsString()
  @MaxLength(2048)
  url!: string;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;
}

/** `POST /integrations/neon/projects/transfer` */
export class StartTransferDto {
  @IsDefined()
  @IsUUID('all')
  project_id!: string;
}

/** `GET /integrations/neon/projects/transfer?project_id=` */
export class TransferStatusQueryDto {
  @IsDefined()
  @IsUUID('all')
  project_id!: string;
}

/** The confirm form: the code of the link, the page's nonce and the account to give the project to. */
export class ConfirmTransferFormDto {
  @IsDefined()
  @IsString()
  @MaxLength(200)
  code!: string;

  @IsDefined()
  @IsString()
  @MaxLength(400)
  nonce!: string;

  @IsDefined()
  @IsString()
  @MaxLength(1000)
  email!: string;
}
