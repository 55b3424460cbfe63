import { ApiProperty } from '@nestjs/swagger';
import { NeonAuthProjectProviderBodyDto } from '../../dto/neon-auth.dto.js';

export class NeonAuthTransferAuthProviderProjectRequestDto extends NeonAuthProjectProviderBodyDto {}

export class NeonAuthTransferAuthProviderProjectResponseDto {
  @ApiProperty({
    description: "URL for completing the process of ownership transfer: open it in a browser and confirm in the auth provider's page",
  })
  url!: string;
}
