import { createHmac } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';

/** The HMAC key of a svix secret (`whsec_<base64>`, or bare base64). */
export function svixKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
}

/**
 * Svix's signature of a message (what the `svix` library's `sign` computes, by node:crypto rather than the library's
 * pure-JavaScript SHA-256): base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), the body as UTF-8 text.
 */
export function svixSignature(key: Buffer, id: string, timestamp: number, body: string): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
}
