import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local HTTP relay to a provider's base URL, counting what reaches it. */
export interface Relay {
  url: string;
  port: number;
  /** TCP connections accepted. */
  connections: number;
  /** Requests received (method and path). */
  requests: string[];
  close(): Promise<void>;
}

/** Starts a relay on `host` that forwards method, path, headers and body to `target` (502 when that fails). */
export async function startRelay(target: string, host = '127.0.0.1'): Promise<Relay> {
  const relay = { connections: 0, requests: [] as string[] } as Relay;
  const server = http.createServer((req, res) => {
    relay.requests.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
      fetch(`${target}${req.url}`, { method: req.method, headers, body: chunks.length > 0 ? Buffer.concat(chunks) : undefined })
        .then(async (answer) => {
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  server.on('connection', () => relay.connections++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  relay.port = (server.address() as AddressInfo).port;
  relay.url = `http://${host}:${relay.port}`;
  relay.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return relay;
}
