import { NeonAuthProjectProviderBodyDto } from '../../dto/neon-auth.dto.js';

export class NeonAuthCreateAuthProviderSDKKeysRequestDto extends NeonAuthProjectProviderBodyDto {}
