import { CursorPaginationDto } from '../../common/dto/cursor-pagination.dto.js';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { IntField } from '../../common/api-fields.js';

/** Largest page of dead letters, and the default one. */
export const DEAD_LETTERS_MAX_LIMIT = 1000;
export const DEAD_LETTERS_DEFAULT_LIMIT = 100;
/** Most ids one replay call may name. */
export const DEAD_LETTERS_MAX_REPLAY_IDS = 10_000;
/** A sync_inbox id: a positive bigint written in decimal. */
const INBOX_ID = /^[1-9][0-9]{0,18}$/;

export class NeonAuthSyncDeadLetterDto {
  @ApiProperty({ description: 'Inbox id of the event (decimal; arrival order). Pass it to replay.', example: '42' })
  id!: string;

  @ApiProperty({ description: "The provider's message id (svix-id)" })
  message_id!: string;

  @ApiProperty({ description: 'Provider event type, e.g. user.created', example: 'user.updated' })
  event_type!: string;

  @ApiProperty({ type: String, nullable: true, description: "The provider user's id the event is about (data.id); null when absent" })
  user_id!: string | null;

  @ApiProperty({ description: 'Failed apply attempts' })
  attempts!: number;

  @ApiProperty({ type: String, nullable: true, description: 'Error of the last failed attempt' })
  last_error!: string | null;

  @ApiProperty({ type: String, format: 'date-time', description: 'When the event was first made durable' })
  received_at!: string;
}

export class NeonAuthSyncDeadLettersResponseDto {
  @ApiProperty({ type: [NeonAuthSyncDeadLetterDto], description: 'Dead letters in arrival order (oldest first)' })
  dead_letters!: NeonAuthSyncDeadLetterDto[];

  @ApiPropertyOptional({ type: CursorPaginationDto, description: 'Present when there is a next page' })
  pagination?: CursorPaginationDto;
}

export class ListNeonAuthSyncDeadLettersQueryDto {
  @IntField({ optional: true, query: true, minimum: 1, maximum: DEAD_LETTERS_MAX_LIMIT, default: DEAD_LETTERS_DEFAULT_LIMIT })
  limit?: number;

  @ApiPropertyOptional({ description: 'pagination.next of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  cursor?: string;
}

export class ReplayNeonAuthSyncDeadLettersRequestDto {
  @ApiPropertyOptional({
    type: [String],
    description: "Dead letters to replay (ids from the list). Absent: every dead letter of the branch's integration.",
    example: ['42', '43'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(DEAD_LETTERS_MAX_REPLAY_IDS)
  @IsString({ each: true })
  @Matches(INBOX_ID, { each: true, message: 'each value in ids must be a dead letter id (a positive integer written as a string)' })
  ids?: string[];
}

export class ReplayNeonAuthSyncDeadLettersResponseDto {
  @ApiProperty({ description: 'Dead letters put back in the queue (status pending, attempts reset)' })
  replayed!: number;
}
