import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got, with its raw body, and what it answered. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  /** The status it answered, or 'dropped' when it destroyed the connection. */
  answer: number | 'dropped';
  /** Date.now() when the request had been read completely. */
  at: number;
  /** Date.now() when it was answered (or dropped). */
  answeredAt?: number;
}

/** What to do with the n-th request (0-based): answer a status (optionally after a delay), or drop the connection. */
export type Behaviour = (n: number, req: ReceivedRequest) => number | 'drop' | { status: number; delayMs: number };

/**
 * A real webhook receiver: node:http on 127.0.0.1 and a random port. It records every request (raw body
 * included, for svix verification) and answers as its current behaviour says (200 by default).
 */
export interface WebhookReceiver {
  url: string;
  requests: ReceivedRequest[];
  setBehaviour(b: Behaviour): void;
  /** Resolves when `predicate` holds for the recorded requests; rejects after `timeoutMs`. */
  waitFor(predicate: (requests: ReceivedRequest[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(path = '/hooks/stack'): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  let behaviour: Behaviour = () => 200;
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawBody: Buffer.concat(chunks).toString('utf8'),
        answer: 200,
        at: Date.now(),
      };
      const decision = behaviour(requests.length, entry);
      const status = decision === 'drop' ? 'dropped' : typeof decision === 'number' ? decision : decision.status;
      const delayMs = typeof decision === 'object' ? decision.delayMs : 0;
      entry.answer = status;
      requests.push(entry);
      const answer = () => {
        entry.answeredAt = Date.now();
        if (status === 'dropped') req.socket.destroy();
        else res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope');
        for (const w of waiters) w();
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    requests,
    setBehaviour(b) {
      behaviour = b;
    },
    waitFor(predicate, timeoutMs = 15_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate(requests)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`webhook receiver: condition not met within ${timeoutMs} ms (${requests.length} requests received)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
