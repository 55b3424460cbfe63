import { base64url, FlattenedSign } from 'jose';

/** A branch's JWKS signing key as Better Auth's jwt plugin resolves it (its id is the `kid` its JWKS publishes). */
export interface WebhookSigningKey {
  kid: string;
  alg: string;
  privateKey: Parameters<FlattenedSign['sign']>[0];
}

/**
 * Neon's `X-Neon-Signature`: a JWS with a detached payload, `<b64url protected header>..<b64url signature>`, header
 * `{"alg":"EdDSA","typ":"JWS","kid"}`, whose payload is `timestamp + "." + b64url(rawBody)`. The signing input is
 * therefore `b64url(header) + "." + b64url(timestamp + "." + b64url(rawBody))`, standard JWS (RFC 7515 §5.1), so a
 * receiver verifies it with any JOSE library against `<base_url>/.well-known/jwks.json` (jose: flattenedVerify with
 * `{protected, payload, signature}` and createRemoteJWKSet). `timestamp` is X-Neon-Timestamp (ms since the epoch):
 * signed along with the body, so a receiver can refuse old deliveries.
 */
export async function signWebhook(key: WebhookSigningKey, timestamp: string, rawBody: string): Promise<string> {
  const jws = await new FlattenedSign(webhookSignedPayload(timestamp, rawBody)).setProtectedHeader({ alg: key.alg, typ: 'JWS', kid: key.kid }).sign(key.privateKey);
  return `${jws.protected}..${jws.signature}`;
}

/** The detached payload of the signature: the bytes of `timestamp + "." + b64url(rawBody)`. */
export function webhookSignedPayload(timestamp: string, rawBody: string): Uint8Array {
  return new TextEncoder().encode(`${timestamp}.${base64url.encode(rawBody)}`);
}
