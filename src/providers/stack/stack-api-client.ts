import { setTimeout as sleep } from 'node:timers/promises';
import type { RequestInit } from 'undici';
import type { OutboundHttp } from '../../common/outbound-http.js';
import { findOutboundRefusal } from '../../common/outbound-url-policy.js';
import { ProviderAuthFailed, ProviderDestinationRefused, ProviderRequestRejected, ProviderUnavailable, type ProviderError } from '../auth-provider.port.js';

/** The headers of an answer, as read here (fetch's Headers). */
interface AnswerHeaders {
  get(name: string): string | null;
  has(name: string): boolean;
}

/**
 * HTTP to a Stack-Auth-compatible server, following the adapter checklist of the reference (§6.2):
 * `x-stack-*` request headers (every backend version accepts them), never `override-error-status` (so
 * real statuses come back; `x-*-actual-status` is still honoured if a proxy adds it), known errors read
 * from `x-hexclave-known-error ?? x-stack-known-error`, a timeout on every attempt, 429 retried a bounded
 * number of times honouring Retry-After, no redirects (they would carry the keys elsewhere).
 *
 * Every request goes through OutboundHttp (src/common/outbound-http.ts): a base URL may come from a person
 * (manual setup), so connections to loopback, private, link-local and metadata addresses are refused at connect
 * time (ProviderDestinationRefused), unless the origin is the operator's (embedded provider, STACK_AUTH_URL) or
 * OUTBOUND_ALLOWED_HOSTS lets it through.
 */
export interface StackHttpOptions {
  /** Per attempt, the answer's body included. */
  timeoutMs: number;
  /** Attempts in all when the server answers 429 (1 = no retry). */
  maxAttempts: number;
  /** Longest single wait before a retry; a longer Retry-After gives up at once (the caller retries later). */
  maxRetryDelayMs: number;
  /** Wait before the first retry when 429 has no Retry-After; doubles per retry. */
  defaultRetryDelayMs: number;
}

export const DEFAULT_STACK_HTTP_OPTIONS: StackHttpOptions = {
  timeoutMs: 10_000,
  maxAttempts: 3,
  maxRetryDelayMs: 5_000,
  defaultRetryDelayMs: 500,
};

export interface StackCall {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The server's base URL (the SDK's baseUrl); `/api/v1` is appended. */
  baseUrl: string;
  /** Below `/api/v1`, starting with `/`. */
  path: string;
  query?: Record<string, string>;
  headers: Record<string, string>;
  /** JSON body (POST/PATCH only). */
  body?: unknown;
  /** Name of the operation for error messages, e.g. "create user". */
  operation: string;
  /** Operation-specific mapping of an error answer; undefined falls back to the generic mapping. */
  mapError?: (failure: StackFailure) => ProviderError | undefined;
}

/** An error answer of the server. */
export interface StackFailure {
  status: number;
  /** Known-error code (`x-hexclave-known-error ?? x-stack-known-error`, else the JSON body's `code`). */
  code?: string;
  /** The error text (JSON `error`, or the plain-text body), shortened. */
  message: string;
}

/** Known errors that mean "these credentials do not open this project" even when their status is 400/404. */
const AUTH_CODES = new Set([
  'CURRENT_PROJECT_NOT_FOUND',
  'PROJECT_NOT_FOUND',
  'ACCESS_TYPE_WITHOUT_PROJECT_ID',
  'ACCESS_TYPE_REQUIRED',
  'PROJECT_KEY_WITHOUT_ACCESS_TYPE',
  'INVALID_ACCESS_TYPE',
  'INVALID_PROJECT_ID',
  'API_KEY_NOT_FOUND',
]);

const MAX_MESSAGE = 300;

export class StackHttpClient {
  constructor(
    private readonly outbound: OutboundHttp,
    readonly options: StackHttpOptions = DEFAULT_STACK_HTTP_OPTIONS,
  ) {}

