import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { ApiError } from '../../common/errors.js';

/** Longest accepted auth user id (Stack Auth's are 36-character UUIDs; users_sync keys must fit a btree entry). */
export const MAX_AUTH_USER_ID_LENGTH = 1024;

/**
 * `auth_user_id` has no pattern in Neon's spec: any non-empty id of a sane length is passed on, and an
 * id the provider does not know is a 404 (not a 400), as for an unknown user.
 */
@Injectable()
export class AuthUserIdPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_AUTH_USER_ID_LENGTH) {
      throw ApiError.validation(`invalid path parameter ${metadata.data}: must be 1 to ${MAX_AUTH_USER_ID_LENGTH} characters`);
    }
    return value;
  }
}

export const AUTH_USER_ID_PARAM = {
  name: 'auth_user_id',
  description: "The auth provider's user ID",
  schema: { type: 'string' },
} as const;
