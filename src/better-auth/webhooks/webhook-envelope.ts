import type { WebhookEvent } from '../project-config.js';

/** The user as Neon's envelope carries it (nulls where the event has no such user yet, e.g. a one-time code to a new address). */
export interface WebhookUser {
  id: string | null;
  email: string | null;
  name: string | null;
  email_verified: boolean;
  created_at: string | null;
}

/** Neon's envelope: `{event_id, event_type, timestamp, context: {endpoint_id, project_name}, user, event_data}`. */
export interface WebhookEnvelope {
  event_id: string;
  event_type: WebhookEvent;
  /** When the event happened (ISO 8601); a delivery's own time is X-Neon-Timestamp. */
  timestamp: string;
  context: { endpoint_id: string; project_name: string };
  user: WebhookUser;
  event_data: Record<string, unknown>;
}

/** Events someone waits on: their delivery happens inside the request that caused them. */
export const BLOCKING_EVENTS: readonly WebhookEvent[] = ['user.before_create', 'send.otp', 'send.magic_link'];

/** A Better Auth user row (or the data a user is about to be created with) as the envelope's user. */
export function webhookUser(user: Record<string, unknown> | null | undefined, fallback: { email?: string } = {}): WebhookUser {
  const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
  const time = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : null);
  return {
    id: text(user?.id),
    email: text(user?.email) ?? fallback.email ?? null,
    name: text(user?.name),
    email_verified: user?.emailVerified === true,
    created_at: time(user?.createdAt),
  };
}

const REDACTED = '[redacted]';
/** event_data fields that let whoever holds them sign in: never kept in clear in the delivery log. */
const SECRET_FIELDS = new Set(['otp_code', 'token']);

/**
 * The envelope as the delivery log shows it: one-time codes and link tokens replaced by `[redacted]`, in link_url too
 * (a reset link carries its token in the path, a magic link in the query; every query parameter named like a token is
 * redacted as well), the rest as sent, for a person debugging a receiver.
 */
export function redactedEnvelope(envelope: WebhookEnvelope): WebhookEnvelope {
  const secrets = [...SECRET_FIELDS].map((k) => envelope.event_data[k]).filter((v): v is string => typeof v === 'string' && v.length >= 4);
  const scrub = (text: string): string =>
    secrets.reduce((out, secret) => out.split(secret).join(REDACTED).split(encodeURIComponent(secret)).join(REDACTED), text);
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(envelope.event_data)) {
    if (SECRET_FIELDS.has(key) && value !== null && value !== undefined) data[key] = REDACTED;
    else if (key === 'link_url' && typeof value === 'string') data[key] = scrub(redactedLink(value));
    else data[key] = value;
  }
  return { ...envelope, event_data: data };
}

function redactedLink(link: string): string {
  try {
    const u = new URL(link);
    for (const name of [...u.searchParams.keys()]) if (/token/i.test(name)) u.searchParams.set(name, REDACTED);
    return u.toString();
  } catch {
    return REDACTED;
  }
}

/**
 * user.before_create's answer: `{allowed, error_message?, error_code?}`. Anything else (not JSON, `allowed` not a
 * boolean) is malformed, and the sign-up is refused (fail closed).
 */
export type BeforeCreateAnswer = { allowed: true } | { allowed: false; errorMessage?: string; errorCode?: string } | { malformed: string };

export function parseBeforeCreateAnswer(text: string): BeforeCreateAnswer {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { malformed: 'the answer is not JSON' };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { malformed: 'the answer is not a JSON object' };
  const o = body as Record<string, unknown>;
  if (typeof o.allowed !== 'boolean') return { malformed: 'the answer has no boolean "allowed"' };
  if (o.allowed) return { allowed: true };
  const refusal: { allowed: false; errorMessage?: string; errorCode?: string } = { allowed: false };
  if (typeof o.error_message === 'string' && o.error_message.trim() !== '') refusal.errorMessage = o.error_message.trim().slice(0, 500);
  // A code as Better Auth's are spelled (it reaches the client as `code`): anything else is dropped.
  if (typeof o.error_code === 'string' && /^[A-Za-z0-9_.-]{1,100}$/.test(o.error_code)) refusal.errorCode = o.error_code;
  return refusal;
}
