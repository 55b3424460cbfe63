import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { ApiError } from '../../common/errors.js';
import { isUuid } from '../../common/validation.js';

/** Longest accepted auth user id (Stack Auth's are 36-character UUIDs; users_sync keys must fit a btree entry). */
export const MAX_AUTH_USER_ID_LENGTH = 1024;


/**
 * `auth_user_id` has no pattern in Neon's spec: any non-empty id of a sane length is passed on, and an
 * id the provider does not know is a 404 (not a 400), as for an unknown user.
 *
 * A UUID is passed on in lower case: UUIDs are case-insensitive and both providers accept either case
 * (and answer lower case ids), but `users_sync.id` is text compared exactly, so an upper-case id would
 * delete the user in the provider and leave its users_sync row live (plus a stray tombstone).
 */
@Injectable()
export class AuthUserIdPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_AUTH_USER_ID_LENGTH) {
      throw ApiError.validation(`invalid path parameter ${metadata.data}: must be 1 to ${MAX_AUTH_USER_ID_LENGTH} characters`);
    }
    return isUuid(value) ? value.toLowerCase() : value;
  }
}

export const AUTH_USER_ID_PARAM = {
  name: 'auth_user_id',
  description: "The auth provider's user ID",
  schema: { type: 'string' },
} as const;
