import { NeonAuthProjectProviderBodyDto } from '../../integrations/dto/integration.dto.js';

export class NeonAuthCreateAuthProviderSDKKeysRequestDto extends NeonAuthProjectProviderBodyDto {}
