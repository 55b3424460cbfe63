import { ApiProperty } from '@nestjs/swagger';
import { IntField, StringField } from '../../common/api-fields.js';

export const DEFAULT_MAILBOX_PAGE = 50;
export const MAX_MAILBOX_PAGE = 500;

export class ListMailboxQueryDto {
  @StringField({ optional: true, maxLength: 256, description: 'Only messages to this e-mail address or phone number' })
  to?: string;

  @IntField({ optional: true, query: true, minimum: 1, maximum: MAX_MAILBOX_PAGE, default: DEFAULT_MAILBOX_PAGE })
  limit?: number;
}

export class MailboxMessageDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'The database whose auth server sent it' }) database_name!: string;
  @ApiProperty({ enum: ['verification_link', 'password_reset', 'email_otp', 'magic_link', 'organization_invitation', 'phone_otp'] }) kind!: string;
  @ApiProperty({ description: 'E-mail address (phone number for phone_otp)' }) to!: string;
  @ApiProperty() subject!: string;
  @ApiProperty() text!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The link, token or one-time code the message carries' })
  data!: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class ListMailboxResponseDto {
  @ApiProperty({ type: [MailboxMessageDto], description: 'Newest first' }) messages!: MailboxMessageDto[];
}
