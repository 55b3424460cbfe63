import type http from 'node:http';

/**
 * Puts `serve` on the HTTP server ahead of the application (Express): each request is offered to `serve` first, and
 * goes to the application unchanged when `serve` answers false (it did not take the request). For the few routes
 * whose per-request cost bounds the product's throughput (the sync webhook receiver, the provider's user writes).
 */
export function mountAheadOfApplication(server: http.Server, serve: (req: http.IncomingMessage, res: http.ServerResponse) => boolean): void {
  const listeners = server.listeners('request') as http.RequestListener[];
  if (listeners.length !== 1) throw new Error(`expected the application as the one request listener, found ${listeners.length}`);
  const [application] = listeners;
  server.removeAllListeners('request');
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!serve(req, res)) application(req, res);
  });
}
