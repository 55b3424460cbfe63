// Load generator on node:http keep-alive agents: a closed loop (fixed concurrency, as fast as answered)
// and an open loop (each request sent at its scheduled time, whatever the completions).
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface PreparedRequest {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface Answer {
  status: number;
  body: string;
}

/** One server, reached over a keep-alive agent with at most `maxSockets` connections. */
export class HttpTarget {
  private readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(baseUrl: string, maxSockets: number) {
    const u = new URL(baseUrl);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo' });
  }

  /**
   * Sends the request; the body of the answer is read only when `readBody` (else drained). Status 0 = network
   * error, or aborted by `signal` (a request still waiting for one of the agent's sockets is then never sent).
   */
  send(req: PreparedRequest, readBody = false, signal?: AbortSignal): Promise<Answer> {
    return new Promise((resolve) => {
      const headers = req.body ? { ...req.headers, 'content-length': String(req.body.length) } : req.headers;
      const r = http.request({ host: this.host, port: this.port, method: req.method, path: req.path, headers, agent: this.agent, signal }, (res) => {
        if (!readBody) {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: '' }));
          res.on('error', (err) => resolve({ status: 0, body: err.message }));
          return;
        }
        let body = '';
        res.setEncoding('utf8').on('data', (s: string) => (body += s));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', (err) => resolve({ status: 0, body: err.message }));
      });
      r.on('error', (err) => resolve({ status: 0, body: err.message }));
      r.end(req.body);
    });
  }

  /** Sends and parses a JSON answer, throwing unless the status is `expect`. */
  async json<T>(req: PreparedRequest, expect: number[] = [200, 201]): Promise<T> {
    const a = await this.send(req, true);
    if (!expect.includes(a.status)) throw new Error(`${req.method} ${req.path}: ${a.status} ${a.body.slice(0, 500)}`);
    return JSON.parse(a.body) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface LoopResult {
  ms: number;
  sent: number;
  /** Answers by status (0 = network error). */
  statuses: Record<string, number>;
  failed: number;
}

function tally(statuses: Record<string, number>, status: number): boolean {
  statuses[status] = (statuses[status] ?? 0) + 1;
  return status >= 200 && status < 300;
}

/** Sends every request with `concurrency` in flight; `ms` is from the first send to the last answer. */
export async function closedLoop(target: HttpTarget, requests: PreparedRequest[], concurrency: number): Promise<LoopResult> {
  const statuses: Record<string, number> = {};
  let next = 0;
  let failed = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const a = await target.send(requests[next++]);
      if (!tally(statuses, a.status)) failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, worker));
  return { ms: performance.now() - started, sent: requests.length, statuses, failed };
}

export interface Scheduled {
  /** Offset from the start of the schedule, ms. */
  atMs: number;
  req: PreparedRequest;
}

export interface OpenLoopResult extends LoopResult {
  /** performance.now() of the schedule's origin: request i was due at `origin + schedule[i].atMs`. */
  origin: number;
  /** How late the generator actually sent, worst case (its own scheduling error). */
  maxSendDelayMs: number;
  /** Answer time of each request, ms from its scheduled send (Infinity: aborted or skipped, never answered). */
  responseMs: number[];
  /** Status of each request's answer (0 = network error or aborted, -1 = skipped, never sent). */
  status: number[];
  /** Requests still unanswered `answerTimeoutMs` after the last scheduled send, then aborted (in `failed`, status 0). */
  aborted: number;
  /** Requests not sent because `maxOutstanding` were outstanding when they were due (not in `sent` or `failed`). */
  skipped: number;
  /** When the last request was due, ms after the origin (the end of the offered load). */
  scheduleMs: number;
}

export interface OpenLoopOptions {
  /** Called once the last request was sent: the end of the offered load. */
  onScheduleDone?: () => void;
  /**
   * After the last scheduled send, wait at most this long for answers, then abort the requests still unanswered
   * (those still queued for a socket are never sent): a run far beyond the server's capacity ends in bounded time.
   */
  answerTimeoutMs?: number;
  /**
   * At most this many requests sent and not yet answered: a request due while as many are outstanding is skipped
   * (never sent, counted), so a long run beyond the server's capacity does not pile up without bound in the generator.
   */
  maxOutstanding?: number;
  /** Called with each answer as it arrives (index, status). */
  onAnswer?: (index: number, status: number) => void;
  /** Called with each request skipped (see maxOutstanding). */
  onSkip?: (index: number) => void;
}

/** Sends each request at its scheduled time (open loop: no waiting for answers), then waits for all answers. */
export function openLoop(target: HttpTarget, schedule: Scheduled[], options: OpenLoopOptions = {}): Promise<OpenLoopResult> {
  return openLoopOf(target, schedule.length, (k) => schedule[k].atMs, (k) => schedule[k].req, options);
}

/**
 * The open loop over `count` requests, request k due at `atMs(k)` (non-decreasing) and built by `make(k)` only when
 * it is due, so a long run does not hold every request in memory beforehand.
 */
export async function openLoopOf(
  target: HttpTarget,
  count: number,
  atMs: (k: number) => number,
  make: (k: number) => PreparedRequest,
  options: OpenLoopOptions = {},
): Promise<OpenLoopResult> {
  const statuses: Record<string, number> = {};
  const responseMs = new Array<number>(count).fill(Infinity);
  const status = new Array<number>(count).fill(0);
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // one listener per request in flight (each request removes its own when done)
  let failed = 0;
  let aborted = 0;
  let skipped = 0;
  let outstanding = 0;
  let maxSendDelayMs = 0;
  let allSent = false;
  let allAnswered: () => void = () => undefined;
  const answered = new Promise<void>((r) => (allAnswered = r));
  const origin = performance.now() + 20;
  let i = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (i < count && origin + atMs(i) <= now) {
        const due = origin + atMs(i);
        const idx = i++;
        maxSendDelayMs = Math.max(maxSendDelayMs, now - due);
        if (options.maxOutstanding !== undefined && outstanding >= options.maxOutstanding) {
          skipped++;
          status[idx] = -1;
          options.onSkip?.(idx);
          continue;
        }
        outstanding++;
        void target.send(make(idx), false, abort.signal).then((a) => {
          status[idx] = a.status;
          if (abort.signal.aborted && a.status === 0) {
            aborted++;
            failed++;
            statuses.aborted = (statuses.aborted ?? 0) + 1;
          } else {
            responseMs[idx] = performance.now() - due;
            if (!tally(statuses, a.status)) failed++;
          }
          options.onAnswer?.(idx, a.status);
          if (--outstanding === 0 && allSent) allAnswered();
        });
      }
      if (i >= count) return resolve();
      const wait = origin + atMs(i) - performance.now();
      setTimeout(tick, wait > 2 ? wait - 1 : 0);
    };
    tick();
  });
  allSent = true;
  options.onScheduleDone?.();
  if (outstanding === 0) allAnswered();
  const timer = options.answerTimeoutMs === undefined ? undefined : setTimeout(() => abort.abort(), options.answerTimeoutMs);
  await answered;
  clearTimeout(timer);
  const scheduleMs = count > 0 ? atMs(count - 1) : 0;
  return { ms: performance.now() - origin, sent: count - skipped, statuses, failed, origin, maxSendDelayMs, responseMs, status, aborted, skipped, scheduleMs };
}

/** An evenly spaced schedule of `count` items at `ratePerSecond`. */
export function evenly<T>(items: T[], ratePerSecond: number, make: (item: T) => PreparedRequest): Scheduled[] {
  return items.map((item, k) => ({ atMs: (k * 1000) / ratePerSecond, req: make(item) }));
}
