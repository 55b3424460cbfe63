import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { ApiError } from '../../common/errors.js';
import { OAUTH_PROVIDER_IDS } from '../../better-auth/project-config.js';

/** `oauth_provider_id`: one of Neon's OAuth provider ids (NeonAuthOauthProviderId), else 400 naming them. */
@Injectable()
export class OAuthProviderIdPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (!(OAUTH_PROVIDER_IDS as readonly string[]).includes(value)) {
      throw ApiError.validation(`invalid path parameter ${metadata.data}: must be one of ${OAUTH_PROVIDER_IDS.join(', ')}`);
    }
    return value;
  }
}

export const OAUTH_PROVIDER_ID_PARAM = {
  name: 'oauth_provider_id',
  description: 'The OAuth provider id',
  schema: { type: 'string', enum: [...OAUTH_PROVIDER_IDS] },
} as const;
