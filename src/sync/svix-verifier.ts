import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookVerificationError } from 'svix/dist/webhook.js';

/** Svix's timestamp tolerance, both ways (the library's WEBHOOK_TOLERANCE_IN_SECONDS). */
const TOLERANCE_SECONDS = 5 * 60;
const SECRET_PREFIX = 'whsec_';

/**
 * `new Webhook(secret).verify(body, headers)` of the `svix` library (standardwebhooks 1.x), with the HMAC
 * computed by node:crypto instead of the library's pure-JavaScript SHA-256: the receiver verifies every
 * provider event, and that hash was the largest single cost of a delivery. Same inputs, same outcome, same
 * errors (WebhookVerificationError): `svix-*` headers, else `webhook-*`; all three required; a numeric
 * timestamp within 5 minutes either way; one of the space-separated `v1,<base64>` signatures equal to
 * base64(HMAC-SHA256(base64-decoded secret, "{id}.{timestamp}.{body}")), compared in constant time.
 * Tests sign with the library and check both agree, including on every refusal; the one difference is
 * an empty key, which this verifier refuses.
 */
export class SvixVerifier {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  }

  /**
   * The parsed JSON body, once the signature checks out. With an empty key (a secret of `whsec_` alone, or
   * of text that decodes to nothing) every delivery is refused: anyone can compute that HMAC, so it proves
   * nothing (the svix library would accept it). The enable body refuses such secrets; this guards what was
   * stored before, or what a provider answered.
   */
  verify(body: Buffer, headersIn: Record<string, string | undefined>): unknown {
    if (this.key.length === 0) throw new WebhookVerificationError('The signing secret is empty');
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(headersIn)) headers[k.toLowerCase()] = v;
    const id = headers['svix-id'] ?? headers['webhook-id'] ?? '';
    const signatures = headers['svix-signature'] ?? headers['webhook-signature'] ?? '';
    const timestampHeader = headers['svix-timestamp'] ?? headers['webhook-timestamp'] ?? '';
    if (!id || !signatures || !timestampHeader) throw new WebhookVerificationError('Missing required headers');
    const timestamp = parseInt(timestampHeader, 10);
    if (Number.isNaN(timestamp)) throw new WebhookVerificationError('Invalid Signature Headers');
    const now = Math.floor(Date.now() / 1000);
    if (now - timestamp > TOLERANCE_SECONDS) throw new WebhookVerificationError('Message timestamp too old');
    if (timestamp > now + TOLERANCE_SECONDS) throw new WebhookVerificationError('Message timestamp too new');
    // The library signs the body as a string (UTF-8 decoded, then encoded again): so does this.
    const text = body.toString('utf8');
    const expected = Buffer.from(createHmac('sha256', this.key).update(`${id}.${timestamp}.`).update(text).digest('base64'));
    for (const versioned of signatures.split(' ')) {
      const [version, signature] = versioned.split(',');
      if (version !== 'v1' || signature === undefined) continue;
      const given = Buffer.from(signature);
      if (given.length === expected.length && timingSafeEqual(given, expected)) return JSON.parse(text) as unknown;
    }
    throw new WebhookVerificationError('No matching signature found');
  }
}
