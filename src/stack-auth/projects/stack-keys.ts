import { createHash, randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/** A random lowercase Crockford-base32 string: 45 characters carry 225 random bits (Stack Auth's format). */
export function secureRandomString(length = 45): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += CROCKFORD[b & 31];
  return out;
}

export type StackKeyKind = 'publishable_client_key' | 'secret_server_key' | 'super_secret_admin_key';

export const KEY_PREFIX: Record<StackKeyKind, string> = {
  publishable_client_key: 'pck_',
  secret_server_key: 'ssk_',
  super_secret_admin_key: 'sak_',
};

export function newStackKey(kind: StackKeyKind): string {
  return `${KEY_PREFIX[kind]}${secureRandomString()}`;
}

/** What is stored for a key or a refresh token: its hex SHA-256. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