  /** The answer's JSON body on 2xx; a ProviderError otherwise. */
  async request<T>(call: StackCall): Promise<T> {
    const url = this.url(call);
    const init: RequestInit = {
      method: call.method,
      headers: {
        accept: 'application/json',
        'user-agent': 'neon-auth-control-plane',
        ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...call.headers,
      },
      body: call.body !== undefined ? JSON.stringify(call.body) : undefined,
      redirect: 'error',
    };
    let retryDelay = this.options.defaultRetryDelayMs;
    for (let attempt = 1; ; attempt++) {
      const { status, headers, text } = await this.attempt(url, init, call.operation);
      if (status === 429) {
        const retryAfterMs = parseRetryAfter(headers.get('retry-after'));
        const waitMs = retryAfterMs ?? retryDelay;
        if (attempt >= this.options.maxAttempts || waitMs > this.options.maxRetryDelayMs) {
          throw new ProviderUnavailable(`${call.operation}: the auth provider is rate limiting requests (429 after ${attempt} attempt${attempt === 1 ? '' : 's'})`, {
            status,
            retryAfterSeconds: retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000),
          });
        }
        await sleep(waitMs);
        retryDelay *= 2;
        continue;
      }
      if (status >= 200 && status < 300) return parseJson<T>(text, call.operation, status);
      throw this.toError(call, failureOf(status, headers, text));
    }
  }

  private url(call: StackCall): string {
    let base: URL;
    try {
      base = new URL(call.baseUrl);
    } catch {
      throw new ProviderRequestRejected(`${call.operation}: the auth provider base URL is not a valid URL`, 400);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new ProviderRequestRejected(`${call.operation}: the auth provider base URL must use http or https`, 400);
    }
    const qs = call.query && Object.keys(call.query).length > 0 ? `?${new URLSearchParams(call.query).toString()}` : '';
    return `${call.baseUrl.replace(/\/+$/, '')}/api/v1${call.path}${qs}`;
  }

  /** One request with its timeout; network failures and timeouts become ProviderUnavailable. */
  private async attempt(url: string, init: RequestInit, operation: string): Promise<{ status: number; headers: AnswerHeaders; text: string }> {
    const started = Date.now();
    try {
      const res = await this.outbound.fetch(url, { ...init, signal: AbortSignal.timeout(this.options.timeoutMs) });
      const text = await res.text();
      // A proxy in front may still turn statuses into 200 + actual-status; honour it.
      const actual = res.headers.get('x-hexclave-actual-status') ?? res.headers.get('x-stack-actual-status');
      const status = actual !== null && /^\d{3}$/.test(actual) ? Number(actual) : res.status;
      return { status, headers: res.headers, text };
    } catch (err) {
      const refusal = findOutboundRefusal(err);
      if (refusal) {
        throw new ProviderDestinationRefused(`${operation}: the auth provider base URL (host ${refusal.host}) names a destination outgoing calls may not reach`, refusal.reason, { cause: refusal });
      }
      const timedOut = err instanceof DOMException && (err.name === 'TimeoutError' || err.name === 'AbortError');
      const reason = timedOut ? `no answer within ${this.options.timeoutMs} ms` : describeNetworkError(err);
      throw new ProviderUnavailable(`${operation}: the auth provider is unreachable (${reason}, after ${Date.now() - started} ms)`, { cause: err });
    }
  }

  private toError(call: StackCall, failure: StackFailure): ProviderError {
    const specific = call.mapError?.(failure);
    if (specific) return specific;
    const what = `${call.operation}: the auth provider answered ${failure.status}${failure.code ? ` ${failure.code}` : ''}: ${failure.message}`;
    if (failure.status >= 500) return new ProviderUnavailable(what, { status: failure.status });
    if (failure.status === 401 || failure.status === 403 || (failure.code !== undefined && AUTH_CODES.has(failure.code))) {
      return new ProviderAuthFailed(what, failure.code);
    }
    return new ProviderRequestRejected(what, failure.status, failure.code);
  }
}

function failureOf(status: number, headers: AnswerHeaders, text: string): StackFailure {
  let code = headers.get('x-hexclave-known-error') ?? headers.get('x-stack-known-error') ?? undefined;
  let message = text;
  try {
    const body = JSON.parse(text) as { code?: unknown; error?: unknown };
    if (body && typeof body === 'object') {
      if (code === undefined && typeof body.code === 'string') code = body.code;
      if (typeof body.error === 'string') message = body.error;
    }
  } catch {
    // a plain-text error (Stack's StatusError)
  }
  // The base URL may come from a person (manual setup): only a Stack Auth server's own error text is passed on,
  // never the body of whatever else answers there (an internal service must not be readable through our errors).
  const fromStack = code !== undefined || headers.has('x-stack-request-id') || headers.has('x-hexclave-request-id');
  if (!fromStack) return { status, code, message: '(not a Stack Auth response; its body is not shown)' };
  message = message.trim().replace(/\s+/g, ' ');
  if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE)}…`;
  return { status, code, message: message || '(no message)' };
}

function parseJson<T>(text: string, operation: string, status: number): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new ProviderUnavailable(`${operation}: the auth provider answered ${status} with a body that is not JSON`, { cause: err, status });
  }
}

/** Retry-After as milliseconds (delta seconds or an HTTP date), or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - Date.now());
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } })?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}
