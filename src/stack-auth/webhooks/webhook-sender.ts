import http from 'node:http';
import https from 'node:https';
// The signing half of svix only: its index loads the whole API client (some 250 modules) at every start.
import { Webhook } from 'svix/dist/webhook.js';

export { Webhook };

export interface WebhookMessage {
  /** The endpoint's URL. */
  url: string;
  /** svix's signer of its `whsec_` secret (one per endpoint: the secret is decoded once). */
  signer: Webhook;
  /** svix-id: the same on every attempt, so receivers can drop duplicates. */
  messageId: string;
  /** The exact body sent and signed: JSON of `{type, data}`. */
  body: string;
}

export type SendResult = { ok: true; status: number } | { ok: false; error: string };

export const USER_AGENT = 'Svix-Webhooks/1.0 (embedded Stack Auth provider)';

/**
 * Keep-alive agents: a receiver gets its deliveries over reused connections, not one connection each. Every socket
 * may stay open when idle (maxFreeSockets = maxSockets): with fewer, each burst of deliveries beyond the idle pool
 * opened connections that the next lull closed again, and a TCP connection costs both ends a dozen system calls.
 */
const AGENT_OPTIONS = { keepAlive: true, keepAliveMsecs: 1_000, maxSockets: 64, maxFreeSockets: 64, timeout: 60_000 };
const httpAgent = new http.Agent(AGENT_OPTIONS);
const httpsAgent = new https.Agent(AGENT_OPTIONS);

/**
 * Signs a message with svix (HMAC-SHA256 over `id.timestamp.body`, a fresh timestamp on every attempt) and POSTs it. Success is a 2xx answer within the timeout; redirects are not followed.
 * node:http with keep-alive rather than fetch: a delivery costs a fraction of fetch's CPU, which matters at
 * hundreds of deliveries a second.
 */
export async function sendWebhook(message: WebhookMessage, timeoutMs: number): Promise<SendResult> {
  const now = new Date();
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const signature = message.signer.sign(message.messageId, now, message.body);
  const body = Buffer.from(message.body, 'utf8');
  let url: URL;
  try {
    url = new URL(message.url);
  } catch {
    return { ok: false, error: 'invalid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, error: `unsupported protocol ${url.protocol}` };
  const headers = {
    'content-type': 'application/json',
    'content-length': String(body.length),
    'user-agent': USER_AGENT,
    'svix-id': message.messageId,
    'svix-timestamp': timestamp,
    'svix-signature': signature,
    'webhook-id': message.messageId,
    'webhook-timestamp': timestamp,
    'webhook-signature': signature,
  };
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const done = (result: SendResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = client.request(url, { method: 'POST', headers, agent: url.protocol === 'https:' ? httpsAgent : httpAgent }, (res) => {
      const status = res.statusCode ?? 0;
      res.resume(); // the answer's body is not needed; reading it frees the connection for reuse
      res.on('end', () => done(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, error: `HTTP ${status}` }));
      res.on('error', (err) => done({ ok: false, error: err.message }));
    });
    const expire = (): void => {
      req.destroy();
      done({ ok: false, error: `no answer within ${timeoutMs} ms` });
    };
    // The timeout runs from when the request has a connection: time queued behind the agent's busy sockets (many
    // deliveries in flight to one receiver) is not the receiver's, but is bounded too, by one more timeout.
    let timer = setTimeout(expire, 2 * timeoutMs);
    req.once('socket', () => {
      clearTimeout(timer);
      timer = setTimeout(expire, timeoutMs);
    });
    req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: err.code ?? err.message }));
    req.end(body);
  });
}
