import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplicationContext } from '@nestjs/common';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { ApiError, ErrorCode } from '../common/errors.js';
import { assignRequestId } from '../common/request-id.js';
import type { AppConfig } from '../config/config.js';
import { HealthService } from './health.service.js';
import { HttpMetricsService } from './http-metrics.service.js';
import { METRICS_UNAUTHORIZED, MetricsTokenCheck } from './metrics.controller.js';

/** The worker's operations endpoints, on WORKER_PORT. */
export interface WorkerOpsServer {
  /** The port it listens on (WORKER_PORT, or the one the OS picked for 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * `npm run worker` has no HTTP API, so its operations endpoints get a small HTTP server of their own on WORKER_PORT
 * (HOST's interface), with the server's rules and answers:
 *
 * - `GET /metrics`: the application's Prometheus registry (prom-client's process metrics, and the sync engine's
 *   counters, lag histogram and inbox gauges, counted where the work is done: here), served only to
 *   `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise; 404 when METRICS_TOKEN is unset), as on the server;
 * - `GET /health`: readiness, the control-plane database answers `SELECT 1` within 2 s (503 otherwise);
 * - `GET /health/live`: liveness, no database check.
 *
 * Anything else is a 404. Errors are Neon's `{request_id, code, message}`; X-Request-ID is honoured and echoed.
 */
export async function serveWorkerOps(app: INestApplicationContext, config: Pick<AppConfig, 'workerPort' | 'host' | 'metricsToken'>, logger: Logger): Promise<WorkerOpsServer> {
  const registry = app.get(HttpMetricsService).registry;
  const health = app.get(HealthService);
  const token = new MetricsTokenCheck(config.metricsToken);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = assignRequestId(req.headers['x-request-id'], res);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const path = new URL(req.url ?? '/', 'http://worker').pathname;
    const fail = (error: ApiError): void => json(res, error.status, { request_id: requestId, code: error.code, message: error.message });
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(new ApiError(ErrorCode.RouteNotFound, `Cannot ${req.method} ${path}`));
    if (path === '/metrics') {
      const access = token.access(req.headers.authorization);
      if (access === 'not-served') return fail(new ApiError(ErrorCode.RouteNotFound, `Cannot GET ${path}`));
      if (access === 'unauthorized') return fail(ApiError.unauthorized(METRICS_UNAUTHORIZED));
      const text = await registry.metrics();
      res.writeHead(200, { 'Content-Type': Registry.PROMETHEUS_CONTENT_TYPE });
      res.end(req.method === 'HEAD' ? undefined : text);
      return;
    }
    if (path === '/health/live') return json(res, 200, await health.liveness());
    if (path === '/health') {
      try {
        return json(res, 200, await health.readiness());
      } catch (err) {
        if (err instanceof ApiError) return fail(err);
        throw err;
      }
    }
    return fail(new ApiError(ErrorCode.RouteNotFound, `Cannot GET ${path}`));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err }, 'worker ops endpoint failed');
      if (!res.headersSent) json(res, 500, { request_id: String(res.getHeader('x-request-id') ?? ''), code: ErrorCode.InternalError, message: 'internal server error' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException): void => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`WORKER_PORT ${config.workerPort} on ${config.host} is already in use (set WORKER_PORT to a free port, or 0 for any)`)
          : err,
      );
    };
    server.once('error', failed);
    server.listen(config.workerPort, config.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
