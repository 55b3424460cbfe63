import { ApiPropertyOptional } from '@nestjs/swagger';

/** The `pagination` object of cursor-paged listings (Neon's shape). */
export class CursorPaginationDto {
  @ApiPropertyOptional({ description: 'Pass as `cursor` to get the next page; absent on the last page' }) next?: string;
  @ApiPropertyOptional() sort_by?: string;
  @ApiPropertyOptional() sort_order?: string;
}
