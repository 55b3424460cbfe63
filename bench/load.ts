// Load generator on node:http keep-alive agents: a closed loop (fixed concurrency, as fast as answered)
// and an open loop (each request sent at its scheduled time, whatever the completions).
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

  /** Sends the request; the body of the answer is read only when `readBody` (else drained). Status 0 = network error. */
  send(req: PreparedRequest, readBody = false): Promise<Answer> {
    return new Promise((resolve) => {
      const headers = req.body ? { ...req.headers, 'content-length': String(req.body.length) } : req.headers;
      const r = http.request({ host: this.host, port: this.port, method: req.method, path: req.path, headers, agent: this.agent }, (res) => {
        if (!readBody) {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: '' }));
          return;
        }
        let body = '';
        res.setEncoding('utf8').on('data', (s: string) => (body += s));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
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
  /** Answer time of each request, ms from its scheduled send. */
  responseMs: number[];
  /** Status of each request's answer (0 = network error). */
  status: number[];
}

/** Sends each request at its scheduled time (open loop: no waiting for answers), then waits for all answers. */
export async function openLoop(target: HttpTarget, schedule: Scheduled[]): Promise<OpenLoopResult> {
  const statuses: Record<string, number> = {};
  const responseMs = new Array<number>(schedule.length);
  const status = new Array<number>(schedule.length);
  const pending: Promise<void>[] = [];
  let failed = 0;
  let maxSendDelayMs = 0;
  const origin = performance.now() + 20;
  let i = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (i < schedule.length && origin + schedule[i].atMs <= now) {
        const due = origin + schedule[i].atMs;
        const idx = i++;
        maxSendDelayMs = Math.max(maxSendDelayMs, now - due);
        pending.push(
          target.send(schedule[idx].req).then((a) => {
            responseMs[idx] = performance.now() - due;
            status[idx] = a.status;
            if (!tally(statuses, a.status)) failed++;
          }),
        );
      }
      if (i >= schedule.length) return resolve();
      const wait = origin + schedule[i].atMs - performance.now();
      setTimeout(tick, wait > 2 ? wait - 1 : 0);
    };
    tick();
  });
  await Promise.all(pending);
  return { ms: performance.now() - origin, sent: schedule.length, statuses, failed, origin, maxSendDelayMs, responseMs, status };
}

/** An evenly spaced schedule of `count` items at `ratePerSecond`. */
export function evenly<T>(items: T[], ratePerSecond: number, make: (item: T) => PreparedRequest): Scheduled[] {
  return items.map((item, k) => ({ atMs: (k * 1000) / ratePerSecond, req: make(item) }));
}
