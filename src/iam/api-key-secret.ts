import { createHash } from 'node:crypto';
import { randomAlnum } from '../common/ids.js';

/** Prefix that makes a leaked key recognisable to secret scanners. */
export const API_KEY_PREFIX = 'napi_';

/** A new API key: the prefix and 64 random [a-z0-9] characters (about 330 random bits). */
export function generateApiKeySecret(): string {
  return `${API_KEY_PREFIX}${randomAlnum(64)}`;
}

/** What is stored: the hex SHA-256 of the whole key. */
export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
