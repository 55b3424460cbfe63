import { ApiProperty } from '@nestjs/swagger';

/** Neon's GeneralError: the body of every non-2xx response. */
export class GeneralErrorDto {
  @ApiProperty({ description: 'Echo of X-Request-ID, or a generated id', example: '3e3eacf0-2a73-4cba-a930-139ba7fb7f8e' })
  request_id!: string;

  @ApiProperty({ description: 'Machine-readable error code', example: 'VALIDATION_ERROR' })
  code!: string;

  @ApiProperty({ description: 'Human-readable message', example: 'invalid request: [project.name] must be a string' })
  message!: string;
}
