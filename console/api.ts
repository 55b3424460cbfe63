// The console's only way to the server: the client generated from the committed OpenAPI spec
// (openapi/client/neon-api.ts), with the session's API key as its bearer token. The console can therefore do exactly
// what the API allows that key, no more: every refusal comes from the server and is shown as it says it.
import { Api, type GeneralError } from '../openapi/client/neon-api';
import { readApiKey } from './session';

let memoryKey: string | null = null;

/** Uses `key` for every request from now on (also when sessionStorage is unavailable). */
export function setRequestKey(key: string | null): void {
  memoryKey = key;
}

export const api = new Api<null>({
  baseUrl: window.location.origin,
  securityWorker: () => {
    const key = memoryKey ?? readApiKey();
    return key ? { headers: { Authorization: `Bearer ${key}` } } : {};
  },
});

/** A refusal or failure of the API, ready to show: the message as the server wrote it, and per-field messages. */
export interface Problem {
  /** HTTP status; 0 when the server could not be reached. */
  status: number;
  code: string;
  message: string;
  /** Field path (as the API names it, e.g. `email`, `project.name`) -> what the API said about it. */
  fields: Record<string, string>;
  requestId?: string;
}

/**
 * The API reports validation problems as `invalid request: [email] must be an email address; [name] …` (one error code
 * table, src/common/errors). Each bracketed path becomes a field message, shown next to the field of that name.
 */
export function fieldMessages(message: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const body = message.replace(/^invalid request:\s*/, '');
  for (const part of body.split('; ')) {
    const m = /^\[([^\]]+)\]\s*(.*)$/.exec(part.trim());
    if (m && !(m[1] in fields)) fields[m[1]] = m[2];
  }
  return fields;
}

export function problemOf(err: unknown): Problem {
  if (isProblem(err)) return err;
  if (err instanceof Response || (typeof err === 'object' && err !== null && 'status' in err && 'error' in err)) {
    const r = err as Response & { error?: Partial<GeneralError> | null };
    const body = r.error && typeof r.error === 'object' ? r.error : {};
    const message = typeof body.message === 'string' && body.message ? body.message : `${r.status} ${r.statusText || 'error'}`;
    return { status: r.status, code: typeof body.code === 'string' ? body.code : 'HTTP_ERROR', message, fields: fieldMessages(message), requestId: body.request_id };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { status: 0, code: 'NETWORK_ERROR', message: `The server could not be reached (${message}).`, fields: {} };
}

/** Called with the Problem when the API stops accepting the key (401): the app signs out and says why. */
let onUnauthorized: ((problem: Problem) => void) | null = null;

export function whenUnauthorized(handler: ((problem: Problem) => void) | null): void {
  onUnauthorized = handler;
}

/**
 * The data of a call, or throws its Problem. The generated client parses the error body only of operations that
 * answer JSON on success; for the others (201/204 without a body) it is read here.
 */
export async function call<T>(request: Promise<{ data: T }>): Promise<T> {
  try {
    return (await request).data;
  } catch (err) {
    if (err instanceof Response && (err as Response & { error?: unknown }).error == null && !err.bodyUsed) {
      try {
        (err as Response & { error?: unknown }).error = await err.json();
      } catch {
        // not JSON: the status line is all there is
      }
    }
    const problem = problemOf(err);
    if (problem.status === 401) onUnauthorized?.(problem);
    throw problem;
  }
}

/**
 * What the API said about `field`: its `[field] …` part, or the whole message when it begins with the field's name (the
 * API's own checks beyond the request's shape word them so: `domain must be a full http(s) origin …`).
 */
export function messageFor(problem: Problem | null, field: string): string | undefined {
  if (!problem) return undefined;
  if (problem.fields[field]) return problem.fields[field];
  if (problem.status === 400 && problem.message.startsWith(`${field} `)) return problem.message.slice(field.length + 1);
  return undefined;
}

/** Whether everything `problem` says is shown next to one of `fields` (then the form repeats none of it). */
export function shownByFields(problem: Problem, fields: string[]): boolean {
  const named = Object.keys(problem.fields);
  if (named.length > 0) return named.every((f) => fields.includes(f));
  return fields.some((f) => messageFor(problem, f) !== undefined);
}

export function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && 'code' in value && 'fields' in value && 'status' in value;
}
