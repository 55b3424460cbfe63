// Baseline (d): a bare route on node:http alone, the server the product's webhook receiver is mounted on ahead of
// Express (src/sync/webhook-receiver.ts): reads the body as the receiver does and answers 204 with the receiver's
// headers, nothing else (no verification, no database). The ceiling of any receiver on that server, where (c) is the
// ceiling of a route behind Express. No request logging. Env: PORT.
import http from 'node:http';
import { BASELINE_SECURITY_HEADERS } from '../../src/common/security-headers.js';

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/bare') {
    res.writeHead(404, { 'content-length': '0' });
    res.end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    res.writeHead(204, BASELINE_SECURITY_HEADERS);
    res.end();
  });
});
server.keepAliveTimeout = 5000;
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
