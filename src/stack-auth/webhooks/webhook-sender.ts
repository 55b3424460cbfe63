import { Webhook } from 'svix';

export interface WebhookMessage {
  /** The endpoint's URL. */
  url: string;
  /** Its `whsec_` secret. */
  secret: string;
  /** svix-id: the same on every attempt, so receivers can drop duplicates. */
  messageId: string;
  /** The exact body sent and signed: JSON of `{type, data}`. */
  body: string;
}

export type SendResult = { ok: true; status: number } | { ok: false; error: string };

export const USER_AGENT = 'Svix-Webhooks/1.0 (embedded Stack Auth provider)';

/**
 * Signs a message as Svix does (`svix` library: HMAC-SHA256 over `id.timestamp.body`, a fresh timestamp
 * on every attempt) and POSTs it. Success is a 2xx answer within the timeout; redirects are not followed.
 */
export async function sendWebhook(message: WebhookMessage, timeoutMs: number): Promise<SendResult> {
  const now = new Date();
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const signature = new Webhook(message.secret).sign(message.messageId, now, message.body);
  const headers = {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'svix-id': message.messageId,
    'svix-timestamp': timestamp,
    'svix-signature': signature,
    'webhook-id': message.messageId,
    'webhook-timestamp': timestamp,
    'webhook-signature': signature,
  };
  try {
    const res = await fetch(message.url, { method: 'POST', headers, body: message.body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    return { ok: false, error: `HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') return { ok: false, error: `no answer within ${timeoutMs} ms` };
    return { ok: false, error: e.cause?.code ?? e.cause?.message ?? e.message };
  }
}
