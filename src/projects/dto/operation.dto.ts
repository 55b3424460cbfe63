import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IntField, StringField } from '../../common/api-fields.js';
import { OperationDto } from './compute.dto.js';

export class ListOperationsQueryDto {
  @StringField({ optional: true, maxLength: 512, description: 'pagination.cursor of the previous page' })
  cursor?: string;

  @IntField({ optional: true, query: true, minimum: 1, maximum: 1000, default: 10 })
  limit?: number;
}

export class OperationsPaginationDto {
  @ApiProperty({ description: 'Pass as `cursor` for the next page' }) cursor!: string;
}

export class OperationsResponseDto {
  @ApiProperty({ type: [OperationDto] }) operations!: OperationDto[];
  @ApiPropertyOptional({ type: OperationsPaginationDto }) pagination?: OperationsPaginationDto;
}

export class OperationResponseDto {
  @ApiProperty({ type: OperationDto }) operation!: OperationDto;
}
