import type { OutboundHttp } from '../../common/outbound-http.js';
import { findOutboundRefusal } from '../../common/outbound-url-policy.js';

/** Neon's delivery rule: at most 3 attempts, each within the branch's timeout_seconds, 15 s in all. */
export const MAX_ATTEMPTS = 3;
export const DELIVERY_BUDGET_MS = 15_000;
/** The most of an answer that is read (the rest is not waited for). */
export const MAX_ANSWER_BYTES = 10 * 1024;
/** The most of an answer kept in the delivery log. */
export const ANSWER_EXCERPT_CHARS = 512;
/** Wait before the second and third attempts (doubled for the third), within the budget. */
export const RETRY_DELAY_MS = 250;

/** One try of a delivery, as the log keeps it. */
export interface WebhookAttempt {
  attempt: number;
  started_at: string;
  /** The receiver's HTTP status; null when there was no answer. */
  status_code: number | null;
  latency_ms: number;
  /** Why the attempt failed (no answer, or an answer that is not 2xx); null when it succeeded. */
  error: string | null;
  /** The start of the answer's body. */
  response_excerpt: string | null;
}

export interface WebhookRequest {
  url: string;
  eventType: string;
  eventId: string;
  rawBody: string;
  /** Each attempt's limit (the branch's timeout_seconds). */
  timeoutMs: number;
  /**
   * Someone waits for the answer (user.before_create, send.*): a timeout ends the delivery instead of being retried,
   * so the wait is the branch's timeout_seconds, not three times it. Errors and 5xx/429/408 answers are still retried.
   */
  blocking: boolean;
  /** The signature and key id of one attempt's timestamp and body. */
  sign: (timestamp: string, rawBody: string) => Promise<{ signature: string; kid: string }>;
}

export interface WebhookResult {
  delivered: boolean;
  attempts: WebhookAttempt[];
  /** The successful answer (2xx): status and body (at most MAX_ANSWER_BYTES). */
  answer?: { status: number; text: string };
}

/**
 * POSTs a signed event to a webhook URL, through OutboundHttp (the destination checked at connect time, after DNS),
 * with Neon's headers and delivery rule: up to MAX_ATTEMPTS, each within `timeoutMs`, DELIVERY_BUDGET_MS in all,
 * retried on network errors, timeouts (unless `blocking`), 5xx, 429 and 408, never on other answers; no redirects
 * followed; at most MAX_ANSWER_BYTES of an answer read. Each attempt is signed anew (its own timestamp).
 * `onAttempt` hears each attempt as it ends (the delivery log).
 */
export async function sendWebhook(http: OutboundHttp, request: WebhookRequest, onAttempt?: (attempt: WebhookAttempt) => void | Promise<void>): Promise<WebhookResult> {
  const deadline = Date.now() + DELIVERY_BUDGET_MS;
  const attempts: WebhookAttempt[] = [];
  for (let n = 1; n <= MAX_ATTEMPTS; n++) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    const outcome = await attemptOnce(http, request, n, Math.min(request.timeoutMs, remaining));
    attempts.push(outcome.attempt);
    await onAttempt?.(outcome.attempt);
    if (outcome.answer) return { delivered: true, attempts, answer: outcome.answer };
    if (!outcome.retry) break;
    const wait = RETRY_DELAY_MS * 2 ** (n - 1);
    if (n === MAX_ATTEMPTS || deadline - Date.now() <= wait) break;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return { delivered: false, attempts };
}

async function attemptOnce(
  http: OutboundHttp,
  request: WebhookRequest,
  n: number,
  timeoutMs: number,
): Promise<{ attempt: WebhookAttempt; retry: boolean; answer?: { status: number; text: string } }> {
  const startedAt = new Date();
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  const record = (statusCode: number | null, error: string | null, text: string | null): WebhookAttempt => ({
    attempt: n,
    started_at: startedAt.toISOString(),
    status_code: statusCode,
    latency_ms: Math.round(performance.now() - started),
    error,
    response_excerpt: text === null || text === '' ? null : text.slice(0, ANSWER_EXCERPT_CHARS),
  });
  const timestamp = String(Date.now());
  let signed: { signature: string; kid: string };
  try {
    signed = await request.sign(timestamp, request.rawBody);
  } catch {
    return { attempt: record(null, "could not sign: the branch's JWKS signing key is unreadable", null), retry: false };
  }
  const { signature, kid } = signed;
  try {
    const response = await http.fetch(request.url, {
      method: 'POST',
      redirect: 'manual',
      signal,
      body: request.rawBody,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Neon-Auth-Webhooks/1.0',
        'x-neon-signature': signature,
        'x-neon-signature-kid': kid,
        'x-neon-timestamp': timestamp,
        'x-neon-event-type': request.eventType,
        'x-neon-event-id': request.eventId,
        'x-neon-delivery-attempt': String(n),
      },
    });
    const text = await readAtMost(response.body, MAX_ANSWER_BYTES);
    const status = response.status;
    if (status >= 200 && status < 300) return { attempt: record(status, null, text), retry: false, answer: { status, text } };
    const retry = status >= 500 || status === 429 || status === 408;
    const error = status >= 300 && status < 400 ? `answered ${status} (redirects are not followed)` : `answered ${status}`;
    return { attempt: record(status, error, text), retry };
  } catch (err) {
    if (findOutboundRefusal(err)) {
      return { attempt: record(null, 'the destination is not allowed (loopback, private, link-local or metadata address; see OUTBOUND_ALLOWED_HOSTS)', null), retry: false };
    }
    if (signal.aborted) return { attempt: record(null, `no answer within ${timeoutMs} ms`, null), retry: !request.blocking };
    return { attempt: record(null, `network error (${errorCode(err)})`, null), retry: true };
  }
}

/** The body's first `limit` bytes as text; the rest is neither read nor waited for. */
async function readAtMost(body: { getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> } } | null, limit: number): Promise<string> {
  if (!body) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done || !value) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/** A network error's code (ECONNREFUSED, ENOTFOUND, UND_ERR_SOCKET...), never its message (it may name addresses). */
function errorCode(err: unknown): string {
  for (let e = err, depth = 0; e !== null && e !== undefined && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code)) return code;
  }
  return 'no answer';
}
